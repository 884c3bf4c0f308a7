// A training run priced end to end: the tokens to train at the estimate's throughput, stretched by
// failures (checkpoints written every Young/Daly interval, each failure costing the restart and half
// an interval of lost work; reliability.hpp), in weeks, chip-hours, facility energy and money.
//   wall = tokens / tokens_per_s / goodput
//   chip-hours = wall x the job's chips; energy = IT power under load x PUE x wall
//   cost = the system's fixed cost per hour (capex, facility, maintenance) x wall + energy x price
//   interruptions = the job's failure rate x wall; lost = wall - tokens / tokens_per_s
#pragma once
#include "podperf/core/economics.hpp"

namespace podperf {

struct TrainingRun {
  bool priced = false;          // a training estimate that fits, with tokens to train
  double tokens = 0;
  double failure_free_s = 0;    // tokens / tokens_per_s
  double wall_s = 0;            // after checkpoints and failures
  double weeks = 0;
  double chip_hours = 0;        // the job's chips over the wall time
  double energy_mwh = 0;        // facility energy
  double cost_usd = 0;
  double interruptions = 0;     // expected failures that stop the job
  double lost_s = 0;            // checkpoint writes, restarts and recomputed work
  double goodput = 1;
  double checkpoint_interval_s = 0, recovery_s = 0;
};

TrainingRun price_training_run(const Economics& e, const Site& site, double tokens);

}  // namespace podperf
