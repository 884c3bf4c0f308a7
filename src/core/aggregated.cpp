// Aggregated serving: the engine step schedule (chunked prefill under a token budget, in-flight
// batching) simulated request by request under closed-loop, Poisson or offline load.
#include "podperf/core/aggregated.hpp"

#include <algorithm>
#include <map>
#include <cmath>
#include <cstdint>
#include <deque>

namespace podperf {

const char* to_string(Serving s) { return s == Serving::aggregated ? "aggregated" : "disaggregated"; }

namespace {

// Deterministic generator (64-bit LCG, Knuth's MMIX constants); uniform in (0, 1).
struct Lcg {
  std::uint64_t x;
  double uniform() {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return (static_cast<double>(x >> 11) + 0.5) / 9007199254740992.0;
  }
};

// A length drawn from a distribution's discrete points (a uniform range as 64 equal-mass points).
struct Sampler {
  std::vector<double> x, cdf;
  explicit Sampler(const LengthDist& d) {
    std::vector<double> p;
    d.points(x, p);
    double c = 0;
    for (double q : p) cdf.push_back(c += q);
  }
  int draw(Lcg& g) const {
    if (x.size() == 1) return std::max(1, static_cast<int>(std::lround(x[0])));
    const double u = g.uniform() * cdf.back();
    const std::size_t i = static_cast<std::size_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
    return std::max(1, static_cast<int>(std::lround(x[std::min(i, x.size() - 1)])));
  }
};

struct Req {
  long id = 0;
  double arrive = 0, first = 0;
  int in_left = 0, out_total = 0, out_done = 0;
};

double percentile(std::vector<double>& v, double pct) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double r = pct / 100 * (static_cast<double>(v.size()) - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(r));
  const std::size_t hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (r - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace

AggregatedResult simulate_aggregated(const AggregatedSetup& a) {
  AggregatedResult res;
  Lcg g{a.seed * 2654435761ull + 12345};
  const Sampler in(a.mix.input), out(a.mix.output);
  const bool closed = a.load == Load::closed_loop, offline = a.load == Load::offline;
  const int conc = std::max(1, a.concurrency);
  const long target = offline        ? conc
                      : a.requests > 0 ? a.requests
                      : closed         ? std::max(400L, std::min(20000L, 40L * conc))
                                       : 4000L;
  const long warm = offline ? 0 : (closed ? 2L * conc : std::max(200L, target / 10));
  const int budget = std::max(1, a.token_budget);
  const int cap = a.max_running > 0 ? a.max_running : 1 << 30;

  long next_id = 0;
  auto make = [&](double t) {
    Req r;
    r.id = next_id++;
    r.arrive = t;
    r.in_left = in.draw(g);
    r.out_total = out.draw(g);
    return r;
  };
  std::deque<Req> waiting;   // prompts not yet fully prefilled, first come first served
  // Sequences in decode, by the step at which each emits its last token (a sequence that joins at step
  // S with its first token finishes at S + out - 1), each step's in the order they joined: the order a
  // list of running sequences would visit them, at a cost per finishing sequence, not per running one.
  std::map<long, std::vector<Req>> finishing;
  long running_n = 0;
  std::vector<Req> joined;
  std::vector<double> ttft, tpot;
  double t = 0, next_arrival = 0;
  if (closed || offline)
    for (int i = 0; i < conc; ++i) waiting.push_back(make(0));
  else
    next_arrival = -std::log(g.uniform()) / a.arrival_rate;

  double window_start = offline ? 0 : -1, out_tokens = 0, in_tokens = 0, busy = 0, running_time = 0;
  double prefill_tok = 0, step_tok = 0;
  long measured_done = 0, steps = 0, window_steps = 0;
  const long max_steps = 50000000;
  while (measured_done < target && steps < max_steps) {
    // Poisson arrivals up to now; an idle engine waits for the next one.
    if (!closed && !offline) {
      if (waiting.empty() && running_n == 0 && next_arrival > t) t = next_arrival;
      while (next_arrival <= t) {
        waiting.push_back(make(next_arrival));
        next_arrival += -std::log(g.uniform()) / a.arrival_rate;
      }
      if (static_cast<double>(waiting.size()) > 100.0 * std::max(1000, std::min(cap, 1 << 20))) {
        res.stable = false;
        break;
      }
    }
    if (offline && waiting.empty() && running_n == 0) break;
    if (window_start < 0 && next_id > warm) window_start = t;
    // The step: every running sequence's next token, then prompt chunks under the budget left, for
    // as many prompts as the KV cache can hold beside the running ones.
    const int decode = static_cast<int>(running_n);
    int left = budget - decode, prefill = 0, admitted = 0;
    joined.clear();
    for (std::size_t i = 0; i < waiting.size() && left > 0 && decode + admitted < cap; ++i) {
      Req& r = waiting[i];
      const int take = std::min(left, r.in_left);
      r.in_left -= take;
      left -= take;
      prefill += take;
      ++admitted;
    }
    if (decode == 0 && prefill == 0) break;  // nothing can run (a cap of zero)
    const double tau = a.step.at(decode, prefill);
    t += tau;
    ++steps;
    const bool in_window = window_start >= 0;
    if (in_window) {
      ++window_steps;
      busy += tau;
      running_time += tau * decode;
      prefill_tok += prefill;
      step_tok += prefill + decode;
      in_tokens += prefill;
    }
    // Decode tokens: one per running sequence; finished ones leave (a closed-loop client sends its next).
    if (in_window) out_tokens += decode;
    if (const auto it = finishing.find(steps); it != finishing.end()) {
      for (const Req& r : it->second) {
        if (r.id >= warm) {
          if (r.out_total > 1) tpot.push_back((t - r.first) / (r.out_total - 1));  // one token: no TPOT
          ++measured_done;
        }
        if (closed) waiting.push_back(make(t));
      }
      running_n -= static_cast<long>(it->second.size());
      finishing.erase(it);
    }
    // Prompts whose prefill finished: their first token now.
    while (!waiting.empty() && waiting.front().in_left == 0) {
      Req r = waiting.front();
      waiting.pop_front();
      r.first = t;
      r.out_done = 1;
      if (in_window) out_tokens += 1;
      if (r.id >= warm) ttft.push_back(t - r.arrive);
      if (r.out_total <= 1) {
        if (r.id >= warm) ++measured_done;
        if (closed) waiting.push_back(make(t));
      } else {
        finishing[steps + r.out_total - 1].push_back(r);
        ++running_n;
      }
    }
  }
  const double span = window_start >= 0 ? t - window_start : 0;
  if (span > 0) {
    res.output_tokens_per_s = out_tokens / span;
    res.input_tokens_per_s = in_tokens / span;
  }
  res.mean_step_s = window_steps > 0 ? busy / static_cast<double>(window_steps) : 0;
  res.mean_running = busy > 0 ? running_time / busy : 0;
  res.prefill_share = step_tok > 0 ? prefill_tok / step_tok : 0;
  res.requests_per_s = span > 0 ? static_cast<double>(measured_done) / span : 0;
  double st = 0, sp = 0;
  for (double v : ttft) st += v;
  for (double v : tpot) sp += v;
  res.ttft_mean_s = ttft.empty() ? 0 : st / static_cast<double>(ttft.size());
  res.tpot_mean_s = tpot.empty() ? 0 : sp / static_cast<double>(tpot.size());
  const double pcts[3] = {50, 90, 99};
  for (int i = 0; i < 3; ++i) {
    res.ttft_s[i] = percentile(ttft, pcts[i]);
    res.tpot_s[i] = percentile(tpot, pcts[i]);
  }
  if (steps >= max_steps) res.stable = false;
  return res;
}

AggregatedResult offline_steady_state(const AggregatedSetup& a) {
  AggregatedResult res;
  const double in = a.mix.input.mean(), out = std::max(1.0, a.mix.output.mean());
  const double budget = std::max(1, a.token_budget);
  // R running sequences: the KV cap, or fewer where the budget left after their decode tokens cannot
  // prefill their replacements (R out tokens per R / out finishing requests: R in / out prompt tokens).
  const double cap = a.max_running > 0 ? a.max_running : budget;
  const double R = std::min(cap, budget / (1 + in / out));
  const double P = R * in / out;
  const double tau = a.step.at(R, P);
  if (!(tau > 0)) return res;
  res.output_tokens_per_s = R / tau;
  res.input_tokens_per_s = P / tau;
  res.requests_per_s = R / (out * tau);
  res.mean_running = R;
  res.mean_step_s = tau;
  res.prefill_share = P / (R + P);
  // Every running sequence emits a token a step; a request waits in a closed loop of twice the
  // running batch, N = X (TTFT + (out - 1) TPOT) with N = 2R, X = R / (out tau): TTFT = (out + 1) tau.
  res.tpot_mean_s = tau;
  res.ttft_mean_s = (out + 1) * tau;
  for (int i = 0; i < 3; ++i) {
    res.tpot_s[i] = tau;
    res.ttft_s[i] = res.ttft_mean_s;
  }
  return res;
}

double aggregated_capacity(AggregatedSetup a, const ServiceRule& rule) {
  // The offline rate: requests always waiting, the running batch at its cap.
  const double sat = offline_steady_state(a).requests_per_s;
  if (rule.offline || !(sat > 0)) return sat;
  a.load = Load::poisson;
  // The rule's percentile among those the simulation gives (p50, p90, p99).
  const int q = rule.percentile <= 50 ? 0 : rule.percentile <= 90 ? 1 : 2;
  auto meets = [&](double rate) {
    a.arrival_rate = rate;
    const AggregatedResult r = simulate_aggregated(a);
    return r.stable && (rule.ttft_ms <= 0 || r.ttft_s[q] * 1e3 <= rule.ttft_ms) &&
           (rule.tpot_ms <= 0 || r.tpot_s[q] * 1e3 <= rule.tpot_ms);
  };
  double lo = 0, hi = sat;
  if (!meets(sat * 1e-3)) return 0;
  lo = sat * 1e-3;
  for (int it = 0; it < 14; ++it) {
    const double mid = (lo + hi) / 2;
    (meets(mid) ? lo : hi) = mid;
  }
  return lo;
}

}  // namespace podperf
