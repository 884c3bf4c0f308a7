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
#include "podperf/economics.hpp"
#include "podperf/scenario.hpp"
#include "podperf/error.hpp"
#include "podperf/model_error.hpp"
#include "podperf/cost.hpp"
#include "podperf/reliability.hpp"
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

// How the model's error e (ln of the throughput factor) moves a row: x e^{power e}. Throughput up
// (+1), cost and time per token down (-1), the rest not at all.
int error_power(std::size_t row) {
  ResultMetric m;
  if (!rows()[row].workload || !metric_by_id(rows()[row].key, m)) return 0;
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

// One side's scenario evaluated at a draw of the hwdb's ranges.
Evaluation side_at(const Hwdb& db, const ScenarioData& data, const Model& m, const Side& side, const Pick& pick) {
  return evaluate_on(data, db.system(side.id, pick), db.site(side.site_id, pick), m, side.sc);
}

// Every row's value for one system at one site, at the given pick, by row key: the hardware rows
// from the system's specs, the workload rows from the scenario's result.
// A row the system's hardware alone gives, without its deployment: specs, capex (unless another
// system runs prefill), MTBF, and serving's interruptions.
bool hardware_row(std::size_t row, const Side& side) {
  const std::string& key = rows()[row].key;
  if (key == "capex_musd") return !side.ev.serving.separate_prefill;
  if (!rows()[row].workload) return true;
  return key == "mtbf_supernode_h" || key == "mtbf_system_h" || (key == "interruptions_per_day" && side.ev.w.mode != Mode::train);
}

// hardware_only: the hardware rows alone (the rest NaN), without evaluating the deployment.
std::vector<double> values(const Hwdb& db, const ScenarioData& data, const Model& m, const Side& side, const Pick& pick,
                           Evaluation* keep = nullptr, bool hardware_only = false) {
  const System s = db.system(side.id, pick);
  const SystemSpecs sp = system_specs(s);
  const Evaluation ev = hardware_only ? Evaluation{} : side_at(db, data, m, side, pick);
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
  double x = 0;
  if (auto it = pick.per_value.find(side.error_key); it != pick.per_value.end()) x = it->second;
  std::vector<double> v;
  v.reserve(rows().size());
  if (hardware_only) {
    const Reliability rel = reliability(s, side.ev.w.mode, s.chips);
    for (std::size_t i = 0; i < rows().size(); ++i) {
      const std::string& key = rows()[i].key;
      if (!hardware_row(i, side)) v.push_back(nan);
      else if (!rows()[i].workload) v.push_back(spec(key));
      else if (!rel.stated) v.push_back(nan);
      else v.push_back(key == "mtbf_supernode_h" ? rel.mtbf_supernode_h : key == "mtbf_system_h" ? rel.mtbf_system_h : rel.interruptions_per_day);
    }
    return v;
  }
  for (std::size_t i = 0; i < rows().size(); ++i) {
    ResultMetric m;
    v.push_back(rows()[i].workload && metric_by_id(rows()[i].key, m) ? ev.result[m] * std::exp(error_power(i) * x) : spec(rows()[i].key));
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
std::string row_label(const Row& r, Mode mode, const std::string& eight_bit) {
  if (r.key == "eight_bit_dense_pops") return "8-bit dense P(FL)OPS (" + eight_bit + ")";
  if (!r.workload || r.key.rfind("train_run", 0) == 0) return r.label;
  const char* what = mode == Mode::prefill ? "input tokens" : mode == Mode::train ? "training tokens" : "output tokens";
  std::string l = r.label;
  if (auto at = l.find("tokens"); at != std::string::npos) l.replace(at, 6, what);
  return l;
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

// Enough draws that the 5-95 % edges move by less than 2 % between seeds: Latin hypercube draws of the
// hwdb ranges, each side's model error convolved exactly (it scales the rows, so it is not drawn). The
// split of the cost band into its two sources is an explanation and takes fewer.
constexpr int kDefaultSamples = 2000;
constexpr int kSplitSamples = 1000;
constexpr int kHardwareDrawsPerDraw = 4;

struct Setup {
  std::string a, b, model, site, sites, stack;
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
  std::vector<RangedInput> inputs;  // the hwdb's ranges and each side's model error (the tornado's inputs)
  std::vector<RangedInput> hw;      // the hwdb's ranges alone (drawn)
  ScenarioData data;
  // Each side's model error as a factor on the ratios A/B of the rows (convolved, not drawn):
  // all rows, or one row alone.
  std::vector<LogFactor> errors(std::size_t only = static_cast<std::size_t>(-1)) const {
    std::vector<LogFactor> out;
    for (auto [side, sign] : {std::pair{&a, +1}, std::pair{&b, -1}}) {
      auto it = std::find_if(inputs.begin(), inputs.end(), [&](const RangedInput& in) { return in.key == side->error_key; });
      if (it == inputs.end()) continue;
      LogFactor lf{*it, {}};
      for (std::size_t i = 0; i < rows().size(); ++i)
        if (only == static_cast<std::size_t>(-1) || i == only) lf.power.push_back(sign * error_power(i));
      out.push_back(lf);
    }
    return out;
  }
};

Prepared prepare(Context& ctx, const Setup& o) {
  const Hwdb& db = ctx.db();
  Prepared p;
  p.model = ctx.models().model(o.model);
  p.a.id = with_stack_flag(db, o.a, o.stack);
  p.b.id = with_stack_flag(db, o.b, o.stack);
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
    db.site(s->site_id);  // unknown site: error now
    // Each side is the scenario `estimate` would run: each chip's native precision recipe unless
    // flags say otherwise; impossible plans are rejected with the flag named.
    s->id = with_model_stack(db, s->id, p.model.moe());  // a dense model runs the system's dense-model stack
    s->sc.system = s->id;
    s->sc.model = p.model.id;
    s->sc.site = s->site_id;
    s->sc.w = o.f;
    s->sc.w.recipes = p.data.recipes;
    s->ev = evaluate(p.data, s->sc);
    s->stack_id = s->ev.w.mode == Mode::train ? s->ev.sys.train_stack.id : s->ev.sys.stack.id;
  }
  std::vector<std::string> ids = entities_of_system(db, p.a.id);
  for (auto& id : entities_of_system(db, p.b.id)) ids.push_back(id);
  ids.push_back(p.a.site_id);
  if (p.b.site_id != p.a.site_id) ids.push_back(p.b.site_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  p.inputs = ranged_inputs(db, ids);
  p.hw = p.inputs;
  // The model's error on each side, from calibrate's leave-one-out residuals of its case class (the
  // current in-sample residuals where there is no such record).
  const std::string dir = default_cases_dir(ctx);
  const ResidualRecord record = load_residuals(residuals_file(dir));
  const std::vector<ValidationCase> cases = record.file.empty() ? load_cases(dir) : std::vector<ValidationCase>{};
  for (auto [side, tag] : {std::pair{&p.a, "A"}, std::pair{&p.b, "B"}}) {
    side->error_key = std::string("model error ") + tag + " (" + side->id + ")";
    side->err = record.file.empty() ? model_error(db, ctx.models(), cases, side->id, side->ev.w.mode, side->stack_id)
                                    : model_error(db, record, side->id, side->ev.w.mode, side->stack_id);
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
  s << "  at home sites (A " << h.site_a << ", B " << h.site_b << "): USD per million output tokens A " << num(h.a.usd_per_mtok)
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
      Evaluation ea_, eb_;
      const std::vector<double> x = values(db, p.data, p.model, p.a, pick, &ea_), y = values(db, p.data, p.model, p.b, pick, &eb_);
      // A draw where a side's workload does not fit has no workload figures (an idle system's power
      // and cost are not its deployment's): only its hardware rows count.
      const bool fit = ea_.econ.est.fits() && eb_.econ.est.fits();
      std::vector<double> r(x.size());
      for (std::size_t i = 0; i < x.size(); ++i)
        r[i] = !fit && rows()[i].workload && !(hardware_row(i, p.a) && hardware_row(i, p.b)) ? std::nan("") : x[i] / y[i];
      return r;
    };
    std::vector<Interval> iv = monte_carlo(p.hw, o->samples, o->seed, ratios, p.errors());
    // The hardware rows need no deployment: many more draws for the time of a few.
    {
      const std::vector<Interval> hw = monte_carlo(p.hw, kHardwareDrawsPerDraw * o->samples, o->seed, [&](const Pick& pick) {
        const std::vector<double> x = values(db, p.data, p.model, p.a, pick, nullptr, true),
                                  y = values(db, p.data, p.model, p.b, pick, nullptr, true);
        std::vector<double> r(x.size());
        for (std::size_t i = 0; i < x.size(); ++i) r[i] = x[i] / y[i];
        return r;
      });
      for (std::size_t i = 0; i < iv.size(); ++i)
        if (hardware_row(i, p.a) && hardware_row(i, p.b)) iv[i] = hw[i];
    }
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
        x["failed"] = iv[i].failed;
        const bool a_better = r.better * (va[i] - vb[i]) > 0;
        x["better"] = r.better == 0 || !std::isfinite(iv[i].central) || band_crosses_one(iv[i]) || tie(va[i], vb[i]) ? "" : a_better ? p.a.id : p.b.id;
        x["point_outside_band"] = point_outside_band(iv[i]);
        rowsj.push(x);
      }
      j["rows"] = rowsj;
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
      std::string better;
      outside = outside || point_outside_band(iv[i]);
      if (r.better != 0 && band_crosses_one(iv[i])) {
        better = "either (range crosses 1)";
      } else if (r.better != 0 && std::isfinite(iv[i].central) && !tie(va[i], vb[i])) {
        const bool a_better = r.better * (va[i] - vb[i]) > 0;
        const double f = r.better > 0 ? (a_better ? va[i] / vb[i] : vb[i] / va[i]) : (a_better ? vb[i] / va[i] : va[i] / vb[i]);
        better = (a_better ? p.a.id : p.b.id) + " " + num(f, 3) + "x";
      }
      t.row({row_label(r, ea.est.mode, eight), cell_text(r, va[i], ea.est), cell_text(r, vb[i], eb.est), range_text(iv[i]), better});
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
    else
      std::cout << "  A: " << to_string(eva.w.infer.main_weight_format()) << " weights; B: " << to_string(evb.w.infer.main_weight_format())
                << " weights; TPOT A " << num(ea.est.tpot_s * 1e3) << " ms, B " << num(eb.est.tpot_s * 1e3) << " ms\n";
    if (const std::string home = home_reading(db, p); !home.empty()) std::cout << home;
    if (o->samples > 0 && std::isfinite(iv[cost_row].central)) {
      // Which part of the cost band is the model's error and which the hwdb's input ranges.
      auto cost = [&](const Pick& pick) {
        return values(db, p.data, p.model, p.a, pick)[cost_row] / values(db, p.data, p.model, p.b, pick)[cost_row];
      };
      const int n = std::min(o->samples, kSplitSamples);
      const Interval only_hw = monte_carlo(p.hw, n, o->seed, cost), only_me = monte_carlo({}, 1, o->seed, cost, p.errors(cost_row));
      std::cout << "  " << row_label(rows()[cost_row], ea.est.mode, eight) << " A/B: 5-95% " << num(iv[cost_row].low, 3) << "-"
                << num(iv[cost_row].high, 3) << "; the hwdb ranges alone " << num(only_hw.low, 3) << "-" << num(only_hw.high, 3)
                << ", the model error alone " << num(only_me.low, 3) << "-" << num(only_me.high, 3) << '\n';
    }
    if (o->sensitivity) {
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
