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

}  // namespace podperf::cli
