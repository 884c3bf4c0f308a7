// LLM training step time (Megatron-style 3D parallelism plus EP, CP and ZeRO over DP).
//
// FLOPs: forward = 2 x active params + causal attention per token (forward_flops_per_token);
// backward = 2 x forward; full recomputation adds one more forward (Narayanan et al., SC21, sec. 5.1).
// Pipeline bubble of 1F1B: (pp - 1) / (m v) of the ideal step with m micro-batches per replica and v
// interleaved stages (Narayanan et al., SC21, sec. 2.2). TP: 2 all-reduces per layer forward and 2
// backward on the micro-batch activations (Shoeybi et al., Megatron-LM). EP: dispatch and combine
// all-to-all per MoE layer forward and backward. DP: gradient all-reduce (reduce-scatter + all-gather
// with ZeRO) of the chip's parameters, overlapped with backward by `overlap`.
// Memory: bf16 weights and gradients, fp32 master weights and Adam moments (12 bytes per parameter),
// sharded over DP by ZeRO stage 1 (optimizer), 2 (+ gradients), 3 (+ weights) (Rajbhandari et al.,
// SC20); activations per layer and token 34 h bytes over TP with sequence parallelism, or 2 h with full
// recomputation, scaled by the stored activation precision, and a 5% reserve
// (Korthikanti et al., MLSys 2023, sec. 4; their 5 a s attention-score term is gone
// with fused (flash) attention), with pp micro-batches in flight on the first stage.
#include <algorithm>
#include <cmath>

#include "podperf/operators.hpp"
#include "podperf/workload.hpp"

