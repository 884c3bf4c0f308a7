#include "podperf/app/comparison.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <set>

#include "podperf/app/number_text.hpp"
#include "podperf/core/cost.hpp"
#include "podperf/io/error.hpp"
#include "podperf/core/power.hpp"
#include "podperf/core/reliability.hpp"
#include "podperf/core/system_specs.hpp"

namespace podperf {

// Comparisons on equal terms: matching the smaller side to the larger on one quantity, and a
// parallel plan per side.
bool parse_match(const std::string& text, MatchOn& out) {
  for (MatchOn m : {MatchOn::chips, MatchOn::power, MatchOn::fp8, MatchOn::bf16, MatchOn::capex})
    if (text == to_string(m)) {
      out = m;
      return true;
    }
  return false;
}

const char* to_string(MatchOn m) {
  switch (m) {
    case MatchOn::chips: return "chips";
    case MatchOn::power: return "power";
    case MatchOn::fp8: return "fp8";
    case MatchOn::bf16: return "bf16";
    case MatchOn::capex: return "capex";
  }
  return "";
}

const char* match_unit(MatchOn m) {
  switch (m) {
    case MatchOn::chips: return "chips";
    case MatchOn::power: return "kW";
    case MatchOn::fp8:
    case MatchOn::bf16: return "PFLOPS";
    case MatchOn::capex: return "USD";
  }
  return "";
}

double match_quantity(const System& s, MatchOn m) {
  if (m == MatchOn::chips) return s.chips;
  if (m == MatchOn::capex) return capex_usd(s);
  const SystemSpecs sp = system_specs(s);
  if (m == MatchOn::power) return sp.all_in_kw();
  if (m == MatchOn::bf16) return sp.dense_pflops[static_cast<int>(Precision::bf16)];
  return std::max(sp.dense_pflops[static_cast<int>(Precision::fp8)], sp.dense_pflops[static_cast<int>(Precision::int8)]);
}

namespace {
// A side's id in parts: [N x]UNIT[:os=R][@STACK].
struct SideId {
  std::string given, unit, os, stack;
  int count = 1;
  bool composite = false;  // written NxUNIT
  bool cluster = false;    // a cluster from hwdb/clusters
};

SideId split_id(const Hwdb& db, const std::string& id) {
  SideId s;
  s.given = id;
  std::string core = id;
  if (const auto at = id.rfind('@'); at != std::string::npos) {
    core = id.substr(0, at);
    s.stack = id.substr(at + 1);
  }
  s.unit = core;
  if (db.systems.count(core)) return s;
  if (db.clusters.count(core)) {
    s.cluster = true;
    return s;
  }
  static const std::regex multi("^([0-9]+)x([a-z0-9-]+)(:os=[^:]*)?$");
  std::smatch m;
  if (std::regex_match(core, m, multi) && db.systems.count(m[2].str()) && m[1].length() <= 6) {
    s.unit = m[2].str();
    s.count = static_cast<int>(std::strtol(m[1].str().c_str(), nullptr, 10));
    s.os = m[3].str();
    s.composite = true;
  }
  return s;
}

std::string composite_id(const SideId& s, int n) {
  if (n == s.count && !s.composite) return s.given;
  return std::to_string(n) + "x" + s.unit + s.os + (s.stack.empty() ? "" : "@" + s.stack);
}

std::string amount(double v, MatchOn m) {
  using text::num;
  switch (m) {
    case MatchOn::chips: return num(v, 6) + " chips";
    case MatchOn::power: return v >= 1000 ? num(v / 1000, 3) + " MW" : num(v, 3) + " kW";
    case MatchOn::fp8: return num(v, 4) + " dense 8-bit PFLOPS";
    case MatchOn::bf16: return num(v, 4) + " dense BF16 PFLOPS";
    case MatchOn::capex: return num(v / 1e6, 4) + " M USD";
  }
  return "";
}
}  // namespace

std::string MatchedPair::summary() const {
  return std::string("matched on ") + to_string(on) + ": " + std::to_string(count_a) + " x " + unit_a + " vs " +
         std::to_string(count_b) + " x " + unit_b + " (" + amount(quantity_a, on) + " vs " + amount(quantity_b, on) + ")";
}

MatchedPair match_pair(const Hwdb& db, const std::string& a, const std::string& b, MatchOn on, const std::string& flag) {
  const SideId sa = split_id(db, a), sb = split_id(db, b);
  MatchedPair p;
  p.on = on;
  p.a = a;
  p.b = b;
  p.unit_a = sa.unit;
  p.unit_b = sb.unit;
  p.count_a = sa.count;
  p.count_b = sb.count;
  const double qa = match_quantity(db.system(a), on), qb = match_quantity(db.system(b), on);
  for (auto [q, id] : {std::pair{qa, &a}, std::pair{qb, &b}})
    if (!(q > 0) || !std::isfinite(q))
      throw InputError("flag " + flag + ": '" + *id + "' has no " + to_string(on) + " figure to match on (" +
                       text::num(q) + " " + match_unit(on) + ")");
  p.quantity_a = qa;
  p.quantity_b = qb;
  if (qa == qb) return p;
  const bool scale_a = qa < qb;
  const SideId& s = scale_a ? sa : sb;
  const double target = scale_a ? qb : qa;
  if (s.cluster)
    throw InputError("flag " + flag + ": '" + s.given + "' is a cluster and the smaller side on " + to_string(on) +
                     "; give its system as NxSYSTEM to scale it");
  // The total of n units, as the hwdb builds "nxUNIT" (its scale-out network included).
  auto total = [&](int n) { return match_quantity(db.system(std::to_string(n) + "x" + s.unit + s.os), on); };
  const double one = total(1);
  const double guess = target / one;
  if (!(guess < 100000))
    throw InputError("flag " + flag + ": matching '" + s.given + "' would take more than 100,000 of '" + s.unit + "'");
  const int lo = std::max(1, static_cast<int>(std::floor(guess)) - 1), hi = std::max(1, static_cast<int>(std::ceil(guess)) + 1);
  int best = lo;
  double best_gap = std::abs(total(lo) - target), best_q = total(lo);
  for (int n = lo + 1; n <= hi; ++n) {
    const double q = total(n), gap = std::abs(q - target);
    if (gap <= best_gap) {  // a tie goes to the larger count
      best = n;
      best_gap = gap;
      best_q = q;
    }
  }
  const std::string id = composite_id(s, best);
  const double q = id == s.given ? (scale_a ? qa : qb) : best_q;
  if (scale_a) {
    p.a = id, p.count_a = best, p.scaled_a = true, p.quantity_a = q;
  } else {
    p.b = id, p.count_b = best, p.scaled_b = true, p.quantity_b = q;
  }
  return p;
}

void apply_plan_text(WorkloadInputs& w, const std::string& text, const std::string& flag) {
  struct Key {
    const char* name;
    int WorkloadInputs::*field;
  };
  static const Key keys[] = {{"tp", &WorkloadInputs::tp},
                             {"dp", &WorkloadInputs::dp},
                             {"ep", &WorkloadInputs::ep},
                             {"pp", &WorkloadInputs::pp},
                             {"cp", &WorkloadInputs::cp},
                             {"batch", &WorkloadInputs::batch},
                             {"prefill-tp", &WorkloadInputs::prefill_tp},
                             {"prefill-dp", &WorkloadInputs::prefill_dp},
                             {"prefill-ep", &WorkloadInputs::prefill_ep},
                             {"prefill-pp", &WorkloadInputs::prefill_pp}};
  const std::string known = "tp, dp, ep, pp, cp, batch, prefill-tp, prefill-dp, prefill-ep, prefill-pp";
  if (text.find_first_not_of(" \t") == std::string::npos)
    throw InputError("flag " + flag + ": empty plan (give KEY=N pairs, e.g. tp=8,ep=144)");
  std::set<std::string> seen;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    start = comma + 1;
    const auto eq = item.find('=');
    if (eq == std::string::npos)
      throw InputError("flag " + flag + ": '" + item + "' is not KEY=N (keys: " + known + "; e.g. tp=8,ep=144)");
    std::string key = item.substr(0, eq);
    std::replace(key.begin(), key.end(), '_', '-');
    const std::string value = item.substr(eq + 1);
    const Key* k = nullptr;
    for (const Key& x : keys)
      if (key == x.name) k = &x;
    if (!k) throw InputError("flag " + flag + ": unknown key '" + key + "' (keys: " + known + ")");
    if (!seen.insert(key).second) throw InputError("flag " + flag + ": '" + key + "' given twice");
    char* end = nullptr;
    const long v = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || v < 1 || v > 100000000 || value.find_first_not_of("0123456789") != std::string::npos)
      throw InputError("flag " + flag + ": " + key + " must be a whole number in [1, 100000000] (got '" + value + "')");
    w.*(k->field) = static_cast<int>(v);
  }
}

