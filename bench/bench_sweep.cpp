// Sweep benchmark on one spec (default: the training bench sweep, bench/sweeps/train-10m.toml):
//   evaluation alone, 1 and 2 threads: points/s, distinct evaluations and distinct evaluations/s
//     per core (performance-model runs over the evaluation time and the thread count);
//   the HDF5 write-only floor, 1 and 2 threads: the same number of rows, taken from chunks of the
//     sweep evaluated beforehand, compressed and written as a sweep writes them;
//   end to end, 1 and 2 threads: evaluation plus writing, rows/s and the ratio to the floor;
//   the 1 -> 2 thread ratios of evaluation alone and of end to end; peak RSS of this process.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "podperf/h5_output.hpp"
#include "podperf/sweep.hpp"

using namespace podperf;
using Clock = std::chrono::steady_clock;

namespace {
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
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
  ChunkBuffers buf;
  buf.reserve(spec, chunk);
  double eval_s[3] = {};
  std::uint64_t evals = 0;
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    evals = 0;
    const auto t0 = Clock::now();
    for (std::uint64_t at = 0; at < total; at += chunk) {
      evaluate_chunk(sc, at, std::min(chunk, total - at), buf);
      evals += buf.evaluations;
    }
    const double s = seconds_since(t0);
    eval_s[threads] = s;
    std::printf("evaluate only, %d thread%s: %.3f s, %.3g points/s, %llu distinct evaluations, %.3g distinct evaluations/s per core\n",
                threads, threads > 1 ? "s" : " ", s, total / s, static_cast<unsigned long long>(evals), evals / s / threads);
  }
  std::printf("evaluate only, 1 -> 2 threads: %.2fx\n", eval_s[1] / eval_s[2]);

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
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    SweepFile f = SweepFile::create(tmp, spec, stamps, "bench", chunk);
    std::uint64_t rows = 0, i = 0;
    const auto t0 = Clock::now();
    for (std::uint64_t at = 0; at < total; at += chunk, ++i) {
      ChunkBuffers& b = sample[i % sample.size()];
      const std::size_t keep = b.rows;
      b.rows = static_cast<std::size_t>(std::min<std::uint64_t>(b.rows, total - at));
      f.append(b);
      rows += b.rows;
      b.rows = keep;
      f.checkpoint(std::min(total, at + chunk), at + chunk >= total);
    }
    f.close();
    floor_s[threads] = seconds_since(t0);
    std::printf("HDF5 write only (floor), %d thread%s: %.3f s, %.3g rows/s\n", threads, threads > 1 ? "s" : " ",
                floor_s[threads], rows / floor_s[threads]);
  }
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    SweepFile g = SweepFile::create(tmp, spec, stamps, "bench", chunk);
    std::uint64_t rows = 0;
    const auto t0 = Clock::now();
    for (std::uint64_t at = 0; at < total; at += chunk) {
      const std::uint64_t n = std::min(chunk, total - at);
      evaluate_chunk(sc, at, n, buf);
      g.append(buf);
      rows += buf.rows;
      g.checkpoint(at + n, at + n == total);
    }
    g.close();
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
  return 0;
}
