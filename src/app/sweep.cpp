#include "podperf/app/sweep.hpp"

#include <omp.h>

#include <algorithm>
#include <memory>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "podperf/core/precision_choice.hpp"
#include "podperf/core/economics.hpp"
#include "podperf/io/error.hpp"
#include "podperf/core/plan.hpp"
#include "podperf/core/training_memo.hpp"

namespace fs = std::filesystem;

namespace podperf {

const char* sweep_reason_text(std::int8_t code) {
  if (code == kReasonConstraint) return "excluded by a constraint";
  if (code == kReasonPlanShape) return "TP x PP does not divide the instance";
  if (code == kReasonNumeric) return "a metric is not a finite number >= 0 (inputs out of the model's range)";
  if (code >= 0 && code <= static_cast<int>(Reason::schedule)) return reason_text(static_cast<Reason>(code));
  return "?";
}

std::vector<std::int8_t> sweep_reason_codes() {
  std::vector<std::int8_t> c;
  for (int i = 0; i <= static_cast<int>(Reason::schedule); ++i) c.push_back(static_cast<std::int8_t>(i));
  c.push_back(kReasonConstraint);
  c.push_back(kReasonPlanShape);
  c.push_back(kReasonNumeric);
  return c;
}

namespace {
// Axes that change a point's cost but not its performance estimate.
bool cost_axis(AxisId id) {
  // A TPOT target is not a cost axis: it picks the decode batch (the largest that meets it), as in
  // `estimate --tpot-ms`; with a batch axis it is the check `estimate --batch B --tpot-ms T` makes.
  return id == AxisId::site || id == AxisId::electricity_usd_kwh || id == AxisId::utilization || id == AxisId::yield;
}

}  // namespace

void ChunkBuffers::reserve(const SweepSpec& s, std::size_t n) {
  point.resize(n);
  axis.resize(s.axes.size());
  for (auto& a : axis) a.resize(n);
  metric.resize(s.metrics.size());
  for (auto& m : metric) m.resize(n);
  reason.resize(n);
  kept.resize(n);
  perf_key.resize(n);
  slot.resize(n);
  slot_point.reserve(n);
  est.resize(std::max<std::size_t>(1, n));  // at most one slot per point
}

SweepContext prepare_sweep(const SweepSpec& spec, const Hwdb& db, const ModelDb& models) {
  SweepContext c;
  c.spec = &spec;
  c.axis_pos.fill(-1);
  for (std::size_t i = 0; i < spec.axes.size(); ++i) c.axis_pos[static_cast<int>(spec.axes[i].id)] = static_cast<int>(i);
  std::uint64_t stride = 1, key_stride = 1;
  for (int i = static_cast<int>(spec.axes.size()) - 1; i >= 0; --i) {
    const Axis& a = spec.axes[static_cast<std::size_t>(i)];
    c.stride[static_cast<int>(a.id)] = stride;
    stride *= a.size();
    if (cost_axis(a.id)) continue;
    c.key_stride[static_cast<int>(a.id)] = key_stride;
    key_stride *= a.size();
  }
  auto err = [&](AxisId a, const std::string& what) {
    const Axis* ax = spec.axis(a);
    return InputError(spec.file, ax ? ax->line : 0, std::string("axes.") + to_string(a), what);
  };
  auto fmt = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.10g", v);
    return std::string(b);
  };
  const Axis* stack_axis = spec.axis(AxisId::stack);
  std::vector<std::optional<Stack>> stacks;  // empty: the system's own ("deployed")
  if (stack_axis)
    for (auto& id : stack_axis->labels) {
      if (id == "deployed") {
        stacks.emplace_back();
        continue;
      }
      try {
        stacks.emplace_back(db.stack(id));
      } catch (const InputError& e) {
        throw err(AxisId::stack, e.what());
      }
      // A stack replaces the system's stack of its own role: it must have a mode to act on.
      const bool training = stacks.back()->role == StackRole::training;
      const Axis* modes = spec.axis(AxisId::mode);
      const bool any = modes && std::any_of(modes->labels.begin(), modes->labels.end(),
                                            [&](const std::string& l) { return (l == "train") == training; });
      if (!any && (modes || training))
        throw err(AxisId::stack, "stack '" + id + "' is a " + (training ? "training" : "serving") +
                                     " stack and no mode of the spec is " + (training ? "train" : "a serving mode"));
    }
  if (stacks.empty()) stacks.emplace_back();
  c.stacks = static_cast<int>(stacks.size());
  for (auto& id : spec.axis(AxisId::system)->labels) {
    System sys;
    try {
      sys = db.system(id);
    } catch (const InputError& e) {
      throw err(AxisId::system, e.what());
    }
    for (const auto& st : stacks) c.systems.push_back(st ? with_stack(sys, *st) : sys);
  }
  for (auto& id : spec.axis(AxisId::model)->labels) {
    try {
      c.models.push_back(models.model(id));
    } catch (const InputError& e) {
      throw err(AxisId::model, e.what());
    }
  }
  if (const Axis* s = spec.axis(AxisId::site)) {
    for (auto& id : s->labels) {
      try {
        c.sites.push_back(db.site(id));
      } catch (const InputError& e) {
        throw err(AxisId::site, e.what());
      }
    }
  } else {
    for (auto& sys : c.systems) {  // one site per system, whatever its stack
      c.sites.push_back(db.site(sys.home_site));
      c.default_site.push_back(static_cast<int>(c.sites.size()) - 1);
    }
  }
  for (AxisId a : {AxisId::weights, AxisId::kv})
    if (const Axis* ax = spec.axis(a))
      for (auto& l : ax->labels) {
        Precision p;
        if (!parse_precision(l, p)) throw err(a, "unknown precision '" + l + "' (fp4 | fp8 | int8 | bf16 | fp32)");
        (a == AxisId::weights ? c.weights : c.kv).push_back(p);
      }
  if (const Axis* ax = spec.axis(AxisId::mode))
    for (auto& l : ax->labels) {
      if (l != "prefill" && l != "decode" && l != "serve" && l != "train")
        throw err(AxisId::mode, "unknown mode '" + l + "' (prefill | decode | serve | train)");
      c.modes.push_back(l == "prefill" ? Mode::prefill : l == "serve" ? Mode::serve : l == "train" ? Mode::train : Mode::decode);
    }
  if (const Axis* ax = spec.axis(AxisId::ep))
    for (double v : ax->values)
      if (std::floor(v) != v) throw err(AxisId::ep, "values must be integers (0 = every chip of a stage)");
  for (AxisId a : {AxisId::tp, AxisId::pp, AxisId::batch, AxisId::seq_in, AxisId::seq_out, AxisId::micro_batch,
                   AxisId::interleave, AxisId::cp, AxisId::seq})
    if (const Axis* ax = spec.axis(a))
      for (double v : ax->values)
        if (v < 1 || std::floor(v) != v) throw err(a, "values must be integers >= 1 (got " + fmt(v) + ")");
  if (const Axis* ax = spec.axis(AxisId::zero))
    for (double v : ax->values)
      if (std::floor(v) != v) throw err(AxisId::zero, "values must be ZeRO stages 0, 1, 2 or 3 (got " + fmt(v) + ")");
  // Text axes of the training plan: labels to values once, so that points compare no strings.
  auto labels_of = [&](AxisId a, std::initializer_list<const char*> names, std::vector<int>& out) {
    if (const Axis* ax = spec.axis(a))
      for (auto& l : ax->labels) {
        int found = -1, i = 0;
        std::string all;
        for (const char* n : names) {
          if (l == n) found = i;
          all += (all.empty() ? "" : " | ") + std::string(n);
          ++i;
        }
        if (found < 0) throw err(a, "unknown value '" + l + "' (" + all + ")");
        out.push_back(found);
      }
  };
  labels_of(AxisId::recompute, {"none", "selective", "full"}, c.recompute);
  labels_of(AxisId::sp, {"on", "off"}, c.sp);
  for (int& v : c.sp) v = v == 0 ? 1 : 0;  // 1 = on
  labels_of(AxisId::tp_overlap, {"none", "pipelined"}, c.tp_overlap);
  // The training plan's axes apply to training only: a spec that varies them runs mode "train" alone.
  for (AxisId a : {AxisId::micro_batch, AxisId::interleave, AxisId::zero, AxisId::cp, AxisId::seq, AxisId::recompute,
                   AxisId::sp, AxisId::tp_overlap}) {
    if (!spec.axis(a)) continue;
    const Axis* m = spec.axis(AxisId::mode);
    if (!m || std::any_of(m->labels.begin(), m->labels.end(), [](const std::string& l) { return l != "train"; }))
      throw err(a, "a training axis: the spec needs mode = [\"train\"]");
  }
  if (spec.axis(AxisId::seq) && spec.axis(AxisId::seq_in))
    throw err(AxisId::seq, "the training sequence length is given twice (seq and seq_in): keep one");
  for (AxisId a : {AxisId::overlap})
    if (const Axis* ax = spec.axis(a))
      for (double v : ax->values)
        if (v > 1) throw err(a, "values must be in [0, 1]");
  for (AxisId a : {AxisId::utilization, AxisId::yield})
    if (const Axis* ax = spec.axis(a))
      for (double v : ax->values)
        if (!(v > 0 && v <= 1)) throw err(a, "values must be in (0, 1] (got " + fmt(v) + ")");
  return c;
}

