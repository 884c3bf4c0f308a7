// Layer kinds as data: parameter counts of the hybrid and sparse models derived by hand, and decode
// cost that grows sub-linearly with context (sparse MLA: only the FP8 indexer keys scale with the
// context; hybrid linear attention: only the full-attention quarter of the layers does).
#include <doctest/doctest.h>

#include <string>

#include "podperf/core/attention_kinds.hpp"
#include "podperf/io/models.hpp"
#include "podperf/core/workload.hpp"

using namespace podperf;
using doctest::Approx;

namespace {
const ModelDb& db() {
  static const ModelDb d = load_models(std::string(PODPERF_SOURCE_DIR) + "/configs");
  return d;
}
// One chip, memory-bound everywhere (compute effectively free), no overheads.
System memory_bound_chip() {
  System s;
  s.chips = s.chips_per_supernode = 1;
  Chip& c = s.chip;
  for (auto& x : c.dense_tflops) x = 1e9;
  c.hbm_tb_s = 1;
  c.hbm_gb = 1e6;
  c.gemm_eff = c.attn_prefill_eff = c.attn_decode_eff = c.hbm_eff = 1;
  c.small_gemm_m = 1e-9;
  s.scaleup.gb_s_per_dir = s.scaleout.gb_s_per_dir = 100;
  s.scaleup.coll_eff = s.scaleout.coll_eff = 1;
  s.scaleout.oversubscription = 1;
  return s;
}
double step_s(const Model& m, double ctx) {
  InferenceSetup x;
  x.batch = 8;
  x.context = static_cast<int>(ctx);
  x.weights = Precision::fp8;
  x.kv = Precision::fp8;
  x.attn = Precision::bf16;
  const Estimate e = estimate_decode(memory_bound_chip(), m, x);
  REQUIRE(e.fits());
  return e.step_time_s;
}
}  // namespace

TEST_CASE("Qwen3-Next parameters by hand: 36 Gated DeltaNet, 12 gated-attention layers, 512 experts") {
  const Model q = db().model("qwen3-next-80b-a3b");
  REQUIRE(q.n_groups == 2);
  // Gated DeltaNet: in-proj 2048 x (2 x 16 x 128 + 2 x 32 x 128) = 25,165,824; beta/alpha 2048 x 64 =
  // 131,072; out-proj 4096 x 2048 = 8,388,608; conv (4096 + 4096) x 4 = 32,768.
  CHECK(attention_params(q, Attention::linear) == 33718272.0);
  // Gated attention: Q with gate 3 x 2048 x 16 x 256 = 25,165,824 (Q, gate, O); K, V 2 x 2048 x 512.
  CHECK(attention_params(q, Attention::gqa) == 27262976.0);
  // 36 x 33,718,272 + 12 x 27,262,976 + 48 x (513 x 3,145,728 + 1,048,576) + 2 x 311,164,928.
  CHECK(total_params(q) == 79674081280.0);  // a public audit of the checkpoint: 79,674,391,296 (norms)
  // Linear state per sequence and layer: 32 heads x 128 x 128 in FP32 = 2 MiB, whatever the context.
  CHECK(cache_bytes_seq_layer(q, Attention::linear, 1, 1e6, Precision::fp8) == 2097152.0);
}

TEST_CASE("DeepSeek-V3.2 sparse attention: the context term is the FP8 indexer key, 128 of 576 bytes") {
  const Model v32 = db().model("deepseek-v3.2");
  const Model v3 = db().model("deepseek-v3");
  // Indexer: 1536 x 64 x 128 + 7168 x 128 + 7168 x 64 = 13,959,168 parameters more per layer.
  CHECK(attention_params(v32, Attention::sparse_mla) - attention_params(v3, Attention::mla) == 13959168.0);
  // Decode ops of one layer, one sequence, TP 1: going from 32K to 64K cached tokens adds
  // 32,768 x 128 B of indexer keys (the top-2048 MLA read is fixed) against 32,768 x 576 B for MLA.
  const AttnPrec p{Precision::bf16, Precision::fp8, Precision::bf16};
  auto bytes = [&](const Model& m, Attention k, double c) {
    const OpList l = attention_ops(m, k, 1, true, 1, c, 0, p);
    double b = 0;
    for (int i = 0; i < l.n; ++i) b += l.op[i].bytes;
    return b;
  };
  CHECK(bytes(v32, Attention::sparse_mla, 65536) - bytes(v32, Attention::sparse_mla, 32768) == 4194304.0);
  CHECK(bytes(v3, Attention::mla, 65536) - bytes(v3, Attention::mla, 32768) == 18874368.0);
  // Whole decode step, memory-bound chip: the time added per context token is 128/576 of V3's.
  const double d32 = step_s(v32, 131072) - step_s(v32, 65536);
  const double d3 = step_s(v3, 131072) - step_s(v3, 65536);
  CHECK(d32 / d3 == Approx(128.0 / 576).epsilon(1e-6));
  // Sub-linear: 16x the context costs far less than 16x the step.
  CHECK(step_s(v32, 131072) / step_s(v32, 8192) < 4);
}

TEST_CASE("hybrid linear attention: only the full-attention quarter of the layers grows with context") {
  const Model q = db().model("qwen3-next-80b-a3b");
  Model all_full = q;  // the same model with every layer on gated attention
  all_full.n_groups = 1;
  all_full.groups[0] = {48, Attention::gqa, Ffn::moe};
  const double dh = step_s(q, 131072) - step_s(q, 65536);
  const double df = step_s(all_full, 131072) - step_s(all_full, 65536);
  CHECK(dh / df == Approx(12.0 / 48).epsilon(1e-6));
  CHECK(step_s(q, 131072) / step_s(q, 8192) < 16);
}

TEST_CASE("sliding-window layers read at most the window") {
  const Model g = db().model("gpt-oss-120b");
  REQUIRE(g.layers_of(Attention::sliding) == 18);
  // 128 tokens x 2 x 8 KV heads x 64 x 1 B (FP8), at any context beyond the window.
  CHECK(cache_bytes_seq_layer(g, Attention::sliding, 1, 65536, Precision::fp8) == 131072.0);
}
