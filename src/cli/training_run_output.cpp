#include "training_run_output.hpp"

#include "podperf/core/training_run.hpp"
#include "table.hpp"

namespace podperf::cli {

void training_run_output(std::ostream& os, Json* j, const Evaluation& ev) {
  const TrainingRun& run = ev.run;
  if (!run.priced) return;
  const std::string& site_id = ev.site_id;
  if (j) {
    Json x = Json::object();
    x["tokens"] = run.tokens;
    x["weeks"] = run.weeks;
    x["failure_free_weeks"] = run.failure_free_s / (7 * 86400);
    x["chip_hours"] = run.chip_hours;
    x["energy_mwh"] = run.energy_mwh;
    x["cost_usd"] = run.cost_usd;
    x["interruptions"] = run.interruptions;
    x["lost_days"] = run.lost_s / 86400;
    x["goodput"] = run.goodput;
    (*j)["training_run"] = x;
    return;
  }
  os << "training run of " << num(run.tokens) << " tokens at site " << site_id << " (after failures: checkpoint every "
     << num(run.checkpoint_interval_s / 60, 3) << " min, " << num(run.recovery_s / 60, 3) << " min per restart)\n";
  Table t({"", "value"});
  t.row({"weeks", num(run.weeks, 3)});
  t.row({"weeks without failures", num(run.failure_free_s / (7 * 86400), 3)});
  t.row({"chip-hours (M)", num(run.chip_hours / 1e6, 4)});
  t.row({"energy MWh (facility)", num(run.energy_mwh)});
  t.row({"cost M USD", num(run.cost_usd / 1e6, 4)});
  t.row({"interruptions", num(run.interruptions)});
  t.row({"days lost to checkpoints and failures", num(run.lost_s / 86400, 3)});
  t.print(os);
}

}  // namespace podperf::cli
