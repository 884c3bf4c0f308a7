#include "podperf/cost.hpp"

#include <cmath>

namespace podperf {

double capex_usd(const System& s) {
  double base = s.price_usd;
  if (base <= 0) {
    const CostParts& c = s.cost;
    base = s.chips * c.chip_usd + s.nodes * c.node_usd +
           s.supernodes * (s.scaleup.switch_chips * c.switch_usd + s.scaleup.transceivers * c.scaleup_transceiver_usd) +
           s.racks * c.rack_usd;
  }
  const double ports = scaleout_ports_per_chip(s.scaleout);
  const double scaleout = s.chips * (ports * s.cost.scaleout_port_usd +
                                     (ports + 1) * s.scaleout.transceivers * s.cost.scaleout_transceiver_usd);
  return base + scaleout;
}

double capital_recovery_factor(double r, double n) {
  if (r <= 0) return 1 / n;
  const double g = std::pow(1 + r, n);
  return r * g / (g - 1);
}

Tco tco(const System& s, const Site& site, double activity) {
  constexpr double kHoursPerYear = 8760;
  Tco t;
  t.capex_usd = capex_usd(s);
  t.it_peak_w = peak_power(s).total_w();
  t.it_avg_w = it_power(s, chip_power_w(s.chip, activity)).total_w();
  t.facility_avg_w = t.it_avg_w * site.pue;
  t.capex_per_h = t.capex_usd * capital_recovery_factor(site.cost_of_capital, site.amortization_years) / kHoursPerYear;
  t.facility_per_h = site.facility_capex_usd_w * t.it_peak_w *
                     capital_recovery_factor(site.cost_of_capital, site.facility_years) / kHoursPerYear;
  t.maintenance_per_h = site.maintenance_frac * t.capex_usd / kHoursPerYear;
  t.energy_per_h_per_usd_kwh = t.facility_avg_w / 1000;
  t.energy_per_h = t.energy_per_h_per_usd_kwh * site.electricity_usd_kwh;
  return t;
}

}  // namespace podperf
