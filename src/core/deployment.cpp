// Deployments: whole prefill and decode instances, their sizes, the integer split and the
// operating point under a latency rule (docs/deployments.md).
#include "podperf/core/deployment.hpp"

#include <algorithm>
#include <cmath>

#include "podperf/core/plan.hpp"

namespace podperf {

namespace {

// Instance sizes worth trying for a MoE model: EP = the instance, whole experts (plus at most
// `frac` x experts replicas) on every chip. Powers of two and multiples of 8 keep the list short.
bool moe_size_ok(const Model& m, int c, double frac) {
  const int r = (c - m.experts % c) % c;
  return r <= std::floor(frac * m.experts + 1e-9);
}

// Linearised decode step tau = a + b N + k C around the batch B at context c0 (docs/deployments.md):
// three roofline evaluations of the same instance.
DecodeStep linearise(const System& s, const Model& m, InferenceSetup x, int batch, double c0) {
  const int unit = x.par.dp * x.par.pp;
  const int b1 = unit, b2 = std::max(batch, 2 * unit);
  auto tpot = [&](int b, double ctx) {
    x.batch = b;
    x.context = std::max(1, static_cast<int>(std::lround(ctx)));
    x.tpot_target_ms = 0;
    return estimate_decode(s, m, x).tpot_s;
  };
  const double c1 = std::max(1.0, std::round(c0));
  const double t1 = tpot(b1, c1), t2 = tpot(b2, c1), t3 = tpot(b2, 2 * c1);
  DecodeStep st;
  st.k_s = std::max(0.0, (t3 - t2) / (double(b2) * c1));
  st.b_s = std::max(0.0, (t2 - t1) / double(b2 - b1) - st.k_s * c1);
  st.a_s = std::max(0.0, t1 - b1 * (st.b_s + st.k_s * c1));
  return st;
}

double kv_bytes_per_request(const Model& m, const RequestMix& mix, Precision kv) {
  return mix.input.mean() * kv_elements_per_token_layer(m) * m.layers * bytes_per_element(kv);
}

double transfer_s(const Fabric& f, double bytes) {
  if (!(f.gb_s_per_dir > 0)) return 0;
  return f.latency_us * 1e-6 + bytes / (f.gb_s_per_dir * 1e9 * f.coll_eff);
}

InstanceChoice eval_decode(const System& s, const Model& m, const DeploymentSetup& d, const Parallel& p,
                           int redundant) {
  InstanceChoice ic;
  ic.par = p;
  ic.chips = p.chips();
  ic.redundant_experts = redundant;
  InferenceSetup x = d.decode;
  x.par = p;
  x.redundant_experts = redundant;
  x.batch = d.decode.batch;
  // The live context the batch holds on average (length-biased by the output distribution).
  DecodeQueue probe = make_decode_queue(d.mix, DecodeStep{}, 0);
  x.context = std::max(1, static_cast<int>(std::lround(probe.live_ctx)));
  x.seq_in = std::max(1, static_cast<int>(std::lround(d.mix.input.mean())));
  x.seq_out = std::max(1, static_cast<int>(std::lround(d.mix.output.mean())));
  x.tpot_target_ms = d.rule.tpot_ms;
  ic.est = estimate_decode(s, m, x);
  if (!ic.est.fits()) return ic;
  const DecodeStep st = linearise(s, m, x, ic.est.batch, probe.live_ctx);
  ic.dq = make_decode_queue(d.mix, st, ic.est.batch);
  ic.capacity_rps = decode_capacity(ic.dq, d.rule);
  if (ic.capacity_rps <= 0) ic.est.reason = Reason::tpot_unreachable;
  return ic;
}

InstanceChoice eval_prefill(const System& s, const Model& m, const DeploymentSetup& d, const Parallel& p,
                            int redundant, double kv_s) {
  InstanceChoice best;
  best.par = p;
  best.chips = p.chips();
  bool have = false;
  // Chunked prefill: the chunk budget (prompt tokens per chip per pass) trades rate for the pass
  // time a new prompt waits for; the budget with the highest capacity under the rule wins.
  for (int chunk : {2048, 4096, 8192, 16384}) {
    InstanceChoice ic;
    ic.par = p;
    ic.chips = p.chips();
    ic.redundant_experts = redundant;
    ic.prefill_tokens_per_chip = chunk;
    InferenceSetup x = d.prefill;
    x.par = p;
    x.redundant_experts = redundant;
    x.batch = 0;
    x.prefill_tokens_per_chip = chunk;
    x.seq_in = std::max(1, static_cast<int>(std::lround(d.mix.input.mean())));
    x.ttft_target_ms = 0;
    ic.est = estimate_prefill(s, m, x);
    if (ic.est.fits()) {
      const double rate = ic.est.tokens_per_s_per_chip * ic.chips;  // prompt tokens/s of the instance
      // A new prompt joins the next pass: the mean residual of a pass in progress is half a pass.
      ic.pq = make_prefill_queue(d.mix, rate, ic.est.ttft_s / 2 + kv_s);
      ic.capacity_rps = prefill_capacity(ic.pq, d.rule);
      if (ic.capacity_rps <= 0) ic.est.reason = Reason::ttft_unreachable;
    }
    if (!have || ic.capacity_rps > best.capacity_rps) {
      best = ic;
      have = true;
    }
  }
  return best;
}

// The `keep` candidates with the most requests/s per chip (fitting ones first).
void prune(std::vector<InstanceChoice>& v, size_t keep) {
  std::stable_sort(v.begin(), v.end(), [](const InstanceChoice& a, const InstanceChoice& b) {
    return a.capacity_rps / a.chips > b.capacity_rps / b.chips;
  });
  if (v.size() > keep) v.resize(keep);
}

}  // namespace

std::vector<Parallel> deployable_plans(const System& s, const Model& m, int max_chips, double frac) {
  std::vector<Parallel> out;
  const int tp_max = std::min({8, s.chips_per_supernode, max_chips});
  if (m.moe()) {
    const int ep_max = std::min(max_chips, static_cast<int>(std::floor(m.experts * (1 + frac) + 1e-9)));
    for (int c = 1; c <= ep_max; ++c) {
      const bool pow2 = (c & (c - 1)) == 0;
      if (!pow2 && c % 8 != 0) continue;
      if (!moe_size_ok(m, c, frac)) continue;
      for (int tp = 1; tp <= tp_max; tp *= 2) {
        if (c % tp != 0 || m.heads % tp != 0) continue;
        out.push_back(Parallel{tp, c / tp, c, 1, 1});
      }
    }
  } else {
    for (int tp = 1; tp <= tp_max; tp *= 2)
      if (m.heads % tp == 0) out.push_back(Parallel{tp, 1, 1, 1, 1});
  }
  return out;
}

Split best_split(int chips, int prefill_pool, int decode_pool, int cp, double mu_p, int cd, double mu_d,
                 bool prefill_headroom) {
  Split best;
  if (cp <= 0 || cd <= 0) return best;
  if (prefill_pool > 0 || decode_pool > 0) {
    best.n_prefill = prefill_pool / cp;
    best.n_decode = decode_pool / cd;
    best.rps = std::min(best.n_prefill * mu_p, best.n_decode * mu_d);
    return best;
  }
  int best_used = 0;
  for (int np = 1; np * cp + cd <= chips; ++np) {
    int nd = (chips - np * cp) / cd;
    // With headroom, the decode instances carry less than the prefill ones: at most the largest
    // count strictly below n_p mu_p / mu_d.
    if (prefill_headroom) nd = std::min(nd, static_cast<int>(std::ceil(np * mu_p / mu_d * (1 - 1e-9))) - 1);
    if (nd < 1) continue;
    const double rps = std::min(np * mu_p, nd * mu_d);
    const int used = np * cp + nd * cd;
    if (rps > best.rps * (1 + 1e-12) || (rps >= best.rps * (1 - 1e-12) && best.rps > 0 && used < best_used)) {
      best = Split{np, nd, rps};
      best_used = used;
    }
  }
  if (best.rps > 0) {
    // Fewest instances that carry the same rate: the rest are idle.
    best.n_prefill = prefill_headroom ? static_cast<int>(std::floor(best.rps / mu_p * (1 + 1e-9))) + 1
                                      : std::max(1, static_cast<int>(std::ceil(best.rps / mu_p * (1 - 1e-12))));
    best.n_decode = std::max(1, static_cast<int>(std::ceil(best.rps / mu_d * (1 - 1e-12))));
  }
  return best;
}

Deployment plan_deployment(const System& s, const System& ps, const Fabric* kv_fabric, const Model& m,
                           const DeploymentSetup& d) {
  Deployment out;
  out.heterogeneous = &ps != &s;
  out.system_chips = s.chips;
  out.prefill_system_chips = out.heterogeneous ? ps.chips : 0;
  // KV of one prompt moves from the prefill chip that holds it to a decode chip: over the scale-up
  // fabric inside one supernode, else over scale-out, or over the fabric joining two systems.
  out.kv_bytes = kv_bytes_per_request(m, d.mix, d.decode.kv);
  const Fabric& kf = out.heterogeneous ? *kv_fabric : (s.supernodes == 1 ? s.scaleup : s.scaleout);
  out.kv_over_scaleup = !out.heterogeneous && s.supernodes == 1;
  out.kv_s = transfer_s(kf, out.kv_bytes);

  const int pre_pool = out.heterogeneous ? (d.pd_prefill_chips ? d.pd_prefill_chips : ps.chips) : d.pd_prefill_chips;
  const int dec_pool = out.heterogeneous ? (d.pd_decode_chips ? d.pd_decode_chips : s.chips) : d.pd_decode_chips;
  const int pre_max = pre_pool > 0 ? pre_pool : s.chips - 1;
  const int dec_max = dec_pool > 0 ? dec_pool : s.chips - 1;

  std::vector<InstanceChoice> pre, dec;
  auto redundant = [&](const InferenceSetup& x, const Parallel& p, bool given) {
    return given ? x.redundant_experts : default_redundant_experts(m, p.ep);
  };
  if (d.prefill_plan_given) {
    pre.push_back(eval_prefill(ps, m, d, d.prefill.par, redundant(d.prefill, d.prefill.par, true), out.kv_s));
  } else {
    // Pipelined prefill: chunks of a long prompt flow through pp stages, so an instance of pp x the
    // chips serves each prompt faster at about the same rate per chip.
    for (const Parallel& base : deployable_plans(ps, m, pre_max, d.max_redundant_frac))
      for (int pp = 1; pp <= 4 && base.chips() * pp <= pre_max && pp <= m.layers; pp *= 2) {
        Parallel p = base;
        p.pp = pp;
        pre.push_back(eval_prefill(ps, m, d, p, redundant(d.prefill, p, false), out.kv_s));
      }
  }
  if (d.decode_plan_given) {
    dec.push_back(eval_decode(s, m, d, d.decode.par, redundant(d.decode, d.decode.par, true)));
  } else {
    for (const Parallel& p : deployable_plans(s, m, dec_max, d.max_redundant_frac))
      dec.push_back(eval_decode(s, m, d, p, redundant(d.decode, p, false)));
  }
  auto no_fit = [&](const std::vector<InstanceChoice>& v, Reason fallback) {
    Reason r = fallback;
    for (const InstanceChoice& c : v)
      if (c.est.reason != Reason::ok) r = c.est.reason;
    return v.empty() ? Reason::too_many_chips : r;
  };
  prune(pre, 8);
  prune(dec, 8);
  if (pre.empty() || pre.front().capacity_rps <= 0) {
    out.reason = no_fit(pre, Reason::ttft_unreachable);
    out.why = "no prefill instance fits and meets the TTFT bound";
    if (!pre.empty()) out.prefill = pre.front();
    return out;
  }
  if (dec.empty() || dec.front().capacity_rps <= 0) {
    out.reason = no_fit(dec, Reason::tpot_unreachable);
    out.why = "no decode instance fits and meets the TPOT bound";
    if (!dec.empty()) out.decode = dec.front();
    out.prefill = pre.front();
    return out;
  }
  // The integer split over every pair of candidate instance sizes. Without a TTFT bound (and with
  // neither an offered rate nor fixed pools) the operating point is the most the decode instances
  // carry while the prefill instances keep up: a split whose prefill pool would run saturated has an
  // unbounded TTFT and is not one, so one more prefill instance (or one decode instance fewer) is.
  const bool headroom = !d.rule.offline && d.rule.ttft_ms <= 0 && d.mix.arrival_rate <= 0;
  int best_used = 0;
  bool have = false;
  for (const InstanceChoice& a : pre) {
    if (a.capacity_rps <= 0) continue;
    for (const InstanceChoice& b : dec) {
      if (b.capacity_rps <= 0) continue;
      if (!out.heterogeneous && pre_pool == 0 && a.chips + b.chips > s.chips) continue;
      const Split sp = best_split(s.chips, pre_pool, dec_pool, a.chips, a.capacity_rps, b.chips, b.capacity_rps, headroom);
      if (sp.n_prefill < 1 || sp.n_decode < 1) continue;
      const int used = sp.n_prefill * a.chips + sp.n_decode * b.chips;
      if (!have || sp.rps > out.split.rps * (1 + 1e-9) || (sp.rps >= out.split.rps * (1 - 1e-9) && used < best_used)) {
        out.split = sp;
        out.prefill = a;
        out.decode = b;
        best_used = used;
        have = true;
      }
    }
  }
  if (!have) {
    const bool slow_prefill = headroom && pre_pool == 0 && dec_pool == 0;
    out.reason = slow_prefill ? Reason::ttft_unreachable : Reason::too_many_chips;
    out.why = slow_prefill ? "without a TTFT bound no split of whole instances keeps the prefill instances below saturation (give --ttft-ms)"
                           : "no whole prefill and decode instance fit in the chips given";
    out.prefill = pre.front();
    out.decode = dec.front();
    return out;
  }
  const int pre_used = out.split.n_prefill * out.prefill.chips, dec_used = out.split.n_decode * out.decode.chips;
  if (out.heterogeneous) {
    out.idle_prefill_system_chips = ps.chips - pre_used;
    out.idle_chips = s.chips - dec_used;
  } else {
    out.idle_chips = s.chips - pre_used - dec_used;
  }
  // Operating point: the offered rate, else the highest the deployment sustains under the rule.
  out.lambda = out.split.rps;
  if (d.mix.arrival_rate > 0) {
    if (d.mix.arrival_rate > out.split.rps * (1 + 1e-9)) {
      const bool pre_bound = out.split.n_prefill * out.prefill.capacity_rps <= out.split.n_decode * out.decode.capacity_rps;
      out.reason = pre_bound ? Reason::ttft_unreachable : Reason::tpot_unreachable;
      out.why = pre_bound ? "the arrival rate exceeds what the prefill instances sustain under the rule"
                          : "the arrival rate exceeds what the decode instances sustain under the rule";
      out.overloaded = true;
    }
    out.lambda = d.mix.arrival_rate;
  }
  const double lp = out.lambda / out.split.n_prefill, ld = out.lambda / out.split.n_decode;
  const double pcts[3] = {50, 90, 99};
  for (int i = 0; i < 3; ++i) {
    if (d.rule.offline) {
      out.ttft_s[i] = 0;  // offline: every query is issued at once, latency is not measured
      out.tpot_s[i] = out.decode.dq.step.a_s + out.decode.dq.max_live * (out.decode.dq.step.b_s + out.decode.dq.step.k_s * out.decode.dq.live_ctx);
    } else {
      out.ttft_s[i] = ttft_percentile(out.prefill.pq, lp, pcts[i]);
      out.tpot_s[i] = tpot_percentile(out.decode.dq, ld, pcts[i]);
    }
  }
  if (!d.rule.offline) {
    out.ttft_rule_s = ttft_percentile(out.prefill.pq, lp, d.rule.percentile);
    out.tpot_rule_s = tpot_percentile(out.decode.dq, ld, d.rule.percentile);
  }
  // A latency rule without a TTFT bound lets the prefill instances run at utilisation 1, where the
  // queue (and TTFT) grows without bound: no operating point to report.
  if (out.reason == Reason::ok && !d.rule.offline && d.rule.ttft_ms <= 0 && !(prefill_rho(out.prefill.pq, lp) < 1 - 1e-9)) {
    out.reason = Reason::ttft_unreachable;
    out.why = "without a TTFT bound the prefill instances run saturated and TTFT grows without bound (give --ttft-ms)";
  }
  out.output_tokens_per_s = out.lambda * d.mix.output.mean();
  out.input_tokens_per_s = out.lambda * d.mix.input.mean();
  out.tokens_per_s_per_chip = out.output_tokens_per_s / (s.chips + out.prefill_system_chips);
  out.prefill_activity = std::min(1.0, prefill_rho(out.prefill.pq, lp)) * out.prefill.est.activity;
  out.decode_activity = out.decode.est.activity;
  return out;
}

Parallel default_serving_plan(const System& s, const Model& m, const InferenceSetup& x0, Mode mode, double frac) {
  Parallel best = default_inference_plan(s, m, x0.weights);
  double best_tps = -1;
  for (const Parallel& p : deployable_plans(s, m, s.chips, frac)) {
    InferenceSetup x = x0;
    x.par = p;
    x.redundant_experts = default_redundant_experts(m, p.ep);
    const Estimate e = mode == Mode::prefill ? estimate_prefill(s, m, x) : estimate_decode(s, m, x);
    if (!e.fits()) continue;
    // Whole instances only: the system runs floor(chips / c) of them.
    const double tps = double(s.chips / p.chips()) * p.chips() * e.tokens_per_s_per_chip;
    if (tps > best_tps * (1 + 1e-9)) {
      best_tps = tps;
      best = p;
    }
  }
  return best;
}

}  // namespace podperf
