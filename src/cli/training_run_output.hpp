// The priced training run of `estimate --mode train --tokens T` (training_run.hpp).
#pragma once
#include <ostream>

#include "economics_output.hpp"

namespace podperf::cli {

// Prints (or adds to `j` under "training_run") weeks, chip-hours, energy, cost and interruptions of
// the evaluation's training run; nothing outside train mode or without tokens to train.
void training_run_output(std::ostream& os, Json* j, const Evaluation& ev);

}  // namespace podperf::cli
