// Training: batch accounting, FLOPs of each recomputation mode, ZeRO-3 gathers, memory against
// Korthikanti et al.'s published figure 1, and the plan search respecting the batch. Expected values
// are derived by hand from the model's hyper-parameters, not from podperf's own functions.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "podperf/io/hwdb.hpp"
#include "podperf/io/models.hpp"
#include "podperf/core/plan.hpp"
#include "podperf/core/training_memo.hpp"
#include "podperf/core/workload.hpp"

using namespace podperf;
using doctest::Approx;

namespace {
const ModelDb& models() {
  static const ModelDb db = load_models(std::string(PODPERF_SOURCE_DIR) + "/configs");
  return db;
}
// `chips` ideal chips in one supernode: every unit at its peak, free launches, a fast fabric.
System ideal(int chips, double tflops = 1000, double hbm_tb_s = 1e6) {
  System s;
  s.chips = s.chips_per_supernode = chips;
  Chip& c = s.chip;
  for (auto& x : c.dense_tflops) x = tflops;
  c.hbm_tb_s = hbm_tb_s;
  c.hbm_gb = 1e6;
  c.gemm_eff = c.attn_prefill_eff = c.attn_decode_eff = c.hbm_eff = 1;
  c.small_gemm_m = 1e-9;
  s.scaleup.gb_s_per_dir = s.scaleout.gb_s_per_dir = 100;
  s.scaleup.coll_eff = s.scaleout.coll_eff = 1;
  s.scaleup.latency_us = s.scaleout.latency_us = 1;
  s.scaleout.oversubscription = 1;
  return s;
}
double part(const Estimate& e, Part p) { return e.breakdown[static_cast<int>(p)]; }
}  // namespace

TEST_CASE("training batch accounting: micro-batches, bubble, tokens per step") {
  const Model m = models().model("llama3-70b");
  const System s = ideal(16);
  TrainingSetup x;
  x.seq = 4096;
  x.par = Parallel{1, 4, 1, 4, 1};  // DP4 x PP4
  x.micro_batch = 2;
  x.global_batch = 64;  // 64 / (4 DP x 2 per micro-batch) = 8 micro-batches per pipeline
  const Estimate e = estimate_train(s, m, x);
  REQUIRE(e.fits());
  CHECK(e.bubble_frac == Approx(3.0 / 8));  // (pp - 1) / micro-batches
  CHECK(e.tokens_per_s * e.step_time_s == Approx(64.0 * 4096));
  CHECK(e.tokens_per_s_per_chip == Approx(e.tokens_per_s / 16));
  x.interleave = 2;
  x.schedule.interleaved = true;  // interleaved 1F1B
  x.schedule.max_interleave = 8;
  x.schedule.act_interleave = 1;
  CHECK(estimate_train(s, m, x).bubble_frac == Approx(3.0 / 16));
  // A batch that does not divide into DP x micro-batch, and one smaller than DP.
  x.global_batch = 60;
  CHECK(estimate_train(s, m, x).reason == Reason::batch_divides);
  x.global_batch = 3;
  CHECK(estimate_train(s, m, x).reason == Reason::batch_small);
}

TEST_CASE("training FLOPs: 3 passes of GEMMs, fused attention 1 + 2.5, full recomputation one more forward") {
  const Model m = models().model("llama3-70b");
  const System s = ideal(1);
  TrainingSetup x;
  x.seq = 4096;
  x.global_batch = 2;
  // By hand: GEMM FLOPs per token and pass = 2 x (layer weights + LM head); attention (causal)
  // 2 s heads head_dim per layer in the forward pass.
  const double h = 8192, layers = 80, heads = 64, kv = 8, d = 128, ffn = 28672, vocab = 128256;
  const double per_layer = 2 * h * heads * d + 2 * h * kv * d + 3 * h * ffn;
  const double gemm_fwd = 2 * (layers * per_layer + vocab * h);
  const double attn_fwd = layers * 2 * 4096.0 * heads * d;
  const double tokens = 2 * 4096.0;
  const double none = (3 * gemm_fwd + 3.5 * attn_fwd) * tokens / 1e15;  // seconds at 1,000 TFLOPS
  const Estimate e = estimate_train(s, m, x);
  REQUIRE(e.fits());
  CHECK(part(e, Part::compute) == Approx(none).epsilon(2e-3));  // norms and activations add < 0.2 %
  x.recompute = Recompute::full;
  CHECK(part(estimate_train(s, m, x), Part::compute) == Approx(none + (gemm_fwd - 2 * vocab * h + attn_fwd) * tokens / 1e15).epsilon(2e-3));
  // Selective with a fused kernel repeats norms and activation functions only: no GEMM FLOPs.
  x.recompute = Recompute::selective;
  CHECK(part(estimate_train(s, m, x), Part::compute) == Approx(none).epsilon(2e-3));
  // MFU counts model FLOPs (3 x forward): below 1 on an ideal chip by the attention backward's extra half.
  x.recompute = Recompute::none;
  CHECK(estimate_train(s, m, x).mfu == Approx(3 * (gemm_fwd + attn_fwd) / (3 * gemm_fwd + 3.5 * attn_fwd)).epsilon(2e-3));
}

