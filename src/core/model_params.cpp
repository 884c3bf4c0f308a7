#include <algorithm>

#include "podperf/core/model.hpp"

namespace podperf {

const char* to_string(Attention a) {
  switch (a) {
    case Attention::gqa: return "gqa";
    case Attention::mla: return "mla";
    case Attention::sparse_mla: return "sparse_mla";
    case Attention::sliding: return "sliding";
    case Attention::linear: return "linear";
  }
  return "?";
}

bool parse_attention(const std::string& s, Attention& out) {
  if (s == "gqa" || s == "mha") out = Attention::gqa;
  else if (s == "mla") out = Attention::mla;
  else if (s == "sparse_mla") out = Attention::sparse_mla;
  else if (s == "sliding") out = Attention::sliding;
  else if (s == "linear") out = Attention::linear;
  else return false;
  return true;
}

void default_layer_groups(Model& m) {
  m.n_groups = 0;
  const int dense = m.moe() ? m.dense_layers : m.layers;
  if (dense > 0) m.groups[m.n_groups++] = {dense, m.attention, Ffn::dense};
  if (m.layers - dense > 0) m.groups[m.n_groups++] = {m.layers - dense, m.attention, Ffn::moe};
}

namespace {
// MLA (DeepSeek-V2, arXiv 2405.04434, sec. 2.1): W_DQ, W_UQ (incl. RoPE part), W_DKV (+ shared
// RoPE key), W_UK and W_UV, W_O.
double mla_params(const Model& m) {
  const double h = m.hidden;
  const double qk = m.qk_nope_dim + m.qk_rope_dim;
  const double q = m.q_lora_rank > 0 ? h * m.q_lora_rank + double(m.q_lora_rank) * m.heads * qk : h * m.heads * qk;
  const double kv_down = h * (m.kv_lora_rank + m.qk_rope_dim);
  const double kv_up = double(m.kv_lora_rank) * m.heads * (m.qk_nope_dim + m.v_head_dim);
  const double o = double(m.heads) * m.v_head_dim * h;
  return q + kv_down + kv_up + o;
}
// Gated DeltaNet state per sequence: v_heads d_k d_v, plus the causal-conv tail of q, k, v.
double linear_state(const Model& m) {
  const double conv_ch = 2.0 * m.linear_key_heads * m.linear_key_dim + double(m.linear_value_heads) * m.linear_value_dim;
  return double(m.linear_value_heads) * m.linear_key_dim * m.linear_value_dim + conv_ch * std::max(0, m.linear_conv - 1);
}
}  // namespace

double attention_params(const Model& m, Attention kind) {
  const double h = m.hidden;
  switch (kind) {
    case Attention::gqa:
    case Attention::sliding:  // Q (and its gate) and O: h x heads d; K and V: h x kv_heads d
      return (2.0 + m.attn_gate) * h * m.heads * m.head_dim + 2 * h * m.kv_heads * m.head_dim;
    case Attention::mla: return mla_params(m);
    case Attention::sparse_mla:
      // DeepSeek-V3.2 lightning indexer: query up-projection from the q latent, one shared key
      // projection and per-head weights (DeepSeek-V3.2-Exp inference/model.py, class Indexer).
      return mla_params(m) + double(m.q_lora_rank) * m.index_heads * m.index_head_dim + h * m.index_head_dim +
             h * m.index_heads;
    case Attention::linear: {
      // Gated DeltaNet (Qwen3-Next): in-projection of q, k (key heads) and v, z (value heads), the
      // beta and alpha gates per value head, the out-projection, and the depthwise causal conv.
      const double qk = 2.0 * m.linear_key_heads * m.linear_key_dim;
      const double vz = 2.0 * m.linear_value_heads * m.linear_value_dim;
      const double conv = (qk + vz / 2) * m.linear_conv;
      return h * (qk + vz) + h * 2.0 * m.linear_value_heads + double(m.linear_value_heads) * m.linear_value_dim * h + conv;
    }
  }
  return 0;
}

double attention_params(const Model& m) {
  double p = 0;
  for (int i = 0; i < m.n_groups; ++i) p += m.groups[i].count * attention_params(m, m.groups[i].attention);
  return m.layers > 0 ? p / m.layers : 0;
}

double dense_ffn_params(const Model& m) { return (m.ffn_gated ? 3.0 : 2.0) * m.hidden * m.ffn; }
double expert_params(const Model& m) { return 3.0 * m.hidden * m.expert_ffn; }
double router_params(const Model& m) { return double(m.hidden) * m.experts; }
double embedding_params(const Model& m) { return double(m.vocab) * m.hidden; }

double total_params(const Model& m) {
  double p = m.layers * attention_params(m) + m.dense_layers * dense_ffn_params(m);
  p += m.moe_layers() * ((m.experts + m.shared_experts) * expert_params(m) + router_params(m));
  return p + (m.tied_embeddings ? 1 : 2) * embedding_params(m);  // input table + LM head unless tied
}

double active_params(const Model& m) {
  double p = m.layers * attention_params(m) + m.dense_layers * dense_ffn_params(m);
  p += m.moe_layers() * ((m.experts_per_token + m.shared_experts) * expert_params(m) + router_params(m));
  return p + embedding_params(m);  // the LM head
}

double kv_elements_per_token_layer(const Model& m, Attention kind) {
  switch (kind) {
    case Attention::gqa:
    case Attention::sliding: return 2.0 * m.kv_heads * m.head_dim;
    case Attention::mla: return m.kv_lora_rank + m.qk_rope_dim;
    case Attention::sparse_mla: return m.kv_lora_rank + m.qk_rope_dim + m.index_head_dim;
    case Attention::linear: return 0;
  }
  return 0;
}

double kv_elements_per_token_layer(const Model& m) {
  double e = 0;
  for (int i = 0; i < m.n_groups; ++i) e += m.groups[i].count * kv_elements_per_token_layer(m, m.groups[i].attention);
  return m.layers > 0 ? e / m.layers : 0;
}

double kv_elements_per_seq_layer(const Model& m, Attention kind, double ctx) {
  switch (kind) {
    case Attention::sliding: return std::min(ctx, double(m.window)) * kv_elements_per_token_layer(m, kind);
    case Attention::linear: return linear_state(m);
    default: return ctx * kv_elements_per_token_layer(m, kind);
  }
}

double kv_elements_per_seq(const Model& m, double ctx) {
  double e = 0;
  for (int i = 0; i < m.n_groups; ++i) e += m.groups[i].count * kv_elements_per_seq_layer(m, m.groups[i].attention, ctx);
  return e;
}

}  // namespace podperf
