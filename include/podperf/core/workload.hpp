// Workloads: LLM inference (prefill, decode, PD-disaggregated serving, latency targets) and
// training, composed from the roofline and the collectives. Pure functions, no heap use per call
// beyond the result struct.
#pragma once
#include <array>
#include <optional>

#include "podperf/core/collectives.hpp"
#include "podperf/core/model.hpp"
#include "podperf/core/roofline.hpp"
#include "podperf/core/spec.hpp"

namespace podperf {

enum class Mode { prefill, decode, serve, train };
class TrainMemo;

// Expected distinct experts hit on one chip holding e of the E routed experts when N tokens each pick
// k distinct experts of E uniformly: a given expert escapes one token with probability 1 - k/E, so
// e (1 - (1 - k/E)^N). Decode with few tokens reads only these experts' weights.
double experts_hit(double e, double E, double k, double N) noexcept;
const char* to_string(Mode m);

struct Parallel {
  int tp = 1, dp = 1, ep = 1, pp = 1, cp = 1;
  int chips() const { return tp * dp * pp * cp; }
};

// Why an estimate has no number. Every code has a one-line message (reason_text).
enum class Reason {
  ok,
  too_many_chips,      // the parallel plan needs more chips than the system has
  tp_beyond_scaleup,   // TP must stay inside one supernode's scale-up fabric
  tp_heads,            // TP must divide the attention heads
  ep_dense,            // EP > 1 on a dense model
  ep_group,            // EP must divide TP x DP (the chips of one pipeline stage)
  ep_experts,          // experts (+ redundant) must divide evenly over EP
  pp_layers,           // more pipeline stages than layers
  cp_seq,              // context parallelism must divide the sequence
  batch_small,         // fewer sequences than DP ranks
  batch_divides,       // training batch must divide into DP x micro-batch
  no_precision,        // the chip has no unit for this precision or wider
  memory,              // does not fit in HBM
  tpot_unreachable,    // no batch meets the TPOT target
  ttft_unreachable,    // the TTFT target cannot be met
  schedule,            // the pipeline schedule's constraints (micro-batches, stages, layers per chunk)
};
const char* reason_text(Reason r);

// Time components of an estimate (seconds, exposed time per step).
enum class Part { compute, memory, overhead, tp_comm, ep_comm, pp_comm, dp_comm, cp_comm, bubble, kv_transfer, count };
inline constexpr int kParts = static_cast<int>(Part::count);
const char* to_string(Part p);

struct MemoryUse {  // GB per chip
  double weights = 0, kv_cache = 0, activations = 0, gradients = 0, optimizer = 0, reserve = 0;
  double capacity = 0;
  double used() const { return weights + kv_cache + activations + gradients + optimizer; }
};

// Weight groups that deployed precision recipes set apart (e.g. NVFP4 experts with FP8 attention
// projections and a BF16 LM head).
enum class Group { attn_proj, dense_ffn, experts, shared_experts, lm_head, count };
inline constexpr int kGroups = static_cast<int>(Group::count);
const char* to_string(Group g);

struct InferenceSetup {
  Parallel par;                 // decode instance (prefill instance too unless `prefill` given)
  Parallel prefill;             // serve mode: the prefill instance (chips() == 1 and tp == 1: same as par)
  bool prefill_given() const { return prefill.chips() > 1 || prefill.tp > 1; }
  const Parallel& prefill_plan() const { return prefill_given() ? prefill : par; }
  int prefill_redundant_experts = -1;  // serve mode: EPLB replicas of the prefill instance; < 0: as decode
  // Serve mode: fixed pools of chips as deployed (whole instances each); 0 = pools rate-matched.
  int prefill_pool_chips = 0, decode_pool_chips = 0;
  int batch = 0;                // decode: concurrent sequences per instance; prefill: prompts; 0 = auto
  int seq_in = 2048, seq_out = 256;
  int context = 0;              // KV length seen by decode; 0 = seq_in + seq_out / 2
  Precision weights = Precision::bf16, kv = Precision::bf16, act = Precision::bf16;
  Precision attn = Precision::bf16;  // attention core precision
  // Per-group weight formats; an empty one takes `weights` (so setting `weights` sets all groups).
  std::array<std::optional<Format>, kGroups> group{};
  std::optional<Format> kv_format;  // KV cache with block scales; empty = `kv`
  Format weight_format(Group g) const {
    const auto& f = group[static_cast<int>(g)];
    return f ? *f : Format{weights};
  }
  // The format most groups run at (the first such group on a tie): the headline weight format.
  Format main_weight_format() const {
    int best = 0, best_n = 0;
    for (int g = 0; g < kGroups; ++g) {
      int n = 0;
      for (int h = 0; h < kGroups; ++h) n += weight_format(static_cast<Group>(h)) == weight_format(static_cast<Group>(g));
      if (n > best_n) best = g, best_n = n;
    }
    return weight_format(static_cast<Group>(best));
  }
  Format kv_fmt() const { return kv_format ? *kv_format : Format{kv}; }
  int redundant_experts = 0;    // EPLB replicas added to the routed experts
  int mtp_tokens = 0;           // draft tokens per step (multi-token prediction)
  double mtp_accept = 0;        // acceptance rate of each draft token
  double overlap = -1;          // fraction of communication hidden behind compute; < 0: the stack's scheme
  double expert_imbalance = 1;  // busiest chip's expert load / mean (1 = perfect EPLB)
  bool default_eplb = false;    // use the stack's default-EPLB imbalance instead
  double reserve_frac = -1;     // HBM kept free (runtime, fragmentation); < 0: the stack's
  double reserve(const Stack& st) const { return reserve_frac >= 0 ? reserve_frac : st.reserve_frac; }
  int prefill_tokens_per_chip = 16384;  // prefill batch when batch = 0
  double tpot_target_ms = 0, ttft_target_ms = 0;
};

// Activation recomputation (Korthikanti et al., arXiv 2205.05198): none; selective recomputes the
// attention core (scores, softmax, dropout, scores x V) in backward; full recomputes each layer's
// forward from its stored input.
enum class Recompute { none, selective, full };
const char* to_string(Recompute r);
// TP communication: exposed between the GEMMs (Megatron-LM 2022), or pipelined with them in tp chunks
// (Transformer Engine userbuffers; Wang et al., ASPLOS 2023), exposing one chunk.
enum class TpOverlap { none, pipelined };
const char* to_string(TpOverlap o);
// Attention kernel of the training stack: fused (FlashAttention: no s^2 traffic, backward recomputes
// the scores) or unfused (Megatron-LM 2022: scores, softmax and dropout materialised in HBM).
enum class AttnKernel { flash, unfused };
const char* to_string(AttnKernel k);

struct TrainingSetup {
  Parallel par;
  int global_batch = 0;     // sequences per step
  int seq = 4096;
  int micro_batch = 1;      // sequences per micro-batch
  int interleave = 1;       // model chunks per device (virtual pipeline stages; 1 = not interleaved)
  PipeSchedule schedule;    // pipeline schedule (hwdb/schedules); default plain 1F1B
  int zero = 1;             // ZeRO stage 0-3 over DP x CP
  Recompute recompute = Recompute::none;
  bool sequence_parallel = true;  // norms and dropout sharded over TP; all-gather + reduce-scatter
  TpOverlap tp_overlap = TpOverlap::none;
  AttnKernel attn_kernel = AttnKernel::flash;
  Precision precision = Precision::bf16;
  Precision activations = Precision::bf16;  // stored activations (DeepSeek-V3 caches many in FP8)
  // Fraction of each DP/EP/CP overlap window the training stack uses (grad reduce-scatter under the
  // last backward, parameter all-gather under the first forward, all-to-all and ring attention under
  // their layer's compute); < 0: the training stack's hidden_frac.
  double overlap = -1;
  double tokens = 0;        // tokens to train (for time and chip-hours); 0 = none
  int redundant_experts = 0;
};

struct Estimate {
  Mode mode = Mode::decode;
  Reason reason = Reason::ok;
  bool fits() const { return reason == Reason::ok; }
  Parallel par;
  int batch = 0;                 // decode: sequences per instance; prefill: prompts; train: sequences per step
  int instance_chips = 0;
  double step_time_s = 0;        // one decode step / one prefill batch / one training step
  double tpot_s = 0, ttft_s = 0;
  double tokens_per_s = 0;       // whole system (instances replicated over its chips)
  double tokens_per_s_per_chip = 0;
  double tokens_per_s_per_user = 0;  // decode: 1 / TPOT
  double mfu = 0;                // model FLOPs / (chips x dense peak at the compute precision)
  double activity = 0;           // fraction of the step the chips run operators (for power)
  double compute_util = 0;       // busy fraction of the tensor units (for power)
  Bound bound = Bound::compute;
  std::array<double, kParts> breakdown{};
  MemoryUse mem;
  // serve mode: the decode pool's share of chips and the KV bytes moved per request
  double decode_chip_share = 0, kv_transfer_bytes = 0;
  double prefill_tokens_per_s_per_chip = 0, decode_tokens_per_s_per_chip = 0;
  // train mode
  double bubble_frac = 0, train_time_s = 0, chip_hours = 0;
  int idle_chips = 0;            // train: chips of the system the plan leaves unused
  int max_batch = 0;             // decode: largest batch that fits in memory
};

// A workload request: the mode and its setup; `search` also searches the parallel plan.
struct Workload {
  Mode mode = Mode::serve;
  InferenceSetup infer;
  TrainingSetup train;
  bool search = false;
};

// Validity of a parallel plan for a model on a system (Reason::ok when usable).
Reason check_parallel(const System& s, const Model& m, const Parallel& p, int seq = 0);

Estimate estimate_prefill(const System& s, const Model& m, const InferenceSetup& x);
// Decode estimates of one setup at the batches its searches have probed, so that searches of the
// same setup under other TPOT targets (a sweep's TPOT axis) start from the bracket they leave: the
// estimates are those of a fresh computation, and the search returns the same batch with or without
// them (TPOT does not fall as the batch grows). Fixed storage: nothing is allocated.
struct DecodeCurve {
  static constexpr int kMax = 48;
  int n = 0;
  int batch[kMax];
  Estimate est[kMax];
  void clear() { n = 0; }
};
// `curve` (may be null) must hold estimates of this setup only (any TPOT target): clear it when
// anything else changes.
Estimate estimate_decode(const System& s, const Model& m, const InferenceSetup& x, DecodeCurve* curve = nullptr);
// Prefill and decode pools (disaggregated), KV transfer between them, and the output tokens per
// second per chip of the whole deployment at the seq_in / seq_out mix.
Estimate estimate_serve(const System& s, const Model& m, const InferenceSetup& x);
Estimate estimate_train(const System& s, const Model& m, const TrainingSetup& x);
// As estimate_train; with `stop_early` a plan that cannot run (or does not fit) returns before its
// step time is computed (breakdown empty), as the plan search needs. `memo` (may be null) holds the
// layer costs of plans already seen (training_memo.hpp): the result is the same with or without it.
Estimate train_step(const System& s, const Model& m, const TrainingSetup& x, bool stop_early, TrainMemo* memo = nullptr);

// Why a pipeline schedule cannot run a plan (Reason::ok when it can): v model chunks, pp stages, m
// micro-batches per pipeline, on a model of `layers` layers. One stage has no schedule.
Reason check_schedule(const PipeSchedule& s, int pp, int v, long long m, int layers);

// Prefill and decode: the system runs whole instances only, so tokens/s is that of the instances
// that fit in its chips (the rest idle); other modes are left as they are.
void count_whole_instances(const System& s, Estimate& e);

// Runs the workload's mode (and the plan search when asked).
// `curve` (may be null): estimate_decode's, for a decode workload.
Estimate run_workload(const System& s, const Model& m, const Workload& w, DecodeCurve* curve = nullptr);

// Model FLOPs per token of a forward pass at context `seq` (GEMMs 2 x active + causal attention).
double forward_flops_per_token(const Model& m, double seq);

}  // namespace podperf
