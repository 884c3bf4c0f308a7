// What every subcommand shares: the global options and the loaded hwdb.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "podperf/hwdb.hpp"

namespace podperf::cli {

struct Context {
  std::string hwdb_dir;
  std::vector<std::string> figures;  // figure sets (hwdb/overlays) to apply
  std::unique_ptr<Hwdb> loaded;

  const Hwdb& db() {
    if (!loaded) loaded = std::make_unique<Hwdb>(load_hwdb(hwdb_dir, figures));
    return *loaded;
  }
};

void add_hwdb_commands(CLI::App& app, Context& ctx);
void add_specs_command(CLI::App& app, Context& ctx);
void add_engine_commands(CLI::App& app, Context& ctx);

}  // namespace podperf::cli