// The comparison pipeline.

namespace {
const std::vector<ComparisonRow>& raw_rows() {
  static const std::vector<ComparisonRow> r = {
      {"chips", "accelerators", 0, false, "chips"},
      {"bf16_dense_pflops", "BF16 dense PFLOPS", +1, false, "PFLOPS"},
      {"eight_bit_dense_pops", "8-bit dense P(FL)OPS (FP8 or INT8)", +1, false, "P(FL)OPS"},
      {"hbm_tb", "HBM capacity TB", +1, false, "TB"},
      {"hbm_tb_s", "HBM bandwidth TB/s", +1, false, "TB/s"},
      {"scaleup_tb_s_per_dir", "scale-up TB/s per direction", +1, false, "TB/s"},
      {"scaleout_tb_s_per_dir", "scale-out TB/s per direction", +1, false, "TB/s"},
      {"racks", "racks", -1, false, "racks"},
      {"transceivers", "optical transceivers", -1, false, "modules"},
      {"all_in_power_kw", "all-in IT power kW (peak)", -1, false, "kW"},
      {"w_per_bf16_tflop", "W per dense BF16 TFLOPS", -1, false, "W/TFLOPS"},
      {"w_per_hbm_tb_s", "W per TB/s of HBM bandwidth", -1, false, "W/(TB/s)"},
      {"w_per_hbm_tb", "W per TB of HBM", -1, false, "W/TB"},
      {"bf16_pflops_per_kw", "dense BF16 PFLOPS per kW", +1, false, "PFLOPS/kW"},
      {"capex_musd", "capex M USD (system + scale-out share)", -1, false, "M USD"},
      {"chip_mfg_usd", "chip cost from manufacturing USD", -1, false, "USD"},
  };
  return r;
}

const char* kWorkloadRows[] = {"tokens_per_s", "tokens_per_s_per_chip", "tokens_per_s_per_busy_chip", "tokens_per_s_per_kw",
                               "tokens_per_usd", "usd_per_mtok", "tokens_per_kwh", "avg_facility_kw", "tco_usd_per_h",
                               "tco_usd_per_chip_h", "train_run_musd", "train_run_weeks", "train_run_interruptions",
                               "electricity_usd_kwh", "utilization", "mtbf_supernode_h", "mtbf_system_h",
                               "interruptions_per_day", "goodput", "good_tokens_per_s", "good_tokens_per_kwh",
                               "good_usd_per_mtok"};

// One side's scenario evaluated at a draw of the hwdb's ranges.
Evaluation side_at(const Comparison& c, const ComparisonSide& side, const Pick& pick) {
  const Hwdb& db = *c.data.db;
  return evaluate_on(c.data, db.system(side.id, pick), db.site(side.site_id, pick), c.model, side.sc);
}
}  // namespace

