// Calibration of what no measurement pins, per software stack (hwdb/stacks; never per chip vendor,
// never per case): the stack's launch cost per operator, its host time per pass, its default-EPLB
// imbalance and (side-stream overlap only) the hidden fraction of communication, fitted by bounded
// Levenberg-Marquardt least squares on log(predicted / published) (Eigen). Every fit, and every
// leave-one-out refit, starts from the priors (kPriors in calibration.cpp), so a parameter that only
// the left-out case pins falls back to its prior rather than to the full-data optimum.
// A stack with no fitted case of its own takes, for each such term, the median of the fits of the
// other stacks of its role (when at least kPoolMin of them fit it), not the prior: how well that rule
// predicts is measured by leaving each fitted stack out in turn (leave-one-stack-out).
#pragma once
#include <string>
#include <vector>

#include "podperf/app/validation.hpp"

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

// Fewest fitted stacks of a role whose median stands in for a stack without cases.
inline constexpr int kPoolMin = 3;

// A term of a stack with no fitted case, pooled from the fits of the other stacks of its role.
struct PooledValue {
  std::string stack;                                 // the stack without a fitted case
  std::string field;                                 // "host.launch_us"
  double value = 0;                                  // median of the fits below
  std::vector<std::pair<std::string, double>> from;  // (stack, fitted value), at least kPoolMin
};

struct CalibResult {
  std::vector<CalibParam> params;       // those at least one case depends on
  std::vector<double> fitted;
  std::vector<std::string> case_ids;
  std::vector<double> error;            // predicted / published - 1 with the fitted values
  std::vector<double> loo_error;        // each case predicted by a fit without it
  std::vector<double> loo_low, loo_high;  // range of each parameter over the leave-one-out fits
  // Each case predicted with its stack's terms pooled from the other stacks' fits (the prior where
  // fewer than kPoolMin other stacks fit a term): how a stack without cases is predicted.
  std::vector<double> loso_error;
  std::vector<double> prior_error;        // each case predicted with its stack's terms at the priors
  std::vector<PooledValue> pooled;        // every hwdb stack without a fitted case, per poolable term
  double rms_log = 0;
};

Pick calibration_pick(const std::vector<CalibParam>& params, const std::vector<double>& values);

CalibResult calibrate(const Hwdb& db, const ModelDb& models, const std::vector<ValidationCase>& cases,
                      bool leave_one_out);

}  // namespace podperf
