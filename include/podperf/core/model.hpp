// An LLM architecture by its hyper-parameters, and the parameter and KV-cache counts derived from
// them. Loaded from configs/models/*.toml; the model code never reads files.
#pragma once
#include <array>
#include <string>

#include "podperf/core/spec.hpp"

namespace podperf {

// Attention kinds of a layer. MHA is GQA with kv_heads = heads.
//   gqa        full causal attention, KV cache 2 kv_heads head_dim per token
//   mla        multi-head latent attention (DeepSeek-V2/V3), latent + RoPE key per token
//   sparse_mla MLA whose core attends to the index_topk tokens a lightning indexer picks
//              (DeepSeek-V3.2 DSA); the indexer scans the whole context in FP8
//   sliding    GQA over the last `window` tokens (gpt-oss alternating layers)
//   linear     linear attention with a fixed state per sequence (Gated DeltaNet, Qwen3-Next)
enum class Attention { gqa, mla, sparse_mla, sliding, linear };
enum class Ffn { dense, moe };
const char* to_string(Attention a);
bool parse_attention(const std::string& s, Attention& out);  // also accepts "mha"

// A run of `count` layers with the same attention kind and FFN kind. A model is a list of them.
struct LayerGroup {
  int count = 0;
  Attention attention = Attention::gqa;
  Ffn ffn = Ffn::dense;
};
inline constexpr int kMaxLayerGroups = 8;

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
  int attn_gate = 0;                                  // 1: an output gate doubles the query projection
  int index_heads = 0, index_head_dim = 0, index_topk = 0;  // sparse_mla: the lightning indexer
  int window = 0;                                     // sliding: tokens attended
  int linear_key_heads = 0, linear_value_heads = 0;   // linear: heads of the state
  int linear_key_dim = 0, linear_value_dim = 0, linear_conv = 0;
  // The layers as groups (sum of counts = layers). Models without an explicit list get
  // dense_layers of (attention, dense) then layers - dense_layers of (attention, moe).
  std::array<LayerGroup, kMaxLayerGroups> groups{};
  int n_groups = 0;
  // Published counts for checking (billions), with the interval their rounding implies.
  double published_total_b = 0, published_total_low_b = 0, published_total_high_b = 0;
  double published_active_b = 0, published_active_low_b = 0, published_active_high_b = 0;

  bool moe() const { return experts > 0; }
  int moe_layers() const { return moe() ? layers - dense_layers : 0; }
  int layers_of(Attention a) const {
    int n = 0;
    for (int i = 0; i < n_groups; ++i) n += groups[i].attention == a ? groups[i].count : 0;
    return n;
  }
};

// Fills `groups` from `attention`, `dense_layers` and `layers` when no list was given.
void default_layer_groups(Model& m);

// Parameter counts (weights only; norms and biases are below 0.1% and left out).
double attention_params(const Model& m, Attention kind);  // one layer's attention projections
double attention_params(const Model& m);       // mean over the layers (layers x this = all)
double dense_ffn_params(const Model& m);       // one dense FFN: 3 hidden ffn (SwiGLU) or 2 hidden ffn (GeLU)
double expert_params(const Model& m);          // one expert: 3 hidden expert_ffn
double router_params(const Model& m);          // hidden x experts
double embedding_params(const Model& m);       // the input table (the LM head is the same size, tied or not)
double total_params(const Model& m);           // main model, without MTP modules
// Parameters one token's forward pass multiplies by: everything but the unused routed experts and
// the input-embedding lookup (a gather, no FLOPs). 2 x active = forward GEMM FLOPs per token.
double active_params(const Model& m);
// Elements of KV cache per token per layer: GQA 2 kv_heads head_dim; MLA kv_lora_rank + qk_rope_dim;
// sparse MLA adds the indexer key (index_head_dim); linear attention keeps no per-token cache.
// The plain form is the mean over the layers.
double kv_elements_per_token_layer(const Model& m, Attention kind);
double kv_elements_per_token_layer(const Model& m);
// Cache elements one sequence holds in one layer of `kind` at context `ctx`: the per-token cache over
// min(ctx, window) for sliding layers, the fixed state v_heads d_k d_v for linear layers.
double kv_elements_per_seq_layer(const Model& m, Attention kind, double ctx);
// Summed over all layers.
double kv_elements_per_seq(const Model& m, double ctx);

}  // namespace podperf
