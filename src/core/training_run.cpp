#include "podperf/core/training_run.hpp"

namespace podperf {

TrainingRun price_training_run(const Economics& e, const Site& site, double tokens) {
  TrainingRun r;
  r.tokens = tokens;
  if (e.est.mode != Mode::train || !e.est.fits() || e.est.tokens_per_s <= 0 || tokens <= 0) return r;
  r.priced = true;
  r.goodput = e.rel.stated && e.rel.goodput > 0 ? e.rel.goodput : 1;
  r.failure_free_s = tokens / e.est.tokens_per_s;
  r.wall_s = r.failure_free_s / r.goodput;
  const double hours = r.wall_s / 3600;
  r.weeks = r.wall_s / (7 * 86400);
  r.chip_hours = hours * e.est.par.chips();
  const double pue = e.tco.it_avg_w > 0 ? e.tco.facility_avg_w / e.tco.it_avg_w : site.pue;
  const double kwh = e.tco.it_load_w * pue / 1000 * hours;
  r.energy_mwh = kwh / 1000;
  r.cost_usd = e.tco.fixed_per_h() * hours + kwh * site.electricity_usd_kwh;
  r.interruptions = e.rel.stated ? e.rel.job_per_h * hours : 0;
  r.lost_s = r.wall_s - r.failure_free_s;
  r.checkpoint_interval_s = e.rel.checkpoint_interval_s;
  r.recovery_s = e.rel.recovery_s;
  return r;
}

}  // namespace podperf
