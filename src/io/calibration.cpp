#include "podperf/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <Eigen/Dense>

namespace podperf {

namespace {
struct Field {
  const char* key;
  double low, high;
};
// What may be fitted, with the bounds of physically sensible values.
const Field kFields[] = {{"efficiency.attn_eff", 0.1, 0.95},
                         {"efficiency.launch_us", 0.5, 40},
                         {"efficiency.overlap", 0.0, 0.98},
                         {"efficiency.eplb_imbalance", 1.0, 2.0}};

std::string family_of(const Hwdb& db, const std::string& system_id) {
  return db.system(system_id).vendor;
}

// Residuals: log(predicted / published) per case; a case with no prediction costs log(10).
Eigen::VectorXd residuals(const Hwdb& db, const ModelDb& models, const std::vector<const ValidationCase*>& cases,
                          const Pick& pick) {
  Eigen::VectorXd r(static_cast<Eigen::Index>(cases.size()));
#pragma omp parallel for schedule(dynamic)
  for (int i = 0; i < static_cast<int>(cases.size()); ++i) {
    const CaseResult c = evaluate(db, models, *cases[static_cast<std::size_t>(i)], pick);
    r[i] = std::isfinite(c.predicted) && c.predicted > 0 ? std::log(c.predicted / cases[static_cast<std::size_t>(i)]->measured)
                                                         : std::log(10.0);
  }
  return r;
}

// Bounded Levenberg-Marquardt on the parameters in `active` (the others stay at `x`).
Eigen::VectorXd fit(const Hwdb& db, const ModelDb& models, const std::vector<const ValidationCase*>& cases,
                    const std::vector<CalibParam>& params, Eigen::VectorXd x) {
  const int n = static_cast<int>(x.size());
  auto clamp = [&](Eigen::VectorXd v) {
    for (int i = 0; i < n; ++i) v[i] = std::clamp(v[i], params[static_cast<std::size_t>(i)].low, params[static_cast<std::size_t>(i)].high);
    return v;
  };
  auto cost = [&](const Eigen::VectorXd& v) {
    std::vector<double> vals(v.data(), v.data() + n);
    return residuals(db, models, cases, calibration_pick(params, vals));
  };
  Eigen::VectorXd r = cost(x);
  double lambda = 1e-2;
  for (int it = 0; it < 30; ++it) {
    Eigen::MatrixXd J(r.size(), n);
    for (int j = 0; j < n; ++j) {
      const CalibParam& p = params[static_cast<std::size_t>(j)];
      const double h = 1e-3 * (p.high - p.low);
      Eigen::VectorXd xp = x;
      xp[j] = x[j] + h <= p.high ? x[j] + h : x[j] - h;
      J.col(j) = (cost(xp) - r) / (xp[j] - x[j]);
    }
    const Eigen::MatrixXd A = J.transpose() * J;
    const Eigen::VectorXd g = J.transpose() * r;
    bool improved = false;
    for (int tries = 0; tries < 8 && !improved; ++tries) {
      Eigen::MatrixXd M = A;
      M.diagonal() += lambda * (A.diagonal().array() + 1e-9).matrix();
      const Eigen::VectorXd step = M.ldlt().solve(-g);
      const Eigen::VectorXd xn = clamp(x + step);
      const Eigen::VectorXd rn = cost(xn);
      if (rn.squaredNorm() < r.squaredNorm() - 1e-12) {
        const double gain = r.squaredNorm() - rn.squaredNorm();
        x = xn;
        r = rn;
        lambda = std::max(lambda / 3, 1e-6);
        improved = true;
        if (gain < 1e-7) return x;
      } else {
        lambda *= 4;
      }
    }
    if (!improved) break;
  }
  return x;
}
}  // namespace

std::vector<CalibParam> calibration_params(const Hwdb& db) {
  std::map<std::string, std::vector<std::string>> families;  // vendor -> chips
  for (auto& [id, r] : db.chips) families[r.str("vendor")].push_back(id);
  std::vector<CalibParam> out;
  for (auto& [vendor, chips] : families)
    for (auto& f : kFields) {
      CalibParam p{vendor, f.key, chips, f.low, f.high, 0};
      // Start from the value most chips of the family carry.
      std::map<double, int> votes;
      for (auto& c : chips) ++votes[db.chips.at(c).numbers.at(f.key).value];
      p.start = std::max_element(votes.begin(), votes.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
      p.start = std::clamp(p.start, p.low, p.high);
      out.push_back(p);
    }
  return out;
}

Pick calibration_pick(const std::vector<CalibParam>& params, const std::vector<double>& values) {
  Pick p;
  for (std::size_t i = 0; i < params.size(); ++i)
    for (auto& chip : params[i].chips) p.per_value[chip + ":" + params[i].field] = values[i];
  return p;
}

CalibResult calibrate(const Hwdb& db, const ModelDb& models, const std::vector<ValidationCase>& cases, bool loo) {
  CalibResult res;
  std::vector<const ValidationCase*> all;
  std::map<std::string, int> per_family;
  for (auto& c : cases) {
    all.push_back(&c);
    res.case_ids.push_back(c.id);
    ++per_family[family_of(db, c.system)];
  }
  for (auto& p : calibration_params(db))
    if (per_family.count(p.family)) res.params.push_back(p);
  const int n = static_cast<int>(res.params.size());
  Eigen::VectorXd x0(n);
  for (int i = 0; i < n; ++i) x0[i] = res.params[static_cast<std::size_t>(i)].start;
  const Eigen::VectorXd x = fit(db, models, all, res.params, x0);
  res.fitted.assign(x.data(), x.data() + n);
  const Pick pick = calibration_pick(res.params, res.fitted);
  const Eigen::VectorXd r = residuals(db, models, all, pick);
  res.rms_log = std::sqrt(r.squaredNorm() / std::max<Eigen::Index>(1, r.size()));
  for (Eigen::Index i = 0; i < r.size(); ++i) res.error.push_back(std::exp(r[i]) - 1);
  res.loo_low = res.fitted;
  res.loo_high = res.fitted;
  if (!loo) return res;
  for (std::size_t k = 0; k < all.size(); ++k) {
    std::vector<const ValidationCase*> rest;
    for (std::size_t j = 0; j < all.size(); ++j)
      if (j != k) rest.push_back(all[j]);
    const Eigen::VectorXd xk = fit(db, models, rest, res.params, x);
    std::vector<double> vals(xk.data(), xk.data() + n);
    for (int i = 0; i < n; ++i) {
      res.loo_low[static_cast<std::size_t>(i)] = std::min(res.loo_low[static_cast<std::size_t>(i)], xk[i]);
      res.loo_high[static_cast<std::size_t>(i)] = std::max(res.loo_high[static_cast<std::size_t>(i)], xk[i]);
    }
    const CaseResult c = evaluate(db, models, *all[k], calibration_pick(res.params, vals));
    res.loo_error.push_back(std::isfinite(c.error) ? c.error : std::nan(""));
  }
  return res;
}

}  // namespace podperf
