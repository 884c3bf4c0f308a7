// Workload flags shared by estimate, compare and breakeven, and the estimate's table and JSON.
#pragma once
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "podperf/json.hpp"
#include "podperf/plan.hpp"
#include "podperf/hwdb.hpp"
#include "podperf/recipes.hpp"
#include "podperf/workload.hpp"

namespace podperf::cli {

struct WorkloadFlags {
  std::string mode = "serve";
  int tp = 0, dp = 0, ep = 0, pp = 0, cp = 0;
  int prefill_tp = 0, prefill_dp = 0, prefill_ep = 0, prefill_pp = 0;
  int batch = 0, seq_in = 2048, seq_out = 256, seq = 0, context = 0;  // seq 0: the model's training length, else 4,096
  double tpot_ms = 0, ttft_ms = 0;
  std::string weights = "auto", kv = "auto", attn = "auto", precision = "bf16";
  // Per-group weight formats (empty: as --weights): attention projections, dense FFN, routed
  // experts, shared experts, LM head.
  std::string w_attn, w_ffn, w_experts, w_shared, w_head;
  std::string recipe;                  // --recipe NAME (hwdb/recipes); empty: the chip's native one
  const RecipeDb* recipes = nullptr;   // set by the command before resolve()
  int mtp = 0;
  double mtp_accept = 0.7;
  double overlap = -1;
  std::string eplb = "perfect";
  int redundant = -1;
  double imbalance = 1.0;
  int micro_batch = 0, interleave = 0, zero = -1;  // 0 / -1: not given (1, 1, ZeRO-1; searched)
  std::string recompute = "auto", sp = "auto", tp_overlap = "none", attn_kernel = "flash";  // auto: not given
  std::string schedule;     // --schedule ID (hwdb/schedules); empty: the training stack's for the interleave
  const Hwdb* db = nullptr; // set by the command before resolve() (schedules outside the stack)
  bool search = false;
  double tokens = 0;
  double batch_tokens = 0;  // train: global batch in tokens (0: --batch, else the model's published batch)
};

using WorkloadRequest = Workload;

void add_workload_flags(CLI::App* cmd, WorkloadFlags& f);
WorkloadRequest resolve(const System& sys, const Model& m, const WorkloadFlags& f);
// Training: the pipeline schedule of --schedule or of the stack for the interleave (training_input.cpp),
// and the one-line rejection (exit 2, naming the flag and the nearest valid value) of a plan the
// schedule cannot run.
PipeSchedule resolve_schedule(const System& sys, const WorkloadFlags& f, int interleave);
void reject_schedule(const Model& m, const WorkloadFlags& f, const TrainingSetup& t);
// The training flags given, as pins of the plan search.
TrainingPins training_pins(const WorkloadFlags& f);
// The recipe whose precisions the "auto" flags take: --recipe, else the chip's native recipe, else none.
const Recipe* chosen_recipe(const System& sys, const WorkloadFlags& f);
// Rejects a plan that cannot exist (InputError naming the flag), then runs the workload.
Estimate run_request(const System& sys, const Model& m, const WorkloadRequest& r);

Json estimate_json(const System& sys, const Model& m, const WorkloadRequest& r, const Estimate& e);
void print_estimate(std::ostream& os, const System& sys, const Model& m, const WorkloadRequest& r, const Estimate& e);

}  // namespace podperf::cli
