// Models and workloads: parameter counts against published totals, hand-derived decode, prefill
// and training cases, and every model on every system.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "podperf/io/hwdb.hpp"
#include "podperf/io/models.hpp"
#include "podperf/core/plan.hpp"
#include "podperf/core/workload.hpp"

using namespace podperf;
using doctest::Approx;

namespace {
const ModelDb& models() {
  static const ModelDb db = load_models(std::string(PODPERF_SOURCE_DIR) + "/configs");
  return db;
}
const Hwdb& hwdb() {
  static const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  return db;
}
// One chip, its own supernode; compute and bandwidth chosen per test, no launch overhead.
System one_chip(double tflops, double hbm_tb_s, double hbm_gb = 1e6) {
  System s;
  s.chips = s.chips_per_supernode = 1;
  Chip& c = s.chip;
  for (auto& x : c.dense_tflops) x = tflops;
  c.hbm_tb_s = hbm_tb_s;
  c.hbm_gb = hbm_gb;
  c.gemm_eff = 1;
  c.attn_prefill_eff = c.attn_decode_eff = 1;
  c.hbm_eff = 1;
  c.small_gemm_m = 1e-9;
  s.scaleup.gb_s_per_dir = s.scaleout.gb_s_per_dir = 100;
  s.scaleup.coll_eff = s.scaleout.coll_eff = 1;
  s.scaleout.oversubscription = 1;
  return s;
}
}  // namespace

TEST_CASE("parameter counts match the published totals within 1% or their rounding") {
  for (auto id : {"deepseek-v3", "llama3-405b", "llama3-70b", "qwen3-235b-a22b", "kimi-k2", "gpt-oss-120b"}) {
    CAPTURE(id);
    const Model m = models().model(id);
    const double total = total_params(m) / 1e9, active = active_params(m) / 1e9;
    CAPTURE(total);
    CAPTURE(active);
    const bool total_ok = std::abs(total / m.published_total_b - 1) <= 0.01 ||
                          (total >= m.published_total_low_b && total <= m.published_total_high_b);
    const bool active_ok = std::abs(active / m.published_active_b - 1) <= 0.01 ||
                           (active >= m.published_active_low_b && active <= m.published_active_high_b);
    CHECK(total_ok);
    CHECK(active_ok);
  }
  // DeepSeek-V3 by hand: MLA 187,105,280 x 61 + dense FFN 396,361,728 x 3 + 58 x (257 experts x
  // 44,040,192 + router 1,835,008) + 2 x 129,280 x 7,168 = 671.03B; active 36.62B (vs 36.7B published).
  const Model ds = models().model("deepseek-v3");
  CHECK(attention_params(ds) == 187105280.0);
  CHECK(total_params(ds) == Approx(671.025e9).epsilon(1e-5));
  CHECK(active_params(ds) == Approx(36.624e9).epsilon(1e-4));
  CHECK(kv_elements_per_token_layer(ds) == 576);  // 512 latent + 64 RoPE key
  const Model llama = models().model("llama3-70b");
  CHECK(kv_elements_per_token_layer(llama) == 2 * 8 * 128);
}

TEST_CASE("memory-bound decode of a dense model on one chip: weights + KV over HBM bandwidth") {
  // Llama 3.1 70B, bf16, batch 1, 1,000 cached tokens, on a chip with unbounded compute and 2 TB/s.
  // Bytes per step: layers 80 x (150,994,944 attention + 704,643,072 FFN) x 2 B = 136.90 GB,
  // LM head 1,050,673,152 x 2 B = 2.10 GB, KV 1,000 x 2 x 8 x 128 x 2 B x 80 = 0.33 GB:
  // 139.33 GB / 2 TB/s = 69.67 ms (activations add < 0.1%).
  const System s = one_chip(1e9, 2);
  const Model m = models().model("llama3-70b");
  InferenceSetup x;
  x.batch = 1;
  x.context = 1000;
  x.overlap = 0;
  const Estimate e = estimate_decode(s, m, x);
  REQUIRE(e.fits());
  CHECK(e.step_time_s == Approx(69.666e-3).epsilon(2e-3));
  CHECK(e.bound == Bound::memory);
  CHECK(e.tokens_per_s_per_chip == Approx(1 / e.step_time_s));
  CHECK(e.mem.weights == Approx(70.55e9 * 2 / 1e9).epsilon(1e-3));
}

