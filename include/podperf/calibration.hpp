// Calibration against the validation cases: per software stack (never per vendor or case), the stack
// terms no measurement pins (host overhead per step, the hidden fraction of a streams overlap, the
// default-EPLB imbalance), each within its sourced range, fitted by bounded Levenberg-Marquardt
// least squares on log(predicted / published) (Eigen). Leave-one-out refits restart from the priors.
#pragma once
#include <string>
#include <vector>

#include "podperf/validation.hpp"

namespace podperf {

struct CalibParam {
  std::string family;           // the stack id
  std::string field;            // "host.step_overhead_ms"
  std::vector<std::string> chips;  // entities holding it (the stack)
  double low = 0, high = 0;     // search bounds
  double start = 0;             // the hwdb's current value (the prior)
  int cases = 0;                // validation cases that determine it (1 = a single case pins it)
};

std::vector<CalibParam> calibration_params(const Hwdb& db);

struct CalibResult {
  std::vector<CalibParam> params;       // those with at least one case of their family
  std::vector<double> fitted;
  std::vector<std::string> case_ids;
  std::vector<double> error;            // predicted / published - 1 with the fitted values
  std::vector<double> loo_error;        // each case predicted by a fit without it
  std::vector<double> loo_low, loo_high;  // range of each parameter over the leave-one-out fits
  double rms_log = 0;
};

Pick calibration_pick(const std::vector<CalibParam>& params, const std::vector<double>& values);

CalibResult calibrate(const Hwdb& db, const ModelDb& models, const std::vector<ValidationCase>& cases,
                      bool leave_one_out);

}  // namespace podperf
