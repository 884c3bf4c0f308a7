// Workload flags shared by estimate, compare and breakeven, and the estimate's table and JSON.
#pragma once
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "podperf/io/json.hpp"
#include "podperf/core/plan.hpp"
#include "podperf/io/recipes.hpp"
#include "podperf/app/scenario.hpp"
#include "podperf/core/workload.hpp"

namespace podperf::cli {

using WorkloadFlags = WorkloadInputs;  // the workload half of a Scenario (scenario.hpp)
using WorkloadRequest = Workload;

void add_workload_flags(CLI::App* cmd, WorkloadFlags& f);

// The figures of a result by metric id (NaN: null).
Json result_json(const Result& r);
Json estimate_json(const System& sys, const Model& m, const WorkloadRequest& r, const Estimate& e);
void print_estimate(std::ostream& os, const System& sys, const Model& m, const WorkloadRequest& r, const Estimate& e);

}  // namespace podperf::cli
