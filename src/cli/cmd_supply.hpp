// podperf supply, podperf fleet and the supply sweep (docs/supply.md).
#pragma once
#include <string>

#include "context.hpp"
#include "podperf/core/model.hpp"

namespace podperf::cli {

// One system as `estimate` evaluates it at its home site: the workload resolved with estimate's
// defaults (resolve), run as estimate runs it (run_request: whole instances), costed as estimate's
// economics block costs it (economics). Fleets, the supply sweep and the tests use this alone.
struct SystemEval {
  std::string id;
  int chips = 0;
  bool fits = false;
  double tokens_per_s = 0;              // whole instances, as estimate prints for the system
  double capex_usd = 0, tco_usd_per_h = 0;
  double it_peak_w = 0, facility_avg_w = 0;
  double dense_tflops_per_chip[5] = {};  // by Precision (native units only; 0 = none)
};
SystemEval evaluate_system(Context& ctx, const std::string& system_id, const Model& m, const std::string& mode, double tpot_ms);

void add_supply_commands(CLI::App& app, Context& ctx);

// `podperf sweep SPEC` with `kind = "supply"` in SPEC: the supply sweep (docs/supply.md).
bool is_supply_sweep(const std::string& spec_path);
void run_supply_sweep(Context& ctx, const std::string& spec_path, const std::string& out, bool json);

}  // namespace podperf::cli
