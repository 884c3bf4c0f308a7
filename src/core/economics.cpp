#include "podperf/economics.hpp"

#include <cmath>
#include <limits>

namespace podperf {

Economics economics(const System& s, const Site& site, const Model& m, const Workload& w) {
  Economics e;
  e.est = run_workload(s, m, w);
  e.tco = tco(s, site, e.est.fits() ? e.est.activity : 0);
  if (!e.est.fits() || e.est.tokens_per_s <= 0) {
    e.usd_per_mtok = std::numeric_limits<double>::quiet_NaN();
    return e;
  }
  const double tok_h = e.est.tokens_per_s * 3600;
  e.usd_per_mtok = e.tco.per_h() / tok_h * 1e6;
  e.tokens_per_usd = tok_h / e.tco.per_h();
  e.tokens_per_kwh = tok_h / (e.tco.facility_avg_w / 1000);
  e.tokens_per_s_per_kw = e.est.tokens_per_s / (e.tco.facility_avg_w / 1000);
  if (w.mode == Mode::train && e.est.train_time_s > 0) e.train_run_usd = e.tco.per_h() * e.est.train_time_s / 3600;
  return e;
}

double breakeven_electricity(const Economics& a, double target) {
  // target = (fixed + energy_per_usd_kwh x p) / tokens_per_h x 1e6  ->  solve for p.
  const double tok_h = a.est.tokens_per_s * 3600;
  return (target * tok_h / 1e6 - a.tco.fixed_per_h()) / a.tco.energy_per_h_per_usd_kwh;
}

double breakeven_capex(const Economics& a, const Site& site, double target) {
  // capex enters through recovery and maintenance: per hour = capex x (CRF + maintenance) / 8,760.
  const double tok_h = a.est.tokens_per_s * 3600;
  const double k = (capital_recovery_factor(site.cost_of_capital, site.amortization_years) + site.maintenance_frac) / 8760;
  const double other = a.tco.facility_per_h + a.tco.energy_per_h;
  return (target * tok_h / 1e6 - other) / k;
}

}  // namespace podperf
