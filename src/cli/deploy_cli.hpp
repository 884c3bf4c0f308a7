// estimate --mode serve as a deployment: whole prefill and decode instances, the request mix,
// latency percentiles and scenarios (flags, checks and output).
#pragma once
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "context.hpp"
#include "estimate_output.hpp"

namespace podperf::cli {

struct DeployFlags {
  std::string pd_split, prefill_system, scenario, mix, seq_in_range, seq_out_range;
  double percentile = 99, prefix_hit = 0, arrival_rate = 0, hbm_reserve = 0.1;
  CLI::Option *percentile_opt = nullptr, *arrival_opt = nullptr, *reserve_opt = nullptr;
};

void add_deploy_flags(CLI::App* cmd, DeployFlags& d);
// The serving half of a Scenario from the flags.
ServingInputs serving_inputs(const DeployFlags& d);
// Prints the deployment of a serve scenario evaluated (into `json` when non-null).
void print_deployment(std::ostream& os, const Evaluation& ev, const WorkloadFlags& f, Json* json);
// "TP1 DP8 EP8 PP1".
std::string plan_text(const Parallel& p);

// --serving aggregated: closed-loop clients (--concurrency), Poisson arrivals (--arrival-rate) or
// an offline batch, under the stack's per-step token budget (--chunk-tokens overrides it).
struct AggregatedFlags {
  std::string serving;  // "", "aggregated" or "disaggregated"
  int concurrency = 0, token_budget = 0;
  bool concurrency_given = false, budget_given = false;
};
// An aggregated serve evaluation: its instance, load, step cost and TTFT/TPOT percentiles, as text
// or into `json`.
void print_aggregated(std::ostream& os, const Evaluation& ev, const ServingInputs& si, Json* json);

}  // namespace podperf::cli
