// The model's own error, as a band: the residuals (predicted / published - 1) of the validation cases
// in the class a system falls in (its chip x serving-or-training x software stack).
//
// From calibrate's leave-one-out record (validation/residuals.toml, written by `calibrate --write`):
// each case predicted by a fit made without it (an open case, never fitted, at the fit). A system
// with cases of its own in its class takes the largest |leave-one-out residual| of them (at least the
// median over all system-level cases of its mode); a system without one is "unvalidated": where other
// systems' cases share its class it takes their largest, and where the class has no case, the largest
// out-of-sample residual of its mode (leave-one-out, leave-one-stack-out, open cases), so it is never
// narrower than a validated one. Without the record: the current in-sample residuals, by the same rules.
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

// One system-level case of calibrate's record.
struct CaseResidual {
  std::string id, system, chip, stack;
  bool training = false;      // training case (else serving)
  bool open = false;          // a published result the model does not reach yet: never fitted
  double error = 0;           // at the fit (in-sample; out-of-sample for an open case)
  double loo_error = 0;       // the case left out of the fit (open: as error)
  double loso_error = 0;      // its stack's terms pooled from the other stacks (NaN: not computed)
};

struct ResidualRecord {
  std::string file, source, kind;  // empty file: no record
  std::vector<CaseResidual> cases;
};

// validation/residuals.toml beside the cases directory; an empty record when the file is absent.
std::string residuals_file(const std::string& cases_dir);
ResidualRecord load_residuals(const std::string& file);

ModelError model_error(const Hwdb& db, const ResidualRecord& record, const std::string& system_id, Mode mode,
                       const std::string& stack_id);
// In-sample: every case evaluated now at the hwdb's central values.
ModelError model_error(const Hwdb& db, const ModelDb& models, const std::vector<ValidationCase>& cases,
                       const std::string& system_id, Mode mode, const std::string& stack_id);

// The base system of an id: "2xhgx-h800:os=2@trtllm" -> "hgx-h800".
std::string base_system(const Hwdb& db, std::string id);

}  // namespace podperf
