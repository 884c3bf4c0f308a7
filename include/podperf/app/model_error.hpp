// The model's own error, as a band: the validation residuals (predicted / published - 1) of the case
// class a system falls in (its chip x serving-or-training x software stack). A system with cases of
// its own in that class takes the largest |residual| of them (at least the median over all system-level
// cases); a system without one is "unvalidated" and takes the largest |residual| over every
// system-level case of its mode, open cases included, so it is never narrower than a validated one.
#pragma once
#include <string>
#include <vector>

#include "podperf/app/validation.hpp"

namespace podperf {

struct ModelError {
  double frac = 0;          // half-width: the throughput lies within x (1 +- frac)
  bool validated = false;   // the system has a case of its own in its class
  int class_cases = 0;      // cases behind frac
  std::string basis;        // one line: which cases and what they give
};

ModelError model_error(const Hwdb& db, const ModelDb& models, const std::vector<ValidationCase>& cases,
                       const std::string& system_id, Mode mode, const std::string& stack_id);

}  // namespace podperf
