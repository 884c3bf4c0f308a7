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

#include "compare_cli.hpp"
#include "podperf/io/error.hpp"
#include "podperf/app/model_error.hpp"
#include "podperf/app/validation.hpp"
#include "progress.hpp"
#include "table.hpp"
#include "json_output.hpp"

namespace podperf::cli {

namespace {
// The model error's sources: calibrate's leave-one-out record, or (without one) the validation cases
// for the in-sample residuals.
struct ErrorBasis {
  ResidualRecord residuals;
  std::vector<ValidationCase> cases;
};
ErrorBasis error_basis(Context& ctx) {
  ErrorBasis e;
  const std::string dir = default_cases_dir(ctx);
  e.residuals = load_residuals(residuals_file(dir));
  if (e.residuals.file.empty()) e.cases = load_cases(dir);
  return e;
}

std::string range_text(const Interval& r, int digits = 3) {
  if (!std::isfinite(r.central)) return "-";
  std::string s = num(r.central, digits) + "x";
  if (has_band(r)) s += " (" + num(r.low, digits) + "-" + num(r.high, digits) + ")" + (point_outside_band(r) ? "*" : "");
  return s;
}

// The pair both commands describe in JSON: systems, sites, model.
Json pair_json(const Comparison& p) {
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

std::string home_reading(const Comparison& p) {
  if (p.a.site_id != p.b.site_id) return "";
  const HomeReading h = home_costs(p);
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
std::string cell_text(const ComparisonRow& r, double v, const Estimate& e) {
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

std::string plan_line(const Estimate& e) {
  std::ostringstream s;
  s << "TP" << e.par.tp << " DP" << e.par.dp << " EP" << e.par.ep << " PP" << e.par.pp << ", batch " << e.batch;
  return s.str();
}
}  // namespace

std::shared_ptr<CompareSetup> default_compare_setup() {
  auto o = std::make_shared<CompareSetup>();
  o->model = "deepseek-v3";
  o->site = "us";
  o->f.tpot_ms = 50;
  return o;
}

void add_compare_flags(CLI::App* cmd, CompareSetup& o) {
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
  cmd->add_option("--serving", o.serving, "serve: prefill and decode on the same chips (aggregated) or in separate pools (disaggregated); default: each stack's as deployed")
      ->check(CLI::IsMember({"aggregated", "disaggregated"}));
  cmd->add_option("--concurrency", o.concurrency, "aggregated serving: closed-loop clients on each system")
      ->check(CLI::Range(1, 100000000));
  cmd->add_option("--chunk-tokens", o.chunk_tokens, "aggregated serving: tokens per engine step (default: each stack's)")
      ->check(CLI::Range(1, 100000000));
  add_workload_flags(cmd, o.f);
  o.tpot_opt = cmd->get_option_no_throw("--tpot-ms");
}

ComparisonSpec comparison_spec(Context& ctx, const CompareSetup& o) {
  const Hwdb& db = ctx.db();
  ComparisonSpec s;
  s.a = with_stack_flag(db, o.a, o.stack);
  s.b = with_stack_flag(db, o.b, o.stack);
  s.model = o.model;
  s.stack = o.stack;
  if (!o.sites.empty()) {
    const auto comma = o.sites.find(',');
    if (comma == std::string::npos) throw InputError("flag --sites: give two sites, e.g. china,us (got '" + o.sites + "')");
    s.site_a = o.sites.substr(0, comma);
    s.site_b = o.sites.substr(comma + 1);
  } else {
    s.site_a = s.site_b = o.site;
  }
  s.w = o.f;
  s.serve.serving = o.serving;
  s.serve.concurrency = o.concurrency;
  // A closed loop sets its own load: compare's default TPOT target gives way to it (a given one does not).
  if (o.concurrency > 0 && o.tpot_opt && o.tpot_opt->count() == 0) s.w.tpot_ms = 0;
  s.serve.chunk_tokens = o.chunk_tokens;
  s.samples = o.samples;
  s.seed = o.seed;
  s.sensitivity = o.sensitivity;
  s.match = o.match;
  s.plan_a = o.plan_a;
  s.plan_b = o.plan_b;
  return s;
}

void add_compare_commands(CLI::App& app, Context& ctx) {
  auto o = default_compare_setup();
  auto* cmd = app.add_subcommand("compare", "side-by-side specs, power, cost and workload of two systems, with ratios");
  add_compare_flags(cmd, *o);
  cmd->footer("Exit codes: 0 the comparison (a side without a workload result under the targets is shown as missing, "
              "with its reason; --json: no_result_a / no_result_b); 2 bad input (one line naming the file:line:field or "
              "the flag); 1 an internal error.");
  cmd->callback([&ctx, o] {
    const Hwdb& db = ctx.db();
    ComparisonSpec spec = comparison_spec(ctx, *o);
    spec.split = !o->json;  // the text table explains the cost band by source
    const ErrorBasis basis = error_basis(ctx);
    Comparison p = prepare_comparison(ctx.scenario_data(), spec, basis.cases, basis.residuals);
    Progress progress("compare", comparison_draws(p), !o->json);
    run_comparison(p, [&] { progress.tick(); });
    progress.finish();
    const Evaluation &eva = p.a.ev, &evb = p.b.ev;
    const Economics& ea = eva.econ;
    const Economics& eb = evb.econ;
    const std::vector<double>&va = p.va, &vb = p.vb;
    const std::vector<Interval>& iv = p.ratio;
    const std::vector<Swing>& tornado = p.tornado;
    const std::size_t cost_row = comparison_row("usd_per_mtok");
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
      const std::size_t ci = comparison_row("chips");
      for (int view = 0; view < 2; ++view) {
        const double da = view == 0 ? va[ci] : p.match.count_a, dbb = view == 0 ? vb[ci] : p.match.count_b;
        for (const Derived& d : view == 0 ? per_chip_rows() : per_system_rows()) {
          const std::size_t i = comparison_row(d.key);
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
      if (dir == 0 || !std::isfinite(r.central) || even(a, b)) return "";
      const bool a_better = dir * (a - b) > 0;
      const double f = dir > 0 ? (a_better ? a / b : b / a) : (a_better ? b / a : a / b);
      return (a_better ? p.a.id : p.b.id) + " " + num(f, 3) + "x";
    };
    auto better_id = [&](int dir, double a, double b, const Interval& r) -> std::string {
      if (dir == 0 || !std::isfinite(a) || !std::isfinite(b) || !std::isfinite(r.central) || band_crosses_one(r) || even(a, b)) return "";
      return dir * (a - b) > 0 ? p.a.id : p.b.id;
    };
    if (o->json) {
      Json j = pair_json(p);
      j["mode"] = to_string(ea.est.mode);
      j["samples"] = o->samples;
      j["seed"] = static_cast<double>(o->seed);
      Json rowsj = Json::array();
      for (std::size_t i = 0; i < comparison_rows().size(); ++i) {
        const ComparisonRow& r = comparison_rows()[i];
        Json x = Json::object();
        x["key"] = r.key;
        x["label"] = r.label;
        x["a"] = va[i];
        x["b"] = vb[i];
        x["ratio"] = iv[i].central;
        x["ratio_low"] = iv[i].low;
        x["ratio_high"] = iv[i].high;
        x["failed"] = iv[i].failed;
        const std::string better = better_side(p, i);
        x["better"] = better.empty() ? "" : better == "a" ? p.a.id : p.b.id;
        x["point_outside_band"] = point_outside_band(iv[i]);
        rowsj.push(x);
      }
      j["rows"] = rowsj;
      for (auto [key, list] : {std::pair{"rows_per_chip", &per_chip}, std::pair{"rows_per_system", &per_system}}) {
        if (!p.matched) break;
        Json arr = Json::array();
        for (const DerivedRow& d : *list) {
          Json x = Json::object();
          x["key"] = comparison_rows()[d.row].key;
          x["label"] = d.label;
          x["a"] = d.a;
          x["b"] = d.b;
          x["ratio"] = d.r.central;
          x["ratio_low"] = d.r.low;
          x["ratio_high"] = d.r.high;
          x["better"] = list == &per_chip ? better_id(comparison_rows()[d.row].better, d.a, d.b, d.r) : "";
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
        const HomeReading h = home_costs(p);
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
      write_json(std::cout, j);
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
    } else if (const double ca = va[comparison_row("chips")], cb = vb[comparison_row("chips")]; std::max(ca, cb) > 2 * std::min(ca, cb)) {
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
    for (std::size_t i = 0; i < comparison_rows().size(); ++i) {
      const ComparisonRow& r = comparison_rows()[i];
      if (r.workload && !work) {
        work = true;
        t.section("workload: A " + plan_line(ea.est) + "; B " + plan_line(eb.est));
      }
      outside = outside || point_outside_band(iv[i]);
      t.row({comparison_row_label(r, ea.est.mode, eight), cell_text(r, va[i], ea.est), cell_text(r, vb[i], eb.est), range_text(iv[i]),
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
        const ComparisonRow& r = comparison_rows()[d.row];
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
    if (const std::string home = home_reading(p); !home.empty()) std::cout << home;
    if (p.has_split)
      std::cout << "  " << comparison_row_label(comparison_rows()[cost_row], ea.est.mode, eight) << " A/B: 5-95% " << num(iv[cost_row].low, 3)
                << "-" << num(iv[cost_row].high, 3) << "; the hwdb ranges alone " << num(p.cost_hwdb_only.low, 3) << "-"
                << num(p.cost_hwdb_only.high, 3) << ", the model error alone " << num(p.cost_model_error_only.low, 3) << "-"
                << num(p.cost_model_error_only.high, 3) << '\n';
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

  auto ob = default_compare_setup();
  auto* be = app.add_subcommand("breakeven", "electricity and system price at which A's cost per token equals B's");
  add_compare_flags(be, *ob);
  be->callback([&ctx, ob] {
    const Hwdb& db = ctx.db();
    ComparisonSpec spec = comparison_spec(ctx, *ob);
    const ErrorBasis basis = error_basis(ctx);
    const Comparison p = prepare_comparison(ctx.scenario_data(), spec, basis.cases, basis.residuals);
    const std::vector<Interval> iv = breakeven(p, ob->samples, ob->seed).v;
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
      write_json(std::cout, j);
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