const std::vector<ComparisonRow>& comparison_rows() {
  static const std::vector<ComparisonRow> rows = [] {
    std::vector<ComparisonRow> out = raw_rows();
    for (const char* key : kWorkloadRows) {  // workload rows: the result catalogue's label, unit and direction
      ResultMetric m;
      if (!metric_by_id(key, m)) throw std::logic_error(std::string("comparison row without a metric: ") + key);
      out.push_back({key, info(m).description, info(m).better, true, info(m).unit});
    }
    return out;
  }();
  return rows;
}

std::size_t comparison_row(const std::string& key) {
  for (std::size_t i = 0; i < comparison_rows().size(); ++i)
    if (comparison_rows()[i].key == key) return i;
  return 0;
}

std::string comparison_row_label(const ComparisonRow& r, Mode mode, const std::string& eight_bit) {
  if (r.key == "eight_bit_dense_pops") return "8-bit dense P(FL)OPS (" + eight_bit + ")";
  if (!r.workload || r.key.rfind("train_run", 0) == 0) return r.label;
  return tokens_named(r.label, mode);
}

std::string tokens_named(std::string l, Mode mode) {
  const char* what = mode == Mode::prefill ? "input tokens" : mode == Mode::train ? "training tokens" : "output tokens";
  if (auto at = l.find("tokens"); at != std::string::npos) l.replace(at, 6, what);
  return l;
}

