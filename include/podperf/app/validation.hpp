// Validation against published measurements: cases (validation/cases/*.toml), their evaluation with
// the model, and the calibration of the global efficiency terms by least squares.
#pragma once
#include <string>
#include <vector>

#include "podperf/io/hwdb.hpp"
#include "podperf/io/models.hpp"
#include "podperf/core/deployment.hpp"
#include "podperf/core/workload.hpp"

namespace podperf {

struct ValidationCase {
  std::string id, group, title, source, file;
  std::string system, model;
  std::string stack;         // the software stack the run used; empty: the system's default
  int stack_line = 0;
  std::string mode;          // prefill | decode | serve | train | gemm | stream
  std::string schedule;      // train: pipeline schedule (hwdb/schedules); empty: the stack's for the interleave
  Workload w;                // the published setup
  bool default_eplb = false; // the run used the framework's default expert balancing
  double gemm_m = 0;         // gemm: rows (square GEMM m = n = k)
  Precision precision = Precision::bf16;
  // Aggregated serving (mode serve, setup.serving = "aggregated") on `instances` instances, under a
  // closed loop of `concurrency` clients (setup.load = "closed-loop", the default) or offline
  // (setup.load = "offline": requests always waiting, as trtllm-bench throughput runs); tpot_ms and
  // ttft_ms are then the means over requests.
  bool aggregated = false;
  bool offline = false;
  int concurrency = 0, instances = 1;
  int chunk_tokens = 0;      // the engine's tokens per step as run (setup.chunk_tokens); 0: the stack's
  // Request lengths drawn uniformly (setup.seq_in_range / seq_out_range = "LO:HI", as the flags);
  // the instance's step cost is taken at their means (seq_in, seq_out).
  RequestMix mix;
  bool mix_given = false;
  std::string metric;        // tokens_per_s_per_chip | mfu | achieved_tflops | achieved_tb_s | step_time_s | tpot_ms | ttft_ms
  double measured = 0;
  std::string unit;
  double tolerance = 0.3;    // relative
  std::string tolerance_reason;
  // Non-empty: a published result the model does not reach yet, and why. Such a case is reported
  // with every other (and in the headline that includes it) but neither fitted by `calibrate` nor
  // asserted by `validate`'s exit code.
  std::string open;
  bool micro() const { return group.find("micro") != std::string::npos; }
};

std::vector<ValidationCase> load_cases(const std::string& dir);
// The cases calibration may fit: every case but the open ones.
std::vector<ValidationCase> fit_cases(const std::vector<ValidationCase>& cases);

struct CaseResult {
  double predicted = 0;
  double error = 0;          // predicted / measured - 1
  std::string dominant;      // compute | memory | overhead | fabric | bubble
  bool within = false;
  std::string note;          // why there is no prediction
};

CaseResult evaluate(const Hwdb& db, const ModelDb& models, const ValidationCase& c, const Pick& pick);

// Median of a list of errors (NaN for an empty one).
double median(std::vector<double> v);

}  // namespace podperf
