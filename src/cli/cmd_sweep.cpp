// podperf sweep SPEC -o out.h5: evaluates every point of a sweep spec into an HDF5 file.
// The file is written as out.h5.part (locked: one writer per output) and renamed to out.h5 only when
// complete, so out.h5 is always absent, the previous complete file or the new one. SIGINT/SIGTERM
// stop after the chunk in hand, leaving out.h5.part marked incomplete; --resume continues it when
// the spec and every input (hwdb, figure sets, model configs, podperf build) are unchanged.
#include <fcntl.h>
#include <omp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "cmd_supply.hpp"
#include "json_output.hpp"
#include "context.hpp"
#include "podperf/app/scenario.hpp"
#include "podperf/app/h5_output.hpp"
#include "podperf/io/json.hpp"
#include "podperf/io/output_file.hpp"
#include "podperf/app/sweep.hpp"
#include "table.hpp"

#ifdef PODPERF_HAVE_MPI
#include <mpi.h>
#endif

namespace podperf::cli {

namespace {
std::atomic<int> g_stop{0};
extern "C" void on_signal(int sig) { g_stop.store(sig); }

std::string created_utc() {
  // SOURCE_DATE_EPOCH (reproducible-builds convention) pins the timestamp for bit-identical files.
  std::time_t t = std::time(nullptr);
  if (const char* e = std::getenv("SOURCE_DATE_EPOCH")) t = static_cast<std::time_t>(std::strtoll(e, nullptr, 10));
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// MPI: rank 0 writes the file; chunk c (counted from the first point still to do) is evaluated by
// rank c % size and sent to rank 0, which takes the chunks in order: the file is the same as a
// single-process run. A chunk travels as doubles: rows, evaluations, 128 skip counters, then per row the point,
// the reason, the axes and the metrics.
struct Ranks {
  int rank = 0, size = 1;
};

Ranks mpi_ranks() {
  Ranks r;
#ifdef PODPERF_HAVE_MPI
  int init = 0;
  MPI_Initialized(&init);
  if (init) {
    MPI_Comm_rank(MPI_COMM_WORLD, &r.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &r.size);
  }
#endif
  return r;
}

#ifdef PODPERF_HAVE_MPI
void send_chunk(const ChunkBuffers& b, std::vector<double>& msg) {
  const std::size_t width = 2 + b.axis.size() + b.metric.size();
  msg.assign(2 + b.skipped.size() + b.rows * width, 0.0);
  msg[0] = double(b.rows);
  msg[1] = double(b.evaluations);
  for (std::size_t i = 0; i < b.skipped.size(); ++i) msg[2 + i] = double(b.skipped[i]);
  double* p = msg.data() + 2 + b.skipped.size();
  for (std::size_t r = 0; r < b.rows; ++r) {
    *p++ = double(b.point[r]);
    *p++ = b.reason[r];
    for (auto& a : b.axis) *p++ = a[r];
    for (auto& m : b.metric) *p++ = m[r];
  }
  MPI_Send(msg.data(), static_cast<int>(msg.size()), MPI_DOUBLE, 0, 0, MPI_COMM_WORLD);
}

void recv_chunk(int from, ChunkBuffers& b, std::vector<double>& msg) {
  MPI_Status st;
  MPI_Probe(from, 0, MPI_COMM_WORLD, &st);
  int n = 0;
  MPI_Get_count(&st, MPI_DOUBLE, &n);
  msg.resize(static_cast<std::size_t>(n));
  MPI_Recv(msg.data(), n, MPI_DOUBLE, from, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  b.rows = static_cast<std::size_t>(msg[0]);
  b.evaluations = static_cast<std::uint64_t>(msg[1]);
  for (std::size_t i = 0; i < b.skipped.size(); ++i) b.skipped[i] = static_cast<std::uint64_t>(msg[2 + i]);
  const double* p = msg.data() + 2 + b.skipped.size();
  for (std::size_t r = 0; r < b.rows; ++r) {
    b.point[r] = static_cast<std::uint64_t>(*p++);
    b.reason[r] = static_cast<std::int8_t>(*p++);
    for (auto& a : b.axis) a[r] = *p++;
    for (auto& m : b.metric) m[r] = *p++;
  }
}
#endif

// Bytes the output file may still grow by: free space of its file system, and the process's
// file-size limit less what the file holds.
double room_for(const std::string& path) {
  namespace fs = std::filesystem;
  double room = 1e300;
  struct statvfs v;
  const fs::path dir = fs::absolute(path).parent_path();
  if (statvfs(dir.c_str(), &v) == 0) room = double(v.f_bavail) * v.f_frsize;
  struct rlimit lim;
  if (getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
    std::error_code ec;
    const double size = double(fs::file_size(path, ec));
    room = std::min(room, double(lim.rlim_cur) - (ec ? 0 : size));
  }
  return room;
}

// Peak resident memory of this process (Linux VmHWM), in MiB; 0 where unknown.
double peak_rss_mib() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  double kib = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmHWM: %lf", &kib) == 1) break;
  std::fclose(f);
  return kib / 1024;
}

// The output protocol: rows go to the journal OUT.part in OUT's directory, which this process holds
// an exclusive lock on (an open-file-description lock), and OUT is built from a complete journal
// through a temporary renamed onto it (output_file.hpp). A second writer of the same OUT refuses at
// once. Everything that can be refused is checked before a byte is written.
void check_output_path(const std::string& out) {
  check_output_target(out, "-o", true);
  const std::string part = out + ".part";
  struct stat st;
  if (::lstat(part.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw InputError(part + ": exists and is not a regular file (the sweep's temporary file)");
}

// SIGINT and SIGTERM stop the sweep after the chunk in hand, SIGXFSZ is ignored (a file-size limit
// fails the write, which is reported); the caller's handlers come back when the sweep returns or
// throws, so a host process (Python) gets its KeyboardInterrupt back.
struct SweepSignals {
  struct sigaction old_int {}, old_term {}, old_xfsz {};
  SweepSignals() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_int);
    ::sigaction(SIGTERM, &sa, &old_term);
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    ::sigaction(SIGXFSZ, &ign, &old_xfsz);
  }
  ~SweepSignals() {
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
    ::sigaction(SIGXFSZ, &old_xfsz, nullptr);
  }
};

// --threads for this sweep only: the OpenMP default comes back when it returns.
struct ThreadsFor {
  int before = omp_get_max_threads();
  explicit ThreadsFor(int n) {
    if (n > 0) omp_set_num_threads(n);
  }
  ~ThreadsFor() { omp_set_num_threads(before); }
};

// Opens and locks OUT.part (creating it unless resuming); returns the descriptor that holds the lock.
int lock_part(const std::string& out, bool resume) {
  const std::string part = out + ".part";
  for (int attempt = 0; attempt < 8; ++attempt) {
    const int fd = ::open(part.c_str(), O_RDWR | O_CLOEXEC | (resume ? 0 : O_CREAT), 0644);
    if (fd < 0) {
      if (resume && errno == ENOENT) {
        struct stat st;
        if (::stat(out.c_str(), &st) == 0)
          throw InputError(out + ": nothing to resume (no " + part + "; a finished sweep file is never reopened)");
        throw InputError(out + ": nothing to resume (no such file)");
      }
      throw InputError(part + ": cannot open (" + std::strerror(errno) + ")");
    }
    struct flock lk {};
    lk.l_type = F_WRLCK;
    lk.l_whence = SEEK_SET;
    if (::fcntl(fd, F_OFD_SETLK, &lk) != 0) {
      const int e = errno;
      ::close(fd);
      if (e == EAGAIN || e == EACCES)
        throw InputError(out + ": another podperf sweep is writing it (" + part + " is locked); wait for it or choose another -o");
      throw InputError(part + ": cannot lock (" + std::strerror(e) + ")");
    }
    // The path may have been renamed away between open and lock: hold the lock on what it names now.
    struct stat a, b;
    if (::fstat(fd, &a) == 0 && ::stat(part.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) return fd;
    ::close(fd);
    if (resume) throw InputError(out + ": nothing to resume (" + part + " was moved by another sweep)");
  }
  throw InputError(out + ": another podperf sweep is writing it (" + part + " keeps changing)");
}

std::string fmt_time(double s) {
  char b[32];
  if (s < 120) std::snprintf(b, sizeof b, "%.0fs", s);
  else if (s < 7200) std::snprintf(b, sizeof b, "%.0fm%02.0fs", std::floor(s / 60), std::fmod(s, 60));
  else std::snprintf(b, sizeof b, "%.1fh", s / 3600);
  return b;
}
}  // namespace

void add_sweep_command(CLI::App& app, Context& ctx) {
  struct Opts {
    std::string spec, out;
    int threads = 0;
    std::uint64_t chunk = 65536, max_points = 50'000'000;
    bool resume = false, force = false, quiet = false, json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("sweep", "evaluate a design-space sweep (configs/sweeps/*.toml) into HDF5");
  cmd->add_option("spec", o->spec, "sweep spec file")->required();
  cmd->add_option("-o,--output", o->out, "output HDF5 file")->required();
  cmd->add_option("--threads", o->threads, "OpenMP threads (default: all cores)")->check(CLI::Range(1, 4096));
  cmd->add_option("--chunk", o->chunk, "points per chunk (memory stays flat at this size)")
      ->check(CLI::Range(1, 10'000'000))->capture_default_str();
  cmd->add_option("--max-points", o->max_points, "refuse larger sweeps unless --force")
      ->check(CLI::Range(std::uint64_t{1}, static_cast<std::uint64_t>(kMaxSweepPoints)))->capture_default_str();
  cmd->add_flag("--force", o->force, "run a sweep above --max-points");
  cmd->add_flag("--resume", o->resume, "continue an interrupted sweep of the same spec");
  cmd->add_flag("--quiet", o->quiet, "no progress bar");
  cmd->add_flag("--json", o->json, "the summary as JSON (and no progress bar)");
  cmd->callback([&ctx, o] {
    if (is_supply_sweep(o->spec)) {  // kind = "supply": docs/supply.md
      run_supply_sweep(ctx, o->spec, o->out, o->json);
      return;
    }
    const SweepSpec spec = load_sweep_spec(o->spec);
    const std::uint64_t total = spec.points();
    if (total > o->max_points && !o->force)
      throw InputError(spec.file + ": " + std::to_string(total) + " points exceed --max-points " + std::to_string(o->max_points) +
                       " (use --force to run it)");
    SweepContext sc = prepare_sweep(spec, ctx.db(), ctx.models());
    apply_scenario_defaults(sc, &ctx.recipes(), ctx.db());
    const ThreadsFor threads_for(o->threads);
    const Ranks ranks = mpi_ranks();
#ifdef PODPERF_HAVE_MPI
    if (ranks.rank > 0) {
      // A worker: learn where rank 0 starts, evaluate its share of the chunks, send them.
      unsigned long long from = 0;
      MPI_Bcast(&from, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
      ChunkBuffers wb;
      wb.reserve(spec, static_cast<std::size_t>(std::min<std::uint64_t>(o->chunk, total)));
      std::vector<double> msg;
      std::uint64_t c = 0;
      for (std::uint64_t at = from; at < total; at += o->chunk, ++c) {
        if (static_cast<int>(c % static_cast<std::uint64_t>(ranks.size)) != ranks.rank) continue;
        wb.skipped.fill(0);
        evaluate_chunk(sc, at, std::min<std::uint64_t>(o->chunk, total - at), wb);
        send_chunk(wb, msg);
      }
      return;
    }
#endif
    namespace fs = std::filesystem;
    const std::string part = o->out + ".part";
    check_output_path(o->out);
    // A chunk may take at most its uncompressed size plus 1 MiB of metadata; a full disk can leave
    // an HDF5 file unreadable, so a sweep starts (and goes on) only with room for the next chunk.
    const double chunk_bytes = double(o->chunk) * (8.0 * (spec.axes.size() + spec.metrics.size()) + 9) + (1 << 20);
    if (const double room = room_for(part); room < chunk_bytes)
      throw InputError(o->out + ": not enough room to write (" + std::to_string(static_cast<long long>(std::max(room, 0.0))) +
                       " bytes left, a chunk needs up to " + std::to_string(static_cast<long long>(chunk_bytes)) + ")");
    const std::vector<SweepStamp> stamps = sweep_stamps(ctx.db().dir, ctx.figures, ctx.models().dir, ctx.result_flags());
    const int lock_fd = lock_part(o->out, o->resume);
    struct Unlock {
      int fd;
      ~Unlock() { ::close(fd); }
    } unlock{lock_fd};
    std::unique_ptr<SweepFile> file;
    try {
      file = std::make_unique<SweepFile>(o->resume ? SweepFile::reopen(part, spec, stamps)
                                                   : SweepFile::create(part, spec, stamps, created_utc(), o->chunk));
    } catch (const InputError&) {
      if (!o->resume) ::unlink(part.c_str());  // ours, and empty or unusable
      throw;
    }
    g_stop.store(0);
    std::optional<SweepSignals> signals(std::in_place);
    const bool bar = !o->quiet && !o->json && isatty(STDERR_FILENO);
    ChunkBuffers buf;  // MPI: the chunk in hand on rank 0
    if (ranks.size > 1) buf.reserve(spec, static_cast<std::size_t>(std::min<std::uint64_t>(o->chunk, total)));
    const auto t0 = std::chrono::steady_clock::now();
    const std::uint64_t start = file->points_done();
    std::uint64_t done = start;
#ifdef PODPERF_HAVE_MPI
    std::vector<double> msg;
    if (ranks.size > 1) {
      unsigned long long from = start;
      MPI_Bcast(&from, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    }
#endif
    std::uint64_t chunk_no = 0, evaluations = 0;
    std::array<std::uint64_t, 128> skipped_by{};
    bool no_room = false;
    // A failed write leaves the journal with the records of its last checkpoint.
    auto write_failed = [](const InputError& e) { throw e; };
    auto progress = [&] {
      if (!bar) return;
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double rate = (done - start) / std::max(s, 1e-9);
      const int width = 30, fill = static_cast<int>(width * double(done) / total);
      std::fprintf(stderr, "\r[%s%s] %llu/%llu points  %.3g points/s  ETA %s   ", std::string(fill, '#').c_str(),
                   std::string(width - fill, ' ').c_str(), static_cast<unsigned long long>(done),
                   static_cast<unsigned long long>(total), rate, fmt_time((total - done) / std::max(rate, 1e-9)).c_str());
    };
    if (ranks.size == 1) {
      // One process: each thread evaluates and packs whole chunks; this thread writes them in order.
      if (done < total && !g_stop.load() && room_for(part) < chunk_bytes) no_room = true;
      if (done < total && !g_stop.load() && !no_room) {
        try {
          write_sweep(
              spec, *file, done, total, o->chunk, omp_get_max_threads(),
              [&sc](std::uint64_t at, std::uint64_t n, ChunkBuffers& b) { evaluate_chunk(sc, at, n, b); },
              [&](const ChunkBuffers& b, std::uint64_t now) {
                evaluations += b.evaluations;
                for (std::size_t i = 0; i < skipped_by.size(); ++i) skipped_by[i] += b.skipped[i];
                file->checkpoint(now, now == total);
                done = now;
                progress();
                if (done < total && room_for(part) < chunk_bytes) no_room = true;
                return !no_room && !g_stop.load();
              });
        } catch (const InputError& e) {
          write_failed(e);
        }
      }
    }
    while (ranks.size > 1 && done < total) {
      // MPI: rank 0 evaluates its share and receives the others' in chunk order.
      const std::uint64_t n = std::min<std::uint64_t>(o->chunk, total - done);
      const int owner = static_cast<int>(chunk_no++ % static_cast<std::uint64_t>(ranks.size));
      if (owner == 0) {
        evaluate_chunk(sc, done, n, buf);
      } else {
#ifdef PODPERF_HAVE_MPI
        const auto before = buf.skipped;
        recv_chunk(owner, buf, msg);
        for (std::size_t i = 0; i < before.size(); ++i) buf.skipped[i] += before[i];
#endif
      }
      evaluations += buf.evaluations;
      try {
        file->append(buf);
        file->checkpoint(done + n, done + n == total);
      } catch (const InputError& e) {
        write_failed(e);
      }
      done += n;
      skipped_by = buf.skipped;
      progress();
    }
    signals.reset();
    if (bar) std::fprintf(stderr, "\n");
    const std::uint64_t rows = file->rows();
    file->close();
    if (done == total) {
      // Complete: the HDF5 file is built from the journal into a temporary, made durable and
      // renamed onto OUT in one step; the journal goes only then.
      remove_stale_temps(o->out);
      OutputFile h5(o->out, "-o", true);
      build_sweep_file(part, h5.temp(), spec);
      h5.commit();
      ::unlink(part.c_str());
      const std::string dir = fs::path(o->out).parent_path().empty() ? "." : fs::path(o->out).parent_path().string();
      if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
      }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string skipped;
    std::uint64_t nskip = 0;
    for (std::size_t c = 0; c < skipped_by.size(); ++c)
      if (skipped_by[c]) {
        nskip += skipped_by[c];
        skipped += (skipped.empty() ? "" : ", ") + std::to_string(skipped_by[c]) + " " +
                   sweep_reason_text(static_cast<std::int8_t>(c));
      }
    if (o->json) {
      Json j = Json::object();
      j["output"] = o->out;
      j["points"] = static_cast<double>(done - start);
      j["points_total"] = static_cast<double>(total);
      j["rows"] = static_cast<double>(rows);
      j["distinct_evaluations"] = static_cast<double>(evaluations);
      j["skipped"] = static_cast<double>(nskip);
      j["seconds"] = secs;
      j["points_per_s"] = (done - start) / std::max(secs, 1e-9);
      j["threads"] = omp_get_max_threads() * ranks.size;
      j["complete"] = done == total;
      write_json(std::cout, j);
    } else {
      char line[512];
      std::snprintf(line, sizeof line, "%llu points (%llu rows, %llu distinct evaluations, %llu skipped%s",
                    static_cast<unsigned long long>(done - start), static_cast<unsigned long long>(rows),
                    static_cast<unsigned long long>(evaluations), static_cast<unsigned long long>(nskip), skipped.empty() ? "" : ": ");
      char tail[256];
      std::snprintf(tail, sizeof tail, ") in %.2f s, %.4g points/s, %d threads, peak RSS %.0f MiB", secs,
                    (done - start) / std::max(secs, 1e-9), omp_get_max_threads() * ranks.size, peak_rss_mib());
      std::cout << o->out << ": " << line << skipped << tail
                << (done < total && !no_room ? (" - INTERRUPTED: " + part + " holds the rows so far; continue with --resume") : "") << std::endl;
    }
    if (no_room)
      throw InputError(o->out + ": stopped before the disk fills (" + std::to_string(static_cast<long long>(room_for(part))) +
                       " bytes left, a chunk needs up to " + std::to_string(static_cast<long long>(chunk_bytes)) +
                       "); " + part + " holds " + std::to_string(done) + " of " + std::to_string(total) +
                       " points: free space and continue with --resume");
    if (done < total) throw ExitCode{128 + g_stop.load()};
  });
}

}  // namespace podperf::cli
