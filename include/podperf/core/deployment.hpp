// Deployments as they run: a whole number of prefill instances and decode instances, each with its
// plan and chip count, possibly on two systems; the request mix (input and output length
// distributions, prefix-cache hits, Poisson arrivals); TTFT and TPOT percentiles from a queueing
// approximation; MLPerf-style scenarios. Pure functions over plain structs (docs/deployments.md).
#pragma once
#include <string>
#include <vector>

#include "podperf/core/workload.hpp"

namespace podperf {

// A token-length distribution: fixed, uniform over [lo, hi], or a histogram of (tokens, weight).
struct LengthDist {
  enum Kind { fixed, uniform, histogram };
  Kind kind = fixed;
  double lo = 0, hi = 0;              // fixed: lo = hi = the length; uniform: the bounds
  std::vector<double> tokens, weight; // histogram bins (weights normalised on use)
  static LengthDist make_fixed(double n);
  static LengthDist make_uniform(double lo, double hi);
  // Discrete points and probabilities (a uniform range becomes `points` equal-mass points).
  void points(std::vector<double>& x, std::vector<double>& p, int n_uniform = 64) const;
  double mean() const;
  double moment2() const;  // E[X^2]
};

struct RequestMix {
  LengthDist input = LengthDist::make_fixed(2048), output = LengthDist::make_fixed(256);
  double prefix_hit = 0;     // fraction of prompt tokens served from a prefix (KV) cache, [0, 1]
  double arrival_rate = 0;   // requests/s offered to the whole deployment; 0 = the highest sustainable
};

// A latency rule: TTFT and TPOT bounds at a percentile (0 = no bound). `offline` ignores latency.
struct ServiceRule {
  std::string name = "offline";
  bool offline = true;
  double percentile = 99;     // (0, 100)
  double ttft_ms = 0, tpot_ms = 0;
};

// ---- Queueing approximation (src/core/queueing.cpp) -------------------------------------------
// Prefill instance: an M/G/1 FCFS server of prompt tokens at `tokens_per_s`, plus a fixed latency
// `fixed_s` (the last chunk's pass and the KV transfer). Service S = (1 - hit) L / rate.
struct PrefillQueue {
  double tokens_per_s = 0, fixed_s = 0;
  std::vector<double> s, p;  // service-time points and probabilities
};
PrefillQueue make_prefill_queue(const RequestMix& mix, double tokens_per_s, double fixed_s);
// Utilisation at `lambda` requests/s.
double prefill_rho(const PrefillQueue& q, double lambda);
// TTFT percentile (0 < pct < 100) at `lambda`: W + S + fixed, with W of M/G/1 approximated by
// P(W > x) = rho exp(-x / m), m = E[S^2] / (2 E[S] (1 - rho)) (the Pollaczek-Khinchine mean), W
// independent of the request's own S; infinite when rho >= 1.
double ttft_percentile(const PrefillQueue& q, double lambda, double pct);

// Decode instance: every live sequence advances one token per step; a step takes
//   tau = a + b N + k C   (N live sequences, C their total context tokens),
// linearised from the roofline around the operating batch. Sequences stay for their output length.
struct DecodeStep {
  double a_s = 0, b_s = 0, k_s = 0;
};
struct DecodeQueue {
  DecodeStep step;
  double mean_out = 0;        // E[O]
  double live_ctx = 0;        // time-average context of a live sequence: E[L] + (E[O^2] + E[O]) / (2 E[O])
  double live_ctx2 = 0;       // time-average of the squared context
  double max_live = 0;        // sequences that fit (memory, TPOT batch)
};
DecodeQueue make_decode_queue(const RequestMix& mix, DecodeStep step, double max_live);
// Mean live sequences at `lambda` requests/s: N = lambda E[O] (a + N (b + k c)), solved in closed
// form; infinite when lambda E[O] (b + k c) >= 1.
double decode_mean_live(const DecodeQueue& q, double lambda);
// TPOT percentile: the live set is Poisson (M/G/infinity) with mean N, so tau is normal with
// variance N E_live[(b + k c)^2]; a request averages tau over its own life, which for sequences that
// stay a fixed time scales that variance by 2/3. tau_p = tau(N) + z_p sqrt(2/3 N E_live[(b + k c)^2]).
double tpot_percentile(const DecodeQueue& q, double lambda, double pct);
// Live sequences at the percentile (checked against max_live).
double decode_live_percentile(const DecodeQueue& q, double lambda, double pct);

// The standard normal quantile.
double normal_quantile(double p);

// Highest arrival rate (requests/s) at which one instance meets the rule; 0 when none.
double prefill_capacity(const PrefillQueue& q, const ServiceRule& rule);
double decode_capacity(const DecodeQueue& q, const ServiceRule& rule);

// ---- Instances and the split (src/core/deployment.cpp) ----------------------------------------
struct InstanceChoice {
  Parallel par;
  int chips = 0;
  int redundant_experts = 0;
  double capacity_rps = 0;   // requests/s one instance sustains under the rule
  Estimate est;              // the instance's estimate (prefill or decode)
  PrefillQueue pq;           // prefill only
  DecodeQueue dq;            // decode only
  int prefill_tokens_per_chip = 0;  // chunk budget chosen (prefill)
};

struct Split {
  int n_prefill = 0, n_decode = 0;
  double rps = 0;            // min(n_p mu_p, n_d mu_d)
};
// The integer split of `chips` (or two pools) into whole instances: most requests/s, then fewest
// chips. `prefill_pool` / `decode_pool` > 0 fix the pools (heterogeneous or --pd-split); else both
// come from one pool of `chips`. `prefill_headroom` (one pool): only splits whose prefill instances
// carry more than the decode instances, so that the prefill queue is stable (rps = n_d mu_d < n_p mu_p).
Split best_split(int chips, int prefill_pool, int decode_pool, int prefill_chips, double mu_p, int decode_chips,
                 double mu_d, bool prefill_headroom = false);

struct DeploymentSetup {
  InferenceSetup prefill, decode;   // per-instance setups; par.chips() == 0: search deployable sizes
  bool prefill_plan_given = false, decode_plan_given = false;
  RequestMix mix;
  ServiceRule rule;
  int pd_prefill_chips = 0, pd_decode_chips = 0;  // --pd-split; 0 = search
  double max_redundant_frac = 0.125;  // EP up to experts x (1 + this): DeepSeek and CloudMatrix-Infer run 32 redundant of 256
};

struct Deployment {
  Reason reason = Reason::ok;
  std::string why;                 // extra detail when reason != ok
  bool overloaded = false;         // the offered arrival rate exceeds what the rule allows
  bool fits() const { return reason == Reason::ok; }
  bool heterogeneous = false;
  int system_chips = 0, prefill_system_chips = 0;  // the decode system's chips; the prefill system's when separate
  InstanceChoice prefill, decode;
  Split split;
  int idle_chips = 0, idle_prefill_system_chips = 0;
  double lambda = 0;               // operating arrival rate, requests/s
  double output_tokens_per_s = 0, input_tokens_per_s = 0;
  double tokens_per_s_per_chip = 0;          // output tokens/s over every chip of the system(s)
  double ttft_s[3] = {0, 0, 0}, tpot_s[3] = {0, 0, 0};  // p50, p90, p99 at `lambda`
  double ttft_rule_s = 0, tpot_rule_s = 0;   // at the rule's percentile
  double kv_bytes = 0, kv_s = 0;   // per request
  bool kv_over_scaleup = false;
  double prefill_activity = 0, decode_activity = 0;  // busy fraction of instance chips at `lambda`
};

// The candidate instance sizes for a role: MoE: EP = DP in {1..experts (1 + max_redundant_frac)}
// with whole experts per chip, TP in {1, 2, 4, 8} inside the scale-up domain; dense: TP powers of
// two inside the scale-up domain. At most `max_chips`.
std::vector<Parallel> deployable_plans(const System& s, const Model& m, int max_chips, double max_redundant_frac);

// A whole deployment: decode on `s`, prefill on `prefill_sys` (== &s when the same system).
// `kv_fabric` is the fabric that carries KV between the systems when they differ.
Deployment plan_deployment(const System& s, const System& prefill_sys, const Fabric* kv_fabric, const Model& m,
                           const DeploymentSetup& d);

// The default single-instance plan for decode or prefill estimates: the deployable size with the
// most tokens/s over the system's whole instances (instead of one instance per supernode).
Parallel default_serving_plan(const System& s, const Model& m, const InferenceSetup& x, Mode mode,
                              double max_redundant_frac = 0.125);

}  // namespace podperf
