// Failures and what is left after them (docs/reliability.md).
//
// Part rates are FIT (failures per 1e9 part-hours); parts fail independently at constant rates, so a
// set of parts fails at the sum of their rates and its MTBF is the inverse:
//   lambda_supernode = n_chip (fit + hbm_fit + software_fit + nic_fit) + n_node node_fit
//                    + n_switch switch_fit + n_module transceiver_fit          (per hour: x 1e-9)
//   MTBF = 1 / lambda; interruptions per day = 24 lambda over the parts of the job.
// Training (blast radius: the whole job): checkpoint every tau, the first-order optimum of
// Young (1974) and Daly (2006): tau = sqrt(2 delta M) - delta (delta < M / 2; else tau = M), and
//   goodput = tau / (tau + delta) x (1 - lambda (R + (tau + delta) / 2))
// (a failure costs the recovery time R plus, on average, half a segment of lost work).
// Serving (blast radius: the instance a failed part sits in): the instance stops for R,
//   goodput = 1 - lambda_system x R x instance_chips / chips.
// Hot spares (one per `spare_every` chips, e.g. UB-Mesh 64+1) replace a failed chip or HBM in
// spare_switch_s instead of R.
#pragma once
#include "podperf/core/spec.hpp"
#include "podperf/core/workload.hpp"

namespace podperf {

struct PartCount {
  double chips = 0, nodes = 0, switches = 0, transceivers = 0, nics = 0;
};

// Parts of one supernode, including its chips' share of the scale-out network.
PartCount supernode_parts(const System& s);

struct Reliability {
  bool stated = false;            // the hwdb gives failure rates for this system
  double supernode_per_h = 0;     // failures per hour of one supernode
  double system_per_h = 0;        // of the whole system (cluster)
  double job_per_h = 0;           // of the parts one job (training) or all instances (serving) use
  double mtbf_supernode_h = 0, mtbf_system_h = 0;
  double interruptions_per_day = 0;
  double recovery_s = 0;          // mean recovery per failure (restart or spare switch-over)
  double checkpoint_interval_s = 0;  // training: Young/Daly optimum
  double blast_chips = 0;         // chips stopped by one failure
  double goodput = 1;             // fraction of the throughput left after failures
};

// Reliability of a workload's estimate on a system. `job_chips`: chips the job uses (training)
// or chips in one instance (serving).
Reliability reliability(const System& s, Mode mode, double job_chips);

// First-order optimal checkpoint interval (Young 1974, Daly 2006): sqrt(2 delta M) - delta, or M
// when delta >= M / 2.
double optimal_checkpoint_interval(double checkpoint_s, double mtbf_s);

}  // namespace podperf
