#include "podperf/core/roofline.hpp"

#include <algorithm>
#include <cmath>

namespace podperf {

const char* to_string(Bound b) {
  switch (b) {
    case Bound::compute: return "compute";
    case Bound::memory: return "memory";
    case Bound::overhead: return "overhead";
  }
  return "?";
}

double peak_tflops(const Chip& c, Precision p) noexcept {
  // Wider precisions to fall back to, in order: fp4 -> fp8 -> int8 -> bf16 -> fp32.
  static constexpr Precision order[] = {Precision::fp4, Precision::fp8, Precision::int8, Precision::bf16,
                                        Precision::fp32};
  bool from = false;
  for (Precision q : order) {
    if (q == p) from = true;
    // Integer units run only integer operators: a float operator never falls back to int8.
    if (!from || (q == Precision::int8 && p != Precision::int8)) continue;
    if (c.peak(q) > 0) return c.peak(q);
  }
  return 0;
}

double gemm_curve_efficiency(const GemmCurve& g, double m) noexcept {
  // Measured efficiency by GEMM rows (hwdb efficiency.gemm_eff_by_m). Between points: linear in log m.
  // Above the last point: the last point. Below the first (the kernel's smallest row tile): its
  // efficiency scaled by m / m_first, as a GEMM of fewer rows than a tile still computes the whole tile
  // (the time stays that of m_first rows).
  if (m <= g.m[0]) return g.eff[0] * m / g.m[0];
  for (int i = 1; i < g.n; ++i)
    if (m <= g.m[i]) {
      const double t = std::log(m / g.m[i - 1]) / std::log(g.m[i] / g.m[i - 1]);
      return g.eff[i - 1] + t * (g.eff[i] - g.eff[i - 1]);
    }
  return g.eff[g.n - 1];
}

double compute_efficiency(const Chip& c, double m, bool attention, bool decode) noexcept {
  if (attention) return decode ? c.attn_decode_eff : c.attn_prefill_eff;
  if (m <= 0) return c.gemm_eff;
  if (c.gemm_curve.n >= 2) return gemm_curve_efficiency(c.gemm_curve, m);
  // Tile model: m rows fill ceil(m / tile) row tiles of the tensor units; the padding rows cost time.
  if (c.gemm_row_tile > 0) return c.gemm_eff * m / (std::ceil(m / c.gemm_row_tile) * c.gemm_row_tile);
  return c.gemm_eff * m / (m + c.small_gemm_m);
}

OpTime roofline(const Chip& c, const Op& op, double launch_us) noexcept {
  OpTime t;
  double eff = compute_efficiency(c, op.gemm_m, op.attention, op.decode);
  // A GEMM on FP4 tensor cores reaches a smaller fraction of their (doubled) peak than FP8 does on the
  // same shape: eff_fp4 = eff x fp4_gemm_eff_ratio (hwdb: the ratio of measured FP4 and FP8 GEMMs). On a chip without FP4 units the
  // operator runs at the FP8 rate (peak_tflops) and FP8's efficiency.
  if (!op.attention && op.precision == Precision::fp4 && c.peak(Precision::fp4) > 0) eff *= c.fp4_gemm_eff_ratio;
  const double rate = peak_tflops(c, op.precision) * 1e12 * eff;
  t.compute_s = op.flops > 0 && rate > 0 ? op.flops / rate : 0;
  // Softmax: the exponentials issue on the SFUs while the tensor units wait (same kernel efficiency).
  if (op.exps > 0 && c.sfu_texp_s > 0) t.compute_s = std::max(t.compute_s, op.exps / (c.sfu_texp_s * 1e12 * eff));
  // A GEMM under the tile model streams its operands at the skinny-GEMM fraction of HBM bandwidth.
  const bool tiled_gemm = !op.attention && op.gemm_m > 0 && c.gemm_row_tile > 0 && c.gemm_curve.n < 2 && c.gemm_hbm_eff > 0;
  t.memory_s = op.bytes > 0 ? op.bytes / (c.hbm_tb_s * 1e12 * (tiled_gemm ? c.gemm_hbm_eff : c.hbm_eff)) : 0;
  t.overhead_s = launch_us * 1e-6;
  t.time_s = std::max(t.compute_s, t.memory_s) + t.overhead_s;
  t.bound = t.overhead_s > std::max(t.compute_s, t.memory_s) ? Bound::overhead
            : t.compute_s >= t.memory_s                      ? Bound::compute
                                                             : Bound::memory;
  return t;
}

OpTime& operator+=(OpTime& a, const OpTime& b) noexcept {
  a.time_s += b.time_s;
  a.compute_s += b.compute_s;
  a.memory_s += b.memory_s;
  a.overhead_s += b.overhead_s;
  a.bound = a.overhead_s > std::max(a.compute_s, a.memory_s) ? Bound::overhead
            : a.compute_s >= a.memory_s                      ? Bound::compute
                                                             : Bound::memory;
  return a;
}

}  // namespace podperf
