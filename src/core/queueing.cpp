// Queueing approximation of a prefill/decode deployment (docs/deployments.md).
//
// Prefill: each instance is an M/G/1 FCFS server (Poisson arrivals split evenly and at random over
// the instances). A prompt of L tokens with prefix-cache hit h needs S = (1 - h) L / R seconds at
// the instance's chunked-prefill rate R. The wait W has the Pollaczek-Khinchine mean
//   E[W] = lambda E[S^2] / (2 (1 - rho)),  rho = lambda E[S];
// its distribution is approximated by an atom 1 - rho at zero and an exponential tail of mean
//   m = E[W] / rho = E[S^2] / (2 E[S] (1 - rho))
// (exact for M/M/1; Kleinrock, Queueing Systems vol. 1, sec. 5.7). TTFT = W + S + fixed, with W
// independent of the request's own S under FCFS; its percentile is solved numerically.
//
// Decode: continuous batching; all live sequences advance one token per step of
//   tau = a + b N + k C.
// A sequence stays O steps. By Little's law N = lambda E[O] tau, hence with C = N c_live
//   N = lambda E[O] a / (1 - lambda E[O] (b + k c_live)).
// The live set is treated as that of an M/G/infinity queue (Poisson with mean N), so tau is about
// normal with variance N E_live[(b + k c)^2]. A request's TPOT is the mean of tau over its life;
// for a process whose correlation falls linearly over one lifetime D (M/G/infinity with fixed
// durations), the mean over D has 2/3 of the variance. These are the assumptions the
// discrete-event simulation in tests/unit/test_deployment.cpp reproduces.
#include <algorithm>
#include <cmath>
#include <limits>

#include "podperf/core/deployment.hpp"

namespace podperf {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

double mean_of(const std::vector<double>& x, const std::vector<double>& p, int power) {
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += std::pow(x[i], power) * p[i];
  return s;
}
}  // namespace

double normal_quantile(double p) {
  // Acklam's rational approximation (relative error < 1.2e-9), refined by one Halley step.
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  if (p <= 0) return -kInf;
  if (p >= 1) return kInf;
  double x;
  if (p < 0.02425) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - 0.02425) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

PrefillQueue make_prefill_queue(const RequestMix& mix, double tokens_per_s, double fixed_s) {
  PrefillQueue q;
  q.tokens_per_s = tokens_per_s;
  q.fixed_s = fixed_s;
  std::vector<double> x;
  mix.input.points(x, q.p);
  q.s.resize(x.size());
  for (size_t i = 0; i < x.size(); ++i) q.s[i] = tokens_per_s > 0 ? (1 - mix.prefix_hit) * x[i] / tokens_per_s : kInf;
  return q;
}

double prefill_rho(const PrefillQueue& q, double lambda) { return lambda * mean_of(q.s, q.p, 1); }

double ttft_percentile(const PrefillQueue& q, double lambda, double pct) {
  const double es = mean_of(q.s, q.p, 1), es2 = mean_of(q.s, q.p, 2);
  const double rho = lambda * es;
  if (!(rho < 1) || !std::isfinite(es)) return kInf;
  const double target = pct / 100;
  const double m = es > 0 ? es2 / (2 * es * (1 - rho)) : 0;
  auto cdf = [&](double t) {
    double f = 0;
    for (size_t i = 0; i < q.s.size(); ++i) {
      const double x = t - q.s[i] - q.fixed_s;
      if (x < 0) continue;
      f += q.p[i] * (rho > 0 && m > 0 ? 1 - rho * std::exp(-x / m) : 1.0);
    }
    return f;
  };
  double hi = q.fixed_s + *std::max_element(q.s.begin(), q.s.end()) +
              (rho > 0 ? m * std::max(0.0, std::log(rho / (1 - target))) : 0) + 1e-12;
  double lo = 0;
  for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; ++it) {
    const double mid = (lo + hi) / 2;
    (cdf(mid) >= target ? hi : lo) = mid;
  }
  return hi;
}