TEST_CASE("compute-bound prefill: FLOPs over peak") {
  // Llama 3.1 70B, one 4,096-token prompt, 1,000 TFLOPS, unbounded HBM bandwidth:
  // GEMMs 2 x 4,096 x 68,451,041,280 = 560.75 TFLOP; causal attention 2 x 4,096^2 x 64 x 128 x 80
  // = 21.99 TFLOP; LM head for the last token 2.1 GFLOP: 582.7 TFLOP -> 0.5827 s (+ norms < 0.01%).
  const System s = one_chip(1000, 1e9);
  const Model m = models().model("llama3-70b");
  InferenceSetup x;
  x.batch = 1;
  x.seq_in = 4096;
  const Estimate e = estimate_prefill(s, m, x);
  REQUIRE(e.fits());
  const double flops = 2.0 * 4096 * 68451041280.0 + 2.0 * 4096 * 4096 * 64 * 128 * 80 + 2.0 * 1050673152.0;
  CHECK(e.ttft_s == Approx(flops / 1e15).epsilon(1e-3));
  CHECK(e.bound == Bound::compute);
  CHECK(e.tokens_per_s_per_chip == Approx(4096 / e.ttft_s));
}

TEST_CASE("a training step costs 6 x active params x tokens plus attention") {
  const Model m = models().model("llama3-70b");
  // forward = 2 x active + causal attention 2 s h d per layer.
  CHECK(forward_flops_per_token(m, 4096) == Approx(2 * active_params(m) + 80 * 2.0 * 4096 * 64 * 128));
  // One chip at 1,000 TFLOPS, unbounded bandwidth: step = 3 x forward x tokens / peak.
  const System s = one_chip(1000, 1e9);
  TrainingSetup x;
  x.global_batch = 8;
  x.seq = 4096;
  const Estimate e = estimate_train(s, m, x);
  const double tokens = 8.0 * 4096;
  // GEMMs 3 passes; the fused attention backward recomputes the scores: 1 + 2.5 passes.
  const double attn = 80 * 2.0 * 4096 * 64 * 128;
  const double expect = (3 * (forward_flops_per_token(m, 4096) - attn) + 3.5 * attn) * tokens / 1e15;
  CHECK(e.breakdown[static_cast<int>(Part::compute)] == Approx(expect).epsilon(2e-3));
  x.recompute = Recompute::full;  // one more forward of the layers (not the LM head)
  const double head = 2.0 * 128256 * 8192;
  CHECK(estimate_train(s, m, x).breakdown[static_cast<int>(Part::compute)] ==
        Approx(expect + (forward_flops_per_token(m, 4096) - head) * tokens / 1e15).epsilon(2e-3));
  // 1F1B bubble: (pp - 1) / micro-batches.
  System two = one_chip(1000, 1e9);
  two.chips = two.chips_per_supernode = 4;
  x.recompute = Recompute::none;
  x.par.pp = 4;
  CHECK(estimate_train(two, m, x).bubble_frac == Approx(3.0 / 8));
  x.interleave = 3;
  x.schedule.interleaved = true;  // interleaved 1F1B
  x.schedule.max_interleave = 8;
  x.schedule.act_interleave = 1;
  CHECK(estimate_train(two, m, x).bubble_frac == Approx(3.0 / 24));
}