namespace {
// A point's index on every axis (by AxisId; -1 where the spec has no such axis), stepped like an
// odometer, the last axis fastest: consecutive points need no division.
struct Cursor {
  const SweepContext& ctx;
  std::array<int, kAxes> idx;
  std::uint64_t perf_key = 0;  // the performance key: the index over every axis but the cost axes
  explicit Cursor(const SweepContext& c) : ctx(c) { idx.fill(-1); }
  void seek(std::uint64_t point) {
    for (auto& a : ctx.spec->axes) {
      const int id = static_cast<int>(a.id);
      idx[id] = static_cast<int>((point / ctx.stride[id]) % a.size());
    }
    rekey();
  }
  void next() {
    const auto& axes = ctx.spec->axes;
    for (std::size_t a = axes.size(); a-- > 0;) {
      const int id = static_cast<int>(axes[a].id);
      int& i = idx[id];
      if (++i < static_cast<int>(axes[a].size())) {
        perf_key += ctx.key_stride[id];
        return;
      }
      perf_key -= static_cast<std::uint64_t>(i - 1) * ctx.key_stride[id];
      i = 0;
    }
  }
  // Steps `delta` points forward: the last axis takes it and passes the carry on (a division only
  // where an axis wraps).
  void advance(std::uint64_t delta) {
    const auto& axes = ctx.spec->axes;
    for (std::size_t a = axes.size(); a-- > 0 && delta > 0;) {
      int& i = idx[static_cast<int>(axes[a].id)];
      const std::uint64_t n = axes[a].size(), v = static_cast<std::uint64_t>(i) + delta;
      if (v < n) {
        i = static_cast<int>(v);
        break;
      }
      i = static_cast<int>(v % n);
      delta = v / n;
    }
    rekey();
  }
  void rekey() {
    perf_key = 0;
    for (auto& a : ctx.spec->axes)
      perf_key += static_cast<std::uint64_t>(idx[static_cast<int>(a.id)]) * ctx.key_stride[static_cast<int>(a.id)];
  }
  double num(AxisId a, double fallback) const {
    const int i = idx[static_cast<int>(a)];
    return i < 0 ? fallback
                 : ctx.spec->axes[static_cast<std::size_t>(ctx.axis_pos[static_cast<int>(a)])].values[static_cast<std::size_t>(i)];
  }
  int at(AxisId a) const { return idx[static_cast<int>(a)]; }
  // The point's entry of ctx.systems: its system with its stack.
  int system() const { return at(AxisId::system) * ctx.stacks + std::max(0, at(AxisId::stack)); }
};

// Fills points [lo, hi) of the chunk starting at `first` in axis a's column: runs of `stride` points
// share a value (the value, or the label index of a text axis).
void fill_axis_column(const SweepContext& ctx, std::size_t a, std::uint64_t first, int lo, int hi, std::vector<double>& col) {
  const Axis& ax = ctx.spec->axes[a];
  const std::uint64_t stride = ctx.stride[static_cast<int>(ax.id)], n = ax.size(), at = first + static_cast<std::uint64_t>(lo);
  std::uint64_t j = (at / stride) % n, left = stride - at % stride;
  for (int k = lo; k < hi;) {
    const int len = static_cast<int>(std::min<std::uint64_t>(left, static_cast<std::uint64_t>(hi - k)));
    const double v = ax.labels.empty() ? ax.values[static_cast<std::size_t>(j)] : static_cast<double>(j);
    std::fill(col.begin() + k, col.begin() + k + len, v);
    k += len;
    j = j + 1 == n ? 0 : j + 1;
    left = stride;
  }
}

// What a performance key fixes: the workload, its system and model, the plan-shape reason, and the
// constraint variables of the key's axes (the cost axes are filled per point).
struct Resolved {
  Workload w;
  const System* sys = nullptr;
  const Model* model = nullptr;
  std::int8_t reason = 0;
  double vars[kVars] = {};
};

void resolve(const Cursor& c, Resolved& r) {
  // Every field a key sets is set on every call (no reset of the whole workload per key).
  const SweepContext& ctx = c.ctx;
  const int si = c.system();
  const int mi = c.at(AxisId::model);
  const System& sys = ctx.model_systems.empty()
                          ? ctx.systems[static_cast<std::size_t>(si)]
                          : ctx.model_systems[static_cast<std::size_t>(si) * ctx.models.size() + static_cast<std::size_t>(mi)];
  const Model& model = ctx.models[static_cast<std::size_t>(mi)];
  r.sys = &sys;
  r.model = &model;
  std::int8_t reason = 0;
  Workload& w = r.w;
  w.mode = c.at(AxisId::mode) < 0 ? Mode::decode : ctx.modes[static_cast<std::size_t>(c.at(AxisId::mode))];
  InferenceSetup& x = w.infer;
  const int wi = c.at(AxisId::weights), ki = c.at(AxisId::kv);
  const std::size_t base_i = static_cast<std::size_t>(si) * ctx.models.size() + static_cast<std::size_t>(mi);
  if (!ctx.formats.empty()) {
    // The formats `estimate` resolves for this chip (its precision recipe); a weights axis sets
    // every weight group as --weights does, a kv axis the KV cache as --kv does.
    const InferenceSetup& b = ctx.formats[base_i];
    x.weights = wi >= 0 ? ctx.weights[static_cast<std::size_t>(wi)] : b.weights;
    x.group = wi >= 0 ? decltype(x.group){} : b.group;
    x.kv = ki >= 0 ? ctx.kv[static_cast<std::size_t>(ki)] : b.kv;
    x.kv_format = ki >= 0 ? std::nullopt : b.kv_format;
    x.attn = b.attn;
  } else {
    x.weights = wi >= 0 ? ctx.weights[static_cast<std::size_t>(wi)] : native_8bit(sys.chip);
    x.kv = ki >= 0 ? ctx.kv[static_cast<std::size_t>(ki)] : x.weights;
  }
  x.tpot_target_ms = c.num(AxisId::tpot_ms, 0);
  Parallel p;
  TrainingSetup& tr = w.train;
  if (w.mode != Mode::train) {
    p = default_inference_plan(sys, model, x.weights);
    const int instance = p.chips();
    // Axis values are at most kMaxAxisCount (1e8): products in 64 bits never wrap.
    p.tp = static_cast<int>(c.num(AxisId::tp, p.tp));
    p.pp = static_cast<int>(c.num(AxisId::pp, 1));
    const std::int64_t shape = std::int64_t{p.tp} * p.pp;
    if (instance % shape != 0) reason = kReasonPlanShape;
    p.dp = static_cast<int>(std::max<std::int64_t>(1, instance / shape));
    const int ep = static_cast<int>(c.num(AxisId::ep, 0));  // 0: every chip of a stage (MoE), 1 for dense
    p.ep = ep > 0 ? ep : (model.moe() ? p.tp * p.dp : 1);
    x.par = p;
    x.redundant_experts = default_redundant_experts(model, p.ep);
    const double batch = c.num(AxisId::batch, 0);
    const double instance_batch = batch * double(shape) * p.dp * p.cp / p.tp;  // per chip -> per instance
    if (instance_batch > 1e9 && reason == 0) reason = static_cast<std::int8_t>(Reason::memory);  // no HBM holds it
    x.batch = batch > 0 ? static_cast<int>(std::min(instance_batch, 1e9)) : 0;
    x.seq_in = static_cast<int>(c.num(AxisId::seq_in, 2048));
    x.seq_out = static_cast<int>(c.num(AxisId::seq_out, 256));
    x.context = static_cast<int>(c.num(AxisId::context, 0));
    x.mtp_tokens = model.mtp_layers > 0 ? static_cast<int>(c.num(AxisId::mtp, 0)) : 0;
    x.mtp_accept = 0.7;
    x.overlap = c.num(AxisId::overlap, -1);
  } else {
    // Training over every chip of the system: DP is what TP x PP x CP leave; `batch` is sequences
    // per DP replica per step, `seq` (or `seq_in`) the sequence length, `weights` the compute
    // precision; the other plan axes as the estimate flags, with their defaults.
    tr.par.tp = static_cast<int>(c.num(AxisId::tp, 1));
    tr.par.pp = static_cast<int>(c.num(AxisId::pp, 1));
    tr.par.cp = static_cast<int>(c.num(AxisId::cp, 1));
    tr.par.ep = std::max(1, static_cast<int>(c.num(AxisId::ep, 1)));
    // Up to 1e24 (three axes of at most 1e8): in double, exact wherever it does not exceed the chips.
    const double tshape = double(tr.par.tp) * tr.par.pp * tr.par.cp;
    const bool fits_chips = tshape <= sys.chips;
    reason = fits_chips && sys.chips % static_cast<std::int64_t>(tshape) == 0 ? 0 : kReasonPlanShape;
    tr.par.dp = fits_chips ? static_cast<int>(sys.chips / static_cast<std::int64_t>(tshape)) : 1;
    tr.seq = static_cast<int>(c.num(AxisId::seq, c.num(AxisId::seq_in, ctx.train_seq.empty() ? 4096 : ctx.train_seq[base_i])));
    tr.micro_batch = static_cast<int>(c.num(AxisId::micro_batch, 1));
    if (c.at(AxisId::batch) >= 0 || ctx.train_batch_tokens.empty()) {
      tr.global_batch = static_cast<int>(std::min(1e9, c.num(AxisId::batch, 16) * tr.par.dp));
    } else {
      // No batch axis: the scenario's default global batch, rounded up to whole micro-batches of
      // every DP replica as `estimate` does for a plan given.
      const double seqs = std::max(1.0, std::round(ctx.train_batch_tokens[base_i] / tr.seq));
      const double unit = double(tr.par.dp) * tr.micro_batch;
      tr.global_batch = static_cast<int>(std::min(1e9, seqs >= tr.par.dp ? std::ceil(seqs / unit) * unit : seqs));
    }
    tr.interleave = static_cast<int>(c.num(AxisId::interleave, 1));
    // The training stack's schedule for the interleave (none: the plan is rejected as unrunnable).
    if (const PipeSchedule* sc = stack_schedule(sys.train_stack, tr.interleave)) tr.schedule = *sc;
    tr.zero = static_cast<int>(c.num(AxisId::zero, 1));
    const int rc = c.at(AxisId::recompute), sp = c.at(AxisId::sp), ov = c.at(AxisId::tp_overlap);
    tr.recompute = rc >= 0 ? static_cast<Recompute>(ctx.recompute[static_cast<std::size_t>(rc)]) : Recompute::none;
    tr.sequence_parallel = sp >= 0 ? ctx.sp[static_cast<std::size_t>(sp)] == 1 : true;
    tr.tp_overlap = ov >= 0 ? static_cast<TpOverlap>(ctx.tp_overlap[static_cast<std::size_t>(ov)]) : TpOverlap::none;
    tr.precision = wi >= 0 ? x.weights : Precision::bf16;
    tr.overlap = c.num(AxisId::overlap, -1);
    p = tr.par;
  }
  r.reason = reason;
  // Constraints see the numeric axes as resolved, and the chip counts.
  double* vars = r.vars;
  vars[static_cast<int>(AxisId::tp)] = p.tp;
  vars[static_cast<int>(AxisId::ep)] = p.ep;
  vars[static_cast<int>(AxisId::pp)] = p.pp;
  for (AxisId a : {AxisId::batch, AxisId::seq_in, AxisId::seq_out, AxisId::context, AxisId::mtp, AxisId::overlap})
    vars[static_cast<int>(a)] = c.num(a, 0);
  const bool train = w.mode == Mode::train;  // the training axes exist in training specs only
  vars[static_cast<int>(AxisId::cp)] = p.cp;
  vars[static_cast<int>(AxisId::micro_batch)] = train ? tr.micro_batch : 0;
  vars[static_cast<int>(AxisId::interleave)] = train ? tr.interleave : 0;
  vars[static_cast<int>(AxisId::zero)] = train ? tr.zero : 0;
  vars[static_cast<int>(AxisId::seq)] = train ? tr.seq : 0;
  vars[kVarChips] = sys.chips;
  vars[kVarChipsPerSupernode] = sys.chips_per_supernode;
}

// Runs f(lo, hi) on one contiguous share of [0, n) per OpenMP thread.
template <class F>
void in_shares(int n, F&& f) {
#pragma omp parallel
  {
    const std::int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int lo = static_cast<int>(n * t / nt), hi = static_cast<int>(n * (t + 1) / nt);
    if (lo < hi) f(lo, hi);
  }
}
}  // namespace

