// The output protocol shared by every writer (sweep, report, calibrate --write, plot, -o of --csv
// and --json): the target must be a regular file or a new path (a device, FIFO, socket, directory or
// symbolic link is refused); the bytes go to a temporary beside it whose name no other writer can
// take (TARGET.tmp-PID-RANDOM, created with O_EXCL and held under an exclusive lock while it exists);
// a failure removes the temporary and leaves the target as it was; success renames the temporary
// onto the target in one step, under an exclusive lock on the target's directory entry, after the
// data are on disk. A target that another podperf writer holds (a running sweep's TARGET.part, or a
// file that is itself another writer's locked temporary or journal) is refused.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace podperf {

// Refuses (InputError, one line, naming `flag`) a target that exists and is not a regular file, an
// empty path, a directory that does not exist, and a target another podperf writer holds.
// `own_part` skips the check of TARGET.part (the sweep that holds it calls this).
void check_output_target(const std::string& target, const std::string& flag, bool own_part = false);

// True when another open file holds a lock on `path` (a running writer).
bool file_is_locked(const std::string& path);

// Removes temporaries TARGET.tmp-* left by killed writers (those no running writer holds).
void remove_stale_temps(const std::string& target);

class OutputFile {
 public:
  OutputFile(std::string target, std::string flag, bool own_part = false);
  ~OutputFile();  // removes the temporary unless committed
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  const std::string& temp() const { return temp_; }
  const std::string& target() const { return target_; }
  void write(const std::string& bytes);
  // Data on disk, then the rename; the temporary is gone either way.
  void commit();
  void discard();

 private:
  std::string target_, flag_, temp_;
  int fd_ = -1;
  bool own_part_ = false;
};

// One file, or several replaced together: every temporary is written before the first rename, so a
// failure while writing leaves every target as it was.
void write_file_atomic(const std::string& path, const std::string& text, const std::string& flag);
void write_files_atomic(const std::vector<std::pair<std::string, std::string>>& files, const std::string& flag);

}  // namespace podperf
