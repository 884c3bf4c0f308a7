// podperf validate: predicted vs published for every case, errors per group; exit 1 when a case
// leaves its tolerance. podperf calibrate: fits the global efficiency terms (cmd_calibrate.cpp).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "context.hpp"
#include "podperf/io/json.hpp"
#include "podperf/app/validation.hpp"
#include "table.hpp"
#include "json_output.hpp"

namespace podperf::cli {

std::string default_cases_dir(const Context& ctx) {
  return (std::filesystem::path(ctx.configs_dir) / ".." / "validation" / "cases").lexically_normal().string();
}

void add_validate_command(CLI::App& app, Context& ctx) {
  struct Opts {
    std::string dir, only;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("validate", "podperf against published measurements (exit 1 if a case leaves its tolerance)");
  cmd->add_option("--cases", o->dir, "validation cases directory (default: the shipped validation/cases)");
  cmd->add_option("--case", o->only, "one case id");
  cmd->add_flag("--json", o->json, "machine-readable output");
  cmd->callback([&ctx, o] {
    const std::vector<ValidationCase> cases = load_cases(o->dir.empty() ? default_cases_dir(ctx) : o->dir);
    if (cases.empty()) throw InputError("flag --cases: no validation cases in '" + (o->dir.empty() ? default_cases_dir(ctx) : o->dir) + "'");
    const Hwdb& db = ctx.db();
    const ModelDb& models = ctx.models();
    // Headline statistics: system-level cases apart from the micro (kernel, collective) cases, and
    // the open cases (published results the model does not reach yet) apart from the rest and with it.
    std::map<std::string, std::vector<double>> groups;
    std::vector<double> fitted, open, system_all;
    int failed = 0, run = 0, open_cases = 0, no_prediction = 0;
    Json rows = Json::array();
    Table t({"case", "metric", "predicted", "published", "error", "tolerance", "dominant"});
    for (auto& c : cases) {
      if (!o->only.empty() && c.id != o->only) continue;
      ++run;
      const CaseResult r = evaluate(db, models, c, Pick{});
      if (!r.within && c.open.empty()) ++failed;
      open_cases += !c.open.empty();
      no_prediction += !c.open.empty() && !std::isfinite(r.error);
      const double abs_err = std::isfinite(r.error) ? std::abs(r.error) : std::nan("");
      if (std::isfinite(abs_err)) {
        if (c.open.empty()) groups[c.group].push_back(abs_err);
        if (!c.micro()) (c.open.empty() ? fitted : open).push_back(abs_err);
        if (!c.micro()) system_all.push_back(abs_err);
      }
      Json j = Json::object();
      j["id"] = c.id;
      j["group"] = c.group;
      j["metric"] = c.metric;
      j["unit"] = c.unit;
      j["predicted"] = r.predicted;
      j["published"] = c.measured;
      j["error"] = r.error;
      j["tolerance"] = c.tolerance;
      j["within"] = r.within;
      j["open"] = c.open.empty() ? Json(false) : Json(c.open);
      j["dominant"] = r.dominant;
      j["source"] = c.source;
      if (!r.note.empty()) j["note"] = r.note;
      rows.push(j);
      char err[32];
      std::snprintf(err, sizeof err, "%+.1f%%", 100 * r.error);
      const std::string mark = r.within ? "" : c.open.empty() ? " FAIL" : " open";
      t.row({c.id, c.metric, std::isfinite(r.predicted) ? num(r.predicted) : r.note, num(c.measured),
             std::isfinite(r.error) ? err : "-", num(100 * c.tolerance, 3) + "%" + mark, r.dominant});
    }
    if (!o->only.empty() && run == 0) throw InputError("flag --case: unknown case '" + o->only + "'");
    auto stats = [](const std::vector<double>& errs, Json& x) {
      x["cases"] = static_cast<int>(errs.size());
      x["median_abs_error"] = errs.empty() ? 0.0 : median(errs);
      x["max_abs_error"] = errs.empty() ? 0.0 : *std::max_element(errs.begin(), errs.end());
    };
    if (o->json) {
      Json out = Json::object();
      out["cases"] = rows;
      Json gs = Json::object();
      for (auto& [name, errs] : groups) {
        Json x = Json::object();
        stats(errs, x);
        gs[name] = x;
      }
      out["groups"] = gs;
      Json h = Json::object(), hf = Json::object(), ho = Json::object();
      stats(system_all, h);
      stats(fitted, hf);
      stats(open, ho);
      out["system_level"] = h;
      out["system_level_fitted"] = hf;
      out["open"] = ho;
      out["median_abs_error"] = system_all.empty() ? 0.0 : median(system_all);
      out["max_abs_error"] = system_all.empty() ? 0.0 : *std::max_element(system_all.begin(), system_all.end());
      out["failed"] = failed;
      out["open_cases"] = open_cases;
      out["open_without_prediction"] = no_prediction;
      write_json(std::cout, out);
    } else {
      t.print(std::cout);
      std::cout << '\n';
      Table s({"group", "cases", "median |error|", "max |error|"});
      auto row = [&](const std::string& name, const std::vector<double>& errs) {
        if (!errs.empty())
          s.row({name, std::to_string(errs.size()), num(100 * median(errs), 3) + "%",
                 num(100 * *std::max_element(errs.begin(), errs.end()), 3) + "%"});
      };
      for (auto& [name, errs] : groups) row(name, errs);
      row("system-level, fitted set", fitted);
      row("system-level, open", open);
      row("system-level, all", system_all);
      s.print(std::cout);
      if (open_cases > 0)
        std::cout << open_cases << " open case(s): published results the model does not reach yet (reported, not "
                     "fitted, not asserted; each file says why)"
                  << (no_prediction > 0 ? "; " + std::to_string(no_prediction) + " of them without a prediction, left out of the statistics" : "")
                  << "\n";
      std::cout << (failed ? std::to_string(failed) + " case(s) outside their tolerance\n" : "all fitted cases within tolerance\n");
    }
    if (failed) throw ExitCode{1};
  });
}

}  // namespace podperf::cli
