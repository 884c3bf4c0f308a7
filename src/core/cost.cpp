#include "podperf/core/cost.hpp"

#include <algorithm>
#include <cmath>

namespace podperf {

double capex_usd(const System& s) {
  double base = s.price_usd;
  if (base <= 0) {
    const CostParts& c = s.cost;
    // The chip's own price (hwdb chip record) comes first, then the system's part price, then the
    // cost from manufacturing.
    const double chip = s.chip.price_usd > 0 ? s.chip.price_usd : c.chip_usd > 0 ? c.chip_usd : chip_cost(s.chip).total_usd;
    // Hot spares are bought like any chip; a switch tier adds its HRS.
    base = (s.chips + s.spare_chips) * chip + s.nodes * c.node_usd +
           s.supernodes * (s.scaleup.switch_chips * c.switch_usd + s.scaleup.hrs_chips * c.hrs_usd +
                           s.scaleup.transceivers * c.scaleup_transceiver_usd) +
           s.racks * c.rack_usd;
  }
  const double ports = scaleout_ports_per_chip(s.scaleout);
  const double scaleout = s.chips * (ports * s.cost.scaleout_port_usd +
                                     (ports + 1) * s.scaleout.transceivers * s.cost.scaleout_transceiver_usd);
  return base + scaleout;
}

double dies_per_wafer(double a, double d) {
  if (!(a > 0)) return 0;
  const double pi = 3.14159265358979323846;
  return std::max(0.0, pi * d * d / 4 / a - pi * d / std::sqrt(2 * a));
}

// A in cm^2 (mm^2 / 100), D0 in defects per cm^2.
double murphy_yield(double a, double d0) {
  const double ad = a / 100 * d0;
  if (ad <= 0) return 1;
  const double y = (1 - std::exp(-ad)) / ad;
  return y * y;
}

double poisson_yield(double a, double d0) { return std::exp(-a / 100 * d0); }

ChipCost chip_cost(const Chip& c) { return chip_cost(c.mfg, c.dies); }

ChipCost chip_cost(const ChipMfg& m, int dies) {
  ChipCost k;
  if (!(m.die_mm2 > 0) || !(m.wafer_usd > 0)) return k;
  k.stated = true;
  k.dies_per_wafer = dies_per_wafer(m.die_mm2);
  k.yield = m.yield > 0 ? m.yield : m.yield_model == 1 ? poisson_yield(m.die_mm2, m.defect_per_cm2)
                                                          : murphy_yield(m.die_mm2, m.defect_per_cm2);
  k.good_die_usd = m.wafer_usd / (k.dies_per_wafer * k.yield);
  k.logic_usd = std::max(1, dies) * k.good_die_usd;
  k.hbm_usd = m.hbm_stacks * m.hbm_stack_usd;
  k.packaging_usd = m.packaging_usd;
  k.test_usd = m.test_usd;
  const double py = m.package_yield > 0 ? m.package_yield : 1;
  k.total_usd = (k.logic_usd + k.hbm_usd + k.packaging_usd + k.test_usd) / py;
  return k;
}

double chip_unit_usd(const Chip& c) {
  if (c.price_usd > 0) return c.price_usd;
  return chip_cost(c).total_usd;
}

double capital_recovery_factor(double r, double n) {
  if (r <= 0) return 1 / n;
  const double g = std::pow(1 + r, n);
  return r * g / (g - 1);
}

Tco tco(const System& s, const Site& site, double activity, double utilization, double extra_capex_usd) {
  constexpr double kHoursPerYear = 8760;
  Tco t;
  t.capex_usd = capex_usd(s) + extra_capex_usd;
  t.it_peak_w = peak_power(s).total_w();
  t.utilization = utilization > 0 ? utilization : site.utilization > 0 ? site.utilization : 1;
  t.it_idle_w = it_power(s, s.chip.idle_w).total_w();
  t.capex_per_h = t.capex_usd * capital_recovery_factor(site.cost_of_capital, site.amortization_years) / kHoursPerYear;
  t.facility_per_h = site.facility_capex_usd_w * t.it_peak_w *
                     capital_recovery_factor(site.cost_of_capital, site.facility_years) / kHoursPerYear;
  t.maintenance_per_h = site.maintenance_frac * t.capex_usd / kHoursPerYear;
  return at_activity(t, s, site, activity);
}

Tco at_activity(Tco t, const System& s, const Site& site, double activity) {
  t.it_load_w = it_power(s, chip_power_w(s.chip, activity)).total_w();
  t.it_avg_w = t.utilization * t.it_load_w + (1 - t.utilization) * t.it_idle_w;
  t.facility_avg_w = t.it_avg_w * site.pue;
  t.energy_per_h_per_usd_kwh = t.facility_avg_w / 1000;
  t.energy_per_h = t.energy_per_h_per_usd_kwh * site.electricity_usd_kwh;
  return t;
}

}  // namespace podperf
