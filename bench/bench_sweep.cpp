// Sweep benchmark on one spec (default: the training bench sweep, bench/sweeps/train-10m.toml):
//   evaluation alone, 1 and 2 threads (each thread evaluates whole chunks, as a sweep does): points/s, distinct evaluations and distinct evaluations/s
//     per core (performance-model runs over the evaluation time and the thread count), and the same
//     without the cost axes, where every point is a distinct evaluation;
//   the HDF5 write-only floor, 1 and 2 threads: the same number of rows, copied from eight chunks of
//     the sweep evaluated beforehand, packed and written as a sweep writes them (write_sweep);
//   end to end, 1 and 2 threads: evaluation plus writing, rows/s and the ratio to the floor;
//   the 1 -> 2 thread ratios of evaluation alone and of end to end, beside the same ratio of a fixed
//   arithmetic loop (what the machine allows when other work holds its cores); peak RSS.
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "podperf/app/h5_output.hpp"
#include "podperf/app/sweep.hpp"

using namespace podperf;
using Clock = std::chrono::steady_clock;

namespace {
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The machine's own 1 -> 2 thread ratio: a fixed arithmetic loop split over 1 and 2 threads. On a
// machine whose cores other work holds, no program scales better than this.
double machine_ratio() {
  auto run = [](int threads) {
    const long n = 100'000'000 / threads;
    std::vector<double> out(static_cast<std::size_t>(threads));
    const auto t0 = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&out, n, t] {
        double s = 0;
        for (long i = 0; i < n; ++i) s += std::sqrt(double(i) * 1.0001);
        out[static_cast<std::size_t>(t)] = s;
      });
    for (auto& t : pool) t.join();
    volatile double sink = out[0];
    (void)sink;
    return seconds_since(t0);
  };
  return run(1) / run(2);
}

// Evaluation alone, as a sweep runs it: `threads` threads each evaluate whole chunks into buffers
// reserved beforehand (as a sweep's, reused from chunk to chunk). Returns the seconds and adds the
// distinct evaluations to `evals`.
double evaluate_all(const SweepSpec& spec, const SweepContext& sc, std::uint64_t chunk, int threads, std::uint64_t& evals) {
  const std::uint64_t total = spec.points();
  std::vector<ChunkBuffers> buffers(static_cast<std::size_t>(threads));
  for (auto& b : buffers) b.reserve(spec, static_cast<std::size_t>(std::min(chunk, total)));
  std::atomic<std::uint64_t> next{0}, sum{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      omp_set_num_threads(1);
      ChunkBuffers& b = buffers[static_cast<std::size_t>(t)];
      for (std::uint64_t at; (at = next.fetch_add(chunk)) < total;) {
        evaluate_chunk(sc, at, std::min(chunk, total - at), b);
        sum += b.evaluations;
      }
    });
  for (auto& t : pool) t.join();
  evals += sum.load();
  return seconds_since(t0);
}
}  // namespace