void evaluate_chunk(const SweepContext& ctx, std::uint64_t first, std::uint64_t count, ChunkBuffers& out) {
  const SweepSpec& spec = *ctx.spec;
  out.first = first;
  out.count = count;
  if (out.kept.size() < count) out.reserve(spec, count);
  const int n = static_cast<int>(count);
  if (out.perf_key.size() < count) {
    out.perf_key.resize(count);
    out.slot.resize(count);
  }
  // Three passes, so that the performance model runs once per distinct performance key of the
  // chunk (site, electricity price, TPOT target, utilisation and yield do not change an estimate):
  //   0: every point: its axis values, its reason so far (plan shape, constraints) and its key;
  //   1: one estimate per distinct key (slots numbered in point order: independent of threads);
  //   2: every point's metrics from its slot's estimate (cost and TPOT filter: a cheap pass).
  // Within a thread's share of points, what the previous point resolved is reused when the key (or,
  // in pass 2, the slot and cost axes) is the same: the values are those of a fresh computation.
  const std::size_t naxes = spec.axes.size();
  const bool constrained = !spec.constraints.empty();
  in_shares(n, [&](int lo, int hi) {
    Cursor c(ctx);
    c.seek(first + static_cast<std::uint64_t>(lo));
    Resolved r;
    std::uint64_t last_key = 0;
    bool have = false;
    for (std::size_t a = 0; a < naxes; ++a) fill_axis_column(ctx, a, first, lo, hi, out.axis[a]);
    for (int k = lo; k < hi; ++k, c.next()) {
      const std::size_t i = static_cast<std::size_t>(k);
      const std::uint64_t key = c.perf_key;
      // Constraints need the resolved variables here; otherwise the plan-shape reason waits for the
      // slot's own resolution in pass 1.
      if (constrained && (!have || key != last_key)) {
        resolve(c, r);
        last_key = key;
        have = true;
      }
      std::int8_t reason = constrained ? r.reason : 0;
      if (constrained && reason == 0) {
        for (AxisId a : {AxisId::tpot_ms, AxisId::electricity_usd_kwh, AxisId::utilization, AxisId::yield})
          r.vars[static_cast<int>(a)] = c.num(a, 0);
        for (auto& cn : spec.constraints)
          if (!holds(cn, r.vars)) {
            reason = kReasonConstraint;
            break;
          }
      }
      out.perf_key[i] = key;
      out.reason[i] = reason;
    }
  });
  // Slots in point order; consecutive points usually share a key (the price axes vary fastest).
  out.slot_point.clear();
  int bits = 4;
  while ((std::size_t{1} << bits) < 2 * count) ++bits;
  const std::size_t cap = std::size_t{1} << bits, mask = cap - 1;
  if (out.table_key.size() != cap || ++out.gen == 0) {
    out.table_key.assign(cap, 0);
    out.table_slot.assign(cap, 0);
    out.table_gen.assign(cap, 0);
    out.gen = 1;
  }
  std::uint64_t prev_key = 0;
  int prev_slot = -1;
  for (int k = 0; k < n; ++k) {
    const std::size_t i = static_cast<std::size_t>(k);
    if (out.reason[i] != 0) {
      out.slot[i] = -1;
      continue;
    }
    const std::uint64_t key = out.perf_key[i];
    if (prev_slot < 0 || key != prev_key) {
      // Fibonacci hashing, linear probing.
      std::size_t h = static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> (64 - bits));
      while (out.table_gen[h] == out.gen && out.table_key[h] != key) h = (h + 1) & mask;
      if (out.table_gen[h] != out.gen) {
        out.table_gen[h] = out.gen;
        out.table_key[h] = key;
        out.table_slot[h] = static_cast<int>(out.slot_point.size());
        out.slot_point.push_back(k);
      }
      prev_key = key;
      prev_slot = out.table_slot[h];
    }
    out.slot[i] = prev_slot;
  }
  const int slots = static_cast<int>(out.slot_point.size());
  if (out.est.size() < out.slot_point.size() || out.est.empty()) out.est.resize(std::max<std::size_t>(1, out.slot_point.size()));
  std::uint64_t evaluated = 0;  // slots the performance model ran for
