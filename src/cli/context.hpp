// What every subcommand shares: the global options and the loaded hwdb.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "podperf/io/error.hpp"
#include "podperf/io/hwdb.hpp"
#include "podperf/io/models.hpp"
#include "podperf/io/recipes.hpp"
#include "podperf/app/scenario.hpp"

namespace podperf::cli {

struct Context {
  std::string hwdb_dir;
  std::vector<std::string> figures;  // figure sets (hwdb/overlays) to apply
  std::string configs_dir;
  std::unique_ptr<Hwdb> loaded;
  std::unique_ptr<ModelDb> models_loaded;
  // Per-run overrides (overrides.cpp): --set ENTITY.FIELD=VALUE, and for every site
  // --electricity-usd-kwh, --pue, --utilization (< 0: not given).
  std::vector<std::string> sets;
  std::string electricity_usd_kwh, pue, utilization;  // empty: not given
  std::unique_ptr<RecipeDb> recipes_loaded;

  const Hwdb& db() {
    if (!loaded) {
      loaded = std::make_unique<Hwdb>(load_hwdb(hwdb_dir, figures));
      apply_overrides(*loaded);
    }
    return *loaded;
  }
  void apply_overrides(Hwdb& db) const;
  ScenarioData scenario_data() {  // what a Scenario resolves against
    ScenarioData d;
    d.db = &db();
    d.models = &models();
    d.recipes = &recipes();
    d.configs_dir = configs_dir;
    return d;
  }
  // The global flags that change results, with their values (empty: not given): a sweep stamps them.
  std::vector<std::pair<std::string, std::string>> result_flags() const {
    std::string set;
    for (auto& s : sets) set += (set.empty() ? "" : "; ") + s;
    return {{"--set", set}, {"--pue", pue}, {"--electricity-usd-kwh", electricity_usd_kwh}, {"--utilization", utilization}};
  }
  const ModelDb& models() {
    if (!models_loaded) models_loaded = std::make_unique<ModelDb>(load_models(configs_dir));
    return *models_loaded;
  }
  const RecipeDb& recipes() {  // hwdb/recipes: deployed precision recipes and the chips they are native to
    if (!recipes_loaded) recipes_loaded = std::make_unique<RecipeDb>(load_recipes(hwdb_dir));
    return *recipes_loaded;
  }
};

void add_override_options(CLI::App& app, Context& ctx);
void add_hwdb_commands(CLI::App& app, Context& ctx);
void add_specs_command(CLI::App& app, Context& ctx);
void add_power_command(CLI::App& app, Context& ctx);
void add_engine_commands(CLI::App& app, Context& ctx);
void add_estimate_command(CLI::App& app, Context& ctx);
void add_compare_commands(CLI::App& app, Context& ctx);
void add_validate_command(CLI::App& app, Context& ctx);
void add_calibrate_command(CLI::App& app, Context& ctx);
void add_sweep_command(CLI::App& app, Context& ctx);
void add_claims_command(CLI::App& app, Context& ctx);
std::string default_cases_dir(const Context& ctx);
// The system id that runs `stack` (flag --stack NAME): "SYSTEM@NAME"; an unknown stack or a system
// that already names one is bad input naming the flag. An empty stack leaves the id as it is.
std::string with_stack_flag(const Hwdb& db, const std::string& system_id, const std::string& stack);

// Thrown by a command that finished its output but must exit non-zero (e.g. a failed validation).
struct ExitCode {
  int code;
};
// The exit codes of every command: a result; an internal error (a bug); bad input (one line naming
// file:line:field or the flag); no result under the targets (estimate: NO RESULT or DOES NOT FIT,
// with the reason printed and the output otherwise complete).
inline constexpr int kExitResult = 0, kExitBug = 1, kExitBadInput = 2, kExitNoResult = 3;
inline constexpr const char* kExitCodesHelp =
    "Exit codes: 0 a result; 2 bad input (one line naming the file:line:field or the flag); 3 no result under the "
    "targets (estimate prints NO RESULT or DOES NOT FIT and why); 1 an internal error.";

}  // namespace podperf::cli
