#include "podperf/core/economics.hpp"

#include <cmath>
#include <limits>

namespace podperf {

Economics economics(const System& s, const Site& site, const Model& m, const Workload& w) {
  return economics_of(s, site, run_workload(s, m, w));
}

Economics economics_of(const System& s, const Site& site, const Estimate& est, const Tco* other) {
  Economics e;
  e.est = est;
  e.tco = tco(s, site, e.est.fits() ? e.est.activity : 0);
  if (other) {
    Tco& t = e.tco;
    t.capex_usd += other->capex_usd;
    t.it_peak_w += other->it_peak_w, t.it_avg_w += other->it_avg_w, t.facility_avg_w += other->facility_avg_w;
    t.capex_per_h += other->capex_per_h, t.facility_per_h += other->facility_per_h;
    t.maintenance_per_h += other->maintenance_per_h, t.energy_per_h += other->energy_per_h;
    t.energy_per_h_per_usd_kwh += other->energy_per_h_per_usd_kwh;
    t.it_load_w += other->it_load_w, t.it_idle_w += other->it_idle_w;
  }
  // Reliability is the hardware's: stated whether or not the workload fits (the job then spans the system).
  const bool ok = e.est.fits() && e.est.tokens_per_s > 0;
  const double job_chips = !ok ? 0 : e.est.mode == Mode::train ? e.est.par.chips() : e.est.instance_chips;
  e.rel = reliability(s, e.est.mode, job_chips > 0 ? job_chips : s.chips);
  if (!ok) {
    e.usd_per_mtok = std::numeric_limits<double>::quiet_NaN();
    return e;
  }
  // Tokens per hour averaged over loaded and idle hours.
  const double tok_h = e.est.tokens_per_s * 3600 * e.tco.utilization;
  e.usd_per_mtok = e.tco.per_h() / tok_h * 1e6;
  e.tokens_per_usd = tok_h / e.tco.per_h();
  e.tokens_per_kwh = tok_h / (e.tco.facility_avg_w / 1000);
  e.tokens_per_s_per_kw = tok_h / 3600 / (e.tco.facility_avg_w / 1000);
  if (e.est.mode == Mode::train && e.est.train_time_s > 0) e.train_run_usd = e.tco.per_h() * e.est.train_time_s / 3600;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (e.rel.stated && e.rel.goodput > 0) {
    e.good_tokens_per_s = e.est.tokens_per_s * e.rel.goodput;
    e.good_tokens_per_kwh = e.tokens_per_kwh * e.rel.goodput;
    e.good_usd_per_mtok = e.usd_per_mtok / e.rel.goodput;
  } else {
    e.good_tokens_per_s = e.good_tokens_per_kwh = e.good_usd_per_mtok = nan;
  }
  return e;
}

double breakeven_electricity(const Economics& a, double target) {
  // target = (fixed + energy_per_usd_kwh x p) / tokens_per_h x 1e6  ->  solve for p.
  const double tok_h = a.est.tokens_per_s * 3600 * a.tco.utilization;
  return (target * tok_h / 1e6 - a.tco.fixed_per_h()) / a.tco.energy_per_h_per_usd_kwh;
}

double breakeven_capex(const Economics& a, const Site& site, double target) {
  // capex enters through recovery and maintenance: per hour = capex x (CRF + maintenance) / 8,760.
  const double tok_h = a.est.tokens_per_s * 3600 * a.tco.utilization;
  const double k = (capital_recovery_factor(site.cost_of_capital, site.amortization_years) + site.maintenance_frac) / 8760;
  const double other = a.tco.facility_per_h + a.tco.energy_per_h;
  return (target * tok_h / 1e6 - other) / k;
}

double breakeven_utilization(const Economics& a, double target) {
  const Tco& t = a.tco;
  // Energy per hour under load and idle, at the site's price (energy_per_h = average facility kW x price).
  const double price = t.energy_per_h_per_usd_kwh > 0 ? t.energy_per_h / t.energy_per_h_per_usd_kwh : 0;
  const double pue = t.it_avg_w > 0 ? t.facility_avg_w / t.it_avg_w : 1;
  const double e_load = t.it_load_w * pue / 1000 * price, e_idle = t.it_idle_w * pue / 1000 * price;
  const double tok_h_load = a.est.tokens_per_s * 3600;
  const double denom = target * tok_h_load / 1e6 - (e_load - e_idle);
  if (!(denom > 0)) return std::numeric_limits<double>::quiet_NaN();
  return (t.fixed_per_h() + e_idle) / denom;
}

}  // namespace podperf
