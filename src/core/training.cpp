// LLM training step time: Megatron-style TP x CP x PP x DP with EP for MoE models and ZeRO over DP x CP.
//
// One micro-batch of b sequences runs through the layers of one pipeline stage on one chip, operator by
// operator, each timed by the chip's roofline exactly as in serving (GEMMs at the shape efficiency,
// times the training stack's train_gemm_scale where it declares one,
// the attention core through the same attention operator and kernel efficiency as prefill,
// norms, activations and dropout as HBM-bound elementwise operators):
//   backward GEMMs = 2 x forward (data and weight gradients); fused attention backward = 2.5 x the
//   forward FLOPs (five matrix products against two: it recomputes the scores; Dao, FlashAttention-2,
//   arXiv 2307.08691 sec. 3.1.2); an unfused attention core (Megatron-LM 2022) materialises the
//   b (heads / t) s^2 scores and runs softmax and dropout over them in HBM; elementwise backward
//   = 2 x forward traffic (reads the saved input and the output gradient, writes the input gradient).
// Recomputation (Korthikanti et al., arXiv 2205.05198, sec. 5): full repeats each layer's forward,
// TP communication included; selective repeats what is cheap to recompute and large to store: the
// attention core of an unfused kernel, or with a fused kernel (whose backward recomputes the scores
// anyway) the norms and activation functions.
// Sequence parallelism (ibid. sec. 4.2.2): norms and dropout run on s / t tokens and each TP
// all-reduce becomes an all-gather + reduce-scatter pair of the same bytes.
// TP overlap `pipelined`: the collective is split into t chunks and pipelined with its GEMM, exposing
// one chunk and whatever does not fit under the GEMMs.
// Pipeline (Narayanan et al., SC21, sec. 2.2): the slowest stage (its layers plus the LM head and
// loss) sets the pace; the schedule's idle time (spec.hpp PipeSchedule, hwdb/schedules) is counted
// in micro-batch times of the other stages (without the head): F and B their forward and backward
// shares, W the weight-gradient GEMMs (a third of the layers' GEMM time: backward GEMMs are twice
// the forward's, half of them weight gradients), F&B the operators of both with their communication
// hidden (DualPipe's overlapped chunk pair); one activation message per stage boundary, direction
// and model chunk, split over the TP ranks (ibid. sec. 4.1).
// DP: gradients reduce over DP x CP, expert gradients over the expert-DP group (TP x DP x CP / EP);
// ZeRO >= 1 (distributed optimizer) reduce-scatters gradients under the last backward and
// all-gathers parameters under the first forward; ZeRO-3 all-gathers the parameters for every
// micro-batch's forward and backward and reduce-scatters its gradients (Rajbhandari et al., SC20).
// Collectives run over groups in Megatron's rank order tp-cp-dp-pp: a group of n ranks spaced
// `stride` chips apart shares a supernode cps / stride at a time.
// Memory: bf16 weights, fp32 main gradients and fp32 master weights and Adam moments (18 bytes per
// parameter, Korthikanti et al. fig. 1), sharded by ZeRO stage 1 (optimizer), 2 (+ gradients),
// 3 (+ weights) over DP x CP; activations per layer and token (ibid. sec. 4): attention 11 h
// (6 h + 4 h kv_heads / heads with a fused kernel), MLP 3 h + 4 f (GeLU) or 6 f (SwiGLU), norms 4 h, of which 10 h are replicated over TP without
// sequence parallelism, plus 5 a s / t for unfused attention scores; full recomputation keeps the
// layer input (2 h), selective with a fused kernel drops the norm inputs (4 h) and activation
// outputs (2 f); scaled by the stored activation precision; the first stage holds the schedule's
// micro-batches in flight (1F1B pp; interleaved pp + (pp - 1) / v, ibid. sec. 4.2.3; DualPipe pp + 1)
// and its parameter copies (DualPipe: two stages' weights and gradients; the optimizer state of
// each parameter once, sharded over the two holders); 5 % of HBM reserved.
#include <algorithm>
#include <cmath>

#include "podperf/core/operators.hpp"
#include "podperf/core/topology.hpp"
#include "podperf/core/training_memo.hpp"
#include "podperf/core/workload.hpp"

