// Aggregated serving: prefill and decode on the same chips, as vLLM, SGLang and TensorRT-LLM run a
// node. Each engine step carries every running sequence's next token plus chunks of waiting prompts
// under a per-step token budget (chunked prefill, in-flight batching). TTFT and TPOT follow from the
// step schedule under the load a benchmark drives: a closed loop of N clients (each sends its next
// request when its last one ends), Poisson arrivals, or everything at once (offline). Pure functions
// over plain structs (docs/deployments.md).
#pragma once
#include <vector>

#include "podperf/core/deployment.hpp"

namespace podperf {

enum class Serving { disaggregated, aggregated };
const char* to_string(Serving s);

// Time of one engine step with `decode` running sequences and `prefill` prompt tokens (seconds):
//   tau = a + b decode + c prefill,
// a: the pass at one sequence (weights read, launches, host time); b: the cost of each further
// decode sequence (its KV read, GEMM rows, host time); c: the cost of a prompt token in a chunk.
struct StepCost {
  double a_s = 0, b_s = 0, c_s = 0;
  // The fraction of the step the chips run operators (for power) and the MFU, of the decode pass at
  // the running batch and of the prefill pass the prompt-token cost comes from.
  double activity_decode = 0, activity_prefill = 0, mfu_decode = 0, mfu_prefill = 0;
  double at(double decode, double prefill) const { return a_s + b_s * decode + c_s * prefill; }
};

enum class Load { closed_loop, poisson, offline };

struct AggregatedSetup {
  StepCost step;
  int token_budget = 8192;  // tokens per step: decode tokens plus prefill chunks
  int max_running = 0;      // sequences the KV cache holds (the running batch cap); 0 = no cap
  Load load = Load::closed_loop;
  int concurrency = 1;        // closed loop: clients; offline: requests in the batch
  double arrival_rate = 0;    // poisson: requests/s
  RequestMix mix;             // input and output lengths
  int requests = 0;           // requests measured after the warm-up; 0 = 40 x concurrency in [400, 20,000] (closed loop), 4,000 (Poisson)
  unsigned long long seed = 1;
};

struct AggregatedResult {
  double ttft_s[3] = {0, 0, 0}, tpot_s[3] = {0, 0, 0};  // p50, p90, p99
  double ttft_mean_s = 0, tpot_mean_s = 0;
  double output_tokens_per_s = 0, input_tokens_per_s = 0, requests_per_s = 0;
  double mean_running = 0;      // decode sequences per step, time-averaged
  double mean_step_s = 0;
  double prefill_share = 0;     // fraction of step tokens that were prompt tokens
  bool stable = true;           // poisson: false when the queue grows without bound
};

// The step cost of an instance (plan x.par, precisions and lengths of x) on system s, linearised
// from the roofline: a and b from decode passes at one sequence per rank and at `running` sequences,
// c from a prefill pass of `token_budget` prompt tokens (whole prompts of x.seq_in) per prompt token.
StepCost aggregated_step_cost(const System& s, const Model& m, const InferenceSetup& x, int running, int token_budget);

// A system serving aggregated: its chips as whole instances of plan x.par, the load spread evenly
// over them (clients or arrivals per instance), prompts x.seq_in and outputs x.seq_out tokens.
struct AggregatedEstimate {
  Reason reason = Reason::ok;
  bool fits() const { return reason == Reason::ok; }
  int instances = 0;
  AggregatedSetup setup;      // one instance's (its step cost, budget, KV cap and load)
  AggregatedResult result;    // one instance's
  double output_tokens_per_s = 0, output_tokens_per_s_per_chip = 0;  // the whole system
};
// load: closed_loop with `clients` over the system, poisson at `rate` requests/s over the system, or
// offline (every instance full). budget <= 0: the stack's token budget. instances > 0: that many
// instances carry the load (a benchmark of one server), else every whole instance of the system.
// mix: the request lengths (null: fixed at x.seq_in and x.seq_out); the step cost is taken at x's.
AggregatedEstimate estimate_aggregated(const System& s, const Model& m, const InferenceSetup& x, Load load, int clients,
                                       double rate, int budget, int instances = 0, const RequestMix* mix = nullptr);

// Simulates the engine's step schedule (first-come first-served prompts, chunked under the budget
// left after the running sequences' decode tokens; a prompt's first token comes at the end of the
// step that finishes its prefill; each running sequence emits one token per step) and returns the
// percentiles over the measured requests. Deterministic for a given seed.
AggregatedResult simulate_aggregated(const AggregatedSetup& a);

// Offline at steady state (requests always waiting), the fluid limit of the step schedule with the
// mean lengths: R = min(KV cap, budget / (1 + in / out)) running sequences, P = R in / out prompt tokens
// a step, tau = a + b R + c P; output R / tau tokens/s, TPOT tau, TTFT (out + 1) tau (a closed loop of
// 2R clients). The simulation of a closed loop of 2 x cap clients converges to it (within 2.1 % on the
// TensorRT-LLM throughput cases at 20,000 requests) at a small fraction of the cost.
AggregatedResult offline_steady_state(const AggregatedSetup& a);

// Highest Poisson arrival rate (requests/s, one instance) at which the simulated TTFT and TPOT at the
// rule's percentile (p50, p90 or p99: the one at or above it) meet its bounds (MLPerf server and
// interactive rules are p99), found by bisection
// between zero and the offline rate; the setup's load and rate are replaced. 0 when even a trickle
// misses the rule; the offline rate when the rule is offline.
double aggregated_capacity(AggregatedSetup a, const ServiceRule& rule);

}  // namespace podperf
