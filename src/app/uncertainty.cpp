#include "podperf/app/uncertainty.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <random>
#include <tuple>

namespace podperf {

std::vector<std::string> entities_of_system(const Hwdb& db, const std::string& full_id) {
  // "SYSTEM@STACK": the stack's numbers in place of the default serving stack's.
  const auto at = full_id.rfind('@');
  const std::string id = full_id.substr(0, at);
  std::string sys = id;
  std::vector<std::string> out;
  if (auto c = db.clusters.find(id); c != db.clusters.end()) {
    out.push_back(id);
    sys = c->second.str("system");
  } else if (!db.systems.count(id)) {
    // "NxSYSTEM[:os=R]"
    const auto x = id.find('x');
    if (x != std::string::npos) sys = id.substr(x + 1, id.find(':') == std::string::npos ? std::string::npos : id.find(':') - x - 1);
  }
  if (auto s = db.systems.find(sys); s != db.systems.end()) {
    if (const std::string& canonical = s->second.str("alias_of"); !canonical.empty()) sys = canonical;  // a former id
    out.push_back(sys);
    out.push_back(s->second.str("chip"));
    out.push_back(at == std::string::npos ? s->second.str("stack") : full_id.substr(at + 1));
    out.push_back(s->second.str("training_stack"));
  }
  return out;
}

std::vector<RangedInput> ranged_inputs(const Hwdb& db, const std::vector<std::string>& ids) {
  std::vector<RangedInput> out;
  for (auto& id : ids) {
    const Record* r = db.find(id);
    if (!r) continue;
    for (auto& [key, n] : r->numbers)
      if (n.has_range && n.high > n.low)
        out.push_back({id + ":" + key, n.low, n.value, n.high, unit_of(r->entity, key), to_string(n.kind)});
  }
  return out;
}

namespace {
// Inverse CDF of the triangular distribution on [a, b] with mode c.
double triangular(double u, double a, double c, double b) {
  const double f = (c - a) / (b - a);
  return u < f ? a + std::sqrt(u * (b - a) * (c - a)) : b - std::sqrt((1 - u) * (b - a) * (b - c));
}

// CDF of the same.
double triangular_cdf(double x, double a, double c, double b) {
  if (x <= a) return 0;
  if (x >= b) return 1;
  if (x <= c) return (x - a) * (x - a) / ((b - a) * (c - a));
  return 1 - (b - x) * (b - x) / ((b - a) * (b - c));
}

// The distribution of S = shift + sum_j p_j x_j over the log factors of one output: the exact
// triangular masses of each term on a common grid of step h, convolved. Atom m sits at s0 + m h and
// its mass is spread evenly over [s0 + (m - 1/2) h, s0 + (m + 1/2) h].
struct SumDistribution {
  double shift = 0, s0 = 0, h = 0;
  std::vector<double> cum{0, 1};  // cum[m]: mass of the atoms below m
  double cdf(double s) const {
    if (h <= 0) return s >= shift ? 1 : 0;
    const double x = (s - shift - s0) / h + 0.5;
    if (x <= 0) return 0;
    const double atoms = static_cast<double>(cum.size() - 1);
    if (x >= atoms) return 1;
    const std::size_t m = static_cast<std::size_t>(x);
    return cum[m] + (x - static_cast<double>(m)) * (cum[m + 1] - cum[m]);
  }
  double lowest() const { return shift + (h > 0 ? s0 - h / 2 : 0); }
  double highest() const { return shift + (h > 0 ? s0 + (static_cast<double>(cum.size()) - 1.5) * h : 0); }
};

SumDistribution sum_distribution(const std::vector<LogFactor>& factors, std::size_t k) {
  constexpr double kCells = 4096;  // grid cells over the whole span of S
  SumDistribution d;
  std::vector<std::tuple<double, double, double>> terms;  // (a, c, b) of p x
  double span = 0;
  for (const LogFactor& lf : factors) {
    const int p = k < lf.power.size() ? lf.power[k] : 0;
    if (p == 0) continue;
    const RangedInput& in = lf.input;
    if (!(in.high > in.low)) {
      d.shift += p * in.central;
      continue;
    }
    double a = p * in.low, b = p * in.high;
    if (a > b) std::swap(a, b);
    terms.emplace_back(a, p * in.central, b);
    span += b - a;
  }
  if (terms.empty()) return d;
  d.h = span / kCells;
  std::vector<double> w{1.0};
  for (auto [a, c, b] : terms) {
    const std::size_t cells = static_cast<std::size_t>(std::max(1.0, std::ceil((b - a) / d.h - 1e-9)));
    std::vector<double> m(cells);
    for (std::size_t i = 0; i < cells; ++i)
      m[i] = triangular_cdf(std::min(b, a + static_cast<double>(i + 1) * d.h), a, c, b) - triangular_cdf(a + static_cast<double>(i) * d.h, a, c, b);
    std::vector<double> sum(w.size() + cells - 1, 0.0);
    for (std::size_t i = 0; i < w.size(); ++i)
      for (std::size_t j = 0; j < cells; ++j) sum[i + j] += w[i] * m[j];
    w.swap(sum);
    d.s0 += a + d.h / 2;  // the centre of each term's first cell
  }
  d.cum.assign(w.size() + 1, 0.0);
  for (std::size_t m = 0; m < w.size(); ++m) d.cum[m + 1] = d.cum[m] + w[m];
  for (double& c : d.cum) c /= d.cum.back();
  return d;
}

// The q-quantile of y e^S over the draws y (sorted, finite) and S independent of them:
// F(t) = mean over the draws of P(y e^S <= t), solved for F(t) = q by bisection.
double convolved_quantile(const std::vector<double>& y, const SumDistribution& S, double q) {
  const double lo_f = std::exp(S.lowest()), hi_f = std::exp(S.highest());
  const double n = static_cast<double>(y.size());
  if (y.front() > 0) {  // all positive: bisection on ln t
    std::vector<double> ly(y.size());
    for (std::size_t i = 0; i < y.size(); ++i) ly[i] = std::log(y[i]);
    auto F = [&](double u) {
      double s = 0;
      for (double l : ly) s += S.cdf(u - l);
      return s / n;
    };
    double a = ly.front() + std::log(lo_f), b = ly.back() + std::log(hi_f);
    for (int it = 0; it < 100 && b - a > 1e-13 * std::max(1.0, std::abs(a)); ++it) {
      const double m = (a + b) / 2;
      (F(m) < q ? a : b) = m;
    }
    return std::exp((a + b) / 2);
  }
  auto F = [&](double t) {
    double s = 0;
    for (double v : y) {
      if (v > 0) s += t <= 0 ? 0 : S.cdf(std::log(t / v));
      else if (v < 0) s += t >= 0 ? 1 : 1 - S.cdf(std::log(t / v));
      else s += t >= 0 ? 1 : 0;
    }
    return s / n;
  };
  double a = std::min(y.front() * lo_f, y.front() * hi_f), b = std::max(y.back() * lo_f, y.back() * hi_f);
  for (int it = 0; it < 200 && b - a > 1e-13 * std::max(std::abs(a), std::abs(b)); ++it) {
    const double m = (a + b) / 2;
    (F(m) < q ? a : b) = m;
  }
  return (a + b) / 2;
}
}  // namespace

std::vector<Interval> monte_carlo(const std::vector<RangedInput>& inputs, int samples, std::uint64_t seed,
                                  const std::function<std::vector<double>(const Pick&)>& f) {
  return monte_carlo(inputs, samples, seed, f, {});
}

std::vector<Interval> monte_carlo(const std::vector<RangedInput>& inputs, int samples, std::uint64_t seed,
                                  const std::function<std::vector<double>(const Pick&)>& f,
                                  const std::vector<LogFactor>& factors) {
  const std::vector<double> central = f(Pick{});
  std::vector<Interval> out(central.size());
  std::vector<std::vector<double>> draws(central.size());
  for (std::size_t k = 0; k < out.size(); ++k) {
    out[k].central = central[k];
    for (const LogFactor& lf : factors)
      if (k < lf.power.size()) out[k].central *= std::exp(lf.power[k] * lf.input.central);
  }
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  // Latin hypercube: each input's draws fall one in each of `samples` equal-probability strata, in an
  // independent random order per input. Every stratum of every input is visited, so the 5 % and 95 %
  // edges move far less between seeds than with independent draws of the same count.
  std::vector<std::vector<int>> order(inputs.size(), std::vector<int>(std::max(samples, 0)));
  for (auto& o : order) {
    for (int i = 0; i < samples; ++i) o[i] = i;
    std::shuffle(o.begin(), o.end(), rng);
  }
  // The draws are made in order from the one generator, then evaluated in parallel (the evaluations are
  // pure) and gathered in draw order: the result does not depend on the thread count.
  std::vector<Pick> picks(static_cast<std::size_t>(std::max(samples, 0)));
  for (int i = 0; i < samples; ++i) {
    Pick& p = picks[static_cast<std::size_t>(i)];
    for (std::size_t j = 0; j < inputs.size(); ++j) {
      const RangedInput& in = inputs[j];
      p.per_value[in.key] = triangular((order[j][i] + uni(rng)) / samples, in.low, in.central, in.high);
    }
  }
  std::vector<std::vector<double>> values(picks.size());
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 4)
  for (int i = 0; i < samples; ++i) {
    try {
      values[static_cast<std::size_t>(i)] = f(picks[static_cast<std::size_t>(i)]);
    } catch (...) {
#pragma omp critical(podperf_monte_carlo_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  for (int i = 0; i < samples; ++i) {
    const std::vector<double>& v = values[static_cast<std::size_t>(i)];
    for (std::size_t k = 0; k < out.size(); ++k) {
      ++out[k].samples;
      if (k < v.size() && std::isfinite(v[k])) draws[k].push_back(v[k]);
      else ++out[k].failed;
    }
  }
  for (std::size_t k = 0; k < out.size(); ++k) {
    auto& d = draws[k];
    if (d.empty()) {
      out[k].low = out[k].high = out[k].central;
      continue;
    }
    std::sort(d.begin(), d.end());
    // Linear interpolation between order statistics: steadier edges than the nearest rank.
    auto pct = [&](double q) {
      const double x = q * (d.size() - 1);
      const std::size_t i = static_cast<std::size_t>(x);
      return i + 1 < d.size() ? d[i] + (x - i) * (d[i + 1] - d[i]) : d[i];
    };
    out[k].positive = double(d.end() - std::upper_bound(d.begin(), d.end(), 0.0)) / d.size();
    const SumDistribution S = sum_distribution(factors, k);
    if (S.h > 0) {
      out[k].low = convolved_quantile(d, S, 0.05);
      out[k].high = convolved_quantile(d, S, 0.95);
    } else {
      out[k].low = pct(0.05) * std::exp(S.shift);
      out[k].high = pct(0.95) * std::exp(S.shift);
    }
  }
  return out;
}

Interval monte_carlo(const std::vector<RangedInput>& inputs, int samples, std::uint64_t seed, const Metric& f) {
  return monte_carlo(inputs, samples, seed, [&](const Pick& p) { return std::vector<double>{f(p)}; })[0];
}

Interval monte_carlo(const std::vector<RangedInput>& inputs, int samples, std::uint64_t seed, const Metric& f,
                     const std::vector<LogFactor>& factors) {
  return monte_carlo(inputs, samples, seed, [&](const Pick& p) { return std::vector<double>{f(p)}; }, factors)[0];
}

double Swing::span() const { return std::abs(at_high - at_low); }

std::vector<Swing> sensitivity(const std::vector<RangedInput>& inputs, const Metric& f) {
  std::vector<Swing> out;
  for (auto& in : inputs) {
    Pick lo, hi;
    lo.per_value[in.key] = in.low;
    hi.per_value[in.key] = in.high;
    out.push_back({in, f(lo), f(hi)});
  }
  std::stable_sort(out.begin(), out.end(), [](const Swing& a, const Swing& b) {
    const double sa = std::isfinite(a.span()) ? a.span() : 0, sb = std::isfinite(b.span()) ? b.span() : 0;
    return sa > sb;
  });
  return out;
}

}  // namespace podperf
