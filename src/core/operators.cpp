#include "podperf/core/operators.hpp"

namespace podperf::ops {

Op gemm(double m, double n, double k, Format w, Precision a, Precision compute) noexcept {
  const double bw = w.bytes(), ba = bytes_per_element(a);
  return {2 * m * n * k, k * n * bw + m * k * ba + m * n * ba, compute, m};
}

Op grouped_gemm(double experts, double t, double n, double k, Format w, Precision a,
                Precision compute) noexcept {
  const double bw = w.bytes(), ba = bytes_per_element(a);
  return {2 * experts * t * n * k, experts * (k * n * bw + t * k * ba + t * n * ba), compute, t};
}

Op attention_prefill(double b, double s, const AttnShape& x, Precision a) noexcept {
  const double ba = bytes_per_element(a);
  return {2 * b * s * s * x.heads * x.head_dim, b * s * (2 * x.heads + 2 * x.kv_heads) * x.head_dim * ba, a, 0, true,
          false, b * s * s / 2 * x.heads};
}

Op attention_decode(double b, double c, const AttnShape& x, Precision a, Format kv) noexcept {
  const double ba = bytes_per_element(a), bkv = kv.bytes();
  return {4 * b * c * x.heads * x.head_dim,
          b * c * 2 * x.kv_heads * x.head_dim * bkv + 2 * b * x.heads * x.head_dim * ba, a, 0, true, true,
          b * c * x.heads};
}

Op mla_decode(double b, double c, const MlaShape& x, Precision a, Format kv) noexcept {
  const double ba = bytes_per_element(a), bkv = kv.bytes();
  const double q_and_o = b * x.heads * ((x.kv_rank + x.rope_dim) + x.kv_rank) * ba;
  return {2 * b * c * x.heads * (2 * x.kv_rank + x.rope_dim), b * c * (x.kv_rank + x.rope_dim) * bkv + q_and_o, a,
          0, true, true, b * c * x.heads};
}

Op mla_prefill(double b, double s, const MlaShape& x, Precision a) noexcept {
  const double ba = bytes_per_element(a);
  const double qk = x.nope_dim + x.rope_dim;
  // Q and K (qk per head), V and O (v_dim per head), each read or written once.
  return {b * s * s * x.heads * (qk + x.v_dim), b * s * x.heads * (2 * qk + 2 * x.v_dim) * ba, a, 0, true, false,
          b * s * s / 2 * x.heads};
}

Op elementwise(double elements, double reads, double writes, double fpe, Precision a) noexcept {
  return {fpe * elements, (reads + writes) * elements * bytes_per_element(a), a, 0};
}

Op embedding(double tokens, double hidden, Precision w) noexcept {
  return {0, 2 * tokens * hidden * bytes_per_element(w), w, 0};
}

}  // namespace podperf::ops
