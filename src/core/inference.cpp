// LLM inference on a system: prefill, decode, and prefill/decode-disaggregated serving.
//
// An instance of tp x dp x pp chips serves `batch` sequences: attention runs data-parallel over dp
// groups of tp chips (each TP rank holds heads / tp), MoE experts are spread over ep chips with
// all-to-all dispatch and combine (DeepSeek-V3 report sec. 3.4; Zuo et al. arXiv 2506.12708 sec. 4),
// and pp pipeline stages each hold layers / pp with pp micro-batches in flight. Each operator is
// timed by the roofline of the chip; each collective by the fabric. A fraction `overlap` of the
// communication hides behind compute, as two-micro-batch overlap does in DeepSeek's and SGLang's
// serving systems (DeepSeek open-infra-index, day 6 "one more thing"; LMSYS 2025-05-05 large-scale EP).
#include <algorithm>
#include <cmath>

#include "podperf/core/aggregated.hpp"
#include "podperf/core/attention_kinds.hpp"
#include "podperf/core/operators.hpp"
#include "podperf/core/topology.hpp"
#include "podperf/core/workload.hpp"

namespace podperf {

double experts_hit(double e, double E, double k, double N) noexcept {
  return E > 0 ? e * (1 - std::pow(std::max(0.0, 1 - k / E), N)) : e;
}

const char* to_string(Mode m) {
  switch (m) {
    case Mode::prefill: return "prefill";
    case Mode::decode: return "decode";
    case Mode::serve: return "serve";
    case Mode::train: return "train";
  }
  return "?";
}

const char* to_string(Group g) {
  switch (g) {
    case Group::attn_proj: return "attn_proj";
    case Group::dense_ffn: return "dense_ffn";
    case Group::experts: return "experts";
    case Group::shared_experts: return "shared_experts";
    case Group::lm_head: return "lm_head";
    case Group::count: break;
  }
  return "?";
}

const char* reason_text(Reason r) {
  switch (r) {
    case Reason::ok: return "ok";
    case Reason::too_many_chips: return "the parallel plan needs more chips than the system has";
    case Reason::tp_beyond_scaleup: return "TP must stay inside one supernode's scale-up fabric";
    case Reason::tp_heads: return "TP must divide the number of attention heads";
    case Reason::ep_dense: return "EP > 1 needs a mixture-of-experts model";
    case Reason::ep_group: return "EP must divide TP x DP (the chips of one pipeline stage)";
    case Reason::ep_experts: return "experts (plus redundant experts) must divide evenly over EP";
    case Reason::pp_layers: return "more pipeline stages than layers";
    case Reason::cp_seq: return "context parallelism must divide the sequence length";
    case Reason::batch_small: return "fewer sequences than data-parallel groups";
    case Reason::batch_divides: return "the global batch must divide into DP x micro-batch";
    case Reason::no_precision: return "the chip has no unit for this precision or a wider one";
    case Reason::memory: return "does not fit in HBM";
    case Reason::tpot_unreachable: return "no batch meets the TPOT target";
    case Reason::ttft_unreachable: return "the TTFT target cannot be met";
    case Reason::schedule: return "the pipeline schedule cannot run this plan (micro-batches, stages or layers per chunk)";
  }
  return "?";
}

const char* to_string(Part p) {
  switch (p) {
    case Part::compute: return "compute";
    case Part::memory: return "memory";
    case Part::overhead: return "overhead";
    case Part::tp_comm: return "tp_comm";
    case Part::ep_comm: return "ep_comm";
    case Part::pp_comm: return "pp_comm";
    case Part::dp_comm: return "dp_comm";
    case Part::cp_comm: return "cp_comm";
    case Part::bubble: return "bubble";
    case Part::kv_transfer: return "kv_transfer";
    case Part::count: break;
  }
  return "?";
}

Reason check_parallel(const System& s, const Model& m, const Parallel& p, int seq) {
  if (p.tp < 1 || p.dp < 1 || p.ep < 1 || p.pp < 1 || p.cp < 1) return Reason::too_many_chips;
  if (p.chips() > s.chips) return Reason::too_many_chips;
  if (p.tp > s.chips_per_supernode) return Reason::tp_beyond_scaleup;
  if (m.heads % p.tp != 0) return Reason::tp_heads;
  if (!m.moe() && p.ep > 1) return Reason::ep_dense;
  if ((p.tp * p.dp) % p.ep != 0) return Reason::ep_group;
  if (p.pp > m.layers) return Reason::pp_layers;
  if (seq > 0 && seq % p.cp != 0) return Reason::cp_seq;
  return Reason::ok;
}

namespace {

double B(Precision p) { return bytes_per_element(p); }

// Accumulates op times into the breakdown: an op's roofline time goes to compute or memory by its
// bound, its fixed overhead to overhead.
struct Acc {
  std::array<double, kParts> part{};
  double busy_s = 0;   // operator time (compute or memory bound) excluding overhead
  double flops = 0;    // per chip
  double launch_us = -1;  // per operator; < 0: the stack's eager launch
  void op(const System& s, const Op& o, double times = 1) {
    const OpTime t = roofline(s.chip, o, launch_us >= 0 ? launch_us : s.stack.launch_us);
    const double body = std::max(t.compute_s, t.memory_s) * times;
    part[static_cast<int>(t.compute_s >= t.memory_s ? Part::compute : Part::memory)] += body;
    part[static_cast<int>(Part::overhead)] += t.overhead_s * times;
    busy_s += body + t.overhead_s * times;
    flops += o.flops * times;
  }
  // Removes an accumulation (the part of this one recorded before a point).
  void sub(const Acc& o) {
    for (int i = 0; i < kParts; ++i) part[i] -= o.part[i];
    busy_s -= o.busy_s;
    flops -= o.flops;
  }
  // Adds another accumulation `times` over (e.g. one layer for every layer of its kind).
  void add(const Acc& o, double times = 1) {
    for (int i = 0; i < kParts; ++i) part[i] += o.part[i] * times;
    busy_s += o.busy_s * times;
    flops += o.flops * times;
  }
  double total() const {
    double s = 0;
    for (double x : part) s += x;
    return s;
  }
};

// Launch cost per operator of a pass: a decode pass of at most graph_max_batch sequences per rank
// replays a captured graph (graph_launch_us per operator), any other pass launches eagerly.
double pass_launch_us(const Stack& st, bool decode, double seqs) {
  return decode && st.graph_max_batch > 0 && seqs <= st.graph_max_batch ? st.graph_launch_us : st.launch_us;
}

// Exposed communication when a fraction f of it can hide behind `compute` seconds of work.
double exposed(double comm, double compute, double f) { return comm * (1 - f) + std::max(0.0, comm * f - compute); }

double experts_per_chip(const Model& m, const Parallel& p, int redundant) {
  return m.moe() ? double(m.experts + redundant) / p.ep : 0;
}

// One transformer layer's operators and communication on one chip for T tokens of `seqs` sequences
// (per DP group); decode reads a KV cache of `ctx` tokens, prefill attends causally over `ctx` = the
// prompt length.
struct Block {
  Acc comp;          // every operator of the layer
  Acc ffn;           // those of the FFN / MoE block alone
  double tp_s = 0, ep_s = 0;
  double tp_ffn_s = 0;  // the FFN block's share of tp_s
};
Block block(const System& s, const Model& m, const InferenceSetup& x, const Parallel& p, Attention kind,
            bool moe_layer, bool decode, double T, double seqs, double ctx, double draft, double launch_us) {
  const Precision a = x.act;
  const Format wa = x.weight_format(Group::attn_proj), wf = x.weight_format(Group::dense_ffn),
               we = x.weight_format(Group::experts), ws = x.weight_format(Group::shared_experts);
  const double h = m.hidden;
  Block b;
  Acc& comp = b.comp;
  comp.launch_us = launch_us;
  // Attention block: residual add, norm, projections (all of W_Q, W_K, W_V, W_O or MLA's down/up
  // projections), RoPE, the attention core over the cache, the TP all-reduce.
  comp.op(s, ops::elementwise(T * h, 2, 1, 1, a));
  comp.op(s, ops::elementwise(T * h, 1, 1, 4, a));
  comp.op(s, ops::gemm(T, attention_params(m, kind) / (p.tp * h), h, wa, a, wa.p));
  // RoPE, the core over the cache, the indexer and the cache write: one dispatch on the kind.
  const OpList at = attention_ops(m, kind, p.tp, decode, seqs, ctx, draft, {x.attn, x.kv_fmt(), a});
  for (int i = 0; i < at.n; ++i) comp.op(s, at.op[i]);
  if (p.tp > 1) b.tp_s += collective(s, Coll::all_reduce, p.tp, T * h * B(a)).time_s;
  // FFN block: residual add, norm, then the FFN; SwiGLU reads gate and up, writes one (3 FLOPs).
  const Acc before_ffn = comp;
  const double tp_before_ffn = b.tp_s;
  comp.op(s, ops::elementwise(T * h, 2, 1, 1, a));
  comp.op(s, ops::elementwise(T * h, 1, 1, 4, a));
  if (!moe_layer) {
    comp.op(s, ops::gemm(T, 3.0 * m.ffn / p.tp, h, wf, a, wf.p));
    comp.op(s, ops::elementwise(T * m.ffn / p.tp, 2, 1, 3, a));
    if (p.tp > 1) b.tp_s += collective(s, Coll::all_reduce, p.tp, T * h * B(a)).time_s;
  } else {
    const double tc = T / p.tp;  // tokens this chip dispatches
    const double k = m.experts_per_token;
    const double e = experts_per_chip(m, p, x.redundant_experts);
    // Busiest chip's load over the mean: at most ep (all of it on one chip), 1 when one chip holds
    // every expert.
    const double imbalance = std::min(double(p.ep), x.default_eplb ? s.stack.eplb_imbalance : x.expert_imbalance);
    const double slots = tc * k * imbalance;  // expert token-slots on the busiest chip
    // Experts the step touches on this chip: all tokens of the EP group route over E experts.
    const double hit = std::max(1.0, experts_hit(std::ceil(e), m.experts, k, tc * p.ep));
    const Precision disp = we.bytes() <= 1.1 ? we.p : a;  // 8-bit or narrower experts: quantised dispatch
    comp.op(s, ops::gemm(tc, m.experts, h, Precision::bf16, a, Precision::bf16));  // router
    comp.op(s, ops::elementwise(slots * h, 1, 1, 0, a));  // permute tokens into expert order
    comp.op(s, ops::grouped_gemm(hit, slots / hit, 3.0 * m.expert_ffn, h, we, a, we.p));
    comp.op(s, ops::elementwise(slots * m.expert_ffn, 2, 1, 3, a));  // SwiGLU
    comp.op(s, ops::elementwise(slots * h, 1, 1, 2, a));             // unpermute and weight
    if (m.shared_experts > 0) {
      comp.op(s, ops::gemm(tc, 3.0 * m.expert_ffn * m.shared_experts, h, ws, a, ws.p));
      comp.op(s, ops::elementwise(tc * m.expert_ffn * m.shared_experts, 2, 1, 3, a));
    }
    if (p.ep > 1) {
      // The busiest chip also receives `imbalance` x the mean share of the dispatch.
      b.ep_s += moe_all_to_all(s, p.ep, tc * imbalance, k, h * B(disp));  // dispatch
      b.ep_s += moe_all_to_all(s, p.ep, tc * imbalance, k, h * B(a));     // combine
    }
    if (p.tp > 1) b.tp_s += collective(s, Coll::all_gather, p.tp, T * h * B(a)).time_s;
  }
  b.ffn = comp;
  b.ffn.sub(before_ffn);
  b.tp_ffn_s = b.tp_s - tp_before_ffn;
  return b;
}

// One layer with its communication placed as the stack does it (the micro-batch schemes only where
// they beat one pass):
//   two-micro-batch: 2 max(compute(T/2) / (1 - u), comm(T/2)) -- each half's communication under the
//     other half's compute, the weights read by both halves (needs two halves: at least 2 tokens);
//   streams (or an explicit --overlap f): exposed = comm (1 - f) + max(0, comm f - compute / (1 - u)),
// where u is the fraction of compute units the communication kernels hold while they run beside
// compute (the stack's, by phase); with nothing to hide, compute runs on every unit.
void layer(const System& s, const Model& m, const InferenceSetup& x, const Parallel& p, Attention kind,
           bool moe_layer, bool decode, double T, double seqs, double ctx, double draft, double launch_us, Acc& acc) {
  const double u = decode ? s.stack.comm_units_decode : s.stack.comm_units_prefill;
  // One pass: a side stream hides a fraction f (none for a micro-batch scheme).
  Acc whole;
  {
    const Block b = block(s, m, x, p, kind, moe_layer, decode, T, seqs, ctx, draft, launch_us);
    const double comm = b.tp_s + b.ep_s;
    const double f = x.overlap >= 0 ? x.overlap
                     : s.stack.scheme == OverlapScheme::streams ? s.stack.hidden_frac
                                                                : 0;
    const double slow = comm > 0 && f > 0 ? 1 / (1 - u) : 1;
    whole.add(b.comp, slow);
    const double share = comm > 0 ? exposed(comm, b.comp.total() * slow, f) / comm : 0;
    whole.part[static_cast<int>(Part::tp_comm)] += b.tp_s * share;
    whole.part[static_cast<int>(Part::ep_comm)] += b.ep_s * share;
  }
  const bool halves = x.overlap < 0 && s.stack.scheme != OverlapScheme::streams && T >= 2 &&
                      (p.tp > 1 || (moe_layer && p.ep > 1));
  if (!halves) {
    acc.add(whole);
    return;
  }
  // Two micro-batches of T/2; the stack runs them where they pay (at a few tokens per chip the
  // doubled launches and kernel latencies can outweigh the overlap, and the one pass is kept).
  const Block h = block(s, m, x, p, kind, moe_layer, decode, T / 2, seqs / 2, ctx, draft, launch_us);
  const double comm = h.tp_s + h.ep_s;
  Acc split;
  if (decode && s.stack.scheme == OverlapScheme::two_stream) {
    auto at = [](const Acc& c, Part q) { return c.part[static_cast<int>(q)]; };
    // A stream's time on a fraction f of the units: its compute slows by 1/f; HBM and launches do not.
    auto on = [&](const Acc& c, double f) { return at(c, Part::compute) / f + at(c, Part::memory) + at(c, Part::overhead); };
    Acc attn = h.comp;
    attn.sub(h.ffn);
    const double a = s.stack.attention_stream_units;
    const double t_attn = on(attn, a) + (h.tp_s - h.tp_ffn_s);
    const double t_moe = on(h.ffn, 1 - a) + h.tp_ffn_s + h.ep_s;
    const double layer_s = 2 * std::max(t_attn, t_moe), alone = 2 * h.comp.total();
    // The breakdown: operator parts scaled to the time left after the exposed communication.
    const double exposed_comm = std::min(2 * comm, std::max(0.0, layer_s - alone));
    Acc ops = h.comp;
    const double scale = alone > 0 ? (layer_s - exposed_comm) / alone : 0;
    for (double& v : ops.part) v *= scale;
    split.add(ops, 2);
    if (comm > 0) {
      split.part[static_cast<int>(Part::tp_comm)] += exposed_comm * h.tp_s / comm;
      split.part[static_cast<int>(Part::ep_comm)] += exposed_comm * h.ep_s / comm;
    }
  } else {
    const double slow = 1 / (1 - u);
    const double comp = h.comp.total() * slow;
    split.add(h.comp, 2 * slow);
    const double share = comm > 0 ? 2 * std::max(0.0, comm - comp) / comm : 0;  // exposed / comm
    split.part[static_cast<int>(Part::tp_comm)] += h.tp_s * share;
    split.part[static_cast<int>(Part::ep_comm)] += h.ep_s * share;
  }
  acc.add(split.total() < whole.total() ? split : whole);
}

// A forward pass of the whole model (all pp stages, one micro-batch each) on one chip's share.
Acc forward(const System& s, const Model& m, const InferenceSetup& x, const Parallel& p, bool decode, double T,
            double seqs, double ctx, double draft) {
  Acc acc;
  // The pass replays a graph or launches eagerly as a whole (its micro-batch halves included).
  acc.launch_us = pass_launch_us(s.stack, decode, seqs);
  acc.op(s, ops::embedding(T, m.hidden, x.act));
  // Host and framework time of the stack per pass (scheduling, sampling, metadata), not hidden: a
  // fixed part per pass and a part per sequence of the rank's batch.
  acc.part[static_cast<int>(Part::overhead)] += s.stack.step_overhead_ms * 1e-3 + s.stack.per_seq_us * 1e-6 * seqs;
  for (int g = 0; g < m.n_groups; ++g) {  // one layer of each group, times its count
    Acc one;
    layer(s, m, x, p, m.groups[g].attention, m.groups[g].ffn == Ffn::moe, decode, T, seqs, ctx, draft, acc.launch_us, one);
    acc.add(one, m.groups[g].count);
  }
  // Multi-token prediction: each draft token runs one extra block (of the last group's kinds) on
  // `seqs` tokens.
  if (decode && draft > 0 && m.n_groups > 0) {
    const LayerGroup& last = m.groups[m.n_groups - 1];
    Acc mtp;
    layer(s, m, x, p, last.attention, last.ffn == Ffn::moe, true, seqs, seqs, ctx, 0, acc.launch_us, mtp);
    acc.add(mtp, draft);
  }
  // LM head: every token in decode, the last token of each prompt in prefill (plus the draft heads).
  const double head_rows = decode ? T + seqs * draft : seqs;
  const Format wh = x.weight_format(Group::lm_head);
  acc.op(s, ops::gemm(head_rows, double(m.vocab) / p.tp, m.hidden, wh, x.act, wh.p));
  // Pipeline: activations cross pp - 1 stage boundaries per micro-batch.
  if (p.pp > 1)
    acc.part[static_cast<int>(Part::pp_comm)] +=
        (p.pp - 1) * collective(s, Coll::p2p, 2, T * m.hidden * B(x.act)).time_s;
  return acc;
}

// Weights per chip (bytes): attention and dense FFN split over TP, experts over EP, all over PP.
// Each group at its own format (block scales included); the router and input embedding stay at
// `weights`.
double weight_bytes(const Model& m, const Parallel& p, const InferenceSetup& x) {
  auto by = [&](Group g) { return x.weight_format(g).bytes(); };
  double bytes = m.layers * attention_params(m) / p.tp * by(Group::attn_proj) +
                 m.dense_layers * dense_ffn_params(m) / p.tp * by(Group::dense_ffn);
  if (m.moe())
    bytes += m.moe_layers() * (experts_per_chip(m, p, x.redundant_experts) * expert_params(m) * by(Group::experts) +
                               m.shared_experts * expert_params(m) * by(Group::shared_experts) +
                               router_params(m) * B(x.weights));
  bytes /= p.pp;
  // Embedding and head (on the first and last stage).
  bytes += embedding_params(m) / p.tp * (B(x.weights) + by(Group::lm_head));
  return bytes;
}

// KV cache (and linear-attention state) per sequence held on one chip (bytes), block scales included.
double kv_bytes_per_seq(const Model& m, const Parallel& p, double ctx, Format kv) {
  return cache_bytes_seq(m, p.tp, ctx, kv) / p.pp;
}

void fill_memory(const System& s, const Model& m, const InferenceSetup& x, const Parallel& p, double seqs_per_chip,
                 double ctx, double act_tokens, Estimate& e) {
  const double gb = 1e-9;
  e.mem.capacity = s.chip.hbm_gb;
  e.mem.reserve = s.chip.hbm_gb * x.reserve(s.stack);
  e.mem.weights = weight_bytes(m, p, x) * gb;
  e.mem.kv_cache = seqs_per_chip * kv_bytes_per_seq(m, p, ctx, x.kv_fmt()) * gb;
  e.mem.activations = act_tokens * 8.0 * m.hidden * B(x.act) * gb;  // transient buffers of a few layers
  if (e.mem.used() > e.mem.capacity - e.mem.reserve && e.reason == Reason::ok) e.reason = Reason::memory;
}

void finish(Estimate& e, const Acc& acc, double step, double peak_tflops_compute) {
  e.breakdown = acc.part;
  e.step_time_s = step;
  const int big = static_cast<int>(std::max_element(acc.part.begin(), acc.part.end()) - acc.part.begin());
  e.bound = big == static_cast<int>(Part::compute) ? Bound::compute
            : big == static_cast<int>(Part::memory) ? Bound::memory
            : big == static_cast<int>(Part::overhead) ? Bound::overhead
                                                       : Bound::memory;
  e.compute_util = step > 0 ? std::min(1.0, acc.flops / (peak_tflops_compute * 1e12 * step)) : 0;
  e.activity = step > 0 ? std::min(1.0, acc.busy_s / step) : 0;
}

Reason check_setup(const System& s, const Model& m, const InferenceSetup& x, const Parallel& p) {
  Reason r = check_parallel(s, m, p);
  if (r != Reason::ok) return r;
  if (m.moe()) {
    const int copies = m.experts + x.redundant_experts;
    if (p.ep > copies || copies % p.ep != 0) return Reason::ep_experts;
  }
  if (peak_tflops(s.chip, x.weights) <= 0 || peak_tflops(s.chip, x.attn) <= 0) return Reason::no_precision;
  for (int g = 0; g < kGroups; ++g)
    if (peak_tflops(s.chip, x.weight_format(static_cast<Group>(g)).p) <= 0) return Reason::no_precision;
  return Reason::ok;
}

double draft_yield(const InferenceSetup& x) {  // expected tokens per sequence per step
  double y = 1, pa = 1;
  for (int i = 0; i < x.mtp_tokens; ++i) y += (pa *= x.mtp_accept);
  return y;
}

// Decode at a given batch (sequences per instance).
Estimate decode_at(const System& s, const Model& m, const InferenceSetup& x, int batch) {
  Estimate e;
  e.mode = Mode::decode;
  e.par = x.par;
  e.batch = batch;
  e.instance_chips = x.par.chips();
  e.reason = check_setup(s, m, x, x.par);
  if (batch < x.par.dp * x.par.pp && e.reason == Reason::ok) e.reason = Reason::batch_small;
  const Parallel& p = x.par;
  const double ctx = x.context > 0 ? x.context : x.seq_in + x.seq_out / 2.0;
  const double seqs = double(batch) / (p.dp * p.pp);  // per DP group per micro-batch
  const double T = seqs * (1 + x.mtp_tokens);
  const Acc acc = forward(s, m, x, p, true, T, seqs, ctx, x.mtp_tokens);
  // pp micro-batches each pass every stage once per cycle; a stage holds layers / pp.
  const double cycle = acc.total();
  fill_memory(s, m, x, p, double(batch) / p.dp, ctx, T, e);
  const double y = draft_yield(x);
  e.tpot_s = cycle / y;
  e.tokens_per_s_per_user = 1 / e.tpot_s;
  const double instance_tps = batch * y / cycle;
  e.tokens_per_s_per_chip = instance_tps / e.instance_chips;
  e.tokens_per_s = e.tokens_per_s_per_chip * s.chips;
  const double peak = peak_tflops(s.chip, x.weights);
  finish(e, acc, cycle, peak);
  e.mfu = 2 * active_params(m) * e.tokens_per_s_per_chip / (peak * 1e12);
  // Largest batch that fits: weights fixed, KV and buffers per sequence.
  const double free_b = (s.chip.hbm_gb * (1 - x.reserve(s.stack)) - e.mem.weights) * 1e9;
  const double per_seq = kv_bytes_per_seq(m, p, ctx, x.kv_fmt()) + (1 + x.mtp_tokens) * 8.0 * m.hidden * B(x.act) / p.pp;
  e.max_batch = free_b > 0 ? static_cast<int>(std::min(1e9, std::floor(free_b / per_seq) * p.dp)) : 0;
  return e;
}

}  // namespace

Estimate estimate_prefill(const System& s, const Model& m, const InferenceSetup& x) {
  Estimate e;
  e.mode = Mode::prefill;
  e.par = x.par;
  e.instance_chips = x.par.chips();
  e.reason = check_setup(s, m, x, x.par);
  const Parallel& p = x.par;
  const double auto_batch = double(x.prefill_tokens_per_chip) * p.tp * p.dp * p.pp / x.seq_in;
  const int batch = x.batch > 0 ? x.batch : std::max(p.dp * p.pp, static_cast<int>(std::min(auto_batch, 1e9)));
  e.batch = batch;
  // Every data-parallel group needs a prompt; fewer prompts than pipeline stages split into chunks
  // that fill the pipeline as micro-batches (a single prompt through PP4 runs as four chunks).
  if (batch < p.dp && e.reason == Reason::ok) e.reason = Reason::batch_small;
  const double seqs = double(batch) / (p.dp * p.pp);
  const double T = seqs * x.seq_in;
  Acc acc = forward(s, m, x, p, false, T, seqs, x.seq_in, 0);
  // Chunked pipeline-parallel prefill: the prompts of a micro-batch flow through the pp stages as
  // M chunks; the stages idle (pp - 1) / (M + pp - 1) of the pass (the bubble ratio of a pipeline
  // of M micro-batches), the stages' unequal chunk times included where the stack's chunk size is
  // derived from a measured PP scaling efficiency (hwdb/stacks).
  if (p.pp > 1 && s.stack.pp_chunk_tokens > 0) {
    const double chunks = std::max(1.0, seqs * x.seq_in / s.stack.pp_chunk_tokens);
    acc.part[static_cast<int>(Part::bubble)] += acc.total() * (p.pp - 1) / chunks;
  } else if (p.pp > 1) {
    // Without a chunk size of the stack's: the pass fills and drains the pipeline once over its
    // micro-batches, one prompt each (or, with fewer prompts than stages, the pp chunks of them):
    // (pp - 1) / M of the busy time idle, M = max(pp, prompts per data-parallel group).
    const double micro = std::max<double>(p.pp, double(batch) / p.dp);
    acc.part[static_cast<int>(Part::bubble)] += acc.total() * (p.pp - 1) / micro;
  }
  const double t = acc.total();
  fill_memory(s, m, x, p, double(batch) / p.dp, x.seq_in, T / p.tp, e);
  e.ttft_s = t;  // every prompt of the batch finishes at the end of the pass
  e.tokens_per_s_per_chip = batch * double(x.seq_in) / t / e.instance_chips;
  e.tokens_per_s = e.tokens_per_s_per_chip * s.chips;
  const double peak = peak_tflops(s.chip, x.weights);
  finish(e, acc, t, peak);
  e.mfu = forward_flops_per_token(m, x.seq_in) * e.tokens_per_s_per_chip / (peak * 1e12);
  if (e.fits() && x.ttft_target_ms > 0 && e.ttft_s * 1e3 > x.ttft_target_ms) e.reason = Reason::ttft_unreachable;
  return e;
}

Estimate estimate_decode(const System& s, const Model& m, const InferenceSetup& x, DecodeCurve* curve) {
  if (x.batch > 0) {
    Estimate e = decode_at(s, m, x, x.batch);
    if (e.fits() && x.tpot_target_ms > 0 && e.tpot_s * 1e3 > x.tpot_target_ms) e.reason = Reason::tpot_unreachable;
    return e;
  }
  // Auto batch: the largest that fits and meets the TPOT target (TPOT grows with batch), in units
  // of dp x pp sequences. The bracket [lo ok, hi not ok] narrows by interpolating TPOT linearly in
  // the batch (a decode step is close to a + b x batch) and testing the unit at the crossing and the
  // next one; a step that does not close the bracket halves it instead, so the search needs a few
  // estimates where bisection needs log2 of the batches that fit. It returns the same batch as any
  // search of a monotone TPOT would.
  const int unit = x.par.dp * x.par.pp;
  // Every estimate of the search: from the curve when an earlier search of this setup made it.
  auto at = [&](int batch) -> Estimate {
    if (curve)
      for (int i = 0; i < curve->n; ++i)
        if (curve->batch[i] == batch) return curve->est[i];
    Estimate e = decode_at(s, m, x, batch);
    if (curve && curve->n < DecodeCurve::kMax) {
      curve->batch[curve->n] = batch;
      curve->est[curve->n++] = e;
    }
    return e;
  };
  Estimate probe = at(unit);
  if (!probe.fits()) return probe;
  const double target = x.tpot_target_ms > 0 ? x.tpot_target_ms * 1e-3 : 0;
  auto ok = [&](const Estimate& e) { return e.fits() && (x.tpot_target_ms <= 0 || e.tpot_s * 1e3 <= x.tpot_target_ms); };
  if (!ok(probe)) {
    probe.reason = Reason::tpot_unreachable;
    return probe;
  }
  int lo = 1, hi = std::max(unit, probe.max_batch / unit * unit) / unit;  // in units
  if (hi <= lo) return probe;
  Estimate at_lo = probe, at_hi = at(hi * unit);
  if (ok(at_hi)) return at_hi;
  // The bracket the curve's other estimates leave (TPOT does not fall as the batch grows).
  if (curve)
    for (int i = 0; i < curve->n; ++i) {
      const int u = curve->batch[i] / unit;
      if (curve->batch[i] % unit != 0 || u <= lo || u >= hi) continue;
      if (ok(curve->est[i])) lo = u, at_lo = curve->est[i];
    }
  if (curve)
    for (int i = 0; i < curve->n; ++i) {
      const int u = curve->batch[i] / unit;
      if (curve->batch[i] % unit != 0 || u <= lo || u >= hi) continue;
      if (!ok(curve->est[i])) hi = u, at_hi = curve->est[i];
    }
  bool interpolate = true;
  while (hi - lo > 1) {
    int u = lo + (hi - lo) / 2;
    if (interpolate && target > 0 && at_hi.fits() && at_hi.tpot_s > at_lo.tpot_s) {
      const double f = (target - at_lo.tpot_s) / (at_hi.tpot_s - at_lo.tpot_s);
      u = std::clamp(lo + static_cast<int>(std::floor(f * (hi - lo))), lo + 1, hi - 1);
    }
    Estimate e = at(u * unit);
    if (ok(e)) {
      lo = u, at_lo = e;
      if (hi - lo > 1) {  // the crossing is likely between u and u + 1
        Estimate n = at((u + 1) * unit);
        if (ok(n)) lo = u + 1, at_lo = n;
        else hi = u + 1, at_hi = n;
      }
    } else {
      hi = u, at_hi = e;
    }
    interpolate = !interpolate || hi - lo <= 2;  // every other step halves the bracket
  }
  return at_lo;
}

Estimate estimate_serve(const System& s, const Model& m, const InferenceSetup& x) {
  InferenceSetup px = x;
  px.par = x.prefill_plan();
  if (x.prefill_redundant_experts >= 0) px.redundant_experts = x.prefill_redundant_experts;
  px.batch = 0;
  const Estimate pre = estimate_prefill(s, m, px);
  Estimate dec = estimate_decode(s, m, x);
  Estimate e = dec;
  e.mode = Mode::serve;
  if (!pre.fits()) {
    e.reason = pre.reason;
    return e;
  }
  // KV cache of one prompt moves from a prefill chip to a decode chip: over scale-up when both
  // pools sit in one supernode, else over scale-out.
  e.kv_transfer_bytes = cache_bytes_seq(m, 1, x.seq_in, x.kv_fmt());
  const bool same_pod = px.par.chips() + x.par.chips() <= s.chips_per_supernode;
  const Fabric& f = same_pod ? s.scaleup : s.scaleout;
  const double kv_s = f.latency_us * 1e-6 + e.kv_transfer_bytes / (f.gb_s_per_dir * 1e9 * f.coll_eff);
  e.ttft_s = pre.ttft_s + kv_s;
  e.breakdown[static_cast<int>(Part::kv_transfer)] = kv_s;
  e.prefill_tokens_per_s_per_chip = pre.tokens_per_s_per_chip;
  e.decode_tokens_per_s_per_chip = dec.tokens_per_s_per_chip;
  if (!dec.fits()) return e;
  const double rho = double(x.seq_in) / x.seq_out;
  double wd = 0, wp = 0;  // busy chips of each pool as a fraction of all chips (activity weights)
  if (x.prefill_pool_chips > 0 && x.decode_pool_chips > 0) {
    // Pools as deployed: whole instances of each; the slower pool sets the output rate,
    //   out = min(P r_prefill / rho, D r_decode), over every chip of both pools (chips left over
    // from a partial instance idle); the faster pool idles part of the time.
    const double P = double(x.prefill_pool_chips / pre.instance_chips * pre.instance_chips);
    const double D = double(x.decode_pool_chips / dec.instance_chips * dec.instance_chips);
    if (P == 0 || D == 0) {  // a pool smaller than one instance
      e.reason = Reason::too_many_chips;
      return e;
    }
    const double all = double(x.prefill_pool_chips) + x.decode_pool_chips;
    const double cap_p = P * pre.tokens_per_s_per_chip / rho, cap_d = D * dec.tokens_per_s_per_chip;
    const double out = std::min(cap_p, cap_d);
    e.decode_chip_share = x.decode_pool_chips / all;
    e.tokens_per_s_per_chip = out / all;
    wd = D / all * (out / cap_d);
    wp = P / all * (out / cap_p);
  } else {
    // Pools rate-matched, both always busy. Chips per (output token / s): 1 / r_decode + rho / r_prefill.
    const double per_out = 1 / dec.tokens_per_s_per_chip + rho / pre.tokens_per_s_per_chip;
    e.decode_chip_share = (1 / dec.tokens_per_s_per_chip) / per_out;
    e.tokens_per_s_per_chip = 1 / per_out;
    wd = e.decode_chip_share;
    wp = 1 - e.decode_chip_share;
  }
  e.tokens_per_s = e.tokens_per_s_per_chip * s.chips;
  e.mfu = dec.mfu * wd + pre.mfu * wp;
  e.compute_util = dec.compute_util * wd + pre.compute_util * wp;
  e.activity = dec.activity * wd + pre.activity * wp;
  if (x.ttft_target_ms > 0 && e.ttft_s * 1e3 > x.ttft_target_ms) e.reason = Reason::ttft_unreachable;
  return e;
}

StepCost aggregated_step_cost(const System& s, const Model& m, const InferenceSetup& x, int running, int token_budget) {
  StepCost c;
  const int unit = x.par.dp * x.par.pp;
  const int n = std::max(2 * unit, running / unit * unit);
  const Estimate lo = decode_at(s, m, x, unit), hi = decode_at(s, m, x, n);
  c.b_s = std::max(0.0, (hi.step_time_s - lo.step_time_s) / (n - unit));
  c.a_s = std::max(0.0, lo.step_time_s - c.b_s * unit);
  // A prompt token in a chunk: a prefill pass of the budget's worth of whole prompts (at least one
  // per data-parallel group) per prompt token.
  InferenceSetup px = x;
  px.batch = std::max(unit, token_budget / std::max(1, x.seq_in) / unit * unit);
  px.ttft_target_ms = 0;
  const Estimate pre = estimate_prefill(s, m, px);
  c.c_s = pre.step_time_s / (double(px.batch) * x.seq_in);
  c.activity_decode = hi.activity;
  c.activity_prefill = pre.activity;
  c.mfu_decode = hi.mfu;
  c.mfu_prefill = pre.mfu;
  return c;
}

AggregatedEstimate estimate_aggregated(const System& s, const Model& m, const InferenceSetup& x0, Load load, int clients,
                                       double rate, int budget, int instances, const RequestMix* mix) {
  AggregatedEstimate r;
  InferenceSetup x = x0;
  x.tpot_target_ms = x.ttft_target_ms = 0;
  x.batch = x.par.dp * x.par.pp;
  const Estimate probe = estimate_decode(s, m, x);
  r.reason = probe.reason;
  if (!probe.fits()) return r;
  r.instances = instances > 0 ? instances : std::max(1, s.chips / std::max(1, x.par.chips()));
  AggregatedSetup& a = r.setup;
  a.token_budget = budget > 0 ? budget : static_cast<int>(s.stack.token_budget);
  a.max_running = probe.max_batch;
  a.mix.input = mix ? mix->input : LengthDist::make_fixed(x.seq_in);
  a.mix.output = mix ? mix->output : LengthDist::make_fixed(x.seq_out);
  a.load = load;
  if (load == Load::poisson) a.arrival_rate = rate / r.instances;
  else if (load == Load::closed_loop) a.concurrency = (std::max(1, clients) + r.instances - 1) / r.instances;
  else a.concurrency = 2 * std::max(1, std::min(probe.max_batch, 1 << 16));  // offline: always waiting
  const int running = std::max(1, std::min(a.max_running, load == Load::poisson ? a.max_running : a.concurrency));
  a.step = aggregated_step_cost(s, m, x, running, a.token_budget);
  r.result = load == Load::offline ? offline_steady_state(a) : simulate_aggregated(a);
  r.output_tokens_per_s = r.result.output_tokens_per_s * r.instances;
  r.output_tokens_per_s_per_chip = r.output_tokens_per_s / (double(r.instances) * x.par.chips());
  return r;
}

double forward_flops_per_token(const Model& m, double seq) {
  // Causal attention at average context seq / 2: QK^T and PV per layer, by kind.
  double attn = 0;
  for (int g = 0; g < m.n_groups; ++g) attn += m.groups[g].count * attention_flops_per_token(m, m.groups[g].attention, seq);
  return 2 * active_params(m) + attn;
}

}  // namespace podperf
