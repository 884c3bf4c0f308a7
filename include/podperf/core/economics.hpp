// A workload's throughput turned into power and money at a site: cost per million tokens,
// tokens per kWh and per dollar, and the break-even electricity price and system price.
#pragma once
#include "podperf/core/cost.hpp"
#include "podperf/core/reliability.hpp"
#include "podperf/core/workload.hpp"

namespace podperf {

struct Economics {
  Estimate est;
  Tco tco;
  double usd_per_mtok = 0;        // TCO per million tokens (output tokens for serve/decode)
  double tokens_per_kwh = 0;      // per facility kWh (IT x PUE)
  double tokens_per_usd = 0;
  double tokens_per_s_per_kw = 0; // per kW of average facility power
  double train_run_usd = 0;       // train mode with --tokens: TCO over the run
  // After failures (reliability.hpp): throughput x goodput, at the same power and cost per hour.
  Reliability rel;
  double good_tokens_per_s = 0, good_tokens_per_kwh = 0, good_usd_per_mtok = 0;
};

Economics economics(const System& s, const Site& site, const Model& m, const Workload& w);
// The same from an estimate already run (its activity sets the power; its instance, or the training
// plan, is what one failure stops); `other` (may be null) adds a second system's cost and power, as a
// deployment whose prefill runs on another system.
Economics economics_of(const System& s, const Site& site, const Estimate& est, const Tco* other = nullptr);

// Electricity price (USD/kWh) at which A's cost per million tokens equals `target_usd_per_mtok`,
// everything else fixed; <= 0 when no positive price does.
double breakeven_electricity(const Economics& a, double target_usd_per_mtok);
// System price (USD, capex of A) at which A's cost per million tokens equals the target; <= 0 when none.
double breakeven_capex(const Economics& a, const Site& site_a, double target_usd_per_mtok);
// Utilisation U (fraction of hours under load) at which A's cost per million tokens equals the target:
//   (fixed + E_idle + U (E_load - E_idle)) / (U x tokens per hour under load) x 1e6 = target.
// Returns > 1 when A costs more even at full load, <= 0 (or NaN) when no utilisation does.
double breakeven_utilization(const Economics& a, double target_usd_per_mtok);

}  // namespace podperf
