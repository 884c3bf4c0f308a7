#include "podperf/io/output_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>

#include "podperf/io/error.hpp"

namespace podperf {

namespace fs = std::filesystem;

namespace {
std::string dir_of(const std::string& path) {
  const fs::path d = fs::path(path).parent_path();
  return d.empty() ? std::string(".") : d.string();
}

std::string prefix(const std::string& flag) { return flag.empty() ? std::string() : "flag " + flag + ": "; }

// SIGXFSZ ignored while a file is written (a file-size limit makes the write fail and be reported,
// instead of killing the process with the temporary left behind); the caller's disposition comes back.
struct NoSigxfsz {
  struct sigaction old {};
  bool saved = false;
  NoSigxfsz() {
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    saved = ::sigaction(SIGXFSZ, &ign, &old) == 0;
  }
  ~NoSigxfsz() {
    if (saved) ::sigaction(SIGXFSZ, &old, nullptr);
  }
};

std::string unique_suffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}() ^ (static_cast<std::uint64_t>(::getpid()) << 32));
  char b[40];
  std::snprintf(b, sizeof b, ".tmp-%d-%016llx", static_cast<int>(::getpid()), static_cast<unsigned long long>(rng()));
  return b;
}
}  // namespace

bool file_is_locked(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return false;
  struct flock lk {};
  lk.l_type = F_WRLCK;
  lk.l_whence = SEEK_SET;
  const bool held = ::fcntl(fd, F_OFD_GETLK, &lk) == 0 && lk.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

void check_output_target(const std::string& target, const std::string& flag, bool own_part) {
  if (target.empty()) throw InputError(prefix(flag) + "empty output path");
  struct stat st;
  if (::lstat(target.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode))
      throw InputError(target + ": exists and is not a regular file; " + flag + " must name a regular file or a new path");
    if (file_is_locked(target))
      throw InputError(target + ": another podperf writer holds it (a running sweep's or writer's temporary); choose another " + flag);
  } else if (errno != ENOENT) {
    throw InputError(target + ": cannot write (" + std::strerror(errno) + ")");
  }
  const std::string dir = dir_of(target);
  if (::stat(dir.c_str(), &st) != 0)
    throw InputError(target + ": cannot write in directory '" + dir + "' (" + std::strerror(errno) + ")");
  if (!S_ISDIR(st.st_mode)) throw InputError(target + ": '" + dir + "' is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw InputError(target + ": cannot write in directory '" + dir + "' (" + std::strerror(errno) + ")");
  if (!own_part && file_is_locked(target + ".part"))
    throw InputError(target + ": another podperf sweep is writing it (" + target + ".part is locked); wait for it or choose another " +
                     flag);
}

void remove_stale_temps(const std::string& target) {
  const fs::path t(target);
  const std::string name = t.filename().string() + ".tmp-";
  std::error_code ec;
  for (fs::directory_iterator it(dir_of(target), ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n.rfind(name, 0) != 0 || !it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    if (!file_is_locked(it->path().string())) ::unlink(it->path().c_str());
  }
}

OutputFile::OutputFile(std::string target, std::string flag, bool own_part)
    : target_(std::move(target)), flag_(std::move(flag)), own_part_(own_part) {
  check_output_target(target_, flag_, own_part_);
  for (int attempt = 0; attempt < 16 && fd_ < 0; ++attempt) {
    temp_ = target_ + unique_suffix();
    fd_ = ::open(temp_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd_ < 0 && errno != EEXIST) throw InputError(temp_ + ": cannot create (" + std::strerror(errno) + ")");
  }
  if (fd_ < 0) throw InputError(target_ + ": cannot create a temporary beside it");
  struct flock lk {};
  lk.l_type = F_WRLCK;
  lk.l_whence = SEEK_SET;
  if (::fcntl(fd_, F_OFD_SETLK, &lk) != 0) {
    discard();
    throw InputError(target_ + ": cannot lock its temporary");
  }
}

OutputFile::~OutputFile() { discard(); }

void OutputFile::discard() {
  if (fd_ < 0) return;
  // Ours: created with O_EXCL and locked since; unlinked before the lock goes.
  ::unlink(temp_.c_str());
  ::close(fd_);
  fd_ = -1;
}

void OutputFile::write(const std::string& bytes) {
  NoSigxfsz guard;
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = n < 0 ? std::strerror(errno) : "no space";
      discard();
      throw InputError(target_ + ": writing failed (" + why + "); the target is left as it was");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

void OutputFile::commit() {
  if (fd_ < 0) throw InputError(target_ + ": nothing to write");
  if (::fsync(fd_) != 0) {
    const std::string why = std::strerror(errno);
    discard();
    throw InputError(target_ + ": writing failed (" + why + "); the target is left as it was");
  }
  // The directory locked while the target is checked again and replaced: two writers of one target
  // rename one after the other, each a complete file.
  const std::string dir = dir_of(target_);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) ::flock(dfd, LOCK_EX);
  try {
    check_output_target(target_, flag_, own_part_);
  } catch (...) {
    if (dfd >= 0) ::close(dfd);
    discard();
    throw;
  }
  const int rc = ::rename(temp_.c_str(), target_.c_str());
  const int e = errno;
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  if (rc != 0) {
    discard();
    throw InputError(target_ + ": cannot replace (" + std::strerror(e) + "); the target is left as it was");
  }
  ::close(fd_);
  fd_ = -1;
}

void write_file_atomic(const std::string& path, const std::string& text, const std::string& flag) {
  OutputFile f(path, flag);
  f.write(text);
  f.commit();
}

void write_files_atomic(const std::vector<std::pair<std::string, std::string>>& files, const std::string& flag) {
  std::vector<std::unique_ptr<OutputFile>> outs;
  for (auto& [path, text] : files) {
    outs.push_back(std::make_unique<OutputFile>(path, flag));
    outs.back()->write(text);
  }
  for (auto& o : outs) o->commit();
}

}  // namespace podperf
