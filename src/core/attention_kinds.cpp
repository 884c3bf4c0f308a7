// One dispatch per attention kind. Shapes and sources in model.hpp and docs/methodology.md.
#include "podperf/core/attention_kinds.hpp"

#include <algorithm>

#include "podperf/core/operators.hpp"

namespace podperf {

namespace {
// Gated DeltaNet state update per token and value head: S k and S q (2 dk dv each), the rank-one
// delta update (2 dk dv) and the decay (dk dv): 7 dk dv FLOPs (Yang et al., 'Gated Delta Networks',
// arXiv 2412.06464, eq. 10).
constexpr double kDeltaFlops = 7;
// Chunked prefill of linear attention: intra-chunk scores over chunks of 64 tokens (flash-linear-
// attention's chunk size), 2 C (dk + dv) FLOPs per token and head.
constexpr double kChunk = 64;
// The linear-attention state is kept in FP32 (Qwen3.5 config.json: mamba_ssm_dtype float32).
constexpr double kStateBytes = 4;

double linear_state_elems(const Model& m) {
  return double(m.linear_value_heads) * m.linear_key_dim * m.linear_value_dim;
}
}  // namespace

double limited_causal_pairs(double s, double L) noexcept {
  if (L <= 0 || s <= L) return s * s / 2;
  return L * s - L * L / 2;
}

OpList attention_ops(const Model& m, Attention kind, double tp, bool decode, double seqs, double ctx, double draft,
                     const AttnPrec& p) noexcept {
  OpList out;
  const double q_tokens = decode ? seqs * (1 + draft) : seqs * ctx;  // query tokens this step
  const double heads = double(m.heads) / tp;
  const double ba = bytes_per_element(p.act);
  const double kv_scale = p.kv.bytes() / bytes_per_element(p.kv.p);  // block-scale bytes on the cache write
  switch (kind) {
    case Attention::gqa:
    case Attention::sliding: {
      const double kv_heads = std::max(1.0, double(m.kv_heads) / tp);
      out.add(ops::elementwise(q_tokens * (heads + kv_heads) * m.head_dim, 1, 1, 6, p.act));  // RoPE
      const ops::AttnShape sh{heads, kv_heads, double(m.head_dim)};
      const double limit = kind == Attention::sliding ? m.window : 0;
      if (decode) {
        Op core = ops::attention_decode(seqs, limit > 0 ? std::min(ctx, limit) : ctx, sh, p.attn, p.kv);
        core.flops *= 1 + draft;
        core.exps *= 1 + draft;
        out.add(core);
      } else {
        Op core = ops::attention_prefill(seqs, ctx, sh, p.attn);
        const double fewer = limited_causal_pairs(ctx, limit) / (ctx * ctx / 2);  // window: fewer pairs
        core.flops *= fewer;
        core.exps *= fewer;
        out.add(core);
        out.add(ops::elementwise(q_tokens * 2 * kv_heads * m.head_dim * kv_scale, 0, 1, 0, p.kv.p));  // KV write
      }
      if (m.attn_gate) out.add(ops::elementwise(q_tokens * heads * m.head_dim, 2, 1, 4, p.act));  // sigmoid gate
      break;
    }
    case Attention::mla:
    case Attention::sparse_mla: {
      out.add(ops::elementwise(q_tokens * (heads * m.qk_rope_dim + m.qk_rope_dim), 1, 1, 6, p.act));  // RoPE
      const ops::MlaShape sh{heads, double(m.kv_lora_rank), double(m.qk_rope_dim), double(m.qk_nope_dim),
                             double(m.v_head_dim)};
      const bool sparse = kind == Attention::sparse_mla;
      const double topk = sparse ? m.index_topk : 0;
      if (sparse) {
        // Lightning indexer (DeepSeek-V3.2-Exp report, sec. 2.1): every query token scores every
        // cached index key on index_heads heads of index_head_dim, in FP8; decode reads the FP8 keys.
        const double ih = double(m.index_heads) / tp, id = m.index_head_dim;
        const double pairs = decode ? q_tokens * ctx : seqs * ctx * ctx / 2;
        const double keys = decode ? seqs * ctx : seqs * ctx;
        out.add({2 * pairs * ih * id, keys * id * 1.0 + q_tokens * ih * id * ba, Precision::fp8, 0, true, decode});
      }
      if (decode) {
        Op core = ops::mla_decode(seqs, topk > 0 ? std::min(ctx, topk) : ctx, sh, p.attn, p.kv);
        core.flops *= 1 + draft;
        core.exps *= 1 + draft;
        out.add(core);
      } else {
        Op core = ops::mla_prefill(seqs, ctx, sh, p.attn);
        const double fewer = limited_causal_pairs(ctx, topk) / (ctx * ctx / 2);
        core.flops *= fewer;
        core.exps *= fewer;
        out.add(core);
        out.add(ops::elementwise(q_tokens * (m.kv_lora_rank + m.qk_rope_dim) * kv_scale, 0, 1, 0, p.kv.p));  // cache write
        if (sparse) out.add(ops::elementwise(q_tokens * m.index_head_dim, 0, 1, 0, Precision::fp8));
      }
      break;
    }
    case Attention::linear: {
      const double vh = double(m.linear_value_heads) / tp, kh = std::max(1.0, double(m.linear_key_heads) / tp);
      const double dk = m.linear_key_dim, dv = m.linear_value_dim;
      const double channels = 2 * kh * dk + vh * dv;
      out.add(ops::elementwise(q_tokens * channels, 1, 1, 2.0 * m.linear_conv, p.act));  // causal conv
      const double state = vh * dk * dv * kStateBytes;                                   // per sequence
      const double io = q_tokens * (channels + vh * dv) * ba;                            // q, k, v in, o out
      if (decode)
        out.add({kDeltaFlops * q_tokens * vh * dk * dv, 2 * seqs * state + io, p.attn, 0, true, true});
      else
        out.add({q_tokens * vh * (kDeltaFlops * dk * dv + 2 * kChunk * (dk + dv)), seqs * state + io, p.attn, 0, true});
      out.add(ops::elementwise(q_tokens * vh * dv, 2, 1, 4, p.act));  // output gate
      break;
    }
  }
  return out;
}

double cache_bytes_seq_layer(const Model& m, Attention kind, double tp, double ctx, Format kv) noexcept {
  const double bkv = kv.bytes();
  switch (kind) {
    case Attention::gqa: return ctx * 2 * std::max(1.0, double(m.kv_heads) / tp) * m.head_dim * bkv;
    case Attention::sliding:
      return std::min(ctx, double(m.window)) * 2 * std::max(1.0, double(m.kv_heads) / tp) * m.head_dim * bkv;
    case Attention::mla: return ctx * (m.kv_lora_rank + m.qk_rope_dim) * bkv;
    case Attention::sparse_mla: return ctx * ((m.kv_lora_rank + m.qk_rope_dim) * bkv + m.index_head_dim * 1.0);
    case Attention::linear: return linear_state_elems(m) / tp * kStateBytes;
  }
  return 0;
}

double cache_bytes_seq(const Model& m, double tp, double ctx, Format kv) noexcept {
  double b = 0;
  for (int i = 0; i < m.n_groups; ++i) b += m.groups[i].count * cache_bytes_seq_layer(m, m.groups[i].attention, tp, ctx, kv);
  return b;
}

double attention_flops_per_token(const Model& m, Attention kind, double seq) noexcept {
  auto avg_keys = [&](double limit) { return seq > 0 ? limited_causal_pairs(seq, limit) / seq : 0; };
  switch (kind) {
    case Attention::gqa: return 4 * avg_keys(0) * m.heads * double(m.head_dim);
    case Attention::sliding: return 4 * avg_keys(m.window) * m.heads * double(m.head_dim);
    case Attention::mla: return 2 * avg_keys(0) * m.heads * double(m.qk_nope_dim + m.qk_rope_dim + m.v_head_dim);
    case Attention::sparse_mla:
      return 2 * avg_keys(m.index_topk) * m.heads * double(m.qk_nope_dim + m.qk_rope_dim + m.v_head_dim) +
             2 * avg_keys(0) * m.index_heads * double(m.index_head_dim);
    case Attention::linear:
      return double(m.linear_value_heads) *
             (kDeltaFlops * m.linear_key_dim * m.linear_value_dim + 2 * kChunk * (m.linear_key_dim + m.linear_value_dim));
  }
  return 0;
}

}  // namespace podperf