TEST_CASE("a training stack's GEMM share slows only the GEMMs and leaves the counted FLOPs") {
  const Model m = models().model("llama3-70b");
  System s = ideal(1);
  TrainingSetup x;
  x.seq = 4096;
  x.global_batch = 2;
  // By hand, as above: the GEMMs' 3 passes and the fused attention's 1 + 2.5 at 1,000 TFLOPS.
  const double h = 8192, layers = 80, heads = 64, kv = 8, d = 128, ffn = 28672, vocab = 128256;
  const double gemm_fwd = 2 * (layers * (2 * h * heads * d + 2 * h * kv * d + 3 * h * ffn) + vocab * h);
  const double attn_fwd = layers * 2 * 4096.0 * heads * d;
  const double tokens = 2 * 4096.0;
  const double gemm_s = 3 * gemm_fwd * tokens / 1e15, attn_s = 3.5 * attn_fwd * tokens / 1e15;
  const Estimate full = estimate_train(s, m, x);
  s.train_stack.train_gemm_scale = 0.5;  // GEMMs at half the chip's GEMM efficiency: twice as long
  const Estimate half = estimate_train(s, m, x);
  REQUIRE(half.fits());
  CHECK(part(full, Part::compute) == Approx(gemm_s + attn_s).epsilon(2e-3));
  CHECK(part(half, Part::compute) == Approx(2 * gemm_s + attn_s).epsilon(2e-3));
  // The FLOPs counted (compute utilisation x step time) do not change; MFU falls with the step.
  CHECK(half.compute_util * half.step_time_s == Approx(full.compute_util * full.step_time_s).epsilon(1e-9));
  CHECK(half.mfu * half.step_time_s == Approx(full.mfu * full.step_time_s).epsilon(1e-9));
}

TEST_CASE("ZeRO-3 gathers the parameters for every micro-batch's forward and backward") {
  const Model m = models().model("llama3-70b");
  const System s = ideal(8);
  TrainingSetup x;
  x.seq = 4096;
  x.par = Parallel{1, 8, 1, 1, 1};
  x.global_batch = 32;  // 4 micro-batches per replica
  x.overlap = 0;        // nothing hidden: the traffic itself
  x.zero = 1;           // reduce-scatter gradients + all-gather parameters once per step
  const double z1 = part(estimate_train(s, m, x), Part::dp_comm);
  x.zero = 3;           // per micro-batch: all-gather (forward), all-gather (backward), reduce-scatter
  const double z3 = part(estimate_train(s, m, x), Part::dp_comm);
  CHECK(z1 > 0);
  // Gather and scatter of the same bytes cost the same: 4 x 3 collectives against 2.
  CHECK(z3 == Approx(z1 * 4 * 3 / 2));
}

TEST_CASE("expert gradients reduce over the expert-DP group, not over all of DP") {
  const Model m = models().model("deepseek-v3");
  const System s = ideal(64);
  TrainingSetup x;
  x.seq = 4096;
  x.global_batch = 64;
  x.overlap = 0;
  x.zero = 1;
  x.par = Parallel{1, 64, 64, 1, 1};  // EP over all of DP: each expert lives once, no expert-DP group
  const double wide = part(estimate_train(s, m, x), Part::dp_comm);
  x.par.ep = 8;                       // 8 copies of each expert: their gradients reduce over 8 ranks
  const double narrow = part(estimate_train(s, m, x), Part::dp_comm);
  CHECK(narrow > wide * 4);  // the expert weights (~96 % of the model) now cross the fabric
}

