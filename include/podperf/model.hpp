// An LLM architecture by its hyper-parameters, and the parameter and KV-cache counts derived from
// them. Loaded from configs/models/*.toml; the model code never reads files.
#pragma once
#include <string>

#include "podperf/spec.hpp"

namespace podperf {

enum class Attention { gqa, mla };

struct Model {
  std::string id, name;
  int layers = 0;
  int dense_layers = 0;  // leading layers with a dense FFN (MoE models); = layers for dense models
  int hidden = 0;
  int vocab = 0;
  Attention attention = Attention::gqa;
  int heads = 0;
  int kv_heads = 0, head_dim = 0;                     // GQA / MHA
  int q_lora_rank = 0, kv_lora_rank = 0;              // MLA (q_lora_rank 0 = full-rank queries)
  int qk_nope_dim = 0, qk_rope_dim = 0, v_head_dim = 0;
  int ffn = 0;                                        // dense-layer FFN width
  bool ffn_gated = true;                              // SwiGLU (3 matrices) or GeLU (2 matrices, GPT)
  bool tied_embeddings = false;                       // LM head shares the input embedding (GPT)
  int experts = 0, experts_per_token = 0, shared_experts = 0, expert_ffn = 0;  // 0 experts = dense
  int mtp_layers = 0;                                 // multi-token-prediction modules
  double train_batch_tokens = 0;                      // published pre-training global batch (tokens); 0 = none
  int train_seq = 0;                                  // its sequence length; 0 = none
  // Published counts for checking (billions), with the interval their rounding implies.
  double published_total_b = 0, published_total_low_b = 0, published_total_high_b = 0;
  double published_active_b = 0, published_active_low_b = 0, published_active_high_b = 0;

  bool moe() const { return experts > 0; }
  int moe_layers() const { return moe() ? layers - dense_layers : 0; }
};

// Parameter counts (weights only; norms and biases are below 0.1% and left out).
double attention_params(const Model& m);       // one layer's attention projections
double dense_ffn_params(const Model& m);       // one dense FFN: 3 hidden ffn (SwiGLU) or 2 hidden ffn (GeLU)
double expert_params(const Model& m);          // one expert: 3 hidden expert_ffn
double router_params(const Model& m);          // hidden x experts
double embedding_params(const Model& m);       // the input table (the LM head is the same size, tied or not)
double total_params(const Model& m);           // main model, without MTP modules
// Parameters one token's forward pass multiplies by: everything but the unused routed experts and
// the input-embedding lookup (a gather, no FLOPs). 2 x active = forward GEMM FLOPs per token.
double active_params(const Model& m);
// Bytes of KV cache per token per layer: GQA 2 kv_heads head_dim; MLA kv_lora_rank + qk_rope_dim.
double kv_elements_per_token_layer(const Model& m);

}  // namespace podperf
