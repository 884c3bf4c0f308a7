// FLOP and HBM-byte counts of the LLM building blocks, for one chip's share of the work.
// Conventions: a multiply-add is 2 FLOPs; `w`, `a`, `kv` are the element precisions of weights,
// activations and KV cache; every operator reads its inputs from and writes its outputs to HBM once.
#pragma once
#include "podperf/core/roofline.hpp"

namespace podperf::ops {

// Y[m x n] = X[m x k] W[k x n]:  flops = 2 m n k;  bytes = k n w + m k a + m n a.
// `w` is the weight format (block-scale bytes counted); the compute precision picks the rate.
Op gemm(double m, double n, double k, Format w, Precision a, Precision compute) noexcept;

// `experts` GEMMs of `tokens_per_expert` rows each (MoE expert FFN layer on one chip):
// flops = 2 E t n k;  bytes = E (k n w + t k a + t n a);  shape efficiency from t rows.
Op grouped_gemm(double experts, double tokens_per_expert, double n, double k, Format w,
                Precision a, Precision compute) noexcept;

// Attention shapes: query heads, KV heads (GQA: kv_heads < heads; MHA: equal), head dim.
struct AttnShape {
  double heads = 0, kv_heads = 0, head_dim = 0;
};

// Prefill attention over `seq` tokens per sequence, `batch` sequences, causal:
// scores QK^T and PV each 2 s^2 h d FLOPs, halved by the causal mask -> flops = 2 b s^2 h d;
// bytes = Q, K, V read and O written: b s (2 h + 2 kv) d a  (flash attention: no s^2 traffic).
Op attention_prefill(double batch, double seq, const AttnShape& s, Precision a) noexcept;

// Decode attention: one new token per sequence against `context` cached tokens:
// flops = 4 b c h d;  bytes = KV cache b c 2 kv d kv_bytes + q and o (2 b h d a).
Op attention_decode(double batch, double context, const AttnShape& s, Precision a, Format kv) noexcept;

// Multi-head latent attention (DeepSeek-V2/V3), absorbed form for decode: the cache holds one
// latent of kv_rank plus a shared RoPE key of rope_dim per token; per head and cached token,
// scores cost 2 (kv_rank + rope_dim) and the value product 2 kv_rank FLOPs:
// flops = 2 b c h (2 kv_rank + rope_dim);  bytes = b c (kv_rank + rope_dim) kv_bytes + q and o.
struct MlaShape {
  double heads = 0, kv_rank = 0, rope_dim = 0, nope_dim = 0, v_dim = 0;
};
Op mla_decode(double batch, double context, const MlaShape& s, Precision a, Format kv) noexcept;

// MLA prefill, non-absorbed: K = [nope | rope] per head, V per head, causal:
// flops = b s^2 h (nope + rope + v)  (QK^T and PV, halved by the mask).
Op mla_prefill(double batch, double seq, const MlaShape& s, Precision a) noexcept;

// Norms, residual adds, activations: read `reads` and write `writes` tensors of `elements`;
// flops = flops_per_element x elements.
Op elementwise(double elements, double reads, double writes, double flops_per_element, Precision a) noexcept;

// Embedding lookup: gathers `tokens` rows of `hidden`: bytes = 2 tokens hidden a, no FLOPs.
Op embedding(double tokens, double hidden, Precision w) noexcept;

}  // namespace podperf::ops
