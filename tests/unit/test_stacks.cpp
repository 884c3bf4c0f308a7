// Software stacks and the MoE terms they act on: expected experts hit against a routing simulation,
// the stack a system runs, and SYSTEM@STACK.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "podperf/io/hwdb.hpp"
#include "podperf/io/models.hpp"
#include "podperf/core/workload.hpp"

using namespace podperf;
using doctest::Approx;

namespace {
// Minimal deterministic generator (64-bit LCG, Knuth's MMIX constants).
struct Lcg {
  std::uint64_t x;
  std::uint64_t next() { return x = x * 6364136223846793005ull + 1442695040888963407ull; }
  int below(int n) { return static_cast<int>((next() >> 33) % static_cast<std::uint64_t>(n)); }
};

// Routes N tokens, each to k distinct experts of E drawn uniformly, and counts how many of experts
// 0..e-1 (one chip's) receive at least one token; averaged over `trials`.
double simulate_hit(int e, int E, int k, int N, int trials) {
  Lcg g{12345};
  double sum = 0;
  std::vector<int> pool(static_cast<std::size_t>(E));
  for (int t = 0; t < trials; ++t) {
    std::vector<char> hit(static_cast<std::size_t>(e), 0);
    for (int n = 0; n < N; ++n) {
      for (int i = 0; i < E; ++i) pool[static_cast<std::size_t>(i)] = i;
      for (int j = 0; j < k; ++j) {  // partial Fisher-Yates: k distinct experts
        const int r = j + g.below(E - j);
        std::swap(pool[static_cast<std::size_t>(j)], pool[static_cast<std::size_t>(r)]);
        if (pool[static_cast<std::size_t>(j)] < e) hit[static_cast<std::size_t>(pool[static_cast<std::size_t>(j)])] = 1;
      }
    }
    for (char h : hit) sum += h;
  }
  return sum / trials;
}
}  // namespace

TEST_CASE("expected experts hit matches a routing simulation") {
  // DeepSeek-V3 routing (256 experts, 8 per token), a chip holding 8 of them.
  for (int N : {1, 4, 16, 64, 256}) {
    CAPTURE(N);
    const double sim = simulate_hit(8, 256, 8, N, 4000);
    CHECK(experts_hit(8, 256, 8, N) == Approx(sim).epsilon(0.03));
  }
  // By hand: one token hits 8 x 8/256 = 0.25 of the chip's experts; many tokens hit all 8.
  CHECK(experts_hit(8, 256, 8, 1) == Approx(0.25));
  CHECK(experts_hit(8, 256, 8, 1e6) == Approx(8));
}

TEST_CASE("a system runs its default stacks; SYSTEM@STACK and with_stack swap the one of its role") {
  const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  const System cm = db.system("cloudmatrix-384");
  CHECK(cm.stack.id == "cloudmatrix-infer");
  CHECK(cm.train_stack.id == "mindspeed");
  CHECK(cm.stack.role == StackRole::serving);
  const System swapped = db.system("cloudmatrix-384@sglang-blackwell");
  CHECK(swapped.stack.id == "sglang-blackwell");
  CHECK(swapped.train_stack.id == "mindspeed");  // a serving stack leaves the training one
  CHECK(swapped.chip.id == cm.chip.id);
  const System trained = with_stack(cm, db.stack("megatron"));
  CHECK(trained.train_stack.id == "megatron");
  CHECK(trained.stack.id == "cloudmatrix-infer");
  CHECK_THROWS(db.system("cloudmatrix-384@nosuch"));
}

TEST_CASE("two-micro-batch overlap: halves read the weights again, so a memory-bound step keeps one pass (by hand)") {
  // Llama 3.1 70B in bf16 on 2 chips at TP2, batch 2 with 1,000 cached tokens, unbounded compute,
  // 2 TB/s of HBM and a fabric too fast to matter. Per chip and step: layer weights
  // 80 x (150,994,944 + 704,643,072) x 2 B / 2 = 68.45 GB, LM head 1,050,673,152 x 2 B / 2 = 1.05 GB,
  // KV 2 x 1,000 x 2 x 8 x 128 x 2 B x 80 / 2 (KV heads split over TP) = 0.33 GB.
  //   one pass:                      (68.45 + 1.05 + 0.33) GB / 2 TB/s = 34.92 ms;
  //   two micro-batches of one each: (2 x 68.45 + 1.05 + 0.33) GB / 2 TB/s = 69.14 ms,
  // so the stack keeps the one pass: the step is 34.92 ms whatever its scheme.
  const ModelDb models = load_models(std::string(PODPERF_SOURCE_DIR) + "/configs");
  const Model m = models.model("llama3-70b");
  System s;
  s.chips = s.chips_per_supernode = 2;
  for (auto& x : s.chip.dense_tflops) x = 1e9;
  s.chip.hbm_tb_s = 2;
  s.chip.hbm_gb = 1e6;
  s.chip.gemm_eff = s.chip.attn_prefill_eff = s.chip.attn_decode_eff = s.chip.hbm_eff = 1;
  s.chip.small_gemm_m = 1e-9;
  s.scaleup.gb_s_per_dir = s.scaleout.gb_s_per_dir = 1e9;
  s.scaleup.coll_eff = s.scaleout.coll_eff = 1;
  s.scaleup.latency_us = s.scaleout.latency_us = 1e-9;
  s.scaleout.oversubscription = 1;
  InferenceSetup x;
  x.par.tp = 2;
  x.batch = 2;
  x.context = 1000;
  s.stack.scheme = OverlapScheme::streams;
  const Estimate one = estimate_decode(s, m, x);
  s.stack.scheme = OverlapScheme::two_micro_batch;
  const Estimate two = estimate_decode(s, m, x);
  REQUIRE(one.fits());
  REQUIRE(two.fits());
  CHECK(one.step_time_s == Approx(34.92e-3).epsilon(3e-3));
  CHECK(two.step_time_s == Approx(34.92e-3).epsilon(3e-3));
  // A slow fabric (the TP all-reduce now costs more than the weights): halves hide half of it, and
  // the micro-batch step comes out below the one pass.
  s.scaleup.gb_s_per_dir = 0.01;
  s.stack.scheme = OverlapScheme::streams;
  const Estimate slow_one = estimate_decode(s, m, x);
  s.stack.scheme = OverlapScheme::two_micro_batch;
  const Estimate slow_two = estimate_decode(s, m, x);
  CHECK(slow_two.step_time_s < slow_one.step_time_s);
}