namespace podperf {

const char* to_string(Recompute r) {
  switch (r) {
    case Recompute::none: return "none";
    case Recompute::selective: return "selective";
    case Recompute::full: return "full";
  }
  return "?";
}

const char* to_string(TpOverlap o) {
  switch (o) {
    case TpOverlap::none: return "none";
    case TpOverlap::pipelined: return "pipelined";
  }
  return "?";
}

const char* to_string(AttnKernel k) {
  switch (k) {
    case AttnKernel::flash: return "flash";
    case AttnKernel::unfused: return "unfused";
  }
  return "?";
}

namespace {

constexpr Precision kAct = Precision::bf16;  // activations between operators

using Pass = PassCost;
using Layer = LayerCost;

void add(Pass& p, const OpTime& t, double op_flops) {
  (t.compute_s >= t.memory_s ? p.compute : p.memory) += std::max(t.compute_s, t.memory_s);
  p.overhead += t.overhead_s;
  p.flops += op_flops;
}
void add(Pass& p, const Pass& q, double times) {
  p.compute += q.compute * times;
  p.memory += q.memory * times;
  p.overhead += q.overhead * times;
  p.flops += q.flops * times;
}

// Collective among n ranks spaced `stride` chips apart (collective() composes the tiers).
double group_time(const System& s, Coll c, int n, int stride, double S) {
  return collective(s, c, n, S, Algo::automatic, stride).time_s;
}

// Adds an operator's forward and its backward (`bf` x the FLOPs, `bb` x the bytes, one more launch).
// Launches are the training stack's.
void fwd_bwd(const System& s, Layer& l, const Op& o, double bf, double bb, bool gemm = false, bool attn = false,
             bool selective = false) {
  Op b = o;
  b.flops *= bf;
  b.bytes *= bb;
  const double launch = s.train_stack.launch_us;
  // A GEMM runs at the training stack's share of the chip's GEMM efficiency: its compute time over
  // that share (the FLOPs counted stay the operator's).
  Op of = o;
  if (gemm) {
    of.flops /= s.train_stack.train_gemm_scale;
    b.flops /= s.train_stack.train_gemm_scale;
  }
  const OpTime tf = roofline(s.chip, of, launch), tb = roofline(s.chip, b, launch);
  add(l.fwd, tf, o.flops);
  add(l.bwd, tb, b.flops * (gemm ? s.train_stack.train_gemm_scale : 1));
  if (gemm) l.gemm_s += std::max(tf.compute_s, tf.memory_s) + std::max(tb.compute_s, tb.memory_s);
  if (selective) add(l.sel_fwd, tf, o.flops);
  if (attn) l.attn_s += tf.time_s + tb.time_s;
}

Layer layer_cost(const System& s, const Model& m, const TrainingSetup& x, bool moe_layer) {
  const Parallel& p = x.par;
  const double t = p.tp, h = m.hidden;
  const double T = double(x.micro_batch) * x.seq / p.cp;  // tokens of the TP group in one micro-batch
  const double Tn = x.sequence_parallel ? T / t : T;       // rows of norms and dropout on this chip
  const Precision w = x.precision;
  Layer l;
  auto gemm = [&](double rows, double n, double k) { fwd_bwd(s, l, ops::gemm(rows, n, k, w, w, w), 2, 2, true); };
  // Elementwise operator; `cheap`: a norm or activation function, what selective recomputation repeats
  // with a fused attention kernel (Megatron-Core recompute modules layernorm / moe_act; DeepSeek-V3
  // recomputes its RMSNorms, arXiv 2412.19437 sec. 3.3.3).
  const bool sel_cheap = x.attn_kernel == AttnKernel::flash;
  auto elem = [&](double n, double reads, double writes, double fpe, bool cheap = false) {
    fwd_bwd(s, l, ops::elementwise(n, reads, writes, fpe, kAct), 1, 2, false, false, cheap && sel_cheap);
  };
  // Attention block: norm, Q/K/V (or MLA down/up) projections, core, output projection, dropout + residual.
  const double vdim = m.attention == Attention::mla ? m.v_head_dim : m.head_dim;
  const double o_params = double(m.heads) * vdim * h;
  elem(Tn * h, 1, 1, 4, true);
  gemm(T, (attention_params(m) - o_params) / (t * h), h);
  const double heads = double(m.heads) / t, b = x.micro_batch, sq = x.seq;
  if (x.attn_kernel == AttnKernel::flash) {
    Op core;
    if (m.attention == Attention::mla) {
      const ops::MlaShape sh{heads, double(m.kv_lora_rank), double(m.qk_rope_dim), double(m.qk_nope_dim), vdim};
      core = ops::mla_prefill(b, sq, sh, kAct);
    } else {
      const ops::AttnShape sh{heads, std::max(1.0, double(m.kv_heads) / t), double(m.head_dim)};
      core = ops::attention_prefill(b, sq, sh, kAct);
    }
    // Each CP rank holds s / cp queries against the whole sequence's keys (Llama 3's all-gathered
    // K/V, Megatron's ring), its chunks paired head-and-tail so that every rank sees 1 / cp of the
    // causal scores (arXiv 2407.21783 sec. 3.3.2): FLOPs, traffic and exponentials over cp.
    core.flops /= p.cp;
    core.bytes /= p.cp;
    core.exps /= p.cp;
    fwd_bwd(s, l, core, 2.5, 2, false, true);
  } else {
    // Unfused: batched GEMMs over the full s x s scores (the causal mask is applied, not skipped),
    // then scale-mask-softmax and dropout (with a one-byte mask) over them in HBM.
    const double qk = m.attention == Attention::mla ? m.qk_nope_dim + m.qk_rope_dim : m.head_dim;
    const double bh = b * heads / p.cp;
    Op qkt = ops::gemm(sq, sq, qk, kAct, kAct, kAct), pv = ops::gemm(sq, vdim, sq, kAct, kAct, kAct);
    for (Op* o : {&qkt, &pv}) {
      o->flops *= bh;
      o->bytes *= bh;
      fwd_bwd(s, l, *o, 2, 2, false, true, true);
    }
    const double scores = bh * sq * sq;
    fwd_bwd(s, l, ops::elementwise(scores, 1, 1, 5, kAct), 1, 2, false, true, true);    // softmax
    fwd_bwd(s, l, ops::elementwise(scores, 1, 1.5, 1, kAct), 1, 2, false, true, true);  // dropout
  }
  gemm(T, h, o_params / (t * h));
  elem(Tn * h, 2, 1.5, 2);
  // TP collectives after the attention block and after a dense FFN block: the same bytes.
  const double tp_block = t <= 1                ? 0
                          : x.sequence_parallel ? group_time(s, Coll::all_gather, p.tp, 1, T * h * 2) +
                                                      group_time(s, Coll::reduce_scatter, p.tp, 1, T * h * 2)
                                                : group_time(s, Coll::all_reduce, p.tp, 1, T * h * 2);
  l.tp_s += tp_block;
  if (p.cp > 1)  // ring attention: every rank receives the K and V of the other chunks
    l.cp_s += group_time(s, Coll::all_gather, p.cp, p.tp, b * sq * kv_elements_per_token_layer(m) * 2);
  // FFN block: norm, FFN (GeLU: 2 matrices; SwiGLU: 3), dropout + residual.
  elem(Tn * h, 1, 1, 4, true);
  if (!moe_layer) {
    const double f = m.ffn / t;
    if (m.ffn_gated) {
      gemm(T, 2 * f, h);
      elem(T * f, 2, 1, 3, true);
    } else {
      gemm(T, f, h);
      elem(T * f, 1, 1, 8, true);
    }
    gemm(T, h, f);
    l.tp_s += tp_block;
  } else {
    // Tokens split over the TP ranks; k expert copies each; experts spread evenly over EP.
    const double tc = T / t, k = m.experts_per_token;
    const double e = double(m.experts + x.redundant_experts) / p.ep, slots = tc * k;
    const double ef = m.expert_ffn;
    gemm(tc, m.experts, h);                 // router
    elem(slots * h, 1, 1, 0);               // permute
    fwd_bwd(s, l, ops::grouped_gemm(std::ceil(e), slots / std::ceil(e), 2 * ef, h, w, w, w), 2, 2, true);
    elem(slots * ef, 2, 1, 3, true);
    fwd_bwd(s, l, ops::grouped_gemm(std::ceil(e), slots / std::ceil(e), h, ef, w, w, w), 2, 2, true);
    elem(slots * h, 1, 1, 2);               // unpermute and weight
    if (m.shared_experts > 0) {
      gemm(tc, 2 * ef * m.shared_experts, h);
      elem(tc * ef * m.shared_experts, 2, 1, 3, true);
      gemm(tc, h, ef * m.shared_experts);
    }
    if (p.ep > 1)  // dispatch (FP8 when the GEMMs are) and combine (bf16)
      l.ep_s += group_time(s, Coll::all_to_all, p.ep, p.tp * p.cp, slots * h * bytes_per_element(w)) +
                group_time(s, Coll::all_to_all, p.ep, p.tp * p.cp, slots * h * 2);
  }
  elem(Tn * h, 2, 1.5, 2);
  return l;
}

// The layers of one stage and the LM head with its loss, for one micro-batch on one chip.
StageCost stage_cost(const System& s, const Model& m, const TrainingSetup& x) {
  StageCost c;
  if (m.dense_layers > 0) c.dense = layer_cost(s, m, x, false);
  if (m.moe_layers() > 0) c.moe = layer_cost(s, m, x, true);
  const double T = double(x.micro_batch) * x.seq / x.par.cp, vt = double(m.vocab) / x.par.tp;
  fwd_bwd(s, c.head, ops::gemm(T, vt, m.hidden, x.precision, x.precision, x.precision), 2, 2, true);
  fwd_bwd(s, c.head, ops::elementwise(T * vt, 2, 1, 5, Precision::fp32), 1, 1);  // softmax cross-entropy
  return c;
}

// Exposed part of `comm` when a fraction f of it can run under `window` seconds of compute.
double hide(double comm, double window, double f) { return comm * (1 - f) + std::max(0.0, comm * f - window); }

// Activation bytes per token and layer (bf16), Korthikanti et al. sec. 4 generalised to the FFN width.
double act_bytes_per_token(const Model& m, const TrainingSetup& x, bool moe_layer) {
  const double h = m.hidden, t = x.par.tp;
  if (x.recompute == Recompute::full) return 2 * h / (x.sequence_parallel ? t : 1);
  const double f = moe_layer ? double(m.expert_ffn) * (m.experts_per_token + m.shared_experts) : m.ffn;
  // Attention: 11 h with an unfused core (input, Q, K, V, output-projection input, dropout mask);
  // a fused core stores input, Q, O and the K/V heads: 6 h + 4 h kv_heads / heads (MLA: per-head K, V).
  const double kv_share = m.attention == Attention::mla ? 1.0 : double(m.kv_heads) / m.heads;
  const double attn = x.attn_kernel == AttnKernel::flash ? 6 * h + 4 * h * kv_share : 11 * h;
  double total = attn + 3 * h + (m.ffn_gated ? 6 : 4) * f + 4 * h, replicated = 10 * h;
  if (x.recompute == Recompute::selective && x.attn_kernel == AttnKernel::flash) {
    total -= 4 * h + 2 * f;  // norm inputs and activation-function outputs are recomputed
    replicated -= 4 * h;
  }
  double bytes = x.sequence_parallel ? total / t : replicated + (total - replicated) / t;
  if (x.attn_kernel == AttnKernel::unfused && x.recompute != Recompute::selective)
    bytes += 5.0 * m.heads * x.seq / (x.par.cp * t);
  return bytes;
}

}  // namespace

StageCost& TrainMemo::slot(const System& s, const Model& m, const TrainingSetup& x, bool& fresh) {
  const Key k{&s, &m, x.par.tp, x.par.cp, x.par.ep, x.micro_batch, x.seq, x.redundant_experts,
              static_cast<std::uint8_t>(x.precision), static_cast<std::uint8_t>(x.attn_kernel),
              static_cast<std::uint8_t>(x.sequence_parallel)};
  std::uint64_t h = reinterpret_cast<std::uintptr_t>(&s) ^ (reinterpret_cast<std::uintptr_t>(&m) << 1);
  for (std::uint64_t v : {std::uint64_t(k.tp), std::uint64_t(k.cp), std::uint64_t(k.ep), std::uint64_t(k.micro_batch),
                          std::uint64_t(k.seq), std::uint64_t(k.redundant), std::uint64_t(k.precision),
                          std::uint64_t(k.kernel), std::uint64_t(k.sp)})
    h = (h ^ v) * 0x100000001B3ull;
  static_assert(kEntries == 64);
  Entry& e = entries_[static_cast<std::size_t>((h * 0x9E3779B97F4A7C15ull) >> 58)];  // top 6 bits
  fresh = !e.used || !(e.key == k);
  (fresh ? misses : hits) += 1;
  e.used = true;
  e.key = k;
  return e.cost;
}

Reason check_schedule(const PipeSchedule& sc, int pp, int v, long long m, int layers) {
  if (pp <= 1) return v > 1 ? Reason::schedule : Reason::ok;  // interleaving needs a pipeline
  if (v > 1 && (!sc.interleaved || v > sc.max_interleave)) return Reason::schedule;
  if (sc.micro_multiple_pp && m % pp != 0) return Reason::schedule;
  if (double(m) < sc.min_micro_per_pp * pp) return Reason::schedule;
  if (sc.micro_even && m % 2 != 0) return Reason::schedule;
  if (sc.pp_even && pp % 2 != 0) return Reason::schedule;
  if (sc.layers_divide && (layers + sc.layer_pad) % (static_cast<long long>(pp) * v) != 0) return Reason::schedule;
  return Reason::ok;
}

Estimate estimate_train(const System& s, const Model& m, const TrainingSetup& x) { return train_step(s, m, x, false); }

// `stop_early`: return as soon as the plan cannot run (the plan search skips the step time then).
Estimate train_step(const System& s, const Model& m, const TrainingSetup& x, bool stop_early, TrainMemo* memo) {
  Estimate e;
  e.mode = Mode::train;
  const Parallel& p = x.par;
  e.par = p;
  e.batch = x.global_batch;
  e.instance_chips = p.chips();
  e.idle_chips = std::max(0, s.chips - p.chips());
  e.reason = check_parallel(s, m, p, x.seq);
  if (p.tp < 1 || p.dp < 1 || p.ep < 1 || p.pp < 1 || p.cp < 1 || x.seq < 1) return e;  // no plan to time
  if (e.reason == Reason::ok && m.moe()) {
    const int copies = m.experts + x.redundant_experts;
    if (p.ep > copies || copies % p.ep != 0) e.reason = Reason::ep_experts;
  }
  if (e.reason == Reason::ok && (x.micro_batch < 1 || x.interleave < 1 || x.seq < 1)) e.reason = Reason::batch_divides;
  if (e.reason == Reason::ok && double(p.pp) * x.interleave > m.layers) e.reason = Reason::pp_layers;
  if (e.reason == Reason::ok && peak_tflops(s.chip, x.precision) <= 0) e.reason = Reason::no_precision;
  const double per_replica = double(p.dp) * std::max(1, x.micro_batch);
  if (e.reason == Reason::ok && x.global_batch < p.dp) e.reason = Reason::batch_small;
  if (e.reason == Reason::ok && std::fmod(double(x.global_batch), per_replica) != 0) e.reason = Reason::batch_divides;
  const double micro = std::max(1.0, std::floor(double(x.global_batch) / per_replica));  // per pipeline
  // One stage runs no schedule: plain (1F1B's) terms, one copy of the parameters.
  const PipeSchedule sched = p.pp > 1 ? x.schedule : PipeSchedule{};
  if (e.reason == Reason::ok) e.reason = check_schedule(sched, p.pp, x.interleave, static_cast<long long>(micro), m.layers);
  const double tokens = double(x.global_batch) * x.seq;
  const double chips = p.chips();
  const double h = m.hidden, v = std::max(1, x.interleave);
  const double f = x.overlap >= 0 ? x.overlap : s.train_stack.hidden_frac;
  const bool full = x.recompute == Recompute::full;

  // Parameters on this chip: attention, dense FFN, norms over TP; experts over EP; embedding and
  // LM head over TP on each stage (a bound for the first and last stage).
  const double dense_chip = (m.layers * attention_params(m) + m.dense_layers * dense_ffn_params(m)) / (double(p.tp) * p.pp) +
                            (m.moe() ? m.moe_layers() * (m.shared_experts * expert_params(m) + router_params(m)) / (double(p.tp) * p.pp) : 0) +
                            (m.tied_embeddings ? 1 : 2) * embedding_params(m) / p.tp;
  const double expert_chip = m.moe() ? double(m.moe_layers()) * (m.experts + x.redundant_experts) / p.ep * expert_params(m) / p.pp : 0;
  const int dpcp = p.dp * p.cp;
  const int edp = m.moe() ? std::max(1, p.tp * p.dp * p.cp / p.ep) : 1;  // expert-DP group
  // Memory per chip.
  const double gb = 1e-9;
  e.mem.capacity = s.chip.hbm_gb;
  const double wshard = dense_chip / dpcp + expert_chip / edp;
  const double copies = sched.param_copies;
  e.mem.weights = (x.zero >= 3 ? wshard : dense_chip + expert_chip) * 2 * copies * gb;
  e.mem.gradients = (x.zero >= 2 ? wshard : dense_chip + expert_chip) * 4 * copies * gb;
  e.mem.optimizer = (x.zero >= 1 ? wshard : dense_chip + expert_chip) * 12 * gb;
  const double act_scale = bytes_per_element(x.activations) / 2;
  const double T = double(x.micro_batch) * x.seq / p.cp;
  const double dense_stage = double(m.dense_layers) / p.pp, moe_stage = double(m.moe_layers()) / p.pp;
  const double per_token = (dense_stage * act_bytes_per_token(m, x, false) + moe_stage * act_bytes_per_token(m, x, true));
  const double in_flight = std::min(micro, sched.act_per_pp * p.pp + sched.act_offset) + sched.act_interleave * (p.pp - 1) / v;
  e.mem.activations = per_token * act_scale * T * std::min(in_flight, micro * v) * gb;
  e.mem.reserve = 0.05 * s.chip.hbm_gb;  // no KV cache to fragment: framework buffers only
  if (e.reason == Reason::ok && e.mem.used() > e.mem.capacity - e.mem.reserve) e.reason = Reason::memory;
  if (e.reason != Reason::ok && stop_early) return e;

  // One micro-batch through the slowest (last) stage: its layers, the LM head and the loss.
  bool fresh = true;
  StageCost local;
  StageCost& sc = memo ? memo->slot(s, m, x, fresh) : local;
  if (fresh) sc = stage_cost(s, m, x);
  Pass mb;
  double fwd_mb = 0;  // forward time of the micro-batch (the parameter all-gather's window)
  double gemm_s = 0, attn_s = 0, tp_s = 0, ep_s = 0, cp_s = 0;
  for (int kind = 0; kind < 2; ++kind) {
    const double n = kind ? moe_stage : dense_stage;
    if (n <= 0) continue;
    const Layer& l = kind ? sc.moe : sc.dense;
    add(mb, l.fwd, n * (full ? 2 : 1));
    fwd_mb += l.fwd.total() * n;
    add(mb, l.bwd, n);
    if (x.recompute == Recompute::selective) add(mb, l.sel_fwd, n);
    gemm_s += l.gemm_s * n;
    attn_s += l.attn_s * n;
    tp_s += l.tp_s * n * (full ? 3 : 2);
    ep_s += l.ep_s * n * (full ? 3 : 2);
    cp_s += l.cp_s * n * (full ? 4 : 3);  // forward K/V; backward K/V and their gradients
  }
  const Layer& head = sc.head;  // on the last stage only
  add(mb, head.fwd, 1);
  fwd_mb += head.fwd.total();
  add(mb, head.bwd, 1);
  gemm_s += head.gemm_s;
  double head_s = head.fwd.total() + head.bwd.total();
  // Communication kernels that run beside compute hold a share u of the compute units (the training
  // stack's comm_units_prefill: DualPipe's all-to-all takes 20 of H800's 132 SMs, arXiv 2412.19437
  // sec. 3.2.2); while there is communication to hide, compute runs on the rest, 1 / (1 - u) slower.
  double slow = 1, grow = 1;  // compute time, and all the micro-batch's operator time, scaled by
  if (const double u = s.train_stack.comm_units_prefill; u > 0 && u < 1 && f > 0 && tp_s + ep_s + cp_s > 0) {
    const double before = mb.total();
    slow = 1 / (1 - u);
    mb.compute *= slow;
    grow = before > 0 ? mb.total() / before : 1;
    fwd_mb *= grow;
    head_s *= grow;
    gemm_s *= slow;
    attn_s *= slow;
  }
  const double tp_exposed = x.tp_overlap == TpOverlap::pipelined
                                ? tp_s / p.tp + std::max(0.0, tp_s * (p.tp - 1) / p.tp - gemm_s)
                                : tp_s;
  const double ep_exposed = hide(ep_s, mb.total(), f);
  const double cp_exposed = hide(cp_s, attn_s, f);
  const double pp_s = p.pp > 1 ? 2 * v * group_time(s, Coll::p2p, 2, p.tp * p.cp * p.dp, T * h * 2 / p.tp) : 0;

  const double bwd_mb = mb.total() - fwd_mb;
  double dp_s = 0;
  auto grad_sync = [&](double params, int n, int stride) {  // bf16 gradients and parameters
    if (n <= 1 || params <= 0) return 0.0;
    const double bytes = params * 2;
    if (x.zero >= 3) {  // every micro-batch: gather for forward (and recompute) and backward, scatter gradients
      const double ag = group_time(s, Coll::all_gather, n, stride, bytes);
      const double rs = group_time(s, Coll::reduce_scatter, n, stride, bytes);
      return micro * hide(ag * (full ? 3 : 2) + rs, mb.total(), f);
    }
    if (x.zero >= 1)
      return hide(group_time(s, Coll::reduce_scatter, n, stride, bytes), bwd_mb, f) +
             hide(group_time(s, Coll::all_gather, n, stride, bytes), fwd_mb, f);
    return hide(group_time(s, Coll::all_reduce, n, stride, bytes), bwd_mb, f);
  };
  dp_s = grad_sync(dense_chip, dpcp, p.tp) + grad_sync(expert_chip, edp, p.ep);

  // Optimizer step over this chip's shard: mixed-precision Adam reads the fp32 gradient twice (norm,
  // update), reads and writes fp32 master weights and both moments, writes the bf16 weights and
  // zeroes the gradient: 4 + 4 + 24 + 2 + 4 = 38 bytes per parameter (Kingma & Ba 2015; Micikevicius
  // et al. 2018); HBM-bound.
  const double shard = dense_chip / (x.zero >= 1 ? dpcp : 1) + expert_chip / (x.zero >= 1 ? edp : 1);
  const OpTime opt = roofline(s.chip, Op{shard * 10, shard * 38, Precision::fp32, 0, false}, s.train_stack.launch_us);

  auto part = [&](Part q) -> double& { return e.breakdown[static_cast<int>(q)]; };
  part(Part::compute) = micro * mb.compute;
  part(Part::memory) = micro * mb.memory + std::max(opt.compute_s, opt.memory_s);
  part(Part::overhead) = micro * mb.overhead + opt.overhead_s;
  part(Part::tp_comm) = micro * tp_exposed;
  part(Part::ep_comm) = micro * ep_exposed;
  part(Part::cp_comm) = micro * cp_exposed;
  part(Part::pp_comm) = micro * pp_s;
  part(Part::dp_comm) = dp_s;
  // The schedule's idle time, in micro-batch times of a stage without the LM head.
  const double comm_mb = tp_exposed + ep_exposed + cp_exposed + pp_s;
  const double ops_stage = mb.total() - head_s, stage = ops_stage + comm_mb;
  const double F = ops_stage > 0 ? stage * (fwd_mb - head.fwd.total() * grow) / ops_stage : 0, B = stage - F;
  const double W = (gemm_s - head.gemm_s * slow) / 3, FB = std::max(ops_stage, comm_mb);
  const double idle_slots = (sched.stages_per_pp * p.pp + sched.stages_offset) / (sched.interleaved ? v : 1);
  part(Part::bubble) = p.pp > 1 ? std::max(0.0, idle_slots * (sched.f * F + sched.b * B + sched.w * W + sched.fb * FB)) : 0;
  e.bubble_frac = stage > 0 ? part(Part::bubble) / (micro * stage) : 0;
  e.step_time_s = 0;
  for (int i = 0; i < kParts; ++i) e.step_time_s += e.breakdown[i];

  e.tokens_per_s = tokens / e.step_time_s;
  e.tokens_per_s_per_chip = e.tokens_per_s / chips;
  const double peak = peak_tflops(s.chip, x.precision);
  const double fwd_token = forward_flops_per_token(m, x.seq);
  e.mfu = peak > 0 ? fwd_token * 3 * e.tokens_per_s_per_chip / (peak * 1e12) : 0;
  e.compute_util = peak > 0 ? std::min(1.0, micro * mb.flops / (peak * 1e12 * e.step_time_s)) : 0;
  e.activity = std::min(1.0, (part(Part::compute) + part(Part::memory) + part(Part::overhead)) / e.step_time_s);
  const int big = static_cast<int>(std::max_element(e.breakdown.begin(), e.breakdown.end()) - e.breakdown.begin());
  e.bound = big == static_cast<int>(Part::compute) ? Bound::compute : Bound::memory;
  if (x.tokens > 0) {
    e.train_time_s = x.tokens / e.tokens_per_s;
    e.chip_hours = e.train_time_s * chips / 3600;
  }

  return e;
}

}  // namespace podperf
