// Roofline and operator FLOP/byte counts against hand-derived numbers.
#include <doctest/doctest.h>

#include "podperf/core/operators.hpp"
#include "podperf/core/roofline.hpp"

using namespace podperf;
using doctest::Approx;

namespace {
// 1000 TFLOPS BF16 (no FP8/INT8/FP4), 50% GEMM efficiency, 2 TB/s at 50%; launches of 1 us (kLaunch).
Chip test_chip() {
  Chip c;
  c.dense_tflops[static_cast<int>(Precision::bf16)] = 1000;
  c.hbm_tb_s = 2;
  c.gemm_eff = 0.5;
  c.attn_prefill_eff = 0.25;
  c.attn_decode_eff = 0.4;
  c.hbm_eff = 0.5;
  c.small_gemm_m = 32;
  return c;
}
constexpr double kLaunch = 1;
}  // namespace

TEST_CASE("roofline: compute-bound, memory-bound and overhead-bound operators") {
  const Chip c = test_chip();
  // 1e12 FLOPs / (1000e12 x 0.5) = 2 ms; 1e9 B / (2e12 x 0.5) = 1 ms; + 1 us.
  OpTime t = roofline(c, {1e12, 1e9, Precision::bf16, 0}, kLaunch);
  CHECK(t.compute_s == Approx(2e-3));
  CHECK(t.memory_s == Approx(1e-3));
  CHECK(t.time_s == Approx(2.001e-3));
  CHECK(t.bound == Bound::compute);
  // A memory-bound decode-like step: 1e6 FLOPs, 1e9 B -> 1 ms + 1 us.
  t = roofline(c, {1e6, 1e9, Precision::bf16, 0}, kLaunch);
  CHECK(t.time_s == Approx(1.001e-3));
  CHECK(t.bound == Bound::memory);
  // A tiny operator is overhead-bound: 1e6 FLOPs -> 2 ns, 1e3 B -> 1 ns, launch 1 us.
  t = roofline(c, {1e6, 1e3, Precision::bf16, 0}, kLaunch);
  CHECK(t.bound == Bound::overhead);
}

TEST_CASE("roofline: small-GEMM efficiency curve halves at small_gemm_m") {
  const Chip c = test_chip();
  CHECK(compute_efficiency(c, 0) == Approx(0.5));
  CHECK(compute_efficiency(c, 32) == Approx(0.25));  // 0.5 x 32 / (32 + 32)
  CHECK(compute_efficiency(c, 96) == Approx(0.375));  // 0.5 x 96 / 128
  const OpTime t = roofline(c, {1e12, 0, Precision::bf16, 32});
  CHECK(t.compute_s == Approx(4e-3));
}

TEST_CASE("roofline: a precision the chip lacks runs at the next wider one") {
  Chip c = test_chip();
  CHECK(peak_tflops(c, Precision::fp8) == 1000);
  CHECK(peak_tflops(c, Precision::fp4) == 1000);
  CHECK(peak_tflops(c, Precision::int8) == 1000);
  c.dense_tflops[static_cast<int>(Precision::int8)] = 2000;
  CHECK(peak_tflops(c, Precision::int8) == 2000);
  CHECK(peak_tflops(c, Precision::fp8) == 1000);  // float never falls back to integer units
  c.dense_tflops[static_cast<int>(Precision::fp8)] = 2000;
  CHECK(peak_tflops(c, Precision::fp4) == 2000);
  CHECK(peak_tflops(c, Precision::fp32) == 0);   // nothing wider than fp32
}

TEST_CASE("roofline: FP4 GEMMs reach fp4_gemm_eff_ratio of FP8's fraction of peak; without FP4 units, FP8's") {
  Chip c = test_chip();
  c.dense_tflops[static_cast<int>(Precision::fp8)] = 2000;
  c.fp4_gemm_eff_ratio = 0.75;
  // No FP4 units: an FP4 GEMM runs at the FP8 rate and efficiency, 1e12 / (2000e12 x 0.5) = 1 ms.
  CHECK(roofline(c, {1e12, 0, Precision::fp4, 0}).compute_s == Approx(1e-3));
  c.dense_tflops[static_cast<int>(Precision::fp4)] = 4000;
  // FP4 units: 1e12 / (4000e12 x 0.5 x 0.75) = 0.6667 ms, so 1.5x FP8 rather than the peaks' 2x.
  CHECK(roofline(c, {1e12, 0, Precision::fp4, 0}).compute_s == Approx(1e-3 / 1.5));
  CHECK(roofline(c, {1e12, 0, Precision::fp8, 0}).compute_s == Approx(1e-3));
  // At 96 rows: 0.5 x 96 / 128 x 0.75 = 0.28125 of 4000 TFLOPS -> 1e12 / 1125e12 s.
  CHECK(roofline(c, {1e12, 0, Precision::fp4, 96}).compute_s == Approx(1.0 / 1125));
  // Attention kernels keep their own measured efficiency: 1e12 / (4000e12 x 0.25) = 1 ms.
  Op attn{1e12, 0, Precision::fp4, 0};
  attn.attention = true;
  CHECK(roofline(c, attn).compute_s == Approx(1e-3));
}

