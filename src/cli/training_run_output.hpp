// The priced training run of `estimate --mode train --tokens T` (training_run.hpp).
#pragma once
#include <ostream>

#include "economics_output.hpp"

namespace podperf::cli {

// Prints (or adds to `j` under "training_run") weeks, chip-hours, energy, cost and interruptions of
// training r.train.tokens tokens; nothing outside train mode or without tokens.
void training_run_output(std::ostream& os, Json* j, const Hwdb& db, const std::string& system_id, const Model& m,
                         const WorkloadRequest& r, const EconomicsFlags& f);

}  // namespace podperf::cli