#pragma omp parallel reduction(+ : evaluated)
  {
    Cursor c(ctx);
    Resolved r;
    TrainMemo memo;  // layer costs of the training plans this thread has seen in the chunk
    // Decode estimates of the setup that the previous slots searched under other TPOT targets (slots
    // whose keys differ in the TPOT axis alone): the next search starts from their bracket.
    const auto curve = std::make_unique<DecodeCurve>();
    std::uint64_t curve_key = ~std::uint64_t{0};
    const int tpot_axis = static_cast<int>(AxisId::tpot_ms);
    int at = -1;  // the point the cursor is on (slots are in point order)
#pragma omp for schedule(dynamic, 16)
    for (int j = 0; j < slots; ++j) {
      const int p = out.slot_point[static_cast<std::size_t>(j)];
      if (at < 0 || p < at) c.seek(first + static_cast<std::uint64_t>(p));
      else c.advance(static_cast<std::uint64_t>(p - at));
      at = p;
      resolve(c, r);
      SlotResult& e = out.est[static_cast<std::size_t>(j)];
      if (r.reason != 0) {  // a plan shape that does not divide the chips: no estimate
        e = SlotResult();
        e.reason = r.reason;
        continue;
      }
      ++evaluated;
      // A training plan that cannot run stops at its reason (its rows have no numbers then).
      const std::uint64_t key = c.perf_key - (c.at(AxisId::tpot_ms) < 0 ? 0
                                                : static_cast<std::uint64_t>(c.at(AxisId::tpot_ms)) * ctx.key_stride[tpot_axis]);
      if (key != curve_key) curve->clear(), curve_key = key;
      Estimate est = r.w.mode == Mode::train ? train_step(*r.sys, *r.model, r.w.train, true, &memo)
                                             : run_workload(*r.sys, *r.model, r.w, curve.get());
      count_whole_instances(*r.sys, est);
      e = SlotResult(est);
      e.tokens_per_s_per_chip = est.tokens_per_s / r.sys->chips;  // over the chips as bought
    }
  }
  out.evaluations = evaluated;
  const double nan = std::nan("");
  in_shares(n, [&](int lo, int hi) {
    Cursor c(ctx);
    c.seek(first + static_cast<std::uint64_t>(lo));
    // The cost of the previous point: the same slot, site, utilisation and yield give the same. Of a
    // new slot at the same system, site, utilisation and yield, only the part that depends on the
    // estimate's activity is recomputed; its reliability depends on the system, mode and chips.
    struct {
      int slot = -1, sys = -1, site = -1, util = -1, yield = -1;
      Tco t;
      int rel_sys = -1, rel_chips = -1;
      Mode rel_mode = Mode::decode;
      Reliability rel;
    } memo;
    for (int k = lo; k < hi; ++k, c.next()) {
      const std::size_t i = static_cast<std::size_t>(k);
      const int slot = out.slot[i];
      const SlotResult& est = out.est[static_cast<std::size_t>(slot < 0 ? 0 : slot)];
      std::int8_t reason = out.reason[i];
      if (reason == 0 && !est.fits()) reason = est.reason;
      out.point[i] = first + static_cast<std::uint64_t>(k);
      double usd_mtok = nan;
      const double tpot_target = c.num(AxisId::tpot_ms, 0);
      if (reason == 0) {
        const int si = c.system();
        const System& sys = ctx.systems[static_cast<std::size_t>(si)];
        const int site_i = ctx.default_site.empty() ? c.at(AxisId::site) : ctx.default_site[static_cast<std::size_t>(si)];
        const int util_i = c.at(AxisId::utilization), yield_i = c.at(AxisId::yield);
        const Site& site = ctx.sites[static_cast<std::size_t>(site_i)];
        if (memo.sys != si || memo.site != site_i || memo.util != util_i || memo.yield != yield_i) {
          // Yield axis: the change in the chip's manufacturing cost passes through to its price.
          double extra_capex = 0;
          if (const double y = c.num(AxisId::yield, -1); y > 0 && sys.chip.mfg.die_mm2 > 0) {
            ChipMfg m = sys.chip.mfg;
            m.yield = y;
            extra_capex = sys.chips * (chip_cost(m, sys.chip.dies).total_usd - chip_cost(sys.chip).total_usd);
          }
          memo.t = tco(sys, site, est.activity, c.num(AxisId::utilization, -1), extra_capex);
          memo.sys = si, memo.site = site_i, memo.util = util_i, memo.yield = yield_i, memo.slot = slot;
        } else if (memo.slot != slot) {
          memo.t = at_activity(memo.t, sys, site, est.activity);
          memo.slot = slot;
        }
        if (memo.rel_sys != si || memo.rel_mode != est.mode || memo.rel_chips != est.chips) {
          memo.rel = reliability(sys, est.mode, est.chips);
          memo.rel_sys = si, memo.rel_mode = est.mode, memo.rel_chips = est.chips;
        }
        Tco& t = memo.t;
        const double price = c.num(AxisId::electricity_usd_kwh, ctx.sites[static_cast<std::size_t>(site_i)].electricity_usd_kwh);
        t.energy_per_h = t.energy_per_h_per_usd_kwh * price;
        usd_mtok = t.per_h() / (est.tokens_per_s * 3600 * t.utilization) * 1e6;
      }
      const Tco& t = memo.t;
      const Reliability& rel = memo.rel;
      for (std::size_t m = 0; m < spec.metrics.size(); ++m) {
        double v = nan;
        if (reason == 0) switch (spec.metrics[m]) {
            case MetricId::tokens_per_s_per_chip: v = est.tokens_per_s_per_chip; break;
            case MetricId::tokens_per_s: v = est.tokens_per_s; break;
            case MetricId::tokens_per_s_per_user: v = est.tokens_per_s_per_user; break;
            case MetricId::tpot_ms: v = est.tpot_s * 1e3; break;
            case MetricId::ttft_ms: v = est.ttft_s * 1e3; break;
            case MetricId::step_time_s: v = est.step_time_s; break;
            case MetricId::mfu: v = est.mfu; break;
            case MetricId::memory_gb_per_chip: v = est.memory_gb; break;
            case MetricId::meets_target: v = tpot_target <= 0 || est.tpot_s * 1e3 <= tpot_target ? 1 : 0; break;
            case MetricId::usd_per_mtok: v = usd_mtok; break;
            case MetricId::tokens_per_kwh: v = est.tokens_per_s * 3600 * t.utilization / (t.facility_avg_w / 1000); break;
            case MetricId::tokens_per_usd: v = est.tokens_per_s * 3600 * t.utilization / t.per_h(); break;
            case MetricId::avg_facility_kw: v = t.facility_avg_w / 1000; break;
            case MetricId::capex_usd: v = t.capex_usd; break;
            case MetricId::tco_usd_per_h: v = t.per_h(); break;
            case MetricId::instance_chips: v = est.instance_chips; break;
            case MetricId::batch_per_instance: v = est.batch; break;
            case MetricId::interruptions_per_day: v = rel.stated ? rel.interruptions_per_day : nan; break;
            case MetricId::mtbf_system_h: v = rel.stated ? rel.mtbf_system_h : nan; break;
            case MetricId::goodput: v = rel.stated ? rel.goodput : nan; break;
            case MetricId::good_usd_per_mtok: v = rel.stated && rel.goodput > 0 ? usd_mtok / rel.goodput : nan; break;
            case MetricId::count: break;
          }
        out.metric[m][i] = v;
        // A point marked ok carries finite, non-negative numbers only.
        if (reason == 0 && !(std::isfinite(v) && v >= 0)) reason = kReasonNumeric;
      }
      if (reason == kReasonNumeric)
        for (std::size_t m = 0; m < spec.metrics.size(); ++m) out.metric[m][i] = nan;
      out.reason[i] = reason;
      out.kept[i] = spec.keep_invalid || reason == 0;
    }
  });
  // Compact kept rows in point order (a single pass, so the order never depends on threads).
  std::size_t rows = 0;
  for (std::size_t k = 0; k < count; ++k) {
    if (!out.kept[k]) {
      ++out.skipped[static_cast<std::size_t>(out.reason[k])];
      continue;
    }
    if (rows != k) {
      out.point[rows] = out.point[k];
      out.reason[rows] = out.reason[k];
      for (auto& a : out.axis) a[rows] = a[k];
      for (auto& m : out.metric) m[rows] = m[k];
    }
    ++rows;
  }
  out.rows = rows;
}

