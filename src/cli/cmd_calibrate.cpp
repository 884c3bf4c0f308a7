// podperf calibrate: fits what no measurement pins, per software stack, on the validation cases;
// reports in-sample and leave-one-out errors, and with --write stores the fitted values in the stack
// entries of the hwdb (kind measured-fit, the cases as source, the prior, the fit and the
// leave-one-out spread as range).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "context.hpp"
#include "podperf/app/calibration.hpp"
#include "podperf/app/model_error.hpp"
#include "podperf/io/json.hpp"
#include "podperf/io/output_file.hpp"
#include "progress.hpp"
#include "table.hpp"
#include "json_output.hpp"

namespace podperf::cli {

namespace {
std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

// The stack files being rewritten, line by line, in memory: nothing reaches the hwdb until every
// value has found its line, and then every file is replaced together (output_file.hpp).
using Edits = std::map<std::string, std::vector<std::string>>;

// Replaces the line of a stack's number in its hwdb file.
void replace_line(Edits& edits, const Hwdb& db, const std::string& stack, const std::string& field, const std::string& line) {
  const std::string key = field.substr(field.find('.') + 1);
  const Number& n = db.stacks.at(stack).numbers.at(field);
  if (!edits.count(n.file)) {
    std::ifstream in(n.file);
    if (!in) throw InputError(n.file + ": cannot read");
    std::vector<std::string>& lines = edits[n.file];
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  std::vector<std::string>& lines = edits.at(n.file);
  if (n.line < 1 || static_cast<std::size_t>(n.line) > lines.size() || lines[n.line - 1].rfind(key + " ", 0) != 0)
    throw InputError(n.file, n.line, field, "cannot write the fitted value: the line does not hold the field");
  lines[static_cast<std::size_t>(n.line - 1)] = line;
}

// "stack value, ..." of the fits a pooled value is the median of.
std::string pooled_from(const PooledValue& v) {
  std::string from;
  for (auto& [id, x] : v.from) from += (from.empty() ? "" : ", ") + id + " " + fmt(x);
  return from;
}

void write_back(const Hwdb& db, const CalibResult& r, const std::vector<ValidationCase>& cases, const std::string& residuals_path,
                const std::string& residuals) {
  Edits edits;
  for (std::size_t i = 0; i < r.params.size(); ++i) {
    const CalibParam& p = r.params[i];
    std::string ids;
    for (auto& c : cases)
      if (case_stack(db, c) == p.stack) ids += (ids.empty() ? "" : ", ") + c.id;
    const std::string key = p.field.substr(p.field.find('.') + 1);
    const double lo = std::min({r.loo_low[i], r.fitted[i], p.prior}), hi = std::max({r.loo_high[i], r.fitted[i], p.prior});
    std::string line = key + " = { value = " + fmt(r.fitted[i]);
    if (hi > lo) line += ", range = [" + fmt(lo) + ", " + fmt(hi) + "]";
    line += ", kind = \"measured-fit\", source = \"podperf calibrate (bounded least squares on log error from the prior " +
            fmt(p.prior) + ", validation/cases): " + ids + "\", note = \"pinned by " + std::to_string(p.cases) +
            " case(s); range: the prior, the fit and the leave-one-out fits\" }";
    replace_line(edits, db, p.stack, p.field, line);
  }
  // Stacks without a fitted case: the median of the other stacks' fits, their spread as range.
  for (const PooledValue& v : r.pooled) {
    const std::string key = v.field.substr(v.field.find('.') + 1);
    double lo = v.value, hi = v.value;
    for (auto& [id, x] : v.from) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    const std::string role = db.stack(v.stack).role == StackRole::training ? "training" : "serving";
    replace_line(edits, db, v.stack, v.field,
                 key + " = { value = " + fmt(v.value) + ", range = [" + fmt(lo) + ", " + fmt(hi) +
                     "], kind = \"derived\", source = \"podperf calibrate: median of the fitted " + role + " stacks (" + pooled_from(v) +
                     ")\", note = \"no validation case of its own fits this stack; range: the fits pooled\" }");
  }
  std::vector<std::pair<std::string, std::string>> files;
  for (auto& [file, lines] : edits) {
    std::string text;
    for (auto& l : lines) text += l + '\n';
    files.emplace_back(file, std::move(text));
  }
  if (!residuals.empty()) files.emplace_back(residuals_path, residuals);
  write_files_atomic(files, "--write");
}

// calibrate's record of the system-level cases' residuals (validation/residuals.toml), which compare's
// model error reads: in-sample at the fit, left out of the fit, with the stack's terms pooled from the
// other stacks; the open cases (never fitted) at the fit.
std::string residuals_text(const Hwdb& db, const ModelDb& models, const CalibResult& r, const std::vector<ValidationCase>& fitted,
                           const std::vector<ValidationCase>& all) {
  std::ostringstream s;
  s << "# The validation cases' residuals (predicted / published - 1) as calibrate leaves them: written by\n"
       "# `podperf calibrate --write`; compare's model error reads them (include/podperf/app/model_error.hpp).\n"
       "# error: at the fit; loo_error: the case left out of the fit; loso_error: its stack's terms pooled\n"
       "# from the other stacks' fits; an open case is never fitted and has its error at the fit in both.\n";
  s << "source = \"podperf calibrate --write: bounded least squares from the priors on " << fitted.size()
    << " validation cases (validation/cases), each refitted without it (leave-one-out) and without its stack (leave-one-stack-out)\"\n";
  s << "kind = \"measured-fit\"\n";
  const Pick at_fit = calibration_pick(r.params, r.fitted);
  auto entry = [&](const ValidationCase& c, double err, double loo, double loso) {
    const std::string sys = base_system(db, c.system);
    s << "\n[[case]]\nid = \"" << c.id << "\"\nsystem = \"" << sys << "\"\nchip = \""
      << (db.systems.count(sys) ? db.systems.at(sys).str("chip") : std::string("?")) << "\"\nmode = \""
      << (c.mode == "train" ? "training" : "serving") << "\"\nstack = \"" << case_stack(db, c) << "\"\n";
    if (!c.open.empty()) s << "open = true\n";
    s << "error = " << fmt(err) << "\nloo_error = " << fmt(loo) << "\n";
    if (std::isfinite(loso)) s << "loso_error = " << fmt(loso) << "\n";
  };
  for (std::size_t i = 0; i < fitted.size() && i < r.error.size(); ++i) {
    const ValidationCase& c = fitted[i];
    if (c.micro() || c.mode == "gemm" || c.mode == "stream" || !std::isfinite(r.error[i])) continue;
    const double loo = i < r.loo_error.size() ? r.loo_error[i] : std::nan("");
    if (!std::isfinite(loo)) continue;
    entry(c, r.error[i], loo, i < r.loso_error.size() ? r.loso_error[i] : std::nan(""));
  }
  for (const ValidationCase& c : all) {
    if (c.open.empty() || c.micro() || c.mode == "gemm" || c.mode == "stream") continue;
    double err;
    try {
      err = evaluate(db, models, c, at_fit).error;
    } catch (const InputError&) {
      continue;
    }
    if (std::isfinite(err)) entry(c, err, err, std::nan(""));
  }
  return s.str();
}

// Median and largest |error| over the system-level cases (micro cases apart).
std::pair<double, double> median_max(const std::vector<double>& err, const std::vector<ValidationCase>& cases) {
  std::vector<double> a;
  for (std::size_t i = 0; i < err.size() && i < cases.size(); ++i)
    if (!cases[i].micro()) a.push_back(std::isfinite(err[i]) ? std::abs(err[i]) : 1e9);
  if (a.empty()) return {0, 0};
  return {median(a), *std::max_element(a.begin(), a.end())};
}

// The same over the cases of one group (e.g. huawei-training: Ascend training reported apart).
std::pair<double, double> median_max_of(const std::vector<double>& err, const std::vector<ValidationCase>& cases,
                                        const std::string& group, int& n) {
  std::vector<double> e;
  std::vector<ValidationCase> c;
  for (std::size_t i = 0; i < err.size() && i < cases.size(); ++i)
    if (cases[i].group == group) {
      e.push_back(err[i]);
      c.push_back(cases[i]);
    }
  n = static_cast<int>(c.size());
  return median_max(e, c);
}
}  // namespace

void add_calibrate_command(CLI::App& app, Context& ctx) {
  struct Opts {
    std::string dir;
    std::vector<std::string> only;
    bool no_loo = false, write = false, json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("calibrate", "fit the software stacks' unpinned terms on validation cases (least squares)");
  cmd->add_option("--cases", o->dir, "validation cases directory (default: the shipped validation/cases)");
  cmd->add_option("--fit-on", o->only, "fit on these case ids only (default: all)")->delimiter(',');
  cmd->add_flag("--no-loo", o->no_loo, "skip the leave-one-out refits");
  cmd->add_flag("--write", o->write, "store the fitted values in the hwdb stack entries (kind measured-fit)");
  cmd->add_flag("--json", o->json, "machine-readable output");
  cmd->callback([&ctx, o] {
    if (!ctx.figures.empty()) throw InputError("flag --figures: calibrate works on the hwdb itself, without figure sets");
    if (o->write && o->no_loo)
      throw InputError("flag --write: the stored ranges hold the leave-one-out fits, which --no-loo skips; run --write without --no-loo");
    if (o->write && (!ctx.sets.empty() || !ctx.pue.empty() || !ctx.electricity_usd_kwh.empty() || !ctx.utilization.empty()))
      throw InputError("flag --write: the hwdb would store fits made under per-run overrides (--set, --pue, "
                       "--electricity-usd-kwh, --utilization); run --write without them");
    const std::string dir = o->dir.empty() ? default_cases_dir(ctx) : o->dir;
    const std::vector<ValidationCase> loaded = load_cases(dir);
    std::vector<ValidationCase> cases = fit_cases(loaded);
    if (!o->only.empty()) {
      std::vector<ValidationCase> keep;
      for (auto& id : o->only) {
        auto it = std::find_if(cases.begin(), cases.end(), [&](auto& c) { return c.id == id; });
        if (it == cases.end()) throw InputError("flag --fit-on: unknown case '" + id + "'");
        keep.push_back(*it);
      }
      cases = keep;
    }
    const Hwdb& db = ctx.db();
    Progress progress("calibrate: fitting and leave-one-out", 0, !o->json);
    const CalibResult r = calibrate(db, ctx.models(), cases, !o->no_loo);
    progress.finish();
    if (o->json) {
      Json j = Json::object();
      Json ps = Json::array();
      for (std::size_t i = 0; i < r.params.size(); ++i) {
        Json p = Json::object();
        p["stack"] = r.params[i].stack;
        p["field"] = r.params[i].field;
        p["prior"] = r.params[i].prior;
        p["start"] = r.params[i].start;
        p["cases"] = r.params[i].cases;
        p["fitted"] = r.fitted[i];
        p["loo_low"] = r.loo_low[i];
        p["loo_high"] = r.loo_high[i];
        ps.push(p);
      }
      j["params"] = ps;
      Json cs = Json::array();
      for (std::size_t i = 0; i < r.case_ids.size(); ++i) {
        Json c = Json::object();
        c["id"] = r.case_ids[i];
        c["error"] = r.error[i];
        if (i < r.loo_error.size()) c["loo_error"] = r.loo_error[i];
        if (i < r.loso_error.size() && std::isfinite(r.loso_error[i])) c["loso_error"] = r.loso_error[i];
        cs.push(c);
      }
      j["cases"] = cs;
      Json pv = Json::array();
      for (auto& v : r.pooled) {
        Json p = Json::object();
        p["stack"] = v.stack;
        p["field"] = v.field;
        p["value"] = v.value;
        Json from = Json::object();
        for (auto& [id, x] : v.from) from[id] = x;
        p["from"] = from;
        pv.push(p);
      }
      j["pooled"] = pv;
      j["rms_log_error"] = r.rms_log;
      const auto [med, mx] = median_max(r.error, cases);
      j["median_abs_error"] = med;
      j["max_abs_error"] = mx < 1e8 ? Json(mx) : Json();  // null: a case has no prediction
      if (!o->no_loo) {
        const auto [lmed, lmx] = median_max(r.loo_error, cases);
        j["loo_median_abs_error"] = lmed;
        j["loo_max_abs_error"] = lmx < 1e8 ? Json(lmx) : Json();
      }
      {
        int n = 0;
        const auto [amed, amx] = median_max_of(r.error, cases, "huawei-training", n);
        if (n > 0) {
          Json a = Json::object();
          a["cases"] = n;
          a["median_abs_error"] = amed;
          a["max_abs_error"] = amx < 1e8 ? Json(amx) : Json();
          if (!o->no_loo) {
            const auto [almed, almx] = median_max_of(r.loo_error, cases, "huawei-training", n);
            a["loo_median_abs_error"] = almed;
            a["loo_max_abs_error"] = almx < 1e8 ? Json(almx) : Json();
          }
          j["ascend_training"] = a;
        }
      }
      const auto [smed, smx] = median_max(r.loso_error, cases);
      j["loso_median_abs_error"] = smed;
      j["loso_max_abs_error"] = smx < 1e8 ? Json(smx) : Json();
      const auto [pmed, pmx] = median_max(r.prior_error, cases);
      j["prior_median_abs_error"] = pmed;
      j["prior_max_abs_error"] = pmx < 1e8 ? Json(pmx) : Json();
      write_json(std::cout, j);
    } else {
      Table t({"stack", "parameter", "prior", "hwdb now", "fitted", "leave-one-out range", "cases"});
      for (std::size_t i = 0; i < r.params.size(); ++i)
        t.row({r.params[i].stack, r.params[i].field, fmt(r.params[i].prior), fmt(r.params[i].start), fmt(r.fitted[i]),
               o->no_loo ? "-" : fmt(r.loo_low[i]) + " - " + fmt(r.loo_high[i]),
               std::to_string(r.params[i].cases) + (r.params[i].cases == 1 ? " (one case pins it)" : "")});
      t.print(std::cout);
      std::cout << '\n';
      if (!r.pooled.empty()) {
        Table pt({"stack without a fitted case", "parameter", "hwdb now", "pooled (median of)"});
        for (auto& v : r.pooled) {
          const Number& n = db.stacks.at(v.stack).numbers.at(v.field);
          pt.row({v.stack, v.field, fmt(n.value), fmt(v.value) + " (" + pooled_from(v) + ")"});
        }
        pt.print(std::cout);
        std::cout << '\n';
      }
      Table c({"case", "error (fitted)", "leave-one-out error", "leave-one-stack-out"});
      auto pct = [](double e) {
        if (!std::isfinite(e)) return std::string("-");
        char b[32];
        std::snprintf(b, sizeof b, "%+.1f%%", 100 * e);
        return std::string(b);
      };
      for (std::size_t i = 0; i < r.case_ids.size(); ++i)
        c.row({r.case_ids[i], pct(r.error[i]), i < r.loo_error.size() ? pct(r.loo_error[i]) : "-",
               i < r.loso_error.size() ? pct(r.loso_error[i]) : "-"});
      c.print(std::cout);
      std::cout << "rms log error " << fmt(r.rms_log) << '\n';
      // A case without a prediction counts as the largest error and is named as such.
      auto largest = [&](double e, const std::vector<double>& errs) {
        if (e < 1e8) return pct(e).substr(1);
        int none = 0;
        for (std::size_t i = 0; i < errs.size() && i < cases.size(); ++i) none += !cases[i].micro() && !std::isfinite(errs[i]);
        return std::to_string(none) + " case(s) without a prediction";
      };
      const auto [med, mx] = median_max(r.error, cases);
      std::cout << "system-level cases: in-sample median |error| " << pct(med).substr(1) << ", max " << largest(mx, r.error);
      if (!o->no_loo) {
        const auto [lmed, lmx] = median_max(r.loo_error, cases);
        std::cout << "; leave-one-out median " << pct(lmed).substr(1) << ", max " << largest(lmx, r.loo_error);
      }
      const auto [smed, smx] = median_max(r.loso_error, cases);
      const auto [pmed, pmx] = median_max(r.prior_error, cases);
      std::cout << "; leave-one-stack-out (the stack's terms pooled from the other stacks) median " << pct(smed).substr(1)
                << ", max " << largest(smx, r.loso_error) << " (at the priors: median " << pct(pmed).substr(1) << ", max "
                << largest(pmx, r.prior_error) << ")\n";
      int n = 0;
      const auto [amed, amx] = median_max_of(r.error, cases, "huawei-training", n);
      if (n > 0) {
        std::cout << "Ascend training (" << n << " cases, group huawei-training): in-sample median |error| "
                  << pct(amed).substr(1) << ", max " << largest(amx, r.error);
        if (!o->no_loo) {
          const auto [almed, almx] = median_max_of(r.loo_error, cases, "huawei-training", n);
          std::cout << "; leave-one-out median " << pct(almed).substr(1) << ", max " << largest(almx, r.loo_error);
        }
        std::cout << '\n';
      }
    }
    if (o->write) {
      // The residual record holds every case: a fit on some (--fit-on) leaves it as it is.
      const std::string text = o->only.empty() ? residuals_text(db, ctx.models(), r, cases, loaded) : "";
      write_back(db, r, cases, residuals_file(dir), text);
      std::cerr << "wrote the fitted values into " << db.dir << "/stacks"
                << (text.empty() ? std::string() : " and the residuals into " + residuals_file(dir)) << "\n";
    }
  });
}

}  // namespace podperf::cli
