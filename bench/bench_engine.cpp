// Micro-benchmark of the physics pieces: nanoseconds per roofline and per collective estimate,
// and heap allocations counted over the timed loops (the goal is none).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

#include "podperf/core/collectives.hpp"
#include "podperf/io/hwdb.hpp"
#include "podperf/io/models.hpp"
#include "podperf/core/operators.hpp"
#include "podperf/core/plan.hpp"

namespace {
std::atomic<long> g_allocs{0};
}
void* operator new(std::size_t n) {
  ++g_allocs;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace podperf;
using Clock = std::chrono::steady_clock;

template <class F>
void bench(const char* name, long iters, F&& f) {
  volatile double sink = 0;
  for (long i = 0; i < iters / 10; ++i) sink = sink + f(i);  // warm-up
  const long a0 = g_allocs.load();
  const auto t0 = Clock::now();
  for (long i = 0; i < iters; ++i) sink = sink + f(i);
  const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / iters;
  std::printf("%-48s %9.1f ns/call  %12.0f calls/s  allocations: %ld\n", name, ns, 1e9 / ns, g_allocs.load() - a0);
}

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : default_hwdb_dir(argv[0]);
  const Hwdb db = load_hwdb(dir);
  const long N = 2'000'000;
  const Chip chip = db.chip("ascend-910c");
  std::printf("podperf engine micro-benchmark (single thread, %ld calls each)\n", N);
  bench("roofline: expert grouped GEMM (decode)", N, [&](long i) {
    return roofline(chip, ops::grouped_gemm(1, 1 + i % 256, 2048, 7168, Precision::int8, Precision::bf16,
                                            Precision::int8)).time_s;
  });
  bench("roofline: MLA decode attention", N, [&](long i) {
    return roofline(chip, ops::mla_decode(1 + i % 128, 4096, {128, 512, 64, 128, 128}, Precision::bf16,
                                          Precision::int8)).time_s;
  });
  for (auto id : {"gb200-nvl72", "cloudmatrix-384", "atlas-950-superpod", "atlas-950-supercluster"}) {
    const System s = db.system(id);
    const std::string a2a = std::string("collective: all-to-all on ") + id;
    bench(a2a.c_str(), N, [&](long i) { return collective(s, Coll::all_to_all, 2 + i % (s.chips - 1), 7.5e3 * (1 + i % 64)).time_s; });
    const std::string ar = std::string("collective: all-reduce on ") + id;
    bench(ar.c_str(), N, [&](long i) { return collective(s, Coll::all_reduce, 2 + i % (s.chips - 1), 1e6 * (1 + i % 64)).time_s; });
  }
  // Whole estimates, every call a different batch (no reuse): the rate a plan search sees.
  const ModelDb models = load_models(std::string(PODPERF_SOURCE_DIR) + "/configs");
  const Model ds = models.model("deepseek-v3");
  const Model llama = models.model("llama3-405b");
  for (auto id : {"cloudmatrix-384", "gb200-nvl72"}) {
    const System s = db.system(id);
    InferenceSetup x;
    x.weights = x.kv = Precision::fp8;
    x.par = default_inference_plan(s, ds, x.weights);
    x.redundant_experts = default_redundant_experts(ds, x.par.ep);
    const std::string d = std::string("estimate: DeepSeek-V3 decode on ") + id;
    bench(d.c_str(), 200000, [&](long i) {
      InferenceSetup y = x;
      y.batch = static_cast<int>(x.par.chips() * (1 + i % 256));
      return estimate_decode(s, ds, y).tpot_s;
    });
    TrainingSetup t;
    t.par = default_training_plan(s, llama);
    const std::string tr = std::string("estimate: Llama 3.1 405B training step on ") + id;
    bench(tr.c_str(), 200000, [&](long i) {
      TrainingSetup u = t;
      u.global_batch = t.par.dp * static_cast<int>(1 + i % 64);
      return estimate_train(s, llama, u).step_time_s;
    });
  }
  // Training plan search on 16,384 H100 (2,048 HGX nodes): Llama 3.1 405B, its 16M-token batch.
  {
    const System s = db.system("2048xhgx-h100");
    TrainingSetup t;
    t.seq = 8192;
    t.global_batch = 2048;
    search_training_plans(s, llama, t);  // warm-up
    const long a0 = g_allocs.load();
    const auto t0 = Clock::now();
    const TrainingSearch r = search_training_plans(s, llama, t);
    const double sec = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("%-48s %9lld plans in %.3f s  %12.0f plans/s  allocations: %ld\n",
                "plan search: Llama 3.1 405B on 16,384 H100", r.evaluated, sec, r.evaluated / sec, g_allocs.load() - a0);
  }
  return 0;
}