std::string eight_bit_format(const System& s) {
  const SystemSpecs sp = system_specs(s);
  return sp.dense_pflops[static_cast<int>(Precision::fp8)] >= sp.dense_pflops[static_cast<int>(Precision::int8)] ? "FP8" : "INT8";
}

int comparison_error_power(std::size_t row) {
  ResultMetric m;
  if (!comparison_rows()[row].workload || !metric_by_id(comparison_rows()[row].key, m)) return 0;
  switch (m) {
    case ResultMetric::tokens_per_s: case ResultMetric::tokens_per_s_per_chip: case ResultMetric::tokens_per_s_per_busy_chip:
    case ResultMetric::tokens_per_s_per_kw: case ResultMetric::tokens_per_usd: case ResultMetric::tokens_per_kwh:
    case ResultMetric::good_tokens_per_s: case ResultMetric::good_tokens_per_kwh:
      return +1;
    case ResultMetric::usd_per_mtok: case ResultMetric::good_usd_per_mtok: case ResultMetric::train_run_musd:
    case ResultMetric::train_run_weeks: case ResultMetric::train_run_interruptions:
      return -1;
    default:
      return 0;
  }
}

bool comparison_hardware_row(std::size_t row, const ComparisonSide& side) {
  const ComparisonRow& r = comparison_rows()[row];
  if (r.key == "capex_musd") return !side.ev.serving.separate_prefill;
  if (!r.workload) return true;
  return r.key == "mtbf_supernode_h" || r.key == "mtbf_system_h" || (r.key == "interruptions_per_day" && side.ev.w.mode != Mode::train);
}

std::vector<LogFactor> comparison_errors(const Comparison& c, std::size_t only) {
  std::vector<LogFactor> out;
  for (const auto& side_sign : {std::pair{&c.a, +1}, std::pair{&c.b, -1}}) {
    const ComparisonSide* side = side_sign.first;
    const int sign = side_sign.second;
    auto it = std::find_if(c.inputs.begin(), c.inputs.end(), [side](const RangedInput& in) { return in.key == side->error_key; });
    if (it == c.inputs.end()) continue;
    LogFactor lf{*it, {}};
    for (std::size_t i = 0; i < comparison_rows().size(); ++i)
      if (only == static_cast<std::size_t>(-1) || i == only) lf.power.push_back(sign * comparison_error_power(i));
    out.push_back(lf);
  }
  return out;
}