namespace podperf {

Estimate estimate_train(const System& s, const Model& m, const TrainingSetup& x) {
  Estimate e;
  e.mode = Mode::train;
  const Parallel& p = x.par;
  e.par = p;
  e.batch = x.global_batch;
  e.instance_chips = p.chips();
  e.reason = check_parallel(s, m, p, x.seq);
  if (e.reason == Reason::ok && m.moe()) {
    const int copies = m.experts + x.redundant_experts;
    if (p.ep > copies || copies % p.ep != 0) e.reason = Reason::ep_experts;
  }
  if (e.reason == Reason::ok && peak_tflops(s.chip, x.precision) <= 0) e.reason = Reason::no_precision;
  const int per_replica = p.dp * x.micro_batch;
  if (e.reason == Reason::ok && (x.global_batch < per_replica || x.global_batch % per_replica != 0))
    e.reason = Reason::batch_divides;
  const double micro = std::max(1.0, double(x.global_batch) / per_replica);  // micro-batches per replica
  const double tokens = double(x.global_batch) * x.seq;
  const double chips = p.chips();
  const double h = m.hidden;

  // Compute: the step's FLOPs spread evenly over all chips, as GEMMs of micro-batch rows.
  const double fwd = forward_flops_per_token(m, x.seq);
  const double passes = x.recompute ? 4.0 : 3.0;
  const double flops_chip = passes * fwd * tokens / chips;
  const double tok_mb = double(x.micro_batch) * x.seq / p.cp;  // rows per micro-batch on one chip
  // HBM traffic: weights read in every forward and backward of every micro-batch, plus activations.
  const double params_chip = (m.layers * attention_params(m) / p.tp + m.dense_layers * dense_ffn_params(m) / p.tp +
                              (m.moe() ? m.moe_layers() * ((double(m.experts + x.redundant_experts) / p.ep +
                                                             m.shared_experts) * expert_params(m)) : 0)) / p.pp +
                             2 * embedding_params(m) / p.tp;
  const double wbytes = bytes_per_element(x.precision);
  const double act_traffic = passes * tokens / (p.dp * p.tp) * m.layers / p.pp * 16 * h * 2;
  Op op{flops_chip, passes * micro * params_chip * wbytes + act_traffic, x.precision, tok_mb};
  const OpTime t = roofline(s.chip, op);
  const double compute = std::max(t.compute_s, t.memory_s);
  e.breakdown[static_cast<int>(t.compute_s >= t.memory_s ? Part::compute : Part::memory)] = compute;

  // Communication per step.
  const double layers_stage = double(m.layers) / p.pp;
  double tp_s = 0, ep_s = 0, cp_s = 0, pp_s = 0;
  if (p.tp > 1)
    tp_s = micro * layers_stage * (x.recompute ? 6 : 4) *
           collective(s, Coll::all_reduce, p.tp, tok_mb * h * 2).time_s;
  if (m.moe() && p.ep > 1) {
    const double moe_stage = double(m.moe_layers()) / p.pp;
    const double bytes = tok_mb / p.tp * m.experts_per_token * h * 2;
    ep_s = micro * moe_stage * (x.recompute ? 6 : 4) * collective(s, Coll::all_to_all, p.ep, bytes).time_s;
  }
  if (p.cp > 1) {  // ring attention: K and V of the micro-batch gathered across CP ranks per layer, fwd + bwd
    const double kv = tok_mb * kv_elements_per_token_layer(m) * 2;
    cp_s = micro * layers_stage * 2 * collective(s, Coll::all_gather, p.cp, kv * p.cp).time_s;
  }
  if (p.pp > 1) pp_s = 2 * micro * collective(s, Coll::p2p, 2, tok_mb * h * 2).time_s;
  double dp_s = 0;
  if (p.dp > 1) {
    const double grad = params_chip * 2;  // bf16 gradients
    dp_s = x.zero >= 2 ? collective(s, Coll::reduce_scatter, p.dp, grad).time_s +
                             collective(s, Coll::all_gather, p.dp, grad).time_s
                       : collective(s, Coll::all_reduce, p.dp, grad).time_s;
  }
  const double f = x.overlap >= 0 ? x.overlap : s.chip.overlap;
  auto hide = [&](double comm) { return comm * (1 - f) + std::max(0.0, comm * f - compute); };
  e.breakdown[static_cast<int>(Part::tp_comm)] = tp_s;  // on the critical path of each layer
  e.breakdown[static_cast<int>(Part::ep_comm)] = hide(ep_s);
  e.breakdown[static_cast<int>(Part::cp_comm)] = hide(cp_s);
  e.breakdown[static_cast<int>(Part::pp_comm)] = pp_s;
  e.breakdown[static_cast<int>(Part::dp_comm)] = hide(dp_s);
  e.breakdown[static_cast<int>(Part::overhead)] = micro * layers_stage * 12 * s.chip.launch_us * 1e-6 * 3;
  double busy = 0;
  for (int i = 0; i < kParts; ++i) busy += e.breakdown[i];
  e.bubble_frac = p.pp > 1 ? (p.pp - 1) / (micro * x.interleave) : 0;
  e.breakdown[static_cast<int>(Part::bubble)] = busy * e.bubble_frac;
  e.step_time_s = busy + e.breakdown[static_cast<int>(Part::bubble)];

  e.tokens_per_s = tokens / e.step_time_s;
  e.tokens_per_s_per_chip = e.tokens_per_s / chips;
  const double peak = peak_tflops(s.chip, x.precision);
  e.mfu = fwd * 3 * e.tokens_per_s_per_chip / (peak * 1e12);
  e.compute_util = std::min(1.0, flops_chip / (peak * 1e12 * e.step_time_s));
  e.activity = std::min(1.0, (compute + e.breakdown[static_cast<int>(Part::overhead)]) / e.step_time_s);
  const int big = static_cast<int>(std::max_element(e.breakdown.begin(), e.breakdown.end()) - e.breakdown.begin());
  e.bound = big == static_cast<int>(Part::compute) ? Bound::compute : Bound::memory;
  if (x.tokens > 0) {
    e.train_time_s = x.tokens / e.tokens_per_s;
    e.chip_hours = e.train_time_s * chips / 3600;
  }

  // Memory per chip.
  const double gb = 1e-9;
  const double zdp = p.dp;
  e.mem.capacity = s.chip.hbm_gb;
  e.mem.weights = params_chip * 2 / (x.zero >= 3 ? zdp : 1) * gb;
  e.mem.gradients = params_chip * 2 / (x.zero >= 2 ? zdp : 1) * gb;
  e.mem.optimizer = params_chip * 12 / (x.zero >= 1 ? zdp : 1) * gb;
  // Korthikanti's 34 h bytes assume 2-byte activations (and 2 h with full recomputation).
  const double act_scale = bytes_per_element(x.activations) / 2;
  const double per_token_layer = (x.recompute ? 2 * h : 34 * h / p.tp) * act_scale;
  e.mem.activations = per_token_layer * tok_mb * layers_stage * std::min<double>(p.pp, micro) * gb;
  e.mem.reserve = 0.05 * s.chip.hbm_gb;  // no KV cache to fragment: framework buffers only
  if (e.reason == Reason::ok && e.mem.used() > e.mem.capacity - e.mem.reserve) e.reason = Reason::memory;
  return e;
}

}  // namespace podperf
