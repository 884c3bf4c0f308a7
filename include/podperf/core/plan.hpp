// Default parallel plans and the search over plans. Pure functions of the specs.
#pragma once
#include <array>

#include "podperf/core/workload.hpp"

namespace podperf {

// Inference instance when the user gives no plan. Dense models: the smallest power-of-two TP
// (dividing the heads, inside one supernode) whose weight shard fills at most half of HBM; DP over
// the rest of the instance. MoE models: TP 1, DP = EP = the instance (DeepSeek-style wide EP).
// The instance is one supernode, or for a cluster the fewest supernodes with twice the weights in HBM.
Parallel default_inference_plan(const System& s, const Model& m, Precision weights);

// Redundant experts needed so that experts spread evenly over EP (EPLB replicas): the smallest
// r >= 0 with (experts + r) % ep == 0.
int default_redundant_experts(const Model& m, int ep);

// Training plan over all chips: TP up to 8 inside a supernode, PP until the weights, gradients and
// optimizer state fit, DP over the rest, EP over DP x TP for MoE models.
Parallel default_training_plan(const System& s, const Model& m);

// Training plan search. Each dimension is searched unless pinned (> 0, or >= 0 for zero, recompute
// and sp): TP (powers of two inside the scale-up domain dividing the heads), CP (powers of two
// dividing the sequence, up to 32), PP (powers of two up to the layers), micro-batch (1-32),
// interleave (1, 2, 3, 4, 6, 8; pp x v <= layers), recompute (none, selective, full), ZeRO (0-3),
// sequence parallelism (on, off), EP (powers of two, MoE). DP is the largest divisor of the global
// batch over the micro-batch that fits in the chips left (the rest idle), so every plan runs the
// batch exactly. Allocation-free: a fixed array keeps the best plans.
// The pipeline schedules are the training stack's (Stack::schedules; plain 1F1B when it names none),
// each with the model chunks v it allows; `schedule` pins the base setup's schedule instead.
struct TrainingPins {
  int tp = 0, pp = 0, cp = 0, ep = 0, micro_batch = 0, interleave = 0;
  int zero = -1, recompute = -1, sp = -1;
  bool schedule = false;
};

// The first schedule of the stack that runs v model chunks per device (v > 1: an interleaved one);
// nullptr when it runs none. A stack that names no schedule runs plain 1F1B (v = 1 only).
const PipeSchedule* stack_schedule(const Stack& st, int v);
inline constexpr int kBestPlans = 5;
inline constexpr int kReasons = static_cast<int>(Reason::schedule) + 1;
struct TrainingSearch {
  std::array<TrainingSetup, kBestPlans> setup{};
  std::array<Estimate, kBestPlans> best{};  // by tokens/s, best first
  int found = 0;                            // filled entries of best
  long long evaluated = 0;                  // full estimates run
  long long fits = 0;
  std::array<long long, kReasons> rejected{};  // by Reason (plans that do not fit or cannot run)
};
TrainingSearch search_training_plans(const System& s, const Model& m, const TrainingSetup& base,
                                     const TrainingPins& pins = {});

// The plan (TP, EP; instance size fixed) with the most tokens/s per chip that meets the targets.
Estimate search_inference(const System& s, const Model& m, InferenceSetup x, Mode mode);
// The best plan of search_training_plans with nothing pinned but x's global batch and sequence
// (the first rejection's estimate when none fits).
Estimate search_training(const System& s, const Model& m, TrainingSetup x);

}  // namespace podperf
