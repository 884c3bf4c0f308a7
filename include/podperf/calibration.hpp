// Calibration of what no measurement pins, per software stack (hwdb/stacks; never per chip vendor,
// never per case): the stack's launch cost per operator, its host time per pass, its default-EPLB
// imbalance and (side-stream overlap only) the hidden fraction of communication, fitted by bounded
// Levenberg-Marquardt least squares on log(predicted / published) (Eigen). Every fit, and every
// leave-one-out refit, starts from the priors (kPriors in calibration.cpp), so a parameter that only
// the left-out case pins falls back to its prior rather than to the full-data optimum.
#pragma once
#include <string>
#include <vector>

#include "podperf/validation.hpp"

namespace podperf {

struct CalibParam {
  std::string stack;            // stack id
  std::string field;            // "host.launch_us"
  double low = 0, high = 0;     // search bounds
  double prior = 0;             // where every fit starts
  double start = 0;             // the hwdb's current value
  int cases = 0;                // fitted cases whose prediction moves with it (1: a single case pins it)
};

// The stack a case runs: its own (setup.stack), else its system's default for the mode; "" for a
// kernel benchmark (gemm, stream), which runs no stack.
std::string case_stack(const Hwdb& db, const ValidationCase& c);
// The parameters of the stacks the cases run (a case's own stack, else its system's default).
std::vector<CalibParam> calibration_params(const Hwdb& db, const std::vector<ValidationCase>& cases);

struct CalibResult {
  std::vector<CalibParam> params;       // those at least one case depends on
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
