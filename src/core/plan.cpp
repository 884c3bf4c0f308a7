#include "podperf/plan.hpp"

#include <algorithm>
#include <cmath>

namespace podperf {

namespace {
double weights_gb(const Model& m, Precision w) { return total_params(m) * bytes_per_element(w) * 1e-9; }

Estimate run(const System& s, const Model& m, const InferenceSetup& x, Mode mode) {
  switch (mode) {
    case Mode::prefill: return estimate_prefill(s, m, x);
    case Mode::serve: return estimate_serve(s, m, x);
    default: return estimate_decode(s, m, x);
  }
}
}  // namespace

int default_redundant_experts(const Model& m, int ep) {
  if (!m.moe() || ep <= 1) return 0;
  return (ep - m.experts % ep) % ep;
}

Parallel default_inference_plan(const System& s, const Model& m, Precision w) {
  int chips = s.chips_per_supernode;
  const double hbm_pod = s.chips_per_supernode * s.chip.hbm_gb;
  if (s.supernodes > 1) {
    const int pods = static_cast<int>(std::ceil(2 * weights_gb(m, w) / hbm_pod));
    chips = std::clamp(pods, 1, s.supernodes) * s.chips_per_supernode;
  }
  Parallel p;
  if (m.moe()) {
    p.dp = p.ep = chips;
    return p;
  }
  while (p.tp * 2 <= s.chips_per_supernode && m.heads % (p.tp * 2) == 0 &&
         weights_gb(m, w) / p.tp > 0.5 * s.chip.hbm_gb)
    p.tp *= 2;
  p.dp = std::max(1, chips / p.tp);
  return p;
}

Parallel default_training_plan(const System& s, const Model& m) {
  Parallel p;
  while (p.tp * 2 <= std::min(8, s.chips_per_supernode) && m.heads % (p.tp * 2) == 0 && p.tp * 2 <= s.chips) p.tp *= 2;
  // 16 bytes per parameter (weights, gradients, Adam state) with ZeRO-1 still needs the weights
  // and gradients whole per chip: add stages until 4 bytes / param of the shard fits in half of HBM.
  const double per_chip_gb = [&] { return total_params(m) * 4e-9; }();
  while (p.pp * 2 <= m.layers && p.tp * p.pp * 2 <= s.chips && per_chip_gb / (p.tp * p.pp) > 0.5 * s.chip.hbm_gb) p.pp *= 2;
  p.dp = std::max(1, s.chips / (p.tp * p.pp));
  if (m.moe()) {
    p.ep = 1;
    while (p.ep * 2 <= p.tp * p.dp && (p.tp * p.dp) % (p.ep * 2) == 0 && m.experts % (p.ep * 2) == 0) p.ep *= 2;
  }
  return p;
}

Estimate search_inference(const System& s, const Model& m, InferenceSetup x, Mode mode) {
  const int chips = x.par.chips();
  Estimate best;
  best.reason = Reason::too_many_chips;
  bool have = false;
  for (int tp = 1; tp <= std::min(16, s.chips_per_supernode); tp *= 2) {
    if (chips % tp != 0 || m.heads % tp != 0) continue;
    Parallel p;
    p.tp = tp;
    p.dp = chips / tp;
    p.ep = m.moe() ? chips : 1;
    x.par = p;
    x.redundant_experts = default_redundant_experts(m, p.ep);
    const Estimate e = run(s, m, x, mode);
    if (!have || (e.fits() && (!best.fits() || e.tokens_per_s_per_chip > best.tokens_per_s_per_chip))) {
      best = e;
      have = true;
    }
  }
  return best;
}

Estimate search_training(const System& s, const Model& m, TrainingSetup x) {
  const int chips = x.par.chips();
  Estimate best;
  best.reason = Reason::too_many_chips;
  bool have = false;
  for (int tp = 1; tp <= std::min(8, s.chips_per_supernode); tp *= 2)
    for (int pp = 1; pp <= std::min(64, m.layers); pp *= 2) {
      if (chips % (tp * pp) != 0 || m.heads % tp != 0) continue;
      const int dp = chips / (tp * pp);
      for (int ep = 1; ep <= (m.moe() ? tp * dp : 1); ep *= 2) {
        if ((tp * dp) % ep != 0 || (m.moe() && m.experts % ep != 0)) continue;
        x.par = Parallel{tp, dp, ep, pp, 1};
        const int unit = dp * x.micro_batch;
        x.global_batch = std::max(unit, (x.global_batch + unit - 1) / unit * unit);
        const Estimate e = estimate_train(s, m, x);
        if (!have || (e.fits() && (!best.fits() || e.tokens_per_s > best.tokens_per_s))) {
          best = e;
          have = true;
        }
      }
    }
  return best;
}

Estimate run_workload(const System& sys, const Model& m, const Workload& w) {
  if (w.mode == Mode::train) return w.search ? search_training(sys, m, w.train) : estimate_train(sys, m, w.train);
  if (w.search) return search_inference(sys, m, w.infer, w.mode);
  return run(sys, m, w.infer, w.mode);
}

}  // namespace podperf
