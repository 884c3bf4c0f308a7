#include "podperf/sweep.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "podperf/precision_choice.hpp"
#include "podperf/economics.hpp"
#include "podperf/error.hpp"
#include "podperf/plan.hpp"

namespace fs = std::filesystem;

namespace podperf {

const char* sweep_reason_text(std::int8_t code) {
  if (code == kReasonConstraint) return "excluded by a constraint";
  if (code == kReasonPlanShape) return "TP x PP does not divide the instance";
  if (code == kReasonNumeric) return "a metric is not a finite number >= 0 (inputs out of the model's range)";
  if (code >= 0 && code <= static_cast<int>(Reason::ttft_unreachable)) return reason_text(static_cast<Reason>(code));
  return "?";
}

std::vector<std::int8_t> sweep_reason_codes() {
  std::vector<std::int8_t> c;
  for (int i = 0; i <= static_cast<int>(Reason::ttft_unreachable); ++i) c.push_back(static_cast<std::int8_t>(i));
  c.push_back(kReasonConstraint);
  c.push_back(kReasonPlanShape);
  c.push_back(kReasonNumeric);
  return c;
}

void ChunkBuffers::reserve(const SweepSpec& s, std::size_t n) {
  point.resize(n);
  axis.resize(s.axes.size());
  for (auto& a : axis) a.resize(n);
  metric.resize(s.metrics.size());
  for (auto& m : metric) m.resize(n);
  reason.resize(n);
  kept.resize(n);
}

SweepContext prepare_sweep(const SweepSpec& spec, const Hwdb& db, const ModelDb& models) {
  SweepContext c;
  c.spec = &spec;
  c.axis_pos.fill(-1);
  for (std::size_t i = 0; i < spec.axes.size(); ++i) c.axis_pos[static_cast<int>(spec.axes[i].id)] = static_cast<int>(i);
  std::uint64_t stride = 1;
  for (int i = static_cast<int>(spec.axes.size()) - 1; i >= 0; --i) {
    c.stride[static_cast<int>(spec.axes[static_cast<std::size_t>(i)].id)] = stride;
    stride *= spec.axes[static_cast<std::size_t>(i)].size();
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
  for (auto& id : spec.axis(AxisId::system)->labels) {
    try {
      c.systems.push_back(db.system(id));
    } catch (const InputError& e) {
      throw err(AxisId::system, e.what());
    }
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
    for (auto& sys : c.systems) {
      const std::string id = sys.vendor == "Huawei" ? "china" : "us";
      c.sites.push_back(db.site(id));
      c.default_site.push_back(static_cast<int>(c.sites.size()) - 1);
    }
  }
  for (AxisId a : {AxisId::weights, AxisId::kv})
    if (const Axis* ax = spec.axis(a))
      for (auto& l : ax->labels) {
        Precision p;
        if (!parse_precision(l, p)) throw err(a, "unknown precision '" + l + "' (fp4 | fp8 | int8 | bf16 | fp32)");
      }
  if (const Axis* ax = spec.axis(AxisId::mode))
    for (auto& l : ax->labels)
      if (l != "prefill" && l != "decode" && l != "serve" && l != "train")
        throw err(AxisId::mode, "unknown mode '" + l + "' (prefill | decode | serve | train)");
  if (const Axis* ax = spec.axis(AxisId::ep))
    for (double v : ax->values)
      if (std::floor(v) != v) throw err(AxisId::ep, "values must be integers (0 = every chip of a stage)");
  for (AxisId a : {AxisId::tp, AxisId::pp, AxisId::batch, AxisId::seq_in, AxisId::seq_out})
    if (const Axis* ax = spec.axis(a))
      for (double v : ax->values)
        if (v < 1 || std::floor(v) != v) throw err(a, "values must be integers >= 1 (got " + fmt(v) + ")");
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
Precision precision_of(const std::string& s) {
  Precision p = Precision::bf16;
  parse_precision(s, p);
  return p;
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
  // chunk (site, electricity price and TPOT target do not change an estimate):
  //   0: resolve every point: its reason so far (plan shape, constraints) and its performance key;
  //   1: one estimate per distinct key (slots numbered in point order: independent of threads);
  //   2: every point's metrics from its slot's estimate (cost and TPOT filter: a cheap pass).
  auto body = [&](int k, int phase, Estimate* est_out) {
      const std::uint64_t point = first + static_cast<std::uint64_t>(k);
      std::array<int, kAxes> idx;
      idx.fill(-1);
      for (std::size_t a = 0; a < spec.axes.size(); ++a) {
        const int id = static_cast<int>(spec.axes[a].id);
        idx[id] = static_cast<int>((point / ctx.stride[id]) % spec.axes[a].size());
        out.axis[a][static_cast<std::size_t>(k)] =
            spec.axes[a].labels.empty() ? spec.axes[a].values[static_cast<std::size_t>(idx[id])] : idx[id];
      }
      auto num = [&](AxisId a, double fallback) {
        const int i = idx[static_cast<int>(a)];
        return i < 0 ? fallback : spec.axes[static_cast<std::size_t>(ctx.axis_pos[static_cast<int>(a)])].values[static_cast<std::size_t>(i)];
      };
      auto label = [&](AxisId a) -> const std::string* {
        const int i = idx[static_cast<int>(a)];
        return i < 0 ? nullptr : &spec.axes[static_cast<std::size_t>(ctx.axis_pos[static_cast<int>(a)])].labels[static_cast<std::size_t>(i)];
      };
      const int si = idx[static_cast<int>(AxisId::system)];
      const System& sys = ctx.systems[static_cast<std::size_t>(si)];
      const Model& model = ctx.models[static_cast<std::size_t>(idx[static_cast<int>(AxisId::model)])];
      const Site& site = ctx.default_site.empty() ? ctx.sites[static_cast<std::size_t>(idx[static_cast<int>(AxisId::site)])]
                                                   : ctx.sites[static_cast<std::size_t>(ctx.default_site[static_cast<std::size_t>(si)])];
      std::int8_t reason = 0;
      // Resolve the workload (no allocation: plain structs).
      Workload w;
      const std::string* mode = label(AxisId::mode);
      w.mode = !mode ? Mode::decode
               : *mode == "prefill" ? Mode::prefill
               : *mode == "serve"   ? Mode::serve
               : *mode == "train"   ? Mode::train
                                    : Mode::decode;
      InferenceSetup& x = w.infer;
      const std::string* wl = label(AxisId::weights);
      const std::string* kl = label(AxisId::kv);
      x.weights = wl ? precision_of(*wl) : native_8bit(sys.chip);
      x.kv = kl ? precision_of(*kl) : x.weights;
      Parallel p = default_inference_plan(sys, model, x.weights);
      const int instance = p.chips();
      // Axis values are at most kMaxAxisCount (1e8): products in 64 bits never wrap.
      p.tp = static_cast<int>(num(AxisId::tp, p.tp));
      p.pp = static_cast<int>(num(AxisId::pp, 1));
      const std::int64_t shape = std::int64_t{p.tp} * p.pp;
      if (instance % shape != 0) reason = kReasonPlanShape;
      p.dp = static_cast<int>(std::max<std::int64_t>(1, instance / shape));
      const int ep = static_cast<int>(num(AxisId::ep, 0));  // 0: every chip of a stage (MoE), 1 for dense
      p.ep = ep > 0 ? ep : (model.moe() ? p.tp * p.dp : 1);
      x.par = p;
      x.redundant_experts = default_redundant_experts(model, p.ep);
      const double batch = num(AxisId::batch, 0);
      const double instance_batch = batch * double(shape) * p.dp * p.cp / p.tp;  // per chip -> per instance
      if (instance_batch > 1e9 && reason == 0) reason = static_cast<std::int8_t>(Reason::memory);  // no HBM holds it
      x.batch = batch > 0 ? static_cast<int>(std::min(instance_batch, 1e9)) : 0;
      x.seq_in = static_cast<int>(num(AxisId::seq_in, 2048));
      x.seq_out = static_cast<int>(num(AxisId::seq_out, 256));
      x.context = static_cast<int>(num(AxisId::context, 0));
      x.mtp_tokens = model.mtp_layers > 0 ? static_cast<int>(num(AxisId::mtp, 0)) : 0;
      x.mtp_accept = 0.7;
      x.overlap = num(AxisId::overlap, -1);
      const double tpot_target = num(AxisId::tpot_ms, 0);
      if (w.mode == Mode::train) {
        // Training over every chip of the system: DP is what TP x PP leave; `batch` is sequences
        // per DP replica per step, `seq_in` the sequence length, `weights` the compute precision.
        TrainingSetup& t = w.train;
        t.par.tp = static_cast<int>(num(AxisId::tp, 1));
        t.par.pp = static_cast<int>(num(AxisId::pp, 1));
        t.par.ep = std::max(1, static_cast<int>(num(AxisId::ep, 1)));
        const std::int64_t tshape = std::int64_t{t.par.tp} * t.par.pp;
        reason = sys.chips % tshape == 0 ? 0 : kReasonPlanShape;  // the inference plan does not apply
        t.par.dp = static_cast<int>(std::max<std::int64_t>(1, sys.chips / tshape));
        t.global_batch = static_cast<int>(std::min(1e9, num(AxisId::batch, 16) * t.par.dp));
        t.seq = static_cast<int>(num(AxisId::seq_in, 4096));
        t.precision = wl ? x.weights : Precision::bf16;
        t.overlap = num(AxisId::overlap, -1);
        p = t.par;
      }
      // Constraints see the numeric axes as resolved, and the chip counts.
      double vars[kVars];
      vars[static_cast<int>(AxisId::tp)] = p.tp;
      vars[static_cast<int>(AxisId::ep)] = p.ep;
      vars[static_cast<int>(AxisId::pp)] = p.pp;
      for (AxisId a : {AxisId::batch, AxisId::seq_in, AxisId::seq_out, AxisId::context, AxisId::tpot_ms, AxisId::mtp,
                       AxisId::electricity_usd_kwh, AxisId::overlap, AxisId::utilization, AxisId::yield})
        vars[static_cast<int>(a)] = num(a, 0);
      vars[kVarChips] = sys.chips;
      vars[kVarChipsPerSupernode] = sys.chips_per_supernode;
      for (auto& c : spec.constraints)
        if (reason == 0 && !holds(c, vars)) reason = kReasonConstraint;
      if (phase == 0) {
        // The performance key: the point's index over every axis but site, electricity, TPOT, utilisation and
        // yield (they change cost, not performance).
        std::uint64_t key = 0;
        for (std::size_t a = 0; a < spec.axes.size(); ++a) {
          const AxisId id = spec.axes[a].id;
          if (id == AxisId::site || id == AxisId::electricity_usd_kwh || id == AxisId::tpot_ms ||
              id == AxisId::utilization || id == AxisId::yield)
            continue;
          key = key * spec.axes[a].size() + static_cast<std::uint64_t>(idx[static_cast<int>(id)]);
        }
        out.perf_key[static_cast<std::size_t>(k)] = key;
        out.reason[static_cast<std::size_t>(k)] = reason;
        return;
      }
      if (phase == 1) {
        *est_out = run_workload(sys, model, w);
        return;
      }
      const Estimate& est = out.est[static_cast<std::size_t>(out.slot[static_cast<std::size_t>(k)] < 0 ? 0 : out.slot[static_cast<std::size_t>(k)])];
      if (reason == 0 && !est.fits()) reason = static_cast<std::int8_t>(est.reason);
      out.reason[static_cast<std::size_t>(k)] = reason;
      out.point[static_cast<std::size_t>(k)] = point;
      // Metrics (NaN where the point has no number).
      const double nan = std::nan("");
      Tco t;
      Reliability rel;
      double usd_mtok = nan, price = site.electricity_usd_kwh;
      if (reason == 0) {
        // Yield axis: the change in the chip's manufacturing cost passes through to its price.
        double extra_capex = 0;
        if (const double y = num(AxisId::yield, -1); y > 0 && sys.chip.mfg.die_mm2 > 0) {
          ChipMfg m = sys.chip.mfg;
          m.yield = y;
          extra_capex = sys.chips * (chip_cost(m, sys.chip.dies).total_usd - chip_cost(sys.chip).total_usd);
        }
        t = tco(sys, site, est.activity, num(AxisId::utilization, -1), extra_capex);
        price = num(AxisId::electricity_usd_kwh, site.electricity_usd_kwh);
        t.energy_per_h = t.energy_per_h_per_usd_kwh * price;
        usd_mtok = t.per_h() / (est.tokens_per_s * 3600 * t.utilization) * 1e6;
        rel = reliability(sys, est.mode, est.mode == Mode::train ? est.par.chips() : est.instance_chips);
      }
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
            case MetricId::memory_gb_per_chip: v = est.mem.used(); break;
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
        out.metric[m][static_cast<std::size_t>(k)] = v;
        // A point marked ok carries finite, non-negative numbers only.
        if (reason == 0 && !(std::isfinite(v) && v >= 0)) reason = kReasonNumeric;
      }
      if (reason == kReasonNumeric) {
        for (std::size_t m = 0; m < spec.metrics.size(); ++m) out.metric[m][static_cast<std::size_t>(k)] = nan;
        out.reason[static_cast<std::size_t>(k)] = reason;
      }
      out.kept[static_cast<std::size_t>(k)] = spec.keep_invalid || reason == 0;
  };
#pragma omp parallel for schedule(static)
  for (int k = 0; k < n; ++k) body(k, 0, nullptr);
  // Slots in point order; consecutive points usually share a key (the price axes vary fastest).
  out.slot_point.clear();
  out.slot_of_key.clear();
  std::uint64_t prev_key = 0;
  int prev_slot = -1;
  for (int k = 0; k < n; ++k) {
    const std::size_t i = static_cast<std::size_t>(k);
    if (out.reason[i] != 0) {
      out.slot[i] = -1;
      continue;
    }
    if (prev_slot < 0 || out.perf_key[i] != prev_key) {
      auto [it, added] = out.slot_of_key.try_emplace(out.perf_key[i], static_cast<int>(out.slot_point.size()));
      if (added) out.slot_point.push_back(k);
      prev_key = out.perf_key[i];
      prev_slot = it->second;
    }
    out.slot[i] = prev_slot;
  }
  const int slots = static_cast<int>(out.slot_point.size());
  if (out.est.size() < out.slot_point.size() || out.est.empty()) out.est.resize(std::max<std::size_t>(1, out.slot_point.size()));
#pragma omp parallel for schedule(dynamic, 16)
  for (int j = 0; j < slots; ++j) body(out.slot_point[static_cast<std::size_t>(j)], 1, &out.est[static_cast<std::size_t>(j)]);
  out.evaluations = static_cast<std::uint64_t>(slots);
#pragma omp parallel for schedule(static)
  for (int k = 0; k < n; ++k) body(k, 2, nullptr);
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
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end; !ec && it != end;
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

std::vector<SweepStamp> sweep_stamps(const std::string& hwdb_dir, const std::vector<std::string>& figures,
                                     const std::string& configs_dir) {
  std::string sets;
  for (auto& f : figures) sets += (sets.empty() ? "" : ",") + f;
  return {{"podperf_version", "podperf version", PODPERF_VERSION},
          {"git_revision", "podperf build (git revision)", PODPERF_GIT_REV},
          {"hwdb_hash", "hwdb contents (--hwdb)", hwdb_content_hash(hwdb_dir)},
          {"figure_sets", "figure sets (--figures)", sets.empty() ? "none" : sets},
          {"models_hash", "model configs (--configs)", hwdb_content_hash((fs::path(configs_dir) / "models").string())}};
}

}  // namespace podperf