TEST_CASE("activation and state memory of GPT 22B against Korthikanti et al. figure 1") {
  // arXiv 2205.05198 fig. 1 (22B, TP8, micro-batch 4 x 2,048): parameters, gradients and optimizer
  // 45.56 GiB; activations 59.25 GiB without recomputation or sequence parallelism, 9.56 GiB with
  // selective recomputation and sequence parallelism.
  const Model m = models().model("gpt-22b");
  System s = ideal(8);
  s.chip.hbm_gb = 80;
  TrainingSetup x;
  x.par = Parallel{8, 1, 1, 1, 1};
  x.seq = 2048;
  x.micro_batch = 4;
  x.global_batch = 4;
  x.zero = 0;
  x.attn_kernel = AttnKernel::unfused;
  x.sequence_parallel = false;
  const double gib = 1e9 / double(1 << 30);
  Estimate e = estimate_train(s, m, x);
  CHECK((e.mem.weights + e.mem.gradients + e.mem.optimizer) * gib == Approx(45.56).epsilon(0.02));
  CHECK(e.mem.activations * gib == Approx(59.25).epsilon(0.01));
  x.recompute = Recompute::selective;
  x.sequence_parallel = true;
  e = estimate_train(s, m, x);
  CHECK(e.mem.activations * gib == Approx(9.5625).epsilon(0.01));
}

TEST_CASE("the plan search keeps the global batch and orders its best plans") {
  const Model m = models().model("llama3-70b");
  System s = ideal(64);
  s.chips_per_supernode = 8;
  s.supernodes = 8;
  s.chip.hbm_gb = 80;
  TrainingSetup x;
  x.seq = 4096;
  x.global_batch = 96;  // 96 = 2^5 x 3: DP 32 of 64 chips at most
  const TrainingSearch r = search_training_plans(s, m, x);
  REQUIRE(r.found == kBestPlans);
  CHECK(r.evaluated >= r.fits);
  long long rejected = 0;
  for (long long n : r.rejected) rejected += n;
  CHECK(rejected >= r.evaluated - r.fits);
  for (int i = 0; i < r.found; ++i) {
    const TrainingSetup& p = r.setup[i];
    CHECK(p.global_batch == 96);
    CHECK(96 % (p.par.dp * p.micro_batch) == 0);
    CHECK(p.par.chips() <= 64);
    CHECK(r.best[i].idle_chips == 64 - p.par.chips());
    if (i > 0) CHECK(r.best[i].tokens_per_s <= r.best[i - 1].tokens_per_s);
  }
  // Pinned dimensions stay as given.
  TrainingPins pins;
  pins.tp = 2;
  pins.zero = 3;
  const TrainingSearch q = search_training_plans(s, m, x, pins);
  REQUIRE(q.found > 0);
  for (int i = 0; i < q.found; ++i) {
    CHECK(q.setup[i].par.tp == 2);
    CHECK(q.setup[i].zero == 3);
  }
}

TEST_CASE("the layer-cost memo returns exactly what a fresh computation gives, in any order") {
  // Real systems (scale-up and scale-out collectives, measured efficiencies) and both a dense and a
  // MoE model; plans visited in a scrambled order so that entries are evicted and refilled.
  const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  const System systems[] = {db.system("64xgb200-nvl72"), db.system("12xcloudmatrix-384")};
  const Model ms[] = {models().model("llama3-405b"), models().model("deepseek-v3")};
  std::vector<TrainingSetup> plans;
  for (int tp : {1, 2, 4, 8})
    for (int pp : {1, 4, 16})
      for (int cp : {1, 2})
        for (int ep : {1, 8, 64})
          for (int mb : {1, 2})
            for (int rc = 0; rc < 3; ++rc)
              for (int z : {1, 3})
                for (int seq : {4096, 8192}) {
                  TrainingSetup x;
                  x.par = Parallel{tp, 4608 / (tp * pp * cp), ep, pp, cp};
                  x.global_batch = 16 * x.par.dp;
                  x.micro_batch = mb;
                  x.recompute = static_cast<Recompute>(rc);
                  x.zero = z;
                  x.seq = seq;
                  x.sequence_parallel = (tp + pp) % 3 != 0;
                  plans.push_back(x);
                }
  std::uint64_t h = 12345;
  for (std::size_t i = plans.size(); i > 1; --i) {  // Fisher-Yates with a fixed LCG
    h = h * 6364136223846793005ull + 1442695040888963407ull;
    std::swap(plans[i - 1], plans[static_cast<std::size_t>(h >> 33) % i]);
  }
  TrainMemo memo;
  int compared = 0;
  for (const System& s : systems)
    for (const Model& m : ms)
      for (const TrainingSetup& x : plans) {
        const Estimate a = train_step(s, m, x, false), b = train_step(s, m, x, false, &memo);
        REQUIRE(a.reason == b.reason);
        if (!a.fits()) continue;
        ++compared;
        CHECK(a.step_time_s == b.step_time_s);  // bit for bit
        for (int p = 0; p < kParts; ++p) CHECK(a.breakdown[p] == b.breakdown[p]);
        CHECK(a.compute_util == b.compute_util);
      }
  CHECK(compared > 1000);
  CHECK(memo.hits > 0);
  CHECK(memo.misses > 64);  // more layer shapes than entries: evicted entries were refilled
}
