// Default parallel plans and the search over plans. Pure functions of the specs.
#pragma once
#include "podperf/workload.hpp"

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

// The plan (TP, EP; instance size fixed) with the most tokens/s per chip that meets the targets.
Estimate search_inference(const System& s, const Model& m, InferenceSetup x, Mode mode);
// The plan (TP, PP, EP, DP) with the most tokens/s that fits, for the chips of `x.par`.
Estimate search_training(const System& s, const Model& m, TrainingSetup x);

}  // namespace podperf
