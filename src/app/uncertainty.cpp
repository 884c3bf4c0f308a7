#include "podperf/app/uncertainty.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <random>

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
}  // namespace

std::vector<Interval> monte_carlo(const std::vector<RangedInput>& inputs, int samples, std::uint64_t seed,
                                  const std::function<std::vector<double>(const Pick&)>& f) {
  const std::vector<double> central = f(Pick{});
  std::vector<Interval> out(central.size());
  std::vector<std::vector<double>> draws(central.size());
  for (std::size_t k = 0; k < out.size(); ++k) out[k].central = central[k];
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
    out[k].low = pct(0.05);
    out[k].high = pct(0.95);
  }
  return out;
}

Interval monte_carlo(const std::vector<RangedInput>& inputs, int samples, std::uint64_t seed, const Metric& f) {
  return monte_carlo(inputs, samples, seed, [&](const Pick& p) { return std::vector<double>{f(p)}; })[0];
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
