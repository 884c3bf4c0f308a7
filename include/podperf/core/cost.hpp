// Capital and operating cost of a system at a site, and the cost per token of a workload.
//
// capex        = system price (hwdb, when given) or the sum of its parts (the chip at its price, else
//                at its cost from manufacturing), plus the scale-out network
//                share (ports and modules per chip, always built from parts)
// annual cost  = capex x CRF(r, n_IT) + facility_usd_w x peak IT W x CRF(r, n_facility)
//              + maintenance_frac x capex + energy
// energy       = average IT W x PUE x 8,760 h x USD/kWh / 1000
// average IT W = U x IT W under load + (1 - U) x IT W idle, U = the site's utilisation (fraction of
//                hours under load); tokens per hour = U x tokens/s under load x 3,600
// CRF(r, n)    = r (1 + r)^n / ((1 + r)^n - 1), the capital recovery factor (1/n when r = 0)
// TCO per hour = annual cost / 8,760; per million tokens = TCO per hour / (tokens/s x 3,600) x 1e6
#pragma once
#include "podperf/core/power.hpp"
#include "podperf/core/spec.hpp"

namespace podperf {

double capex_usd(const System& s);

// Cost of one good chip from manufacturing (docs/power-cost.md):
//   dies per wafer  = pi r^2 / A - pi d / sqrt(2 A)         (d = 300 mm, r = d / 2; A = die area)
//   die yield       = given, else Murphy ((1 - e^{-A D0}) / (A D0))^2 or Poisson e^{-A D0}
//   good die        = wafer price / (dies per wafer x yield)
//   chip            = (dies x good die + HBM stacks x stack price + packaging + test) / package yield
struct ChipCost {
  bool stated = false;   // the hwdb gives manufacturing inputs
  double dies_per_wafer = 0, yield = 0, good_die_usd = 0;
  double logic_usd = 0, hbm_usd = 0, packaging_usd = 0, test_usd = 0;
  double total_usd = 0;  // per good packaged chip
};
double dies_per_wafer(double die_mm2, double wafer_mm = 300);
double murphy_yield(double die_mm2, double defect_per_cm2);
double poisson_yield(double die_mm2, double defect_per_cm2);
ChipCost chip_cost(const Chip& c);
ChipCost chip_cost(const ChipMfg& m, int dies);
// The accelerator's price for capex: the hwdb price, else the cost from manufacturing (0 = neither).
double chip_unit_usd(const Chip& c);
double capital_recovery_factor(double rate, double years);

struct Tco {
  double capex_usd = 0;
  double it_peak_w = 0, it_avg_w = 0, facility_avg_w = 0;  // facility = IT x PUE
  double capex_per_h = 0, facility_per_h = 0, maintenance_per_h = 0, energy_per_h = 0;
  double per_h() const { return capex_per_h + facility_per_h + maintenance_per_h + energy_per_h; }
  double fixed_per_h() const { return capex_per_h + facility_per_h + maintenance_per_h; }
  // Energy cost per hour per USD/kWh of electricity price (energy_per_h = this x price).
  double energy_per_h_per_usd_kwh = 0;
  double utilization = 1;            // fraction of hours under load
  double it_load_w = 0, it_idle_w = 0;  // IT power under load and idle
};

// TCO with the chips busy a fraction `activity` of the time on average. `utilization` in (0, 1]
// replaces the site's (< 0: the site's); `extra_capex_usd` adds to the capex (a sweep's yield axis).
Tco tco(const System& s, const Site& site, double activity, double utilization = -1, double extra_capex_usd = 0);
// `t` (a tco() of the same system and site) at another activity: the IT load power and the
// average power and energy cost that follow from it; capex, peak and idle power stay.
Tco at_activity(Tco t, const System& s, const Site& site, double activity);

}  // namespace podperf