TEST_CASE("impossible plans and memory limits give reasons, not numbers") {
  const System nvl = hwdb().system("gb200-nvl72");
  const Model ds = models().model("deepseek-v3");
  const Model llama = models().model("llama3-70b");
  CHECK(check_parallel(nvl, llama, {128, 1, 1, 1, 1}) == Reason::too_many_chips);
  CHECK(check_parallel(hwdb().system("2xgb200-nvl72"), llama, {128, 1, 1, 1, 1}) == Reason::tp_beyond_scaleup);
  CHECK(check_parallel(nvl, llama, {3, 1, 1, 1, 1}) == Reason::tp_heads);
  CHECK(check_parallel(nvl, llama, {1, 8, 8, 1, 1}) == Reason::ep_dense);
  CHECK(check_parallel(nvl, ds, {1, 8, 16, 1, 1}) == Reason::ep_group);
  InferenceSetup x;
  x.par = {1, 8, 8, 1, 1};
  x.batch = 8;
  x.redundant_experts = 0;
  CHECK(estimate_decode(nvl, ds, x).reason == Reason::memory);  // 671B in bf16 on 8 GPUs
  x.par = {1, 72, 72, 1, 1};
  x.batch = 72;
  CHECK(estimate_decode(nvl, ds, x).reason == Reason::ep_experts);  // 256 over 72 without replicas
  x.redundant_experts = default_redundant_experts(ds, 72);
  CHECK(x.redundant_experts == 32);  // 288 = 72 x 4
  x.weights = x.kv = Precision::fp8;
  const Estimate ok = estimate_decode(nvl, ds, x);
  CHECK(ok.fits());
  x.batch = 10'000'000;
  CHECK(estimate_decode(nvl, ds, x).reason == Reason::memory);
  x.batch = 0;
  x.tpot_target_ms = 0.01;
  CHECK(estimate_decode(nvl, ds, x).reason == Reason::tpot_unreachable);
}

TEST_CASE("a TPOT target picks the largest batch under it") {
  const System nvl = hwdb().system("gb200-nvl72");
  const Model ds = models().model("deepseek-v3");
  InferenceSetup x;
  x.par = {1, 72, 72, 1, 1};
  x.redundant_experts = 32;
  x.weights = x.kv = Precision::fp8;
  x.tpot_target_ms = 30;
  const Estimate e = estimate_decode(nvl, ds, x);
  REQUIRE(e.fits());
  CHECK(e.tpot_s * 1e3 <= 30);
  x.batch = e.batch + 72;  // one more sequence per GPU breaks the target
  x.tpot_target_ms = 0;
  CHECK(estimate_decode(nvl, ds, x).tpot_s * 1e3 > 30);
  // Multi-token prediction: 1 draft token accepted 70% of the time yields 1.7 tokens per step.
  x.batch = e.batch;
  const Estimate plain = estimate_decode(nvl, ds, x);
  x.mtp_tokens = 1;
  x.mtp_accept = 0.7;
  const Estimate mtp = estimate_decode(nvl, ds, x);
  CHECK(mtp.tpot_s == Approx(mtp.step_time_s / 1.7));
  CHECK(mtp.step_time_s > plain.step_time_s);
}

TEST_CASE("serving: disaggregated pools and KV transfer") {
  const System cm = hwdb().system("cloudmatrix-384");
  const Model ds = models().model("deepseek-v3");
  InferenceSetup x;
  x.weights = x.kv = Precision::int8;
  x.par = {1, 160, 160, 1, 1};
  x.redundant_experts = 64;
  x.prefill = {1, 16, 16, 1, 1};
  x.seq_in = 4096;
  x.seq_out = 256;
  x.batch = 160 * 96;
  const Estimate e = estimate_serve(cm, ds, x);
  REQUIRE(e.fits());
  // Chips per output token/s: 1/r_d + (4096/256)/r_p.
  const double per_out = 1 / e.decode_tokens_per_s_per_chip + 16 / e.prefill_tokens_per_s_per_chip;
  CHECK(e.tokens_per_s_per_chip == Approx(1 / per_out));
  CHECK(e.decode_chip_share == Approx((1 / e.decode_tokens_per_s_per_chip) / per_out));
  // KV of one 4,096-token prompt: 4,096 x 576 x 61 x 1 B = 143.9 MB.
  CHECK(e.kv_transfer_bytes == Approx(4096.0 * 576 * 61));
  CHECK(e.ttft_s > e.breakdown[static_cast<int>(Part::kv_transfer)]);
}

