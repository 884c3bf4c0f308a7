// podperf validate: predicted vs published for every case, errors per group; exit 1 when a case
// leaves its tolerance. podperf calibrate: fits the global efficiency terms (cmd_calibrate.cpp).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "context.hpp"
#include "podperf/json.hpp"
#include "podperf/validation.hpp"
#include "table.hpp"

namespace podperf::cli {

std::string default_cases_dir(const Context& ctx) {
  return (std::filesystem::path(ctx.configs_dir) / ".." / "validation" / "cases").lexically_normal().string();
}

namespace {
double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
}  // namespace

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
    const Hwdb& db = ctx.db();
    const ModelDb& models = ctx.models();
    std::map<std::string, std::vector<double>> groups;
    std::vector<double> all;
    int failed = 0, run = 0;
    Json rows = Json::array();
    Table t({"case", "metric", "predicted", "published", "error", "tolerance", "dominant"});
    for (auto& c : cases) {
      if (!o->only.empty() && c.id != o->only) continue;
      ++run;
      const CaseResult r = evaluate(db, models, c, Pick{});
      if (!r.within) ++failed;
      if (std::isfinite(r.error)) {
        groups[c.group].push_back(std::abs(r.error));
        all.push_back(std::abs(r.error));
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
      j["dominant"] = r.dominant;
      j["source"] = c.source;
      if (!r.note.empty()) j["note"] = r.note;
      rows.push(j);
      char err[32];
      std::snprintf(err, sizeof err, "%+.1f%%", 100 * r.error);
      t.row({c.id, c.metric, std::isfinite(r.predicted) ? num(r.predicted) : r.note, num(c.measured),
             std::isfinite(r.error) ? err : "-", num(100 * c.tolerance, 3) + "%" + (r.within ? "" : " FAIL"), r.dominant});
    }
    if (!o->only.empty() && run == 0) throw InputError("flag --case: unknown case '" + o->only + "'");
    if (o->json) {
      Json out = Json::object();
      out["cases"] = rows;
      Json gs = Json::object();
      for (auto& [name, errs] : groups) {
        Json x = Json::object();
        x["cases"] = static_cast<int>(errs.size());
        x["median_abs_error"] = median(errs);
        x["max_abs_error"] = *std::max_element(errs.begin(), errs.end());
        gs[name] = x;
      }
      out["groups"] = gs;
      out["median_abs_error"] = median(all);
      out["max_abs_error"] = all.empty() ? 0.0 : *std::max_element(all.begin(), all.end());
      out["failed"] = failed;
      std::cout << out.dump() << '\n';
    } else {
      t.print(std::cout);
      std::cout << '\n';
      Table s({"group", "cases", "median |error|", "max |error|"});
      for (auto& [name, errs] : groups)
        s.row({name, std::to_string(errs.size()), num(100 * median(errs), 3) + "%",
               num(100 * *std::max_element(errs.begin(), errs.end()), 3) + "%"});
      if (!all.empty())
        s.row({"all", std::to_string(all.size()), num(100 * median(all), 3) + "%",
               num(100 * *std::max_element(all.begin(), all.end()), 3) + "%"});
      s.print(std::cout);
      std::cout << (failed ? std::to_string(failed) + " case(s) outside their tolerance\n" : "all cases within tolerance\n");
    }
    if (failed) throw ExitCode{1};
  });
}

}  // namespace podperf::cli
