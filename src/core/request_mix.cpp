// Request mixes: token-length distributions (fixed, uniform, histogram) and their moments.
#include <algorithm>
#include <cmath>

#include "podperf/core/deployment.hpp"

namespace podperf {

LengthDist LengthDist::make_fixed(double n) {
  LengthDist d;
  d.kind = fixed;
  d.lo = d.hi = n;
  return d;
}

LengthDist LengthDist::make_uniform(double lo, double hi) {
  LengthDist d;
  d.kind = lo == hi ? fixed : uniform;
  d.lo = lo;
  d.hi = hi;
  return d;
}

void LengthDist::points(std::vector<double>& x, std::vector<double>& p, int n_uniform) const {
  x.clear();
  p.clear();
  if (kind == fixed) {
    x.push_back(lo);
    p.push_back(1);
  } else if (kind == uniform) {
    // Equal-mass points at the centres of n sub-intervals (midpoint rule for the continuous uniform).
    for (int i = 0; i < n_uniform; ++i) {
      x.push_back(lo + (hi - lo) * (i + 0.5) / n_uniform);
      p.push_back(1.0 / n_uniform);
    }
  } else {
    double total = 0;
    for (double w : weight) total += w;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (weight[i] <= 0) continue;
      x.push_back(tokens[i]);
      p.push_back(weight[i] / total);
    }
  }
}

double LengthDist::mean() const {
  if (kind == fixed) return lo;
  if (kind == uniform) return (lo + hi) / 2;
  double s = 0, w = 0;
  for (size_t i = 0; i < tokens.size(); ++i) s += tokens[i] * weight[i], w += weight[i];
  return w > 0 ? s / w : 0;
}

double LengthDist::moment2() const {
  if (kind == fixed) return lo * lo;
  if (kind == uniform) return (lo * lo + lo * hi + hi * hi) / 3;  // E[X^2] of U(lo, hi)
  double s = 0, w = 0;
  for (size_t i = 0; i < tokens.size(); ++i) s += tokens[i] * tokens[i] * weight[i], w += weight[i];
  return w > 0 ? s / w : 0;
}

}  // namespace podperf
