// Commands and helpers around the model: models list|show, report, plot, the generated man page and
// bash completion, --csv, and "did you mean" for command names.
#pragma once
#include "podperf/io/output_file.hpp"
#include <ostream>
#include <string>
#include <vector>

#include "context.hpp"

namespace podperf::cli {

// models, report, plot and the hidden docs command.
void add_tool_commands(CLI::App& app, Context& ctx);
void add_report_command(CLI::App& app, Context& ctx);  // cmd_report.cpp

// Adds --csv to estimate, compare, validate, claims and hwdb list. When the command line asks for
// it, swaps it for the command's --json (in args) and returns true: the caller tables the JSON.
bool take_csv_flag(CLI::App& app, std::vector<std::string>& args);

// "" when every command word in args is known; else one line naming it and the closest command.
std::string unknown_command(CLI::App& app, const std::vector<std::string>& args);
// One line naming a long flag that neither the command named in args nor a command above it has, with
// the closest known flag; "" when every flag is known.
std::string unknown_flag(CLI::App& app, const std::vector<std::string>& args);

void write_man_page(CLI::App& app, std::ostream& os);
void write_bash_completion(CLI::App& app, std::ostream& os);


}  // namespace podperf::cli