Comparison prepare_comparison(const ScenarioData& data, const ComparisonSpec& spec, const std::vector<ValidationCase>& cases,
                              const ResidualRecord& residuals) {
  const Hwdb& db = *data.db;
  Comparison c;
  c.spec = spec;
  c.data = data;
  c.model = data.models->model(spec.model);
  c.a.id = spec.a;
  c.b.id = spec.b;
  if (!spec.match.empty()) {
    MatchOn on = MatchOn::chips;
    if (!parse_match(spec.match, on))
      throw InputError("flag --match: '" + spec.match + "' is not one of chips, power, fp8, bf16, capex");
    c.match = match_pair(db, c.a.id, c.b.id, on);
    c.matched = true;
    c.a.id = c.match.a;
    c.b.id = c.match.b;
  }
  c.a.site_id = spec.site_a;
  c.b.site_id = spec.site_b;
  for (ComparisonSide* s : {&c.a, &c.b}) {
    const bool is_a = s == &c.a;
    const std::string& plan = is_a ? spec.plan_a : spec.plan_b;
    const std::string plan_flag = is_a ? "--plan-a" : "--plan-b";
    db.site(s->site_id);  // unknown site: error now
    // Each side is the scenario `estimate` would run: each chip's native precision recipe unless
    // flags say otherwise; impossible plans are rejected with the flag named.
    s->id = with_model_stack(db, s->id, c.model.moe());  // a dense model runs the system's dense-model stack
    s->sc.system = s->id;
    s->sc.model = c.model.id;
    s->sc.site = s->site_id;
    s->sc.w = spec.w;
    s->sc.serve = spec.serve;
    s->sc.w.recipes = data.recipes;
    if (!plan.empty()) apply_plan_text(s->sc.w, plan, plan_flag);
    try {
      s->ev = evaluate(data, s->sc);
    } catch (const InputError& e) {
      // A plan that cannot exist on this side: name the side's own flag, or say that one exists.
      const std::string msg = e.what();
      bool plan_error = false;
      for (const char* f : {"flag --tp", "flag --dp", "flag --ep", "flag --pp", "flag --cp", "flag --prefill-", "flag --batch"})
        plan_error = plan_error || msg.rfind(f, 0) == 0;
      if (!plan_error) throw;
      if (!plan.empty()) throw InputError("flag " + plan_flag + ": " + msg.substr(msg.find(": ") + 2) + " [" + s->id + "]");
      throw InputError(msg + " [side " + (is_a ? "A " : "B ") + s->id + "; " + plan_flag + " gives it a plan of its own]");
    }
    s->stack_id = s->ev.w.mode == Mode::train ? s->ev.sys.train_stack.id : s->ev.sys.stack.id;
  }
  std::vector<std::string> ids = entities_of_system(db, c.a.id);
  for (auto& id : entities_of_system(db, c.b.id)) ids.push_back(id);
  ids.push_back(c.a.site_id);
  if (c.b.site_id != c.a.site_id) ids.push_back(c.b.site_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  c.inputs = ranged_inputs(db, ids);
  c.hw = c.inputs;
  // The model's error on each side, from calibrate's leave-one-out residuals of its case class (the
  // current in-sample residuals where there is no such record).
  for (auto [side, tag] : {std::pair{&c.a, "A"}, std::pair{&c.b, "B"}}) {
    side->error_key = std::string("model error ") + tag + " (" + side->id + ")";
    side->err = residuals.file.empty() ? model_error(db, *data.models, cases, side->id, side->ev.w.mode, side->stack_id)
                                       : model_error(db, residuals, side->id, side->ev.w.mode, side->stack_id);
    if (side->err.frac > 0)
      c.inputs.push_back({side->error_key, -std::log1p(side->err.frac), 0, std::log1p(side->err.frac), "ln(throughput factor)",
                          side->err.validated ? "model error (validated)" : "model error (unvalidated)"});
  }
  return c;
}

std::vector<double> comparison_values(const Comparison& c, const ComparisonSide& side, const Pick& pick, Evaluation* keep,
                                      bool hardware_only) {
  const Hwdb& db = *c.data.db;
  const System s = db.system(side.id, pick);
  const SystemSpecs sp = system_specs(s);
  const Evaluation ev = hardware_only ? Evaluation{} : side_at(c, side, pick);
  const double nan = std::nan("");
  const double kw = sp.all_in_kw();
  const double bf16 = sp.dense_pflops[static_cast<int>(Precision::bf16)];
  const double eight = std::max(sp.dense_pflops[static_cast<int>(Precision::fp8)], sp.dense_pflops[static_cast<int>(Precision::int8)]);
  const double modules = s.supernodes * s.scaleup.transceivers +
                         s.chips * (scaleout_ports_per_chip(s.scaleout) + 1) * s.scaleout.transceivers;
  const ChipCost mfg = chip_cost(s.chip);
  auto spec = [&](const std::string& key) {
    if (key == "chips") return double(sp.chips);
    if (key == "bf16_dense_pflops") return bf16;
    if (key == "eight_bit_dense_pops") return eight;
    if (key == "hbm_tb") return sp.hbm_tb;
    if (key == "hbm_tb_s") return sp.hbm_tb_s;
    if (key == "scaleup_tb_s_per_dir") return sp.scaleup_tb_s_per_dir;
    if (key == "scaleout_tb_s_per_dir") return sp.scaleout_tbit_s_per_dir / 8;
    if (key == "racks") return double(sp.racks);
    if (key == "transceivers") return modules;
    if (key == "all_in_power_kw") return kw;
    if (key == "w_per_bf16_tflop") return kw * 1000 / (bf16 * 1000);
    if (key == "w_per_hbm_tb_s") return kw * 1000 / sp.hbm_tb_s;
    if (key == "w_per_hbm_tb") return kw * 1000 / sp.hbm_tb;
    if (key == "bf16_pflops_per_kw") return bf16 / kw;
    if (key == "capex_musd") return (hardware_only ? capex_usd(s) : ev.econ.tco.capex_usd) / 1e6;
    if (key == "chip_mfg_usd") return mfg.stated ? mfg.total_usd : nan;
    return nan;
  };
  // The model's own error scales what the workload model predicts: throughput up, cost and time per
  // token down. The error is drawn in log space, ln f on [-ln(1 + e), ln(1 + e)]: a model that over- or
  // under-predicts by the same factor is as likely, and the throughput never reaches zero.
  // In the bands the error is not drawn but convolved (comparison_errors); a pick that carries it
  // (the tornado) scales the rows here.
  double x = 0;
  if (auto it = pick.per_value.find(side.error_key); it != pick.per_value.end()) x = it->second;
  const std::vector<ComparisonRow>& rows = comparison_rows();
  std::vector<double> v;
  v.reserve(rows.size());
  if (hardware_only) {
    const Reliability rel = reliability(s, side.ev.w.mode, s.chips);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const std::string& key = rows[i].key;
      if (!comparison_hardware_row(i, side)) v.push_back(nan);
      else if (!rows[i].workload) v.push_back(spec(key));
      else if (!rel.stated) v.push_back(nan);
      else v.push_back(key == "mtbf_supernode_h" ? rel.mtbf_supernode_h : key == "mtbf_system_h" ? rel.mtbf_system_h : rel.interruptions_per_day);
    }
    return v;
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ResultMetric m;
    v.push_back(rows[i].workload && metric_by_id(rows[i].key, m) ? ev.result[m] * std::exp(comparison_error_power(i) * x)
                                                                 : spec(rows[i].key));
  }
  if (keep) *keep = ev;
  return v;
}

