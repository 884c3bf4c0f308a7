// podperf compare A B: the SemiAnalysis-style side-by-side (specs, power, cost, reliability and a
// workload), both systems at one site (the hardware alone; --sites A,B splits them), ratios A/B with
// their 5-95% range over the hwdb's uncertainties, and a second reading with each at its home site.
// podperf breakeven A B: the electricity price and the system price at which A's cost per million
// tokens equals B's.
#include <algorithm>
#include <cmath>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <tuple>

#include "context.hpp"
#include "estimate_output.hpp"
#include "podperf/comparison.hpp"
#include "podperf/economics.hpp"
#include "podperf/scenario.hpp"
#include "podperf/error.hpp"
#include "podperf/model_error.hpp"
#include "podperf/system_specs.hpp"
#include "podperf/uncertainty.hpp"
#include "podperf/validation.hpp"
#include "progress.hpp"
#include "table.hpp"

namespace podperf::cli {

namespace {
struct Side {
  std::string id, site_id;
  std::string stack_id;  // the stack of the mode it runs
  Scenario sc;           // the side's scenario (its site: site_id)
  Evaluation ev;         // at the hwdb's central values
  std::string error_key;  // the Monte Carlo input that carries this side's model error
  ModelError err;
};

std::string default_site(const Hwdb& db, const std::string& system_id) { return db.system(system_id).home_site; }

struct Row {
  std::string key, label;
  int better = 0;  // +1 higher is better, -1 lower is better, 0 neither
  bool workload = false;
};

const std::vector<Row>& rows() {
  static const std::vector<Row> r = {
      {"chips", "accelerators", 0},
      {"bf16_dense_pflops", "BF16 dense PFLOPS", +1},
      {"eight_bit_dense_pops", "8-bit dense P(FL)OPS (FP8 or INT8)", +1},
      {"hbm_tb", "HBM capacity TB", +1},
      {"hbm_tb_s", "HBM bandwidth TB/s", +1},
      {"scaleup_tb_s_per_dir", "scale-up TB/s per direction", +1},
      {"scaleout_tb_s_per_dir", "scale-out TB/s per direction", +1},
      {"racks", "racks", -1},
      {"transceivers", "optical transceivers", -1},
      {"all_in_power_kw", "all-in IT power kW (peak)", -1},
      {"w_per_bf16_tflop", "W per dense BF16 TFLOPS", -1},
      {"w_per_hbm_tb_s", "W per TB/s of HBM bandwidth", -1},
      {"w_per_hbm_tb", "W per TB of HBM", -1},
      {"bf16_pflops_per_kw", "dense BF16 PFLOPS per kW", +1},
      {"capex_musd", "capex M USD (system + scale-out share)", -1},
      {"chip_mfg_usd", "chip cost from manufacturing USD", -1},
      {"tokens_per_s", "", 0, true},
      {"tokens_per_s_per_chip", "", 0, true},
      {"tokens_per_s_per_busy_chip", "", 0, true},
      {"tokens_per_s_per_kw", "", 0, true},
      {"tokens_per_usd", "", 0, true},
      {"usd_per_mtok", "", 0, true},
      {"tokens_per_kwh", "", 0, true},
      {"avg_facility_kw", "", 0, true},
      {"tco_usd_per_h", "", 0, true},
      {"tco_usd_per_chip_h", "", 0, true},
      {"train_run_musd", "", 0, true},
      {"train_run_weeks", "", 0, true},
      {"train_run_interruptions", "", 0, true},
      {"electricity_usd_kwh", "", 0, true},
      {"utilization", "", 0, true},
      {"mtbf_supernode_h", "", 0, true},
      {"mtbf_system_h", "", 0, true},
      {"interruptions_per_day", "", 0, true},
      {"goodput", "", 0, true},
      {"good_tokens_per_s", "", 0, true},
      {"good_tokens_per_kwh", "", 0, true},
      {"good_usd_per_mtok", "", 0, true},
  };
  static const std::vector<Row> named = [] {
    std::vector<Row> out = r;
    for (Row& x : out) {  // workload rows: the result catalogue's label and direction
      ResultMetric m;
      if (x.workload && metric_by_id(x.key, m)) {
        x.label = info(m).description;
        x.better = info(m).better;
      }
    }
    return out;
  }();
  return named;
}

std::size_t row_index(const std::string& key) {
  for (std::size_t i = 0; i < rows().size(); ++i)
    if (rows()[i].key == key) return i;
  return 0;
}

// The per-chip and per-system views of a matched pair: a total row over the side's chips or over its
// number of systems, times `scale` for the unit of the label.
struct Derived {
  std::string key, label;
  double scale;
};
const std::vector<Derived>& per_chip_rows() {
  static const std::vector<Derived> r = {
      {"bf16_dense_pflops", "BF16 dense TFLOPS per chip", 1e3},
      {"eight_bit_dense_pops", "8-bit dense TFLOPS per chip", 1e3},
      {"hbm_tb", "HBM GB per chip", 1e3},
      {"hbm_tb_s", "HBM TB/s per chip", 1},
      {"all_in_power_kw", "all-in IT power W per chip (peak)", 1e3},
      {"capex_musd", "capex USD per chip", 1e6},
      {"tokens_per_s", "tokens/s per chip", 1},
      {"tco_usd_per_h", "TCO USD per chip-hour", 1},
  };
  return r;
}
const std::vector<Derived>& per_system_rows() {
  static const std::vector<Derived> r = {
      {"chips", "accelerators per system", 1},
      {"bf16_dense_pflops", "BF16 dense PFLOPS per system", 1},
      {"all_in_power_kw", "all-in IT power kW per system (peak)", 1},
      {"capex_musd", "capex M USD per system", 1},
      {"tokens_per_s", "tokens/s per system", 1},
      {"tco_usd_per_h", "TCO USD per system-hour", 1},
  };
  return r;
}

// One side's scenario evaluated at a draw of the hwdb's ranges.
Evaluation side_at(const Hwdb& db, const ScenarioData& data, const Model& m, const Side& side, const Pick& pick) {
  return evaluate_on(data, db.system(side.id, pick), db.site(side.site_id, pick), m, side.sc);
}

// Every row's value for one system at one site, at the given pick, by row key: the hardware rows
// from the system's specs, the workload rows from the scenario's result.
std::vector<double> values(const Hwdb& db, const ScenarioData& data, const Model& m, const Side& side, const Pick& pick,
                           Evaluation* keep = nullptr) {
  const System s = db.system(side.id, pick);
  const SystemSpecs sp = system_specs(s);
  const Evaluation ev = side_at(db, data, m, side, pick);
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
    if (key == "capex_musd") return ev.econ.tco.capex_usd / 1e6;
    if (key == "chip_mfg_usd") return mfg.stated ? mfg.total_usd : nan;
    return nan;
  };
  // The model's own error scales what the workload model predicts: throughput up, cost and time per
  // token down. The error is drawn in log space, ln f on [-ln(1 + e), ln(1 + e)]: a model that over- or
  // under-predicts by the same factor is as likely, and the throughput never reaches zero.
  double f = 1;
  if (auto it = pick.per_value.find(side.error_key); it != pick.per_value.end()) f = std::exp(it->second);
  auto scaled = [f](ResultMetric m, double x) {
    switch (m) {
      case ResultMetric::tokens_per_s: case ResultMetric::tokens_per_s_per_chip: case ResultMetric::tokens_per_s_per_busy_chip:
      case ResultMetric::tokens_per_s_per_kw: case ResultMetric::tokens_per_usd: case ResultMetric::tokens_per_kwh:
      case ResultMetric::good_tokens_per_s: case ResultMetric::good_tokens_per_kwh:
        return x * f;
      case ResultMetric::usd_per_mtok: case ResultMetric::good_usd_per_mtok: case ResultMetric::train_run_musd:
      case ResultMetric::train_run_weeks: case ResultMetric::train_run_interruptions:
        return x / f;
      default:
        return x;
    }
  };
  std::vector<double> v;
  v.reserve(rows().size());
  for (const Row& r : rows()) {
    ResultMetric m;
    v.push_back(r.workload && metric_by_id(r.key, m) ? scaled(m, ev.result[m]) : spec(r.key));
  }
  if (keep) *keep = ev;
  return v;
}

// The point puts every input at its central value (the mode of its triangular range); where ranges
// are skewed, the 5-95 % band of the draws can miss it. Such a band is marked '*' and explained.
bool has_band(const Interval& r) { return r.high > r.low * (1 + 1e-9); }
bool point_outside_band(const Interval& r) {
  return has_band(r) && std::isfinite(r.central) && (r.central < r.low || r.central > r.high);
}
// Within half a percent the two are even: no side is named better.
bool tie(double a, double b) { return std::isfinite(a) && std::isfinite(b) && std::abs(a - b) <= 0.005 * std::max(std::abs(a), std::abs(b)); }

// What a workload row counts: generated tokens when serving, prompt tokens in prefill, trained tokens.
std::string tokens_named(std::string l, Mode mode) {
  const char* what = mode == Mode::prefill ? "input tokens" : mode == Mode::train ? "training tokens" : "output tokens";
  if (auto at = l.find("tokens"); at != std::string::npos) l.replace(at, 6, what);
  return l;
}
std::string row_label(const Row& r, Mode mode, const std::string& eight_bit) {
  if (r.key == "eight_bit_dense_pops") return "8-bit dense P(FL)OPS (" + eight_bit + ")";
  if (!r.workload || r.key.rfind("train_run", 0) == 0) return r.label;
  return tokens_named(r.label, mode);
}

// The 8-bit format each side's figure counts (the higher of its FP8 and INT8 rates).
std::string eight_bit_format(const System& s) {
  const SystemSpecs sp = system_specs(s);
  return sp.dense_pflops[static_cast<int>(Precision::fp8)] >= sp.dense_pflops[static_cast<int>(Precision::int8)] ? "FP8" : "INT8";
}

// A ratio whose band crosses 1 does not say which system is better.
bool band_crosses_one(const Interval& r) { return has_band(r) && r.low < 1 && r.high > 1; }

std::string range_text(const Interval& r, int digits = 3) {
  if (!std::isfinite(r.central)) return "-";
  std::string s = num(r.central, digits) + "x";
  if (has_band(r)) s += " (" + num(r.low, digits) + "-" + num(r.high, digits) + ")" + (point_outside_band(r) ? "*" : "");
  return s;
}

// Enough draws that the 5-95 % edges move by less than 2 % between seeds (Latin hypercube). The split of
// the cost band into its two sources is an explanation and takes fewer.
constexpr int kDefaultSamples = 2000;
constexpr int kSplitSamples = 1000;

struct Setup {
  std::string a, b, model, site, sites, stack, match, plan_a, plan_b;
  WorkloadFlags f;
  int samples = kDefaultSamples;
  unsigned long seed = 1;
  bool sensitivity = false, json = false;
};

void add_setup_flags(CLI::App* cmd, Setup& o) {
  cmd->add_option("a", o.a, "first system (numerator of the ratios)")->required();
  cmd->add_option("b", o.b, "second system")->required();
  cmd->add_option("--model", o.model, "model id")->capture_default_str();
  cmd->add_option("--site", o.site, "site for both systems (the hardware alone)")->capture_default_str();
  cmd->add_option("--sites", o.sites, "sites for A and B, e.g. china,us (default: both at --site)");
  cmd->add_option("--stack", o.stack, "run both systems on this software stack (default: each as deployed, on its own)");
  cmd->add_option("--match", o.match,
                  "compare equal amounts: scale the smaller side to the whole number of its systems whose total comes "
                  "nearest the other side's (least absolute difference; a tie takes the larger number) in chips | power "
                  "(peak all-in IT kW) | fp8 (dense 8-bit FLOPS: FP8, else INT8) | bf16 (dense BF16 FLOPS) | capex; "
                  "adds per-chip and per-system rows")
      ->check(CLI::IsMember({"chips", "power", "fp8", "bf16", "capex"}));
  cmd->add_option("--plan-a", o.plan_a,
                  "parallel plan of A only, KEY=N pairs on top of the shared flags: tp, dp, ep, pp, cp, batch, prefill-tp, "
                  "prefill-dp, prefill-ep, prefill-pp (e.g. tp=8,ep=144)");
  cmd->add_option("--plan-b", o.plan_b, "parallel plan of B only (as --plan-a)");
  cmd->add_option("--samples", o.samples, "Monte Carlo draws over the hwdb ranges and the model error (0 = none)")
      ->check(CLI::Range(0, 1000000))->capture_default_str();
  cmd->add_option("--seed", o.seed, "Monte Carlo seed")->check(CLI::Range(0ul, 1000000000000000000ul))->capture_default_str();
  cmd->add_flag("--sensitivity", o.sensitivity, "list the inputs that move the result most (tornado)");
  cmd->add_flag("--json", o.json, "machine-readable output");
  add_workload_flags(cmd, o.f);
}

struct Prepared {
  Model model;
  Side a, b;
  bool matched = false;
  MatchedPair match;
  std::vector<RangedInput> inputs;
  ScenarioData data;
};

Prepared prepare(Context& ctx, const Setup& o) {
  const Hwdb& db = ctx.db();
  Prepared p;
  p.model = ctx.models().model(o.model);
  p.a.id = with_stack_flag(db, o.a, o.stack);
  p.b.id = with_stack_flag(db, o.b, o.stack);
  if (!o.match.empty()) {
    MatchOn on = MatchOn::chips;
    parse_match(o.match, on);  // the flag's check admits the five names only
    p.match = match_pair(db, p.a.id, p.b.id, on);
    p.matched = true;
    p.a.id = p.match.a;
    p.b.id = p.match.b;
  }
  if (!o.sites.empty()) {
    const auto comma = o.sites.find(',');
    if (comma == std::string::npos) throw InputError("flag --sites: give two sites, e.g. china,us (got '" + o.sites + "')");
    p.a.site_id = o.sites.substr(0, comma);
    p.b.site_id = o.sites.substr(comma + 1);
  } else {
    p.a.site_id = o.site;
    p.b.site_id = o.site;
  }
  p.data = ctx.scenario_data();
  for (Side* s : {&p.a, &p.b}) {
    const bool is_a = s == &p.a;
    const std::string& plan = is_a ? o.plan_a : o.plan_b;
    const std::string plan_flag = is_a ? "--plan-a" : "--plan-b";
    db.site(s->site_id);  // unknown site: error now
    // Each side is the scenario `estimate` would run: each chip's native precision recipe unless
    // flags say otherwise; impossible plans are rejected with the flag named.
    s->id = with_model_stack(db, s->id, p.model.moe());  // a dense model runs the system's dense-model stack
    s->sc.system = s->id;
    s->sc.model = p.model.id;
    s->sc.site = s->site_id;
    s->sc.w = o.f;
    s->sc.w.recipes = p.data.recipes;
    if (!plan.empty()) apply_plan_text(s->sc.w, plan, plan_flag);
    try {
      s->ev = evaluate(p.data, s->sc);
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
  std::vector<std::string> ids = entities_of_system(db, p.a.id);
  for (auto& id : entities_of_system(db, p.b.id)) ids.push_back(id);
  ids.push_back(p.a.site_id);
  if (p.b.site_id != p.a.site_id) ids.push_back(p.b.site_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  p.inputs = ranged_inputs(db, ids);
  // The model's error on each side, from the validation residuals of its case class.
  const std::vector<ValidationCase> cases = load_cases(default_cases_dir(ctx));
  for (auto [side, tag] : {std::pair{&p.a, "A"}, std::pair{&p.b, "B"}}) {
    side->error_key = std::string("model error ") + tag + " (" + side->id + ")";
    side->err = model_error(db, ctx.models(), cases, side->id, side->ev.w.mode, side->stack_id);
    if (side->err.frac > 0)
      p.inputs.push_back({side->error_key, -std::log1p(side->err.frac), 0, std::log1p(side->err.frac), "ln(throughput factor)",
                          side->err.validated ? "model error (validated)" : "model error (unvalidated)"});
  }
  return p;
}

// The pair both commands describe in JSON: systems, sites, model.
Json pair_json(const Prepared& p) {
  Json j = Json::object();
  j["a"] = p.a.id;
  j["b"] = p.b.id;
  j["site_a"] = p.a.site_id;
  j["site_b"] = p.b.site_id;
  j["model"] = p.model.id;
  j["stack_a"] = p.a.stack_id;
  j["stack_b"] = p.b.stack_id;
  j["stacks"] = p.a.stack_id == p.b.stack_id ? "one stack for both" : "as deployed";
  if (p.matched) {
    const MatchedPair& m = p.match;
    Json x = Json::object();
    x["on"] = to_string(m.on);
    x["unit"] = match_unit(m.on);
    x["unit_a"] = m.unit_a;
    x["unit_b"] = m.unit_b;
    x["count_a"] = m.count_a;
    x["count_b"] = m.count_b;
    x["quantity_a"] = m.quantity_a;
    x["quantity_b"] = m.quantity_b;
    x["scaled"] = m.scaled_a ? "a" : m.scaled_b ? "b" : "";
    x["summary"] = m.summary();
    j["match"] = x;
  }
  return j;
}

// The second reading: each system at its home site (its hwdb home_site).
struct HomeReading {
  std::string site_a, site_b;
  Economics a, b;
};
Economics at_site(const Hwdb& db, const Prepared& p, const Side& side, const std::string& site) {
  return evaluate_on(p.data, db.system(side.id), db.site(site), p.model, side.sc).econ;
}
HomeReading home_costs(const Hwdb& db, const Prepared& p) {
  HomeReading h;
  h.site_a = default_site(db, p.a.id);
  h.site_b = default_site(db, p.b.id);
  h.a = at_site(db, p, p.a, h.site_a);
  h.b = at_site(db, p, p.b, h.site_b);
  return h;
}

std::string home_reading(const Hwdb& db, const Prepared& p) {
  if (p.a.site_id != p.b.site_id) return "";
  const HomeReading h = home_costs(db, p);
  if (h.site_a == p.a.site_id && h.site_b == p.b.site_id) return "";
  if (!h.a.est.fits() || !h.b.est.fits()) return "";
  std::ostringstream s;
  s << "  at home sites (A " << h.site_a << ", B " << h.site_b << "): " << tokens_named("USD per million tokens", p.a.ev.w.mode) << " A " << num(h.a.usd_per_mtok)
    << ", B " << num(h.b.usd_per_mtok) << ", A/B " << num(h.a.usd_per_mtok / h.b.usd_per_mtok, 3) << "x";
  if (std::isfinite(h.a.good_usd_per_mtok) && std::isfinite(h.b.good_usd_per_mtok))
    s << "; after failures A/B " << num(h.a.good_usd_per_mtok / h.b.good_usd_per_mtok, 3) << "x";
  s << "\n";
  return s.str();
}

// A missing value: "does not fit" only when the workload exceeds memory; otherwise why there is none.
std::string cell_text(const Row& r, double v, const Estimate& e) {
  if (std::isfinite(v)) return num(v);
  if (r.key.rfind("train_run", 0) == 0 && e.mode != Mode::train) return "-";  // train mode with --tokens only
  if (e.fits() || !r.workload) return "-";
  switch (e.reason) {
    case Reason::memory: return "does not fit";
    case Reason::tpot_unreachable: return "misses TPOT";
    case Reason::ttft_unreachable: return "misses TTFT";
    default: return "no plan";
  }
}

std::string plan_line(const Estimate& e) {
  std::ostringstream s;
  s << "TP" << e.par.tp << " DP" << e.par.dp << " EP" << e.par.ep << " PP" << e.par.pp << ", batch " << e.batch;
  return s.str();
}
}  // namespace

// Both commands default to DeepSeek-R1 serving under a 50 ms TPOT target.
std::shared_ptr<Setup> default_setup() {
  auto o = std::make_shared<Setup>();
  o->model = "deepseek-v3";
  o->site = "us";
  o->f.tpot_ms = 50;
  return o;
}

void add_compare_commands(CLI::App& app, Context& ctx) {
  auto o = default_setup();
  auto* cmd = app.add_subcommand("compare", "side-by-side specs, power, cost and workload of two systems, with ratios");
  add_setup_flags(cmd, *o);
  cmd->footer("Exit codes: 0 the comparison (a side without a workload result under the targets is shown as missing, "
              "with its reason; --json: no_result_a / no_result_b); 2 bad input (one line naming the file:line:field or "
              "the flag); 1 an internal error.");
  cmd->callback([&ctx, o] {
    const Hwdb& db = ctx.db();
    const Prepared p = prepare(ctx, *o);
    Evaluation eva, evb;
    const std::vector<double> va = values(db, p.data, p.model, p.a, Pick{}, &eva),
                              vb = values(db, p.data, p.model, p.b, Pick{}, &evb);
    const Economics& ea = eva.econ;
    const Economics& eb = evb.econ;
    Progress progress("compare", o->samples + (o->sensitivity ? 2 * static_cast<long>(p.inputs.size()) : 0), !o->json);
    // Ratios A/B over the same draws.
    auto ratios = [&](const Pick& pick) {
      progress.tick();
      const std::vector<double> x = values(db, p.data, p.model, p.a, pick), y = values(db, p.data, p.model, p.b, pick);
      std::vector<double> r(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) r[i] = x[i] / y[i];
      return r;
    };
    const std::vector<Interval> iv = monte_carlo(p.inputs, o->samples, o->seed, ratios);
    // Per chip and per system (a matched pair): each total over the side's chips or its number of
    // systems; the chips and counts are fixed, so the ratio's band scales by the same constant.
    struct DerivedRow {
      std::size_t row;
      std::string label;
      double a, b;
      Interval r;
    };
    std::vector<DerivedRow> per_chip, per_system;
    if (p.matched) {
      const std::size_t ci = row_index("chips");
      for (int view = 0; view < 2; ++view) {
        const double da = view == 0 ? va[ci] : p.match.count_a, dbb = view == 0 ? vb[ci] : p.match.count_b;
        for (const Derived& d : view == 0 ? per_chip_rows() : per_system_rows()) {
          const std::size_t i = row_index(d.key);
          DerivedRow x{i, tokens_named(d.label, ea.est.mode), va[i] / da * d.scale, vb[i] / dbb * d.scale, iv[i]};
          const double k = dbb / da;
          x.r.central *= k;
          x.r.low *= k;
          x.r.high *= k;
          (view == 0 ? per_chip : per_system).push_back(x);
        }
      }
    }
    // Which side is better on a row, by how much, or why neither is named.
    auto better_cell = [&](int dir, double a, double b, const Interval& r) -> std::string {
      if (!std::isfinite(a) || !std::isfinite(b)) return "";  // a missing value is better on no side
      if (dir != 0 && band_crosses_one(r)) return "either (range crosses 1)";
      if (dir == 0 || !std::isfinite(r.central) || tie(a, b)) return "";
      const bool a_better = dir * (a - b) > 0;
      const double f = dir > 0 ? (a_better ? a / b : b / a) : (a_better ? b / a : a / b);
      return (a_better ? p.a.id : p.b.id) + " " + num(f, 3) + "x";
    };
    auto better_id = [&](int dir, double a, double b, const Interval& r) -> std::string {
      if (dir == 0 || !std::isfinite(a) || !std::isfinite(b) || !std::isfinite(r.central) || band_crosses_one(r) || tie(a, b)) return "";
      return dir * (a - b) > 0 ? p.a.id : p.b.id;
    };
    std::vector<Swing> tornado;
    const std::size_t cost_row = row_index("usd_per_mtok");
    if (o->sensitivity)
      tornado = sensitivity(p.inputs, [&](const Pick& pick) { return ratios(pick)[cost_row]; });
    progress.finish();
    if (o->json) {
      Json j = pair_json(p);
      j["mode"] = to_string(ea.est.mode);
      j["samples"] = o->samples;
      j["seed"] = static_cast<double>(o->seed);
      Json rowsj = Json::array();
      for (std::size_t i = 0; i < rows().size(); ++i) {
        const Row& r = rows()[i];
        Json x = Json::object();
        x["key"] = r.key;
        x["label"] = r.label;
        x["a"] = va[i];
        x["b"] = vb[i];
        x["ratio"] = iv[i].central;
        x["ratio_low"] = iv[i].low;
        x["ratio_high"] = iv[i].high;
        x["better"] = better_id(r.better, va[i], vb[i], iv[i]);
        x["point_outside_band"] = point_outside_band(iv[i]);
        rowsj.push(x);
      }
      j["rows"] = rowsj;
      for (auto [key, list] : {std::pair{"rows_per_chip", &per_chip}, std::pair{"rows_per_system", &per_system}}) {
        if (!p.matched) break;
        Json arr = Json::array();
        for (const DerivedRow& d : *list) {
          Json x = Json::object();
          x["key"] = rows()[d.row].key;
          x["label"] = d.label;
          x["a"] = d.a;
          x["b"] = d.b;
          x["ratio"] = d.r.central;
          x["ratio_low"] = d.r.low;
          x["ratio_high"] = d.r.high;
          x["better"] = list == &per_chip ? better_id(rows()[d.row].better, d.a, d.b, d.r) : "";
          arr.push(x);
        }
        j[key] = arr;
      }
      // A side without a workload result: why (null when it has one).
      j["no_result_a"] = ea.est.fits() ? Json() : Json(reason_text(ea.est.reason));
      j["no_result_b"] = eb.est.fits() ? Json() : Json(reason_text(eb.est.reason));
      for (auto [key, side] : {std::pair{"model_error_a", &p.a}, std::pair{"model_error_b", &p.b}}) {
        Json x = Json::object();
        x["frac"] = side->err.frac;
        x["validated"] = side->err.validated;
        x["basis"] = side->err.basis;
        j[key] = x;
      }
      if (p.a.site_id == p.b.site_id) {
        const HomeReading h = home_costs(db, p);
        Json x = Json::object();
        x["site_a"] = h.site_a;
        x["site_b"] = h.site_b;
        x["usd_per_mtok_a"] = h.a.usd_per_mtok;
        x["usd_per_mtok_b"] = h.b.usd_per_mtok;
        x["good_usd_per_mtok_a"] = h.a.good_usd_per_mtok;
        x["good_usd_per_mtok_b"] = h.b.good_usd_per_mtok;
        j["home_sites"] = x;
      }
      j["estimate_a"] = estimate_json(eva.sys, p.model, eva.w, ea.est);
      j["estimate_b"] = estimate_json(evb.sys, p.model, evb.w, eb.est);
      j["result_a"] = result_json(eva.result);
      j["result_b"] = result_json(evb.result);
      for (auto [key, e] : {std::pair{"tco_a", &ea}, std::pair{"tco_b", &eb}}) {
        Json t = Json::object();  // USD per hour by term; energy_per_h = energy_per_h_per_usd_kwh x price
        t["capex_usd"] = e->tco.capex_usd;
        t["capex_per_h"] = e->tco.capex_per_h;
        t["facility_per_h"] = e->tco.facility_per_h;
        t["maintenance_per_h"] = e->tco.maintenance_per_h;
        t["energy_per_h"] = e->tco.energy_per_h;
        t["energy_per_h_per_usd_kwh"] = e->tco.energy_per_h_per_usd_kwh;
        t["facility_avg_kw"] = e->tco.facility_avg_w / 1000;
        j[key] = t;
      }
      if (o->sensitivity) {
        Json t = Json::array();
        for (auto& s : tornado) {
          Json x = Json::object();
          x["input"] = s.input.key;
          x["low"] = s.input.low;
          x["high"] = s.input.high;
          x["ratio_at_low"] = s.at_low;
          x["ratio_at_high"] = s.at_high;
          t.push(x);
        }
        j["sensitivity_usd_per_mtok_ratio"] = t;
      }
      std::cout << j.dump() << '\n';
      return;
    }
    const System sa = db.system(p.a.id), sb = db.system(p.b.id);
    std::cout << sa.name << " (" << p.a.site_id << ") vs " << sb.name << " (" << p.b.site_id << "): " << p.model.name
              << ", " << to_string(ea.est.mode);
    if (o->f.tpot_ms > 0 && ea.est.mode != Mode::train && ea.est.mode != Mode::prefill)
      std::cout << ", TPOT <= " << num(o->f.tpot_ms) << " ms";
    std::cout << "\nsoftware: " << (o->stack.empty() ? "each as deployed, A on " + p.a.stack_id + ", B on " + p.b.stack_id
                                                     : "both on " + o->stack + " (--stack)");
    if (p.matched) {
      std::cout << "\n" << p.match.summary();
    } else if (const double ca = va[row_index("chips")], cb = vb[row_index("chips")]; std::max(ca, cb) > 2 * std::min(ca, cb)) {
      std::cout << "\nsizes differ: A has " << group_digits(num(ca, 6)) << " chips, B " << group_digits(num(cb, 6))
                << "; the totals below are per system as given (--match chips|power|fp8|bf16|capex compares equal amounts)";
    }
    std::cout << "\nratios A/B with the 5-95% range over " << o->samples
              << " draws of the hwdb ranges and of each side's model error (seed " << o->seed << ")\n";
    for (auto [tag, side] : {std::pair{"A", &p.a}, std::pair{"B", &p.b}})
      std::cout << "model error " << tag << " " << side->id << ": throughput x/ " << num(1 + side->err.frac, 3) << " ("
                << side->err.basis << ")\n";
    const std::string eight = "A " + eight_bit_format(sa) + ", B " + eight_bit_format(sb);
    Table t({"", p.a.id, p.b.id, "A/B", "better"});
    bool work = false, outside = false;
    for (std::size_t i = 0; i < rows().size(); ++i) {
      const Row& r = rows()[i];
      if (r.workload && !work) {
        work = true;
        t.section("workload: A " + plan_line(ea.est) + "; B " + plan_line(eb.est));
      }
      outside = outside || point_outside_band(iv[i]);
      t.row({row_label(r, ea.est.mode, eight), cell_text(r, va[i], ea.est), cell_text(r, vb[i], eb.est), range_text(iv[i]),
             better_cell(r.better, va[i], vb[i], iv[i])});
    }
    for (auto [title, list] : {std::pair{"per chip", &per_chip}, std::pair{"per system", &per_system}}) {
      if (!p.matched) break;
      t.section(std::string(title) + (list == &per_system ? " (each side's total over its " + std::to_string(p.match.count_a) +
                                                               " and " + std::to_string(p.match.count_b) + " systems)"
                                                         : " (each side's total over its chips)"));
      // Per system, a larger total is a larger system, not a better one: no side is named.
      const bool named = list == &per_chip;
      for (const DerivedRow& d : *list) {
        const Row& r = rows()[d.row];
        t.row({d.label, cell_text(r, d.a, ea.est), cell_text(r, d.b, eb.est), range_text(d.r),
               named ? better_cell(r.better, d.a, d.b, d.r) : ""});
      }
    }
    t.print(std::cout);
    if (outside)
      std::cout << "  * the ratio at the central values lies outside the 5-95% range of the draws: the hwdb ranges "
                   "are skewed around their central values, so most draws move the ratio one way\n";
    for (auto* e : {&ea, &eb})
      if (!e->est.fits())
        std::cout << "  " << (e == &ea ? "A " + p.a.id : "B " + p.b.id) << ": " << reason_text(e->est.reason) << '\n';
    if (ea.est.mode == Mode::train)
      std::cout << "  A: " << to_string(eva.w.train.precision) << "; B: " << to_string(evb.w.train.precision)
                << "; MFU A " << num(ea.est.mfu, 3) << ", B " << num(eb.est.mfu, 3) << '\n';
    else {
      // Prefill has no output tokens: its latency is the TTFT. A side without a result has none.
      const bool prefill = ea.est.mode == Mode::prefill;
      auto ms = [&](const Estimate& e) {
        const double s = prefill ? e.ttft_s : e.tpot_s;
        return e.fits() && s > 0 ? num(s * 1e3) + " ms" : std::string("n/a");
      };
      std::cout << "  A: " << to_string(eva.w.infer.main_weight_format()) << " weights; B: " << to_string(evb.w.infer.main_weight_format())
                << " weights; " << (prefill ? "TTFT" : "TPOT") << " A " << ms(ea.est) << ", B " << ms(eb.est) << '\n';
    }
    if (const std::string home = home_reading(db, p); !home.empty()) std::cout << home;
    if (o->samples > 0 && std::isfinite(iv[cost_row].central)) {
      // Which part of the cost band is the model's error and which the hwdb's input ranges.
      std::vector<RangedInput> hw, me;
      for (auto& in : p.inputs) (in.key == p.a.error_key || in.key == p.b.error_key ? me : hw).push_back(in);
      auto cost = [&](const Pick& pick) {
        return values(db, p.data, p.model, p.a, pick)[cost_row] / values(db, p.data, p.model, p.b, pick)[cost_row];
      };
      const int n = std::min(o->samples, kSplitSamples);
      const Interval only_hw = monte_carlo(hw, n, o->seed, cost), only_me = monte_carlo(me, n, o->seed, cost);
      std::cout << "  " << row_label(rows()[cost_row], ea.est.mode, eight) << " A/B: 5-95% " << num(iv[cost_row].low, 3) << "-"
                << num(iv[cost_row].high, 3) << "; the hwdb ranges alone " << num(only_hw.low, 3) << "-" << num(only_hw.high, 3)
                << ", the model error alone " << num(only_me.low, 3) << "-" << num(only_me.high, 3) << '\n';
    }
    if (o->sensitivity && !std::isfinite(iv[cost_row].central)) {
      std::cout << "\nno sensitivity of the cost-per-token ratio: a side has no cost per token (no result under the targets)\n";
    } else if (o->sensitivity) {
      std::cout << "\ninputs that move the cost-per-token ratio A/B most (each at its low and high end):\n";
      Table s({"input", "range", "kind", "A/B at low", "A/B at high"});
      int shown = 0;
      for (auto& w : tornado) {
        if (shown++ >= 12) break;
        s.row({w.input.key, num(w.input.low) + " - " + num(w.input.high) + " " + w.input.unit, w.input.source_kind,
               num(w.at_low, 3), num(w.at_high, 3)});
      }
      s.print(std::cout);
    }
  });

  auto ob = default_setup();
  auto* be = app.add_subcommand("breakeven", "electricity and system price at which A's cost per token equals B's");
  add_setup_flags(be, *ob);
  be->callback([&ctx, ob] {
    const Hwdb& db = ctx.db();
    const Prepared p = prepare(ctx, *ob);
    auto solve = [&](const Pick& pick) {
      const Site ta = db.site(p.a.site_id, pick);
      const Economics ea = side_at(db, p.data, p.model, p.a, pick).econ, eb = side_at(db, p.data, p.model, p.b, pick).econ;
      const double nan = std::nan("");
      if (!ea.est.fits() || !eb.est.fits()) return std::vector<double>(9, nan);
      return std::vector<double>{breakeven_electricity(ea, eb.usd_per_mtok), breakeven_capex(ea, ta, eb.usd_per_mtok),
                                 ea.usd_per_mtok, eb.usd_per_mtok,
                                 breakeven_utilization(ea, eb.usd_per_mtok), breakeven_utilization(eb, ea.usd_per_mtok),
                                 ea.good_usd_per_mtok, eb.good_usd_per_mtok, ea.tco.utilization};
    };
    const std::vector<Interval> iv = monte_carlo(p.inputs, ob->samples, ob->seed, solve);
    const Site ta = db.site(p.a.site_id);
    const System sa = db.system(p.a.id);
    const double capex_now = capex_usd(sa);
    auto in_range = [](double v) { return std::isfinite(v) && v > 0; };
    auto util_ok = [](double v) { return std::isfinite(v) && v > 0 && v <= 1; };
    if (ob->json) {
      Json j = pair_json(p);
      j["usd_per_mtok_a"] = iv[2].central;
      j["usd_per_mtok_b"] = iv[3].central;
      j["site_a_electricity_usd_kwh"] = ta.electricity_usd_kwh;
      j["breakeven_electricity_usd_kwh"] = in_range(iv[0].central) ? Json(iv[0].central) : Json();
      j["breakeven_electricity_low"] = iv[0].low;
      j["breakeven_electricity_high"] = iv[0].high;
      j["breakeven_electricity_unclipped"] = iv[0].central;
      j["breakeven_electricity_positive_share"] = iv[0].positive;
      j["system_capex_usd"] = capex_now;
      j["breakeven_capex_usd"] = in_range(iv[1].central) ? Json(iv[1].central) : Json();
      j["breakeven_capex_low"] = iv[1].low;
      j["breakeven_capex_high"] = iv[1].high;
      j["breakeven_utilization_a"] = util_ok(iv[4].central) ? Json(iv[4].central) : Json();
      j["breakeven_utilization_a_unclipped"] = iv[4].central;
      j["breakeven_utilization_a_low"] = iv[4].low;
      j["breakeven_utilization_a_high"] = iv[4].high;
      j["breakeven_utilization_b"] = util_ok(iv[5].central) ? Json(iv[5].central) : Json();
      j["breakeven_utilization_b_unclipped"] = iv[5].central;
      j["utilization_a"] = iv[8].central;
      j["good_usd_per_mtok_a"] = iv[6].central;
      j["good_usd_per_mtok_b"] = iv[7].central;
      j["samples"] = ob->samples;
      std::cout << j.dump() << '\n';
      return;
    }
    std::cout << "break-even of " << p.a.id << " (" << p.a.site_id << ") against " << p.b.id << " (" << p.b.site_id
              << "), " << p.model.name << ", " << ob->f.mode << "\n";
    if (!std::isfinite(iv[2].central) || !std::isfinite(iv[3].central)) {
      for (auto [side, id, pick] : {std::tuple{"A", p.a.id, &p.a}, std::tuple{"B", p.b.id, &p.b}}) {
        const Estimate& e = pick->ev.econ.est;
        if (!e.fits()) std::cout << "  no break-even: " << side << " (" << id << ") " << reason_text(e.reason) << '\n';
      }
      return;
    }
    std::cout << "  cost per million tokens: A " << num(iv[2].central) << " USD (" << num(iv[2].low) << "-" << num(iv[2].high)
              << "), B " << num(iv[3].central) << " USD (" << num(iv[3].low) << "-" << num(iv[3].high) << ")\n";
    std::cout << "  electricity price at which A costs what B costs: ";
    if (in_range(iv[0].central))
      std::cout << num(iv[0].central, 3) << " USD/kWh (5-95%: " << num(iv[0].low, 3) << "-" << num(iv[0].high, 3)
                << "); " << p.a.site_id << " pays " << num(ta.electricity_usd_kwh, 3) << " USD/kWh\n";
    else
      std::cout << "none in range (A costs more than B even with free electricity; the line crosses at "
                << num(iv[0].central, 3) << " USD/kWh)\n";
    if (ob->samples > 0)
      std::cout << "    a positive break-even price in " << num(100 * iv[0].positive, 3) << "% of " << ob->samples
                << " draws (5-95%: " << num(iv[0].low, 3) << " to " << num(iv[0].high, 3) << " USD/kWh)\n";
    std::cout << "  system price of A at which the costs are equal: ";
    if (in_range(iv[1].central))
      std::cout << num(iv[1].central / 1e6) << " M USD (5-95%: " << num(iv[1].low / 1e6) << "-" << num(iv[1].high / 1e6)
                << "); modelled capex " << num(capex_now / 1e6) << " M USD\n";
    else
      std::cout << "none in range (A costs more than B even if it were free)\n";
    // Utilisation at parity: each system's share of hours under load at which its cost per token
    // meets the other's (the other at its site's utilisation).
    auto util_line = [&](const char* who, const char* other, const Interval& u) {
      std::cout << "  utilisation of " << who << " at which it costs what " << other << " costs: ";
      if (util_ok(u.central))
        std::cout << num(u.central, 3) << " (5-95%: " << num(u.low, 3) << "-" << num(u.high, 3) << ")\n";
      else if (std::isfinite(u.central) && u.central > 1)
        std::cout << "none (" << who << " costs more even at full load; it would need " << num(u.central, 3) << ")\n";
      else
        std::cout << "none\n";
    };
    util_line("A", "B", iv[4]);
    util_line("B", "A", iv[5]);
    if (std::isfinite(iv[6].central) && std::isfinite(iv[7].central))
      std::cout << "  after failures (goodput): A " << num(iv[6].central) << " USD (" << num(iv[6].low) << "-" << num(iv[6].high)
                << "), B " << num(iv[7].central) << " USD (" << num(iv[7].low) << "-" << num(iv[7].high)
                << ") per million tokens\n";
  });
}

}  // namespace podperf::cli
