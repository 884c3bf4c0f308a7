// The attention block of one layer, by kind (model.hpp: gqa, mla, sparse_mla, sliding, linear): the
// one place the kinds differ. Operators for one chip's share (heads split over TP ranks).
#pragma once
#include <array>

#include "podperf/core/model.hpp"
#include "podperf/core/roofline.hpp"

namespace podperf {

struct OpList {
  std::array<Op, 6> op{};
  int n = 0;
  void add(const Op& o) noexcept { op[n++] = o; }
};

// Query-key pairs of causal attention over s tokens when each query sees at most L keys:
// sum_{i=1..s} min(i, L) ~ s^2/2 for s <= L, L s - L^2/2 beyond.
double limited_causal_pairs(double s, double L) noexcept;

// Precisions of the attention block.
struct AttnPrec {
  Precision attn;
  Format kv;  // KV cache format, block scales included
  Precision act;
};

// RoPE / conv, the core (scores and values, or the linear-attention state), the sparse indexer and
// the cache write of one layer of `kind` for `seqs` sequences: decode reads a cache of `ctx` tokens
// (with `draft` extra query tokens per sequence); prefill runs causally over `ctx` prompt tokens.
OpList attention_ops(const Model& m, Attention kind, double tp, bool decode, double seqs, double ctx, double draft,
                     const AttnPrec& p) noexcept;

// Cache bytes one sequence holds on one chip in one layer of `kind` at context `ctx`: GQA KV heads
// split over TP (replicated beyond the KV heads), MLA latents replicated, linear state split over
// its value heads and held in FP32.
double cache_bytes_seq_layer(const Model& m, Attention kind, double tp, double ctx, Format kv) noexcept;
// Summed over the model's layer groups.
double cache_bytes_seq(const Model& m, double tp, double ctx, Format kv) noexcept;

// Forward FLOPs of one layer's attention core per token at context `seq` (causal average).
double attention_flops_per_token(const Model& m, Attention kind, double seq) noexcept;

}  // namespace podperf
