// podperf sweep SPEC -o out.h5: evaluates every point of a sweep spec into an HDF5 file.
// The file is written as out.h5.part and renamed when done; SIGINT/SIGTERM stop after the chunk in
// hand, leaving a valid file marked incomplete that --resume continues.
#include <omp.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>

#include "context.hpp"
#include "podperf/h5_output.hpp"
#include "podperf/json.hpp"
#include "podperf/sweep.hpp"
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
// single-process run. A chunk travels as doubles: rows, 128 skip counters, then per row the point,
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
  msg.assign(1 + b.skipped.size() + b.rows * width, 0.0);
  msg[0] = double(b.rows);
  for (std::size_t i = 0; i < b.skipped.size(); ++i) msg[1 + i] = double(b.skipped[i]);
  double* p = msg.data() + 1 + b.skipped.size();
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
  for (std::size_t i = 0; i < b.skipped.size(); ++i) b.skipped[i] = static_cast<std::uint64_t>(msg[1 + i]);
  const double* p = msg.data() + 1 + b.skipped.size();
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
  cmd->add_option("--max-points", o->max_points, "refuse larger sweeps unless --force")->capture_default_str();
  cmd->add_flag("--force", o->force, "run a sweep above --max-points");
  cmd->add_flag("--resume", o->resume, "continue an interrupted sweep of the same spec");
  cmd->add_flag("--quiet", o->quiet, "no progress bar");
  cmd->add_flag("--json", o->json, "the summary as JSON (and no progress bar)");
  cmd->callback([&ctx, o] {
    const SweepSpec spec = load_sweep_spec(o->spec);
    const std::uint64_t total = spec.points();
    if (total > o->max_points && !o->force)
      throw InputError(spec.file + ": " + std::to_string(total) + " points exceed --max-points " + std::to_string(o->max_points) +
                       " (use --force to run it)");
    const SweepContext sc = prepare_sweep(spec, ctx.db(), ctx.models());
    if (o->threads > 0) omp_set_num_threads(o->threads);
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
    std::unique_ptr<SweepFile> file;
    if (o->resume) {
      if (fs::exists(o->out) && !fs::exists(part)) fs::rename(o->out, part);
      if (!fs::exists(part)) throw InputError(o->out + ": nothing to resume (no such file)");
      file = std::make_unique<SweepFile>(SweepFile::reopen(part, spec));
    } else {
      file = std::make_unique<SweepFile>(
          SweepFile::create(part, spec, hwdb_content_hash(ctx.db().dir), created_utc(), o->chunk));
    }
    g_stop.store(0);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGXFSZ, SIG_IGN);  // a file-size limit: let the write fail and say so
    const bool bar = !o->quiet && !o->json && isatty(STDERR_FILENO);
    ChunkBuffers buf;
    buf.reserve(spec, static_cast<std::size_t>(std::min<std::uint64_t>(o->chunk, total)));
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
    std::uint64_t chunk_no = 0;
    // A full disk can leave an HDF5 file unreadable, so stop before it fills: a chunk may take at
    // most its uncompressed size plus 1 MiB of metadata.
    const double chunk_bytes = double(o->chunk) * (8.0 * (spec.axes.size() + spec.metrics.size()) + 9) + (1 << 20);
    bool no_room = false;
    while (done < total && (!g_stop.load() || ranks.size > 1)) {
      const std::uint64_t n = std::min<std::uint64_t>(o->chunk, total - done);
      if (room_for(part) < chunk_bytes && ranks.size == 1) {
        no_room = true;
        break;
      }
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
      try {
        file->append(buf);
        file->checkpoint(done + n, done + n == total);
      } catch (const InputError& e) {
        // The library may be left in an error state where closing crashes: report and leave at once.
        // The file keeps the rows of its last checkpoint (it may be unreadable if the disk filled
        // during that checkpoint; the free-space check above exists to avoid this).
        std::fprintf(stderr, "%s\n", e.what());
        std::fflush(nullptr);
        std::_Exit(2);
      }
      done += n;
      if (bar) {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double rate = (done - start) / std::max(s, 1e-9);
        const int width = 30, fill = static_cast<int>(width * double(done) / total);
        std::fprintf(stderr, "\r[%s%s] %llu/%llu points  %.3g points/s  ETA %s   ", std::string(fill, '#').c_str(),
                     std::string(width - fill, ' ').c_str(), static_cast<unsigned long long>(done),
                     static_cast<unsigned long long>(total), rate, fmt_time((total - done) / std::max(rate, 1e-9)).c_str());
      }
    }
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if (bar) std::fprintf(stderr, "\n");
    const std::uint64_t rows = file->rows();
    file->close();
    fs::rename(part, o->out);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string skipped;
    std::uint64_t nskip = 0;
    for (std::size_t c = 0; c < buf.skipped.size(); ++c)
      if (buf.skipped[c]) {
        nskip += buf.skipped[c];
        skipped += (skipped.empty() ? "" : ", ") + std::to_string(buf.skipped[c]) + " " +
                   sweep_reason_text(static_cast<std::int8_t>(c));
      }
    if (o->json) {
      Json j = Json::object();
      j["output"] = o->out;
      j["points"] = static_cast<double>(done - start);
      j["points_total"] = static_cast<double>(total);
      j["rows"] = static_cast<double>(rows);
      j["skipped"] = static_cast<double>(nskip);
      j["seconds"] = secs;
      j["points_per_s"] = (done - start) / std::max(secs, 1e-9);
      j["threads"] = omp_get_max_threads() * ranks.size;
      j["complete"] = done == total;
      std::cout << j.dump() << '\n';
    } else {
      char line[512];
      std::snprintf(line, sizeof line, "%llu points (%llu rows, %llu skipped%s", static_cast<unsigned long long>(done - start),
                    static_cast<unsigned long long>(rows), static_cast<unsigned long long>(nskip), skipped.empty() ? "" : ": ");
      char tail[256];
      std::snprintf(tail, sizeof tail, ") in %.2f s, %.4g points/s, %d threads, peak RSS %.0f MiB", secs,
                    (done - start) / std::max(secs, 1e-9), omp_get_max_threads() * ranks.size, peak_rss_mib());
      std::cout << o->out << ": " << line << skipped << tail
                << (done < total && !no_room ? " - INTERRUPTED, file marked incomplete; continue with --resume" : "") << std::endl;
    }
    if (no_room)
      throw InputError(o->out + ": stopped before the disk fills (" + std::to_string(static_cast<long long>(room_for(o->out))) +
                       " bytes left, a chunk needs up to " + std::to_string(static_cast<long long>(chunk_bytes)) +
                       "); it holds " + std::to_string(done) + " of " + std::to_string(total) +
                       " points, marked incomplete: free space and continue with --resume");
    if (done < total) throw ExitCode{128 + g_stop.load()};
  });
}

}  // namespace podperf::cli
