// Roofline time of one operator on one chip (Williams, Waterman & Patterson, CACM 2009):
//   t = max( compute,  bytes / (hbm_tb_s x hbm_eff) ) + launch_us (the software stack's)
//   compute = max( flops / (peak[precision] x eff),  exps / (sfu_texp_s x eff) )
// eff = gemm_eff x m / (m + small_gemm_m) for a GEMM with m rows (tokens), so a GEMM of small_gemm_m
// rows reaches half the large-GEMM efficiency; a chip with a measured curve by rows (gemm_curve) takes
// the curve instead (gemm_curve_efficiency). Attention kernels run at the chip's measured prefill
// or decode attention efficiency (FlashAttention-3, SM100 FMHA, FlashMLA, AMLA) and are also bounded
// by the softmax exponentials its special-function units issue (NVIDIA, "Making Softmax More
// Efficient with NVIDIA Blackwell Ultra", 2026: MUFU.EX2 throughput doubled on Blackwell Ultra).
// Other operators (m = 0) use gemm_eff. A GEMM on FP4 tensor cores takes eff x fp4_gemm_eff_ratio (FP4
// kernels reach a smaller fraction of their doubled peak than FP8 kernels on the same shape).
#pragma once
#include "podperf/core/spec.hpp"

namespace podperf {

enum class Bound { compute, memory, overhead };
const char* to_string(Bound b);

struct Op {
  double flops = 0;
  double bytes = 0;  // HBM traffic: weights + activations + KV cache
  Precision precision = Precision::bf16;
  double gemm_m = 0;  // rows of the GEMM (tokens); 0 = not a GEMM
  bool attention = false;  // an attention kernel: runs at the chip's attention efficiency
  bool decode = false;     // attention decode kernel (else prefill)
  double exps = 0;         // softmax exponentials (one per attention score)
};

struct OpTime {
  double time_s = 0;
  double compute_s = 0;
  double memory_s = 0;
  double overhead_s = 0;
  Bound bound = Bound::compute;
};

// Peak dense rate used for a precision: the chip's own, else the next wider precision it has
// (an FP8 operator on a chip without FP8 runs at its BF16 rate). TFLOPS; 0 if none.
double peak_tflops(const Chip& c, Precision p) noexcept;
// Achieved fraction of peak on a measured curve by GEMM rows (g.n >= 2): linear in log m between
// points, the last point above them, the first point's efficiency x m / m_first below them.
double gemm_curve_efficiency(const GemmCurve& g, double m) noexcept;
// Achieved fraction of peak for a GEMM with m rows (m = 0: gemm_eff), or of an attention kernel.
double compute_efficiency(const Chip& c, double gemm_m, bool attention = false, bool decode = false) noexcept;
// `launch_us`: the software stack's exposed launch cost per operator.
OpTime roofline(const Chip& c, const Op& op, double launch_us = 0) noexcept;

// Adds op times: sums the parts, the bound of the largest part.
OpTime& operator+=(OpTime& a, const OpTime& b) noexcept;

}  // namespace podperf
