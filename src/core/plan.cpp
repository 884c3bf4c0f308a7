#include "podperf/core/plan.hpp"
#include "podperf/core/training_memo.hpp"

#include <algorithm>
#include <cmath>

namespace podperf {

namespace {
double weights_gb(const Model& m, Precision w) { return total_params(m) * bytes_per_element(w) * 1e-9; }

Estimate run(const System& s, const Model& m, const InferenceSetup& x, Mode mode, DecodeCurve* curve = nullptr) {
  switch (mode) {
    case Mode::prefill: return estimate_prefill(s, m, x);
    case Mode::serve: return estimate_serve(s, m, x);
    default: return estimate_decode(s, m, x, curve);
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

const PipeSchedule* stack_schedule(const Stack& st, int v) {
  static const PipeSchedule plain{};
  if (st.n_schedules == 0) return v <= 1 ? &plain : nullptr;
  for (int i = 0; i < st.n_schedules; ++i) {
    const PipeSchedule& sc = st.schedules[static_cast<std::size_t>(i)];
    if (v <= 1 ? !sc.interleaved : sc.interleaved && v <= sc.max_interleave) return &sc;
  }
  if (v <= 1)  // only interleaved schedules: v = 1 runs the first of them
    return &st.schedules[0];
  return nullptr;
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

TrainingSearch search_training_plans(const System& s, const Model& m, const TrainingSetup& base,
                                     const TrainingPins& pins) {
  TrainingSearch out;
  const int G = base.global_batch;
  // Divisors of the global batch, ascending (a fixed array: no heap).
  std::array<int, 4096> div{};
  int nd = 0;
  for (int d = 1; G > 0 && double(d) * d <= G && nd < 4094; ++d)
    if (G % d == 0) {
      div[nd++] = d;
      if (d != G / d) div[nd++] = G / d;
    }
  std::sort(div.begin(), div.begin() + nd);
  auto reject = [&](Reason r, long long n = 1) { out.rejected[static_cast<int>(r)] += n; };
  auto keep = [&](const TrainingSetup& x, const Estimate& e) {
    int i = out.found;
    while (i > 0 && e.tokens_per_s > out.best[i - 1].tokens_per_s) --i;
    if (i >= kBestPlans) return;
    for (int j = std::min(out.found, kBestPlans - 1); j > i; --j) {
      out.best[j] = out.best[j - 1];
      out.setup[j] = out.setup[j - 1];
    }
    out.best[i] = e;
    out.setup[i] = x;
    out.found = std::min(kBestPlans, out.found + 1);
  };
  static constexpr int kInterleave[] = {1, 2, 3, 4, 6, 8};
  // The stack's schedules (plain 1F1B when it names none).
  const Stack& st = s.train_stack;
  std::array<PipeSchedule, kMaxSchedules> sched{};
  const int n_sched = st.n_schedules > 0 ? st.n_schedules : 1;
  for (int i = 0; i < st.n_schedules; ++i) sched[static_cast<std::size_t>(i)] = st.schedules[static_cast<std::size_t>(i)];
  bool plain_listed = false;  // a non-interleaved schedule runs v = 1: interleaved ones start at 2
  for (int i = 0; i < n_sched; ++i) plain_listed = plain_listed || !sched[static_cast<std::size_t>(i)].interleaved;
  TrainingSetup x = base;
  TrainMemo memo;  // layer costs shared by the plans that differ only in PP, DP, ZeRO, recomputation, interleave
  const int tp_max = std::min(s.chips_per_supernode, 64);
  // A pinned dimension takes its one value; a free one runs over powers of two up to its bound.
  auto first = [](int pin) { return pin > 0 ? pin : 1; };
  auto last = [](int pin, int bound) { return pin > 0 ? pin : bound; };
  for (int tp = first(pins.tp); tp <= last(pins.tp, tp_max); tp *= 2) {
    if (m.heads % tp != 0 || tp > s.chips_per_supernode) { reject(tp > s.chips_per_supernode ? Reason::tp_beyond_scaleup : Reason::tp_heads); continue; }
    for (int cp = first(pins.cp); cp <= last(pins.cp, 32); cp *= 2) {
      if (x.seq % cp != 0) { reject(Reason::cp_seq); continue; }
      for (int pp = first(pins.pp); pp <= last(pins.pp, std::min(m.layers, 128)); pp *= 2) {
        const long long inner = 1LL * tp * cp * pp;
        if (inner > s.chips) { reject(Reason::too_many_chips); continue; }
        const int dp_max = static_cast<int>(s.chips / inner);
        for (int mb = first(pins.micro_batch); mb <= last(pins.micro_batch, 32); mb *= 2) {
          if (G <= 0 || G % mb != 0) { reject(Reason::batch_divides); continue; }
          const int q = G / mb;
          // DP: the largest divisor of the batch's micro-batches that fits in the chips, and the next
          // smaller one (fewer replicas of a plan that then fits or runs faster per chip).
          int dps[2] = {0, 0}, ndp = 0;
          for (int i = nd - 1; i >= 0 && ndp < 2; --i)
            if (div[i] <= dp_max && q % div[i] == 0) dps[ndp++] = div[i];
          if (ndp == 0) { reject(Reason::batch_small); continue; }
          for (int di = 0; di < ndp; ++di) {
          const int dp = dps[di];
          for (int ep = first(pins.ep); ep <= last(pins.ep, m.moe() ? tp * dp : 1); ep *= 2) {
            if (m.moe() && ((tp * dp) % ep != 0 || (m.experts + x.redundant_experts) % ep != 0)) {
              reject(Reason::ep_experts);
              continue;
            }
            x.par = Parallel{tp, dp, ep, pp, cp};
            x.micro_batch = mb;
            const long long micro = G / (1LL * mb * dp);  // micro-batches per pipeline
            // One stage: no schedule to choose.
            const int nsched = pins.schedule || pp == 1 ? 1 : n_sched;
            for (int si = 0; si < nsched; ++si) {
            x.schedule = pins.schedule ? base.schedule : pp == 1 ? PipeSchedule{} : sched[si];
            const int one[1] = {pins.interleave};
            const int* vs = pins.interleave > 0 ? one : kInterleave;
            const int nv = pins.interleave > 0 ? 1 : 6;
            for (int iv = 0; iv < nv; ++iv) {
              const int v = vs[iv];
              if (pins.interleave <= 0 && (pp == 1 || !x.schedule.interleaved) && v > 1) continue;
              if (pins.interleave <= 0 && v == 1 && x.schedule.interleaved && plain_listed) continue;  // 1F1B itself
              if (pp * v > m.layers) { reject(Reason::pp_layers); continue; }
              if (pins.interleave <= 0 && v > x.schedule.max_interleave) continue;
              if (check_schedule(x.schedule, pp, v, micro, m.layers) != Reason::ok) { reject(Reason::schedule); continue; }
              x.interleave = v;
              for (int rc = 0; rc < 3; ++rc) {
                if (pins.recompute >= 0 && pins.recompute != rc) continue;
                x.recompute = static_cast<Recompute>(rc);
                for (int z = 0; z <= 3; ++z) {
                  if (pins.zero >= 0 && pins.zero != z) continue;
                  x.zero = z;
                  for (int sp = 1; sp >= 0; --sp) {
                    if ((pins.sp >= 0 && pins.sp != sp) || (tp == 1 && sp == 0)) continue;
                    x.sequence_parallel = sp == 1;
                    const Estimate e = train_step(s, m, x, true, &memo);
                    ++out.evaluated;
                    if (!e.fits()) {
                      reject(e.reason);
                      continue;
                    }
                    ++out.fits;
                    keep(x, e);
                  }
                }
              }
            }
            }
          }
          }
        }
      }
    }
  }
  return out;
}

Estimate search_training(const System& s, const Model& m, TrainingSetup x) {
  const TrainingSearch r = search_training_plans(s, m, x);
  if (r.found > 0) return r.best[0];
  Estimate e;
  e.mode = Mode::train;
  e.batch = x.global_batch;
  e.reason = Reason::too_many_chips;
  for (int i = 1; i < kReasons; ++i)
    if (r.rejected[i] > r.rejected[static_cast<int>(e.reason)]) e.reason = static_cast<Reason>(i);
  return e;
}

void count_whole_instances(const System& s, Estimate& e) {
  if ((e.mode == Mode::prefill || e.mode == Mode::decode) && e.instance_chips > 0)
    e.tokens_per_s = double(s.chips / e.instance_chips) * e.instance_chips * e.tokens_per_s_per_chip;
}

Estimate run_workload(const System& sys, const Model& m, const Workload& w, DecodeCurve* curve) {
  if (w.mode == Mode::train) return w.search ? search_training(sys, m, w.train) : estimate_train(sys, m, w.train);
  if (w.search) return search_inference(sys, m, w.infer, w.mode);
  return run(sys, m, w.infer, w.mode, curve);
}

}  // namespace podperf