int main(int argc, char** argv) {
  const std::string root = argc > 1 ? argv[1] : PODPERF_SOURCE_DIR;
  const std::string spec_path = argc > 2 ? argv[2] : root + "/bench/sweeps/train-10m.toml";
  const Hwdb db = load_hwdb(root + "/hwdb");
  const ModelDb models = load_models(root + "/configs");
  const SweepSpec spec = load_sweep_spec(spec_path);
  const SweepContext sc = prepare_sweep(spec, db, models);
  const std::uint64_t total = spec.points(), chunk = 65536;
  std::printf("sweep %s: %llu points, %zu axes, %zu metrics, chunk %llu, %d cores online\n", spec.id.c_str(),
              static_cast<unsigned long long>(total), spec.axes.size(), spec.metrics.size(),
              static_cast<unsigned long long>(chunk), omp_get_num_procs());
  std::printf("machine: a fixed arithmetic loop on 1 -> 2 threads: %.2fx\n", machine_ratio());
  double eval_s[3] = {};
  std::uint64_t evals = 0;
  for (int threads : {1, 2}) {
    evals = 0;
    const double s = evaluate_all(spec, sc, chunk, threads, evals);
    eval_s[threads] = s;
    std::printf("evaluate only, %d thread%s: %.3f s, %.3g points/s, %llu distinct evaluations, %.3g distinct evaluations/s per core\n",
                threads, threads > 1 ? "s" : " ", s, total / s, static_cast<unsigned long long>(evals), evals / s / threads);
  }
  std::printf("evaluate only, 1 -> 2 threads: %.2fx\n", eval_s[1] / eval_s[2]);
  {
    // The performance model alone: the same spec without its cost axes (site, electricity price,
    // utilisation, yield), so that every point is a distinct evaluation (a TPOT target picks the
    // decode batch: it is a performance axis).
    SweepSpec plans = spec;
    std::erase_if(plans.axes, [](const Axis& a) {
      return a.id == AxisId::site || a.id == AxisId::electricity_usd_kwh || a.id == AxisId::utilization ||
             a.id == AxisId::yield;
    });
    const SweepContext pc = prepare_sweep(plans, db, models);
    const std::uint64_t np = plans.points();
    // Chunks of 8,192 points (13 of them) so that two threads share the work evenly; best of three.
    const std::uint64_t plan_chunk = 8192;
    for (int threads : {1, 2}) {
      std::uint64_t n = 0;
      double s = 1e300;
      for (int rep = 0; rep < 3; ++rep) {
        n = 0;
        s = std::min(s, evaluate_all(plans, pc, plan_chunk, threads, n));
      }
      std::printf("every point a distinct plan (%llu points, no cost axes), %d thread%s: %.3f s, %llu distinct evaluations, "
                  "%.3g distinct evaluations/s per core\n",
                  static_cast<unsigned long long>(np), threads, threads > 1 ? "s" : " ", s,
                  static_cast<unsigned long long>(n), n / s / threads);
    }
  }

  const std::string tmp = (std::filesystem::temp_directory_path() / "podperf_bench_sweep.h5").string();
  const std::vector<SweepStamp> stamps = {{"hwdb_hash", "hwdb", "bench"}};
  // Floor: rows from eight chunks spread over the sweep, evaluated beforehand and written in turn
  // until as many rows as the sweep's have been written.
  std::vector<ChunkBuffers> sample(static_cast<std::size_t>(std::min<std::uint64_t>(8, (total + chunk - 1) / chunk)));
  const std::uint64_t chunks = (total + chunk - 1) / chunk;
  for (std::size_t i = 0; i < sample.size(); ++i) {
    sample[i].reserve(spec, chunk);
    const std::uint64_t c = chunks * i / sample.size();
    evaluate_chunk(sc, c * chunk, std::min(chunk, total - c * chunk), sample[i]);
  }
  double floor_s[3] = {}, e2e_s[3] = {};
  // Both through write_sweep, as `podperf sweep` runs: each thread produces and packs whole chunks,
  // the calling thread writes them in order and checkpoints after each.
  for (int threads : {1, 2}) {
    SweepFile f = SweepFile::create(tmp, spec, stamps, "bench", chunk);
    std::uint64_t rows = 0;
    const auto t0 = Clock::now();
    write_sweep(
        spec, f, 0, total, chunk, threads,
        [&](std::uint64_t at, std::uint64_t n, ChunkBuffers& b) {  // a stored chunk's columns, copied
          const ChunkBuffers& from = sample[(at / chunk) % sample.size()];
          b.rows = std::min<std::size_t>(from.rows, static_cast<std::size_t>(n));
          std::copy_n(from.point.begin(), b.rows, b.point.begin());
          std::copy_n(from.reason.begin(), b.rows, b.reason.begin());
          for (std::size_t a = 0; a < b.axis.size(); ++a) std::copy_n(from.axis[a].begin(), b.rows, b.axis[a].begin());
          for (std::size_t m = 0; m < b.metric.size(); ++m) std::copy_n(from.metric[m].begin(), b.rows, b.metric[m].begin());
        },
        [&](const ChunkBuffers& b, std::uint64_t done) {
          rows += b.rows;
          f.checkpoint(done, done == total);
          return true;
        });
    f.close();
    build_sweep_file(tmp, tmp + ".h5", spec);  // the HDF5 file from the journal, as `podperf sweep` finishes
    floor_s[threads] = seconds_since(t0);
    std::printf("HDF5 write only (floor), %d thread%s: %.3f s, %.3g rows/s\n", threads, threads > 1 ? "s" : " ",
                floor_s[threads], rows / floor_s[threads]);
  }
  for (int threads : {1, 2}) {
    SweepFile g = SweepFile::create(tmp, spec, stamps, "bench", chunk);
    std::uint64_t rows = 0;
    const auto t0 = Clock::now();
    write_sweep(
        spec, g, 0, total, chunk, threads,
        [&](std::uint64_t at, std::uint64_t n, ChunkBuffers& b) { evaluate_chunk(sc, at, n, b); },
        [&](const ChunkBuffers& b, std::uint64_t done) {
          rows += b.rows;
          g.checkpoint(done, done == total);
          return true;
        });
    g.close();
    build_sweep_file(tmp, tmp + ".h5", spec);
    e2e_s[threads] = seconds_since(t0);
    std::printf("end to end, %d thread%s: %.3f s, %.3g rows/s, %.2fx the write-only floor at %d thread%s\n", threads,
                threads > 1 ? "s" : " ", e2e_s[threads], rows / e2e_s[threads], e2e_s[threads] / floor_s[threads], threads,
                threads > 1 ? "s" : "");
  }
  std::printf("end to end, 1 -> 2 threads: %.2fx\n", e2e_s[1] / e2e_s[2]);
  {
    // Peak resident memory of the whole run (Linux VmHWM).
    std::FILE* f = std::fopen("/proc/self/status", "r");
    char line[256];
    double kib = 0;
    while (f && std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "VmHWM: %lf", &kib) == 1) break;
    if (f) std::fclose(f);
    std::printf("peak RSS of the benchmark: %.0f MiB\n", kib / 1024);
  }
  std::filesystem::remove(tmp);
  std::filesystem::remove(tmp + ".h5");
  return 0;
}
