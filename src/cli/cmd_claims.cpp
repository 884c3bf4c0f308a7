// podperf claims: each public claim with its source, the quantity it implies, podperf's figure per
// reading with its range over the hwdb's uncertainties, and a verdict.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "context.hpp"
#include "estimate_output.hpp"
#include "podperf/app/claims.hpp"
#include "podperf/app/scenario.hpp"
#include "podperf/io/json.hpp"
#include "table.hpp"
#include "json_output.hpp"

namespace podperf::cli {

void add_claims_command(CLI::App& app, Context& ctx) {
  struct Opts {
    std::string dir, only;
    int samples = 100;
    unsigned long seed = 1;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("claims", "test public quantity-for-quality claims against the model");
  cmd->add_option("--claims", o->dir, "claims directory (default: the shipped configs/claims)");
  cmd->add_option("--id", o->only, "one claim id");
  cmd->add_option("--samples", o->samples, "Monte Carlo draws over the hwdb ranges (0 = none)")
      ->check(CLI::Range(0, 100000))->capture_default_str();
  cmd->add_option("--seed", o->seed, "Monte Carlo seed")->check(CLI::Range(0ul, 1000000000000000000ul))->capture_default_str();
  cmd->add_flag("--json", o->json, "machine-readable output");
  cmd->callback([&ctx, o] {
    const std::string dir = o->dir.empty() ? (std::filesystem::path(ctx.configs_dir) / "claims").string() : o->dir;
    const std::vector<Claim> claims = load_claims(dir);
    std::map<std::string, std::unique_ptr<Hwdb>> sets;
    auto hwdb_for = [&](const std::string& figures) -> const Hwdb& {
      if (figures.empty()) return ctx.db();
      auto& slot = sets[figures];
      if (!slot) slot = std::make_unique<Hwdb>(load_hwdb(ctx.hwdb_dir, {figures}));
      return *slot;
    };
    // Workload readings are scenarios, evaluated as `estimate` evaluates them.
    const ScenarioData data = ctx.scenario_data();
    Json out = Json::array();
    int shown = 0;
    for (auto& c : claims) {
      if (!o->only.empty() && c.id != o->only) continue;
      ++shown;
      const ClaimResult r = evaluate_claim(c, hwdb_for, data, Pick{}, o->samples, o->seed);
      if (o->json) {
        Json j = Json::object();
        j["id"] = c.id;
        j["sentence"] = c.sentence;
        j["source"] = c.source;
        j["quantity"] = c.quantity;
        j["claimed"] = c.claimed;
        j["verdict"] = r.verdict;
        j["reason"] = r.reason;
        Json rs = Json::array();
        for (auto& x : r.readings) {
          Json k = Json::object();
          k["label"] = x.label;
          k["value"] = x.value;
          k["low"] = x.range.low;
          k["high"] = x.range.high;
          k["holds"] = x.holds;
          if (!x.note.empty()) k["note"] = x.note;
          if (x.has_a) k["result_a"] = result_json(x.a);  // each side's figures, as `estimate --json` gives them
          if (x.has_b) k["result_b"] = result_json(x.b);
          rs.push(k);
        }
        j["readings"] = rs;
        out.push(j);
        continue;
      }
      std::cout << "[" << c.id << "] \"" << c.sentence << "\"\n  source: " << c.source << "\n  quantity: " << c.quantity
                << "\n";
      for (auto& x : r.readings) {
        std::cout << "  - " << x.label << ": ";
        if (!std::isfinite(x.value)) {
          std::cout << "no value (" << x.note << ")\n";
          continue;
        }
        std::cout << num(x.value, 3);
        if (o->samples > 0 && x.range.high > x.range.low) std::cout << " (" << num(x.range.low, 3) << "-" << num(x.range.high, 3) << ")";
        std::cout << (x.holds ? "  holds" : "  does not hold") << '\n';
      }
      std::cout << "  verdict: " << r.verdict << " - " << r.reason << "\n\n";
    }
    if (!o->only.empty() && shown == 0) throw InputError("flag --id: unknown claim '" + o->only + "'");
    if (o->json) write_json(std::cout, out);
  });
}

}  // namespace podperf::cli