DecodeQueue make_decode_queue(const RequestMix& mix, DecodeStep step, double max_live) {
  DecodeQueue q;
  q.step = step;
  q.max_live = max_live;
  std::vector<double> o, po;
  mix.output.points(o, po);
  const double eo = mean_of(o, po, 1);
  double s1 = 0, s2 = 0, s3 = 0;  // E[O(O+1)/2], E[O(O+1)(2O+1)/6]
  for (size_t i = 0; i < o.size(); ++i) {
    s1 += po[i] * o[i] * (o[i] + 1) / 2;
    s2 += po[i] * o[i] * (o[i] + 1) * (2 * o[i] + 1) / 6;
  }
  (void)s3;
  const double el = mix.input.mean(), el2 = mix.input.moment2();
  // Context of a live sequence at its j-th output token: L + j. Time averages over the live set
  // weight each sequence by its O steps (L independent of O).
  q.mean_out = eo;
  q.live_ctx = (eo * el + s1) / eo;
  q.live_ctx2 = (eo * el2 + 2 * el * s1 + s2) / eo;
  return q;
}

namespace {
double beta(const DecodeQueue& q) { return q.step.b_s + q.step.k_s * q.live_ctx; }
}  // namespace

double decode_mean_live(const DecodeQueue& q, double lambda) {
  const double x = lambda * q.mean_out;
  const double den = 1 - x * beta(q);
  if (!(den > 0)) return kInf;
  return x * q.step.a_s / den;
}

double tpot_percentile(const DecodeQueue& q, double lambda, double pct) {
  const double n = decode_mean_live(q, lambda);
  if (!std::isfinite(n)) return kInf;
  const double b = q.step.b_s, k = q.step.k_s;
  const double e2 = b * b + 2 * b * k * q.live_ctx + k * k * q.live_ctx2;  // E_live[(b + k c)^2]
  const double tau = q.step.a_s + n * beta(q);
  return std::max(q.step.a_s, tau + normal_quantile(pct / 100) * std::sqrt(2.0 / 3.0 * n * e2));
}

double decode_live_percentile(const DecodeQueue& q, double lambda, double pct) {
  const double n = decode_mean_live(q, lambda);
  if (!std::isfinite(n)) return kInf;
  return n + normal_quantile(pct / 100) * std::sqrt(n);
}

double prefill_capacity(const PrefillQueue& q, const ServiceRule& rule) {
  const double es = mean_of(q.s, q.p, 1);
  if (!(es > 0) || !std::isfinite(es)) return 0;
  const double sat = 1 / es;
  if (rule.offline || rule.ttft_ms <= 0) return sat;
  const double bound = rule.ttft_ms * 1e-3;
  if (ttft_percentile(q, 0, rule.percentile) > bound) return 0;
  double lo = 0, hi = sat;
  for (int it = 0; it < 100; ++it) {
    const double mid = (lo + hi) / 2;
    (ttft_percentile(q, mid, rule.percentile) <= bound ? lo : hi) = mid;
  }
  return lo;
}

double decode_capacity(const DecodeQueue& q, const ServiceRule& rule) {
  const double n = q.max_live;
  if (!(n >= 1) || !(q.mean_out > 0)) return 0;
  // Every instance full: N = max_live, lambda = N / (E[O] tau(N)).
  const double sat = n / (q.mean_out * (q.step.a_s + n * beta(q)));
  if (rule.offline) return sat;
  auto ok = [&](double l) {
    if (decode_live_percentile(q, l, rule.percentile) > n) return false;
    return rule.tpot_ms <= 0 || tpot_percentile(q, l, rule.percentile) <= rule.tpot_ms * 1e-3;
  };
  if (!ok(sat * 1e-9)) return 0;
  double lo = 0, hi = sat;
  for (int it = 0; it < 100; ++it) {
    const double mid = (lo + hi) / 2;
    (ok(mid) ? lo : hi) = mid;
  }
  return lo;
}

}  // namespace podperf
