// The sweep's HDF5 file (layout in docs/hdf5-layout.md): one chunked, compressed dataset per axis,
// metric, reason code and point index, units and label tables as attributes, and root attributes
// that trace the file (podperf version, git revision, hwdb hash, the full spec text, creation time,
// progress). Rows are appended chunk by chunk; progress attributes make a partial file resumable.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "podperf/sweep.hpp"

namespace podperf {

class SweepFile {
 public:
  // A new file at `path` (truncated), stamped with the inputs of the run.
  static SweepFile create(const std::string& path, const SweepSpec& spec, const std::vector<SweepStamp>& stamps,
                          const std::string& created_utc, std::uint64_t chunk_rows);
  // An existing, incomplete file written by the same spec and the same inputs (every stamp equal):
  // appending continues after its last point. Every check runs on a read-only open first, so a
  // refused resume leaves the file as it was.
  static SweepFile reopen(const std::string& path, const SweepSpec& spec, const std::vector<SweepStamp>& stamps);
  SweepFile(SweepFile&&) noexcept;
  ~SweepFile();

  // Write failures (a full disk) become InputError; the rows of the last checkpoint stay valid.
  void append(const ChunkBuffers& rows);
  // Records progress (points evaluated, rows written, complete or not) and flushes to disk.
  void checkpoint(std::uint64_t points_done, bool complete);
  std::uint64_t points_done() const;
  std::uint64_t rows() const;
  void close();

 private:
  struct Impl;
  explicit SweepFile(std::unique_ptr<Impl> impl);
  void append_rows(const ChunkBuffers& rows);
  void write_checkpoint(std::uint64_t points_done, bool complete);
  void close_file();
  std::unique_ptr<Impl> impl_;
};

}  // namespace podperf