TEST_CASE("operator FLOP and byte counts, small shapes by hand") {
  using P = Precision;
  // GEMM 2x4 by 4x3: 2*2*3*4 = 48 FLOPs; W 4*3*2 = 24 B, X 2*4*2 = 16 B, Y 2*3*2 = 12 B.
  Op g = ops::gemm(2, 3, 4, P::bf16, P::bf16, P::bf16);
  CHECK(g.flops == 48);
  CHECK(g.bytes == 52);
  CHECK(g.gemm_m == 2);
  // 2 experts x 3 tokens, n=4, k=5, FP8 weights: 2*2*3*4*5 = 240; 2*(20*1 + 15*2 + 12*2) = 148.
  Op e = ops::grouped_gemm(2, 3, 4, 5, P::fp8, P::bf16, P::fp8);
  CHECK(e.flops == 240);
  CHECK(e.bytes == 148);
  CHECK(e.gemm_m == 3);
  // Causal prefill b=1, s=4, 2 heads, 1 KV head, d=8: 2*1*16*2*8 = 512; 1*4*(4+2)*8*2 = 384.
  Op ap = ops::attention_prefill(1, 4, {2, 1, 8}, P::bf16);
  CHECK(ap.flops == 512);
  CHECK(ap.bytes == 384);
  // GQA decode b=2, context 10, 4 heads, 2 KV heads, d=8, FP8 cache:
  // 4*2*10*4*8 = 2560 FLOPs; KV 2*10*2*2*8*1 = 640 B + q,o 2*2*4*8*2 = 256 B.
  Op ad = ops::attention_decode(2, 10, {4, 2, 8}, P::bf16, P::fp8);
  CHECK(ad.flops == 2560);
  CHECK(ad.bytes == 896);
  // MLA decode, DeepSeek-V3 shape (128 heads, kv_rank 512, rope 64), one sequence, 1000 tokens:
  // 2*1000*128*(1024+64) = 278,528,000 FLOPs; cache 1000*576*1 B + q,o 128*(576+512)*2 B.
  Op md = ops::mla_decode(1, 1000, {128, 512, 64, 128, 128}, P::bf16, P::fp8);
  CHECK(md.flops == 278528000.0);
  CHECK(md.bytes == 576000 + 278528);
  // MLA prefill b=1, s=2, 1 head, nope 2, rope 1, v 2: 1*4*1*(3+2) = 20; 1*2*1*(6+4)*2 = 40.
  Op mp = ops::mla_prefill(1, 2, {1, 512, 1, 2, 2}, P::bf16);
  CHECK(mp.flops == 20);
  CHECK(mp.bytes == 40);
  Op ew = ops::elementwise(100, 1, 1, 4, P::bf16);
  CHECK(ew.flops == 400);
  CHECK(ew.bytes == 400);
  CHECK(ops::embedding(10, 8, P::bf16).bytes == 320);
}

TEST_CASE("attention kernels run at the chip's prefill or decode attention efficiency") {
  const Chip c = test_chip();
  // 2 x 1 x 4096^2 x 8 x 128 = 34.36 GFLOP at 1000 TFLOPS x 0.25 = 137.4 us.
  const Op ap = ops::attention_prefill(1, 4096, {8, 8, 128}, Precision::bf16);
  CHECK(ap.attention);
  CHECK(roofline(c, ap).compute_s == Approx(2.0 * 4096 * 4096 * 8 * 128 / 250e12));
  CHECK_FALSE(ops::gemm(8, 8, 8, Precision::bf16, Precision::bf16, Precision::bf16).attention);
  // Decode: 4 x 16 x 8192 x 8 x 128 = 537 MFLOP at 1000 TFLOPS x 0.4 = 1.34 us.
  const Op ad = ops::attention_decode(16, 8192, {8, 8, 128}, Precision::bf16, Precision::bf16);
  CHECK(ad.decode);
  CHECK(roofline(c, ad).compute_s == Approx(4.0 * 16 * 8192 * 8 * 128 / 400e12));
}

TEST_CASE("softmax exponentials bound attention on the SFUs") {
  Chip c = test_chip();
  // Prefill, 8 heads of 128 over 4096 causal tokens: 34.36 GFLOP and 4096^2 / 2 x 8 = 67.1 M
  // exponentials (one per score). With 0.1 T exponentials/s at the kernel's 0.25 efficiency the SFUs
  // take 67.1e6 / 25e9 = 2.68 ms against 137 us on the tensor units: the exponentials bound it.
  const Op ap = ops::attention_prefill(1, 4096, {8, 8, 128}, Precision::bf16);
  CHECK(ap.exps == Approx(4096.0 * 4096 / 2 * 8));
  c.sfu_texp_s = 0.1;
  CHECK(roofline(c, ap).compute_s == Approx(4096.0 * 4096 / 2 * 8 / 0.025e12));
  // Twice the SFU rate (Blackwell Ultra over Blackwell) halves it while the SFUs bound it ...
  c.sfu_texp_s = 0.2;
  CHECK(roofline(c, ap).compute_s == Approx(4096.0 * 4096 / 2 * 8 / 0.05e12));
  // ... and a fast SFU leaves the tensor-unit time: 34.36 GFLOP / 250 TFLOPS.
  c.sfu_texp_s = 100;
  CHECK(roofline(c, ap).compute_s == Approx(2.0 * 4096 * 4096 * 8 * 128 / 250e12));
}

TEST_CASE("op times add up with the bound of the largest part") {
  OpTime a{3, 2, 1, 0, Bound::compute}, b{5, 0, 5, 0, Bound::memory};
  a += b;
  CHECK(a.time_s == 8);
  CHECK(a.bound == Bound::memory);  // 2 s compute vs 6 s memory
}