std::string hwdb_content_hash(const std::string& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  const auto opts = fs::directory_options::skip_permission_denied | fs::directory_options::follow_directory_symlink;
  for (fs::recursive_directory_iterator it(dir, opts, ec), end; !ec && it != end;
       it.increment(ec))
    if (it->is_regular_file(ec) && it->path().extension() == ".toml") files.push_back(it->path());
  if (ec) throw InputError(dir + ": cannot read directory (" + ec.message() + ")");
  std::sort(files.begin(), files.end());
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](const std::string& s) {
    for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  };
  for (auto& f : files) {
    mix(fs::relative(f, dir).string());
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    mix(ss.str());
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace podperf

namespace podperf {

namespace {
std::string file_hash(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : ss.str()) h = (h ^ ch) * 1099511628211ull;
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}
}  // namespace

std::vector<SweepStamp> sweep_stamps(const std::string& hwdb_dir, const std::vector<std::string>& figures,
                                     const std::string& configs_dir,
                                     const std::vector<std::pair<std::string, std::string>>& flags) {
  std::string sets, contents;
  for (auto& f : figures) {
    if (!sets.empty()) sets += ',';
    sets += f;
    // A path to a figure set (as load_hwdb reads it): its contents, wherever it lies.
    const bool is_path = f.find('/') != std::string::npos || fs::path(f).extension() == ".toml";
    const fs::path p = is_path ? fs::path(f) : fs::path(hwdb_dir) / "overlays" / (f + ".toml");
    if (!contents.empty()) contents += ',';
    contents += file_hash(p);
  }
  std::vector<SweepStamp> st = {
      {"podperf_version", "podperf version", PODPERF_VERSION},
      {"git_revision", "podperf build (git revision)", PODPERF_GIT_REV},
      {"hwdb_hash", "hwdb contents (--hwdb)", hwdb_content_hash(hwdb_dir)},
      {"figure_sets", "figure sets (--figures)", sets.empty() ? "none" : sets},
      {"figure_sets_hash", "figure-set file contents (--figures)", contents.empty() ? "none" : contents},
      {"models_hash", "model configs (--configs)", hwdb_content_hash((fs::path(configs_dir) / "models").string())}};
  for (auto& [flag, value] : flags) {
    std::string attr = "flag_";
    for (std::size_t i = 2; i < flag.size(); ++i) attr += flag[i] == '-' ? '_' : flag[i];
    st.push_back({attr, "value of " + flag, value.empty() ? "(not given)" : value});
  }
  return st;
}

}  // namespace podperf