long comparison_draws(const Comparison& c) {
  // The central evaluation, the draws and the tornado's two ends per input.
  return 1 + c.spec.samples + (c.spec.sensitivity ? 2 * static_cast<long>(c.inputs.size()) : 0);
}

void run_comparison(Comparison& c, const std::function<void()>& tick) {
  Evaluation eva, evb;
  c.va = comparison_values(c, c.a, Pick{}, &eva);
  c.vb = comparison_values(c, c.b, Pick{}, &evb);
  c.a.ev = eva;
  c.b.ev = evb;
  // Ratios A/B over the same draws.
  const std::vector<ComparisonRow>& rows = comparison_rows();
  auto ratios = [&](const Pick& pick) {
    if (tick) tick();
    Evaluation ea, eb;
    const std::vector<double> x = comparison_values(c, c.a, pick, &ea), y = comparison_values(c, c.b, pick, &eb);
    // A draw where a side's workload does not fit has no workload figures (an idle system's power
    // and cost are not its deployment's): only its hardware rows count.
    const bool fit = ea.econ.est.fits() && eb.econ.est.fits();
    std::vector<double> r(x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
      r[i] = !fit && rows[i].workload && !(comparison_hardware_row(i, c.a) && comparison_hardware_row(i, c.b)) ? std::nan("")
                                                                                                             : x[i] / y[i];
    return r;
  };
  c.ratio = monte_carlo(c.hw, c.spec.samples, c.spec.seed, ratios, comparison_errors(c));
  // The hardware rows need no deployment: many more draws for the time of a few.
  {
    const std::vector<Interval> hw =
        monte_carlo(c.hw, kCompareHardwareDrawsPerDraw * c.spec.samples, c.spec.seed, [&](const Pick& pick) {
          const std::vector<double> x = comparison_values(c, c.a, pick, nullptr, true),
                                    y = comparison_values(c, c.b, pick, nullptr, true);
          std::vector<double> r(x.size());
          for (std::size_t i = 0; i < x.size(); ++i) r[i] = x[i] / y[i];
          return r;
        });
    for (std::size_t i = 0; i < c.ratio.size(); ++i)
      if (comparison_hardware_row(i, c.a) && comparison_hardware_row(i, c.b)) c.ratio[i] = hw[i];
  }
  const std::size_t cost_row = comparison_row("usd_per_mtok");
  c.tornado.clear();
  if (c.spec.sensitivity) c.tornado = sensitivity(c.inputs, [&](const Pick& pick) { return ratios(pick)[cost_row]; });
  c.has_split = false;
  if (c.spec.split && c.spec.samples > 0 && std::isfinite(c.ratio[cost_row].central)) {
    // Which part of the cost band is the model's error and which the hwdb's input ranges: the hwdb
    // ranges drawn without the model error, and the model error convolved exactly at the central values.
    auto cost = [&](const Pick& pick) {
      return comparison_values(c, c.a, pick)[cost_row] / comparison_values(c, c.b, pick)[cost_row];
    };
    c.split_samples = std::min(c.spec.samples, kCompareSplitSamples);
    c.cost_hwdb_only = monte_carlo(c.hw, c.split_samples, c.spec.seed, cost);
    c.cost_model_error_only = monte_carlo({}, 1, c.spec.seed, cost, comparison_errors(c, cost_row));
    c.has_split = true;
  }
}

Comparison make_comparison(const ScenarioData& data, const ComparisonSpec& spec, const std::vector<ValidationCase>& cases,
                           const ResidualRecord& residuals, const std::function<void()>& tick) {
  Comparison c = prepare_comparison(data, spec, cases, residuals);
  run_comparison(c, tick);
  return c;
}

HomeReading home_costs(const Comparison& c) {
  const Hwdb& db = *c.data.db;
  HomeReading h;
  h.site_a = db.system(c.a.id).home_site;
  h.site_b = db.system(c.b.id).home_site;
  h.a = evaluate_on(c.data, db.system(c.a.id), db.site(h.site_a), c.model, c.a.sc).econ;
  h.b = evaluate_on(c.data, db.system(c.b.id), db.site(h.site_b), c.model, c.b.sc).econ;
  return h;
}

// The point puts every input at its central value (the mode of its triangular range); where ranges
// are skewed, the 5-95 % band of the draws can miss it.
bool has_band(const Interval& r) { return r.high > r.low * (1 + 1e-9); }
bool point_outside_band(const Interval& r) {
  return has_band(r) && std::isfinite(r.central) && (r.central < r.low || r.central > r.high);
}
bool band_crosses_one(const Interval& r) { return has_band(r) && r.low < 1 && r.high > 1; }
bool even(double a, double b) {
  return std::isfinite(a) && std::isfinite(b) && std::abs(a - b) <= 0.005 * std::max(std::abs(a), std::abs(b));
}

std::string better_side(const Comparison& c, std::size_t i) {
  const ComparisonRow& r = comparison_rows()[i];
  const Interval& iv = c.ratio[i];
  // A missing value is better on no side.
  if (r.better == 0 || !std::isfinite(c.va[i]) || !std::isfinite(c.vb[i]) || !std::isfinite(iv.central) ||
      band_crosses_one(iv) || even(c.va[i], c.vb[i]))
    return "";
  return r.better * (c.va[i] - c.vb[i]) > 0 ? "a" : "b";
}

Breakeven breakeven(const Comparison& c, int samples, unsigned long seed) {
  const Hwdb& db = *c.data.db;
  auto solve = [&](const Pick& pick) {
    const Site ta = db.site(c.a.site_id, pick);
    const Economics ea = side_at(c, c.a, pick).econ, eb = side_at(c, c.b, pick).econ;
    const double nan = std::nan("");
    if (!ea.est.fits() || !eb.est.fits()) return std::vector<double>(Breakeven::count, nan);
    return std::vector<double>{breakeven_electricity(ea, eb.usd_per_mtok), breakeven_capex(ea, ta, eb.usd_per_mtok),
                               ea.usd_per_mtok, eb.usd_per_mtok,
                               breakeven_utilization(ea, eb.usd_per_mtok), breakeven_utilization(eb, ea.usd_per_mtok),
                               ea.good_usd_per_mtok, eb.good_usd_per_mtok, ea.tco.utilization};
  };
  Breakeven b;
  b.v = monte_carlo(c.inputs, samples, seed, solve);
  return b;
}

}  // namespace podperf
