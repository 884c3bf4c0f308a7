// Capital and operating cost of a system at a site, and the cost per token of a workload.
//
// capex        = system price (hwdb, when given) or the sum of its parts, plus the scale-out network
//                share (ports and modules per chip, always built from parts)
// annual cost  = capex x CRF(r, n_IT) + facility_usd_w x peak IT W x CRF(r, n_facility)
//              + maintenance_frac x capex + energy
// energy       = average IT W x PUE x 8,760 h x USD/kWh / 1000
// CRF(r, n)    = r (1 + r)^n / ((1 + r)^n - 1), the capital recovery factor (1/n when r = 0)
// TCO per hour = annual cost / 8,760; per million tokens = TCO per hour / (tokens/s x 3,600) x 1e6
#pragma once
#include "podperf/power.hpp"
#include "podperf/spec.hpp"

namespace podperf {

double capex_usd(const System& s);
double capital_recovery_factor(double rate, double years);

struct Tco {
  double capex_usd = 0;
  double it_peak_w = 0, it_avg_w = 0, facility_avg_w = 0;  // facility = IT x PUE
  double capex_per_h = 0, facility_per_h = 0, maintenance_per_h = 0, energy_per_h = 0;
  double per_h() const { return capex_per_h + facility_per_h + maintenance_per_h + energy_per_h; }
  double fixed_per_h() const { return capex_per_h + facility_per_h + maintenance_per_h; }
  // Energy cost per hour per USD/kWh of electricity price (energy_per_h = this x price).
  double energy_per_h_per_usd_kwh = 0;
};

// TCO with the chips busy a fraction `activity` of the time on average.
Tco tco(const System& s, const Site& site, double activity);

}  // namespace podperf
