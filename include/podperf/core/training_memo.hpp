// Per-layer costs of a training micro-batch, and a memo of them for plan searches and sweeps.
//
// A layer's operator and communication times depend on the system, the model, TP, CP, EP, the
// micro-batch, the sequence length, the compute precision, the attention kernel, sequence
// parallelism and the redundant experts; not on PP, DP, ZeRO, recomputation, interleaving or the
// global batch, which only weigh and add them. A plan space that varies those (the plan search, a
// training sweep) computes each layer once and reuses it. The memo is a fixed, direct-mapped table
// (no allocation); a hit returns the same numbers a fresh computation gives.
#pragma once
#include <array>
#include <cstdint>

#include "podperf/core/spec.hpp"

namespace podperf {

struct Model;
struct TrainingSetup;

// Operator times of one pass, split as in the breakdown, and its FLOPs.
struct PassCost {
  double compute = 0, memory = 0, overhead = 0, flops = 0;
  double total() const { return compute + memory + overhead; }
};

// One layer (or the LM head and loss), one micro-batch, one chip: forward, backward, what selective
// recomputation repeats, the GEMM time (TP overlap window), the attention core time (ring-attention
// window) and the forward-pass communication.
struct LayerCost {
  PassCost fwd, bwd, sel_fwd;
  double gemm_s = 0, attn_s = 0;
  double tp_s = 0, ep_s = 0, cp_s = 0;
};

// The layers of a stage: a dense-FFN layer, a MoE layer (where the model has each kind) and the head.
struct StageCost {
  LayerCost dense, moe, head;
};

class TrainMemo {
 public:
  // The slot of (s, m, x); `fresh` is set when the slot holds another key, and the caller then fills
  // it. `s` and `m` are keyed by address: the memo serves while they are the same, unchanged objects.
  StageCost& slot(const System& s, const Model& m, const TrainingSetup& x, bool& fresh);
  std::uint64_t hits = 0, misses = 0;

 private:
  struct Key {
    const System* sys = nullptr;
    const Model* model = nullptr;
    int tp = 0, cp = 0, ep = 0, micro_batch = 0, seq = 0, redundant = 0;
    std::uint8_t precision = 0, kernel = 0, sp = 0;
    bool operator==(const Key&) const = default;
  };
  struct Entry {
    bool used = false;
    Key key;
    StageCost cost;
  };
  static constexpr int kEntries = 64;
  std::array<Entry, kEntries> entries_{};
};

}  // namespace podperf