TEST_CASE("serving: fixed pools as deployed, the slower pool sets the rate") {
  const System gb = hwdb().system("gb200-nvl72");
  const Model ds = models().model("deepseek-v3");
  InferenceSetup x;
  x.weights = Precision::fp4;  // FP8 weights do not fit a quarter of the model on one GB200
  x.kv = x.attn = Precision::fp8;
  x.par = {1, 8, 8, 1, 1};
  x.prefill = {1, 1, 1, 4, 1};  // PP4 prefill, every expert on each stage
  x.prefill_redundant_experts = 0;
  x.seq_in = 32768;
  x.seq_out = 1024;
  x.batch = 64;
  // Each pool measured alone: prefill at its own plan, decode at its batch.
  InferenceSetup px = x;
  px.par = x.prefill;
  px.redundant_experts = 0;
  px.batch = 0;
  const Estimate pre = estimate_prefill(gb, ds, px);
  const Estimate dec = estimate_decode(gb, ds, x);
  REQUIRE(pre.fits());
  REQUIRE(dec.fits());
  // 4 prefill chips serve r_p x 4 / 32,768 prompts/s; 8 decode chips finish r_d x 8 / 1,024 requests/s.
  const double prompts_4 = pre.tokens_per_s_per_chip * 4 / 32768, done_8 = dec.tokens_per_s_per_chip * 8 / 1024;
  for (int p_chips : {4, 16, 64}) {
    x.prefill_pool_chips = p_chips;
    x.decode_pool_chips = 8;
    const Estimate e = estimate_serve(gb, ds, x);
    REQUIRE(e.fits());
    // Requests in = requests out: the deployment completes min(prefill, decode) requests/s, each
    // with 1,024 output tokens, spread over every chip of both pools.
    const double rps = std::min(prompts_4 * p_chips / 4, done_8);
    CAPTURE(p_chips);
    CHECK(e.tokens_per_s_per_chip == Approx(rps * 1024 / (p_chips + 8)));
    CHECK(e.decode_chip_share == Approx(8.0 / (p_chips + 8)));
  }
  // A pool that is not a whole number of instances keeps its whole instances only (18 -> 16 chips).
  x.prefill_pool_chips = 18;
  const Estimate part = estimate_serve(gb, ds, x);
  x.prefill_pool_chips = 16;
  CHECK(part.tokens_per_s_per_chip * 26 == Approx(estimate_serve(gb, ds, x).tokens_per_s_per_chip * 24));
}

TEST_CASE("expert imbalance needs more than one chip: EP1 holds every expert") {
  const System gb = hwdb().system("gb200-nvl72");
  const Model ds = models().model("deepseek-v3");
  InferenceSetup x;
  x.weights = Precision::fp4;
  x.kv = x.attn = Precision::fp8;
  x.par = {1, 1, 1, 4, 1};
  x.seq_in = 8192;
  x.batch = 4;
  const double balanced = estimate_prefill(gb, ds, x).ttft_s;
  x.default_eplb = true;  // the stack's imbalance (2 on sglang-blackwell) cannot apply on one chip
  CHECK(estimate_prefill(gb, ds, x).ttft_s == Approx(balanced));
  x.par = {1, 8, 8, 1, 1};
  x.batch = 8;
  const double ep8 = estimate_prefill(gb, ds, x).ttft_s;
  x.default_eplb = false;
  CHECK(ep8 > estimate_prefill(gb, ds, x).ttft_s);
}

TEST_CASE("every model on every system gives finite numbers or a reason") {
  for (auto& mentry : models().records) {
    const std::string mid = mentry.first;
    const Model m = models().model(mid);
    for (auto* kind : {&hwdb().systems, &hwdb().clusters})
      for (auto& sentry : *kind) {
        const std::string sid = sentry.first;
        const System s = hwdb().system(sid);
        InferenceSetup x;
        x.weights = x.kv = Precision::fp8;
        x.par = default_inference_plan(s, m, x.weights);
        x.redundant_experts = default_redundant_experts(m, x.par.ep);
        x.seq_in = 1024;
        x.seq_out = 256;
        for (Mode mode : {Mode::prefill, Mode::decode, Mode::serve}) {
          CAPTURE(mid);
          CAPTURE(sid);
          CAPTURE(to_string(mode));
          const Estimate e = mode == Mode::prefill ? estimate_prefill(s, m, x)
                             : mode == Mode::decode ? estimate_decode(s, m, x)
                                                    : estimate_serve(s, m, x);
          if (!e.fits()) continue;
          CHECK(std::isfinite(e.tokens_per_s_per_chip));
          CHECK(e.tokens_per_s_per_chip > 0);
          CHECK(e.mem.used() <= e.mem.capacity);
        }
        TrainingSetup t;
        t.par = default_training_plan(s, m);
        t.global_batch = t.par.dp * 4;
        const Estimate e = estimate_train(s, m, t);
        CHECK(std::isfinite(e.step_time_s));
        CHECK(e.step_time_s > 0);
      }
  }
}
