#include "podperf/app/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <Eigen/Dense>

namespace podperf {

namespace {
// What may be fitted, with the bounds of physically sensible values and the prior every fit starts
// from: launches of a few microseconds (a kernel launch without graph capture), 1.75 ms of host time
// per pass (RTP-LLM's DeepSeek replay report: ~1.5-2 ms per decode step), an expert imbalance of 1.5
// (midway in [1, 2]), half the communication hidden on a side stream for serving and 0.9 for training
// (Megatron-Core overlap_grad_reduce / overlap_param_gather).
// A training stack that declares compute.train_gemm_scale fits it from 1 (the chip's measured GEMM
// efficiency) down to half of it; stacks that do not declare it keep 1.
struct Prior {
  const char* key;
  double low, high, serving, training;
  bool streams_only, serving_only, declared_only = false;
};
const Prior kPriors[] = {{"host.launch_us", 0.5, 40, 4, 4, false, false},
                         {"moe.eplb_imbalance", 1, 2, 1.5, 1.5, false, false},
                         {"overlap.hidden_frac", 0, 0.98, 0.5, 0.9, true, false},
                         {"compute.train_gemm_scale", 0.5, 1, 1, 1, false, false, true}};

Eigen::VectorXd residuals(const Hwdb& db, const ModelDb& models, const std::vector<const ValidationCase*>& cases,
                          const Pick& pick) {
  Eigen::VectorXd r(static_cast<Eigen::Index>(cases.size()));
#pragma omp parallel for schedule(dynamic)
  for (int i = 0; i < static_cast<int>(cases.size()); ++i) {
    const CaseResult c = evaluate(db, models, *cases[static_cast<std::size_t>(i)], pick);
    // A case with no prediction costs log(10).
    r[i] = std::isfinite(c.predicted) && c.predicted > 0 ? std::log(c.predicted / cases[static_cast<std::size_t>(i)]->measured)
                                                         : std::log(10.0);
  }
  return r;
}

Eigen::VectorXd residuals_at(const Hwdb& db, const ModelDb& models, const std::vector<const ValidationCase*>& cases,
                             const std::vector<CalibParam>& params, const Eigen::VectorXd& v) {
  return residuals(db, models, cases, calibration_pick(params, std::vector<double>(v.data(), v.data() + v.size())));
}

// Bounded Levenberg-Marquardt from x.
Eigen::VectorXd fit(const Hwdb& db, const ModelDb& models, const std::vector<const ValidationCase*>& cases,
                    const std::vector<CalibParam>& params, Eigen::VectorXd x) {
  const int n = static_cast<int>(x.size());
  auto clamp = [&](Eigen::VectorXd v) {
    for (int i = 0; i < n; ++i) v[i] = std::clamp(v[i], params[static_cast<std::size_t>(i)].low, params[static_cast<std::size_t>(i)].high);
    return v;
  };
  auto cost = [&](const Eigen::VectorXd& v) { return residuals_at(db, models, cases, params, v); };
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

// The stack a case runs: its own, else its system's default for the mode ("" for kernel benchmarks).
std::string case_stack(const Hwdb& db, const ValidationCase& c) {
  if (c.mode == "gemm" || c.mode == "stream") return "";
  if (!c.stack.empty()) return c.stack;
  const System s = db.system(c.system);
  return c.mode == "train" ? s.train_stack.id : s.stack.id;
}

std::vector<CalibParam> calibration_params(const Hwdb& db, const std::vector<ValidationCase>& cases) {
  std::map<std::string, bool> used;  // stack id -> used
  for (auto& c : cases)
    if (const std::string id = case_stack(db, c); !id.empty()) used[id] = true;
  std::vector<CalibParam> out;
  for (auto& [id, u] : used) {
    const Stack st = db.stack(id);
    const bool training = st.role == StackRole::training;
    for (auto& f : kPriors) {
      if ((f.streams_only && st.scheme != OverlapScheme::streams) || (f.serving_only && training) ||
          (f.declared_only && !db.stacks.at(id).numbers.count(f.key)))
        continue;
      CalibParam p{id, f.key, f.low, f.high, training ? f.training : f.serving, 0, 0};
      p.start = std::clamp(db.stacks.at(id).numbers.at(f.key).value, p.low, p.high);
      out.push_back(p);
    }
  }
  return out;
}

Pick calibration_pick(const std::vector<CalibParam>& params, const std::vector<double>& values) {
  Pick p;
  for (std::size_t i = 0; i < params.size(); ++i) p.per_value[params[i].stack + ":" + params[i].field] = values[i];
  return p;
}

namespace {
Eigen::VectorXd priors_of(const std::vector<CalibParam>& ps) {
  Eigen::VectorXd x(static_cast<Eigen::Index>(ps.size()));
  for (std::size_t i = 0; i < ps.size(); ++i) x[static_cast<Eigen::Index>(i)] = ps[i].prior;
  return x;
}

// The fits of `field` over the stacks of `role` other than `except`.
std::vector<std::pair<std::string, double>> fits_of(const Hwdb& db, const CalibResult& r, StackRole role,
                                                    const std::string& field, const std::string& except) {
  std::vector<std::pair<std::string, double>> out;
  for (std::size_t i = 0; i < r.params.size(); ++i)
    if (r.params[i].field == field && r.params[i].stack != except && db.stack(r.params[i].stack).role == role)
      out.emplace_back(r.params[i].stack, r.fitted[i]);
  return out;
}

double pooled_or(const std::vector<std::pair<std::string, double>>& fits, double fallback) {
  if (static_cast<int>(fits.size()) < kPoolMin) return fallback;
  std::vector<double> v;
  for (auto& f : fits) v.push_back(f.second);
  return median(v);
}

// Leave one stack out: each fitted stack's cases predicted with its terms pooled from the other
// stacks of its role; then the pooled values of the hwdb stacks that have no fitted case.
void pool(const Hwdb& db, const ModelDb& models, const std::vector<ValidationCase>& cases,
          const std::map<std::string, std::vector<std::size_t>>& by_stack, CalibResult& res) {
  res.loso_error.assign(cases.size(), std::nan(""));
  res.prior_error.assign(cases.size(), std::nan(""));
  for (auto& [stack, idx] : by_stack) {
    if (stack.empty()) continue;  // kernel benchmarks run no stack
    std::vector<CalibParam> ps;
    std::vector<double> v, v0;
    for (auto& p : res.params)
      if (p.stack == stack) {
        ps.push_back(p);
        v.push_back(pooled_or(fits_of(db, res, db.stack(stack).role, p.field, stack), p.prior));
        v0.push_back(p.prior);
      }
    const Pick pick = calibration_pick(ps, v), at_prior = calibration_pick(ps, v0);
    for (std::size_t i : idx) {
      const CaseResult c = evaluate(db, models, cases[i], pick), c0 = evaluate(db, models, cases[i], at_prior);
      res.loso_error[i] = std::isfinite(c.error) ? c.error : std::nan("");
      res.prior_error[i] = std::isfinite(c0.error) ? c0.error : std::nan("");
    }
  }
  for (auto& [id, rec] : db.stacks) {
    if (by_stack.count(id)) continue;
    const Stack st = db.stack(id);
    const bool training = st.role == StackRole::training;
    for (auto& f : kPriors) {
      if ((f.streams_only && st.scheme != OverlapScheme::streams) || (f.serving_only && training) ||
          !rec.numbers.count(f.key))
        continue;
      const auto fits = fits_of(db, res, st.role, f.key, id);
      if (static_cast<int>(fits.size()) < kPoolMin) continue;
      res.pooled.push_back(PooledValue{id, f.key, pooled_or(fits, 0), fits});
    }
  }
}
}  // namespace

CalibResult calibrate(const Hwdb& db, const ModelDb& models, const std::vector<ValidationCase>& cases, bool loo) {
  CalibResult res;
  for (auto& c : cases) res.case_ids.push_back(c.id);
  // A stack's parameters move only its own cases: each stack is fitted apart on its cases.
  std::map<std::string, std::vector<std::size_t>> by_stack;  // stack -> case indices
  for (std::size_t i = 0; i < cases.size(); ++i) by_stack[case_stack(db, cases[i])].push_back(i);
  res.error.assign(cases.size(), 0);
  res.loo_error.assign(loo ? cases.size() : 0, 0);
  const std::vector<CalibParam> all_params = calibration_params(db, cases);
  for (auto& [stack, idx] : by_stack) {
    std::vector<const ValidationCase*> group;
    for (std::size_t i : idx) group.push_back(&cases[i]);
    // Keep the parameters some case of the stack depends on, counting the cases each moves.
    std::vector<CalibParam> ps;
    for (auto& p : all_params)
      if (p.stack == stack) ps.push_back(p);
    {
      const Eigen::VectorXd x0 = priors_of(ps);
      const Eigen::VectorXd r0 = residuals_at(db, models, group, ps, x0);
      std::vector<CalibParam> kept;
      for (std::size_t j = 0; j < ps.size(); ++j) {
        Eigen::VectorXd xp = x0;
        const Eigen::Index jj = static_cast<Eigen::Index>(j);
        const double h = 0.05 * (ps[j].high - ps[j].low);
        xp[jj] = x0[jj] + h <= ps[j].high ? x0[jj] + h : x0[jj] - h;
        const Eigen::VectorXd d = residuals_at(db, models, group, ps, xp) - r0;
        for (Eigen::Index i = 0; i < d.size(); ++i) ps[j].cases += std::abs(d[i]) > 1e-6;
        if (ps[j].cases > 0) kept.push_back(ps[j]);
      }
      ps = kept;
    }
    const Eigen::VectorXd prior = priors_of(ps);
    const Eigen::VectorXd x = ps.empty() ? prior : fit(db, models, group, ps, prior);
    const Eigen::VectorXd r = residuals_at(db, models, group, ps, x);
    for (std::size_t k = 0; k < idx.size(); ++k) res.error[idx[k]] = std::exp(r[static_cast<Eigen::Index>(k)]) - 1;
    const std::size_t first = res.params.size();
    for (std::size_t j = 0; j < ps.size(); ++j) {
      res.params.push_back(ps[j]);
      res.fitted.push_back(x[static_cast<Eigen::Index>(j)]);
      res.loo_low.push_back(x[static_cast<Eigen::Index>(j)]);
      res.loo_high.push_back(x[static_cast<Eigen::Index>(j)]);
    }
    if (!loo) continue;
    // Leave one out: refit the stack without the case, from the priors (not from x), and predict it.
    for (std::size_t k = 0; k < idx.size(); ++k) {
      std::vector<const ValidationCase*> rest;
      for (std::size_t j = 0; j < group.size(); ++j)
        if (j != k) rest.push_back(group[j]);
      const Eigen::VectorXd xk = ps.empty() || rest.empty() ? prior : fit(db, models, rest, ps, prior);
      for (std::size_t j = 0; j < ps.size(); ++j) {
        res.loo_low[first + j] = std::min(res.loo_low[first + j], xk[static_cast<Eigen::Index>(j)]);
        res.loo_high[first + j] = std::max(res.loo_high[first + j], xk[static_cast<Eigen::Index>(j)]);
      }
      const CaseResult c = evaluate(db, models, *group[k], calibration_pick(ps, std::vector<double>(xk.data(), xk.data() + xk.size())));
      res.loo_error[idx[k]] = std::isfinite(c.error) ? c.error : std::nan("");
    }
  }
  pool(db, models, cases, by_stack, res);
  Eigen::VectorXd all_r(static_cast<Eigen::Index>(cases.size()));
  for (std::size_t i = 0; i < cases.size(); ++i) all_r[static_cast<Eigen::Index>(i)] = std::log1p(res.error[i]);
  res.rms_log = std::sqrt(all_r.squaredNorm() / std::max<Eigen::Index>(1, all_r.size()));
  return res;
}

}  // namespace podperf
