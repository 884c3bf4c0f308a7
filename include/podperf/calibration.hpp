// Calibration of the global efficiency terms against the validation cases: per chip family
// (the chip vendor: Huawei Ascend, NVIDIA), the attention-kernel efficiency, the per-operator
// overhead, the communication overlap and the default-EPLB imbalance, fitted by bounded
// Levenberg-Marquardt least squares on log(predicted / published) (Eigen), with leave-one-out errors.
#pragma once
#include <string>
#include <vector>

#include "podperf/validation.hpp"

namespace podperf {

struct CalibParam {
  std::string family;           // chip vendor
  std::string field;            // "efficiency.attn_eff"
  std::vector<std::string> chips;
  double low = 0, high = 0;     // search bounds
  double start = 0;             // the hwdb's current value
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
