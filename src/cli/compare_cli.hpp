// The flags of compare, breakeven and report (two systems, a model and its workload, the sites and
// the draws), and the comparison they ask for.
#pragma once
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "context.hpp"
#include "estimate_output.hpp"
#include "podperf/app/comparison.hpp"

namespace podperf::cli {

struct CompareSetup {
  std::string a, b, model, site, sites, stack, match, plan_a, plan_b;
  WorkloadFlags f;
  std::string serving;               // serve: "aggregated", "disaggregated" or "" (each stack's as deployed)
  int concurrency = 0, chunk_tokens = 0;  // serve, aggregated: closed-loop clients, tokens per step (0: not given)
  const CLI::Option* tpot_opt = nullptr;  // --tpot-ms, to tell the default target from a given one
  int samples = kCompareSamples;
  unsigned long seed = 1;
  bool sensitivity = false, json = false;
};

// compare's defaults: DeepSeek-R1 serving under a 50 ms TPOT target, both systems at the us site.
std::shared_ptr<CompareSetup> default_compare_setup();
void add_compare_flags(CLI::App* cmd, CompareSetup& o);
// The comparison the flags ask for: the ids with --stack applied, the two sites.
ComparisonSpec comparison_spec(Context& ctx, const CompareSetup& o);

}  // namespace podperf::cli
