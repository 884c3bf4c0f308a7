// Workload flags shared by estimate, compare and breakeven, and the estimate's table and JSON.
#pragma once
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "podperf/json.hpp"
#include "podperf/workload.hpp"

namespace podperf::cli {

struct WorkloadFlags {
  std::string mode = "serve";
  int tp = 0, dp = 0, ep = 0, pp = 0, cp = 0;
  int prefill_tp = 0, prefill_dp = 0, prefill_ep = 0;
  int batch = 0, seq_in = 2048, seq_out = 256, seq = 4096, context = 0;
  double tpot_ms = 0, ttft_ms = 0;
  std::string weights = "auto", kv = "auto", attn = "bf16", precision = "bf16";
  // Per-group weight formats (empty: as --weights): attention projections, dense FFN, routed
  // experts, shared experts, LM head.
  std::string w_attn, w_ffn, w_experts, w_shared, w_head;
  int mtp = 0;
  double mtp_accept = 0.7;
  double overlap = -1;
  std::string eplb = "perfect";
  int redundant = -1;
  double imbalance = 1.0;
  int micro_batch = 1, interleave = 1, zero = 1;
  bool recompute = false, search = false;
  double tokens = 0;
};

using WorkloadRequest = Workload;

void add_workload_flags(CLI::App* cmd, WorkloadFlags& f);
WorkloadRequest resolve(const System& sys, const Model& m, const WorkloadFlags& f);
// Rejects a plan that cannot exist (InputError naming the flag), then runs the workload.
Estimate run_request(const System& sys, const Model& m, const WorkloadRequest& r);

Json estimate_json(const System& sys, const Model& m, const WorkloadRequest& r, const Estimate& e);
void print_estimate(std::ostream& os, const System& sys, const Model& m, const WorkloadRequest& r, const Estimate& e);

}  // namespace podperf::cli
