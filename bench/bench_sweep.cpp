// Sweep benchmark: evaluation rate of decode points (1 and 2 threads), the rate of merely writing
// the same columns to HDF5 (the floor), and the end-to-end rate of evaluation plus writing.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "podperf/h5_output.hpp"
#include "podperf/sweep.hpp"

using namespace podperf;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const std::string root = argc > 1 ? argv[1] : PODPERF_SOURCE_DIR;
  const std::string spec_path = argc > 2 ? argv[2] : root + "/configs/sweeps/cm384-vs-nvl72-deepseek.toml";
  const Hwdb db = load_hwdb(root + "/hwdb");
  const ModelDb models = load_models(root + "/configs");
  const SweepSpec spec = load_sweep_spec(spec_path);
  const SweepContext sc = prepare_sweep(spec, db, models);
  const std::uint64_t total = spec.points(), chunk = 65536;
  std::printf("sweep %s: %llu points, %zu axes, %zu metrics, chunk %llu\n", spec.id.c_str(),
              static_cast<unsigned long long>(total), spec.axes.size(), spec.metrics.size(),
              static_cast<unsigned long long>(chunk));
  ChunkBuffers buf;
  buf.reserve(spec, chunk);
  double eval_rate[3] = {};
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    std::uint64_t evals = 0;
    const auto t0 = Clock::now();
    for (std::uint64_t at = 0; at < total; at += chunk) {
      evaluate_chunk(sc, at, std::min(chunk, total - at), buf);
      evals += buf.evaluations;
    }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    eval_rate[threads] = total / s;
    std::printf("evaluate only, %d thread%s: %.3f s, %.3g points/s, %llu distinct evaluations, %.3g evaluations/s per core\n",
                threads, threads > 1 ? "s" : "", s, total / s, static_cast<unsigned long long>(evals), evals / s / threads);
  }
  std::printf("evaluate only, 1 -> 2 threads: %.2fx\n", eval_rate[2] / eval_rate[1]);
  const std::string tmp = (std::filesystem::temp_directory_path() / "podperf_bench_sweep.h5").string();
  {
    // Floor: the same rows and columns written to HDF5, from one evaluated chunk reused.
    evaluate_chunk(sc, 0, std::min(chunk, total), buf);
    SweepFile f = SweepFile::create(tmp, spec, {{"hwdb_hash", "hwdb", "bench"}}, "bench", chunk);
    const auto t0 = Clock::now();
    for (std::uint64_t at = 0; at < total; at += chunk) {
      buf.rows = static_cast<std::size_t>(std::min(chunk, total - at));
      f.append(buf);
      f.checkpoint(at + buf.rows, at + buf.rows == total);
    }
    f.close();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("HDF5 write only (floor): %.3f s, %.3g rows/s\n", s, total / s);
    double e2e[3] = {};
    for (int threads : {1, 2}) {
      omp_set_num_threads(threads);
      SweepFile g = SweepFile::create(tmp, spec, {{"hwdb_hash", "hwdb", "bench"}}, "bench", chunk);
      std::uint64_t rows = 0;
      const auto t1 = Clock::now();
      for (std::uint64_t at = 0; at < total; at += chunk) {
        const std::uint64_t n = std::min(chunk, total - at);
        evaluate_chunk(sc, at, n, buf);
        g.append(buf);
        rows += buf.rows;
        g.checkpoint(at + n, at + n == total);
      }
      g.close();
      const double e = std::chrono::duration<double>(Clock::now() - t1).count();
      e2e[threads] = e;
      std::printf("end to end, %d thread%s: %.3f s, %.3g rows/s, %.2fx the write-only floor\n", threads, threads > 1 ? "s" : "",
                  e, rows / e, e / s);
    }
    std::printf("end to end, 1 -> 2 threads: %.2fx\n", e2e[1] / e2e[2]);
  }
  {
    // Peak resident memory of the whole run (Linux VmHWM).
    std::FILE* f = std::fopen("/proc/self/status", "r");
    char line[256];
    double kib = 0;
    while (f && std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "VmHWM: %lf", &kib) == 1) break;
    if (f) std::fclose(f);
    std::printf("peak RSS: %.0f MiB at %llu points\n", kib / 1024, static_cast<unsigned long long>(total));
  }
  std::filesystem::remove(tmp);
  return 0;
}
