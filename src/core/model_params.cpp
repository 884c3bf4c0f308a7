#include "podperf/model.hpp"

namespace podperf {

double attention_params(const Model& m) {
  const double h = m.hidden;
  if (m.attention == Attention::gqa)  // Q and O: h x heads d; K and V: h x kv_heads d
    return 2 * h * m.heads * m.head_dim + 2 * h * m.kv_heads * m.head_dim;
  // MLA (DeepSeek-V2, arXiv 2405.04434, sec. 2.1): W_DQ, W_UQ (incl. RoPE part), W_DKV (+ shared
  // RoPE key), W_UK and W_UV, W_O.
  const double qk = m.qk_nope_dim + m.qk_rope_dim;
  const double q = m.q_lora_rank > 0 ? h * m.q_lora_rank + double(m.q_lora_rank) * m.heads * qk : h * m.heads * qk;
  const double kv_down = h * (m.kv_lora_rank + m.qk_rope_dim);
  const double kv_up = double(m.kv_lora_rank) * m.heads * (m.qk_nope_dim + m.v_head_dim);
  const double o = double(m.heads) * m.v_head_dim * h;
  return q + kv_down + kv_up + o;
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

double kv_elements_per_token_layer(const Model& m) {
  if (m.attention == Attention::mla) return m.kv_lora_rank + m.qk_rope_dim;
  return 2.0 * m.kv_heads * m.head_dim;
}

}  // namespace podperf
