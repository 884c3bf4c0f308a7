// podperf: analytic performance, power and cost model of AI supernodes.
// Exit codes (context.hpp): 0 a result, 2 bad input (one line on stderr naming file, line and field,
// or the flag), 3 no result under the targets (estimate: NO RESULT / DOES NOT FIT), 1 a bug.
// run_cli() is the whole command line as a function (argv in, streams out, exit code back): the
// podperf binary and the Python module both call it.
#include <iostream>
#include <sstream>

#include "context.hpp"
#include "podperf/io/error.hpp"
#include "podperf/io/limits.hpp"
#include "podperf/io/suggest.hpp"
#include "cmd_supply.hpp"
#include "command_line.hpp"
#include "json_output.hpp"
#include "tools.hpp"

#ifdef PODPERF_HAVE_MPI
#include <mpi.h>
#endif

#ifndef PODPERF_CLI_NO_MAIN
int main(int argc, char** argv) {
  const std::vector<std::string> args(argv, argv + argc);
#ifdef PODPERF_HAVE_MPI
  MPI_Init(&argc, &argv);
  const int rc = podperf::cli::run_cli(args, std::cout, std::cerr);
  if (rc != 0) MPI_Abort(MPI_COMM_WORLD, rc);
  MPI_Finalize();
  return rc;
#else
  return podperf::cli::run_cli(args, std::cout, std::cerr);
#endif
}
#endif

namespace podperf::cli {

namespace {
// Points std::cout and std::cerr at the caller's streams for the duration of one run.
struct Redirect {
  std::streambuf *out, *err;
  Redirect(std::ostream& o, std::ostream& e)
      : out(&o == &std::cout ? nullptr : std::cout.rdbuf(o.rdbuf())),
        err(&e == &std::cerr ? nullptr : std::cerr.rdbuf(e.rdbuf())) {}
  ~Redirect() {
    if (out) std::cout.rdbuf(out);
    if (err) std::cerr.rdbuf(err);
  }
};

int run(std::vector<std::string> args, Json* tree);

// A message on one line: a control character a value carried in (a newline in a flag's value, a file
// name) is written as an escape, so that a refusal is always exactly one line.
std::string one_line(const std::string& m) {
  std::string out;
  for (const char c : m) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (static_cast<unsigned char>(c) < 0x20 && c != '\t') out += '?';
    else out += c;
  }
  return out;
}

// One check on every option value of every command, before the command's own range: not empty,
// and a number only when finite and not a denormal (limits.hpp), the same as --set, the hwdb and
// sweep axes. An option whose value may be left out (--recompute) keeps its empty value.
void check_every_value(CLI::App& app) {
  static const CLI::Validator value_check(
      [](std::string& v) -> std::string {
        if (v.find_first_not_of(" \t\r\n\v\f") == std::string::npos) return "empty value";
        char* end = nullptr;
        const double x = std::strtod(v.c_str(), &end);
        if (end != v.c_str() && *end == '\0')
          if (const std::string p = number_problem(x); !p.empty()) return p + " (got " + v + ")";
        return "";
      },
      "", "value");
  for (CLI::Option* opt : app.get_options())
    if (opt->get_type_size_max() > 0 && opt->get_expected_min() > 0) opt->check(value_check);
  for (CLI::App* sub : app.get_subcommands({})) check_every_value(*sub);
}
}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, Json* tree) {
  Redirect redirect(out, err);
  return run(args, tree);
}

namespace {
int run(std::vector<std::string> args, Json* tree) {
  cli::Context ctx;
  CLI::App app{"podperf " PODPERF_VERSION
                   ": performance, power and cost of AI supernodes (CloudMatrix / Atlas SuperPoD vs NVL72)",
               "podperf"};
  app.set_version_flag("--version", std::string("podperf ") + PODPERF_VERSION + " (" + PODPERF_GIT_REV + ")");
  app.require_subcommand(1);
  app.footer(kExitCodesHelp);
  ctx.hwdb_dir = default_hwdb_dir(args.empty() ? nullptr : args[0].c_str());
  app.add_option("--hwdb", ctx.hwdb_dir, "hardware database directory (default: the shipped hwdb, or $PODPERF_HWDB)")
      ->capture_default_str();
  ctx.configs_dir = default_configs_dir(args.empty() ? nullptr : args[0].c_str());
  app.add_option("--configs", ctx.configs_dir, "configs directory with models/ (default: the shipped configs)")
      ->capture_default_str();
  app.add_option("--figures", ctx.figures,
                 "apply a figure set: a name in hwdb/overlays (e.g. semianalysis) or a path to one; repeatable");
  cli::add_override_options(app, ctx);
  app.fallthrough();  // global options may follow the subcommand
  cli::add_hwdb_commands(app, ctx);
  cli::add_specs_command(app, ctx);
  cli::add_power_command(app, ctx);
  cli::add_engine_commands(app, ctx);
  cli::add_estimate_command(app, ctx);
  cli::add_compare_commands(app, ctx);
  cli::add_validate_command(app, ctx);
  cli::add_calibrate_command(app, ctx);
  cli::add_sweep_command(app, ctx);
  cli::add_claims_command(app, ctx);
  cli::add_supply_commands(app, ctx);
  cli::add_tool_commands(app, ctx);
  check_every_value(app);
  // --csv (estimate, compare, validate, claims, hwdb list) runs the command's --json and writes the
  // same document as a table; `tree` (the Python module) hands the document over as it is.
  JsonOutput form;
  if (take_csv_flag(app, args)) form.form = JsonOutput::Form::csv;
  else if (tree) form.form = JsonOutput::Form::tree;
  struct Scope {
    JsonOutput* before;
    ~Scope() { json_output() = before; }
  } scope{json_output()};
  json_output() = &form;
  try {
    if (const std::string e = unknown_command(app, args); !e.empty()) throw InputError(e);
    if (const std::string e = unknown_flag(app, args); !e.empty()) throw InputError(e);
    // CLI11 takes argv without the program name, last argument first.
    std::vector<std::string> rev(args.rbegin(), args.rend() - (args.empty() ? 0 : 1));
    app.parse(rev);
    if (tree && form.documents > 0) *tree = std::move(form.tree);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    if (msg.rfind("podperf: ", 0) == 0) msg.erase(0, 9);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    std::cerr << "podperf: " << one_line(msg) << " (see --help)\n";
    return 2;
  } catch (const cli::ExitCode& e) {
    if (tree && form.documents > 0 && e.code == kExitNoResult) *tree = std::move(form.tree);  // complete output
    return e.code;
  } catch (const InputError& e) {
    std::cerr << one_line(e.what()) << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "podperf: internal error: " << one_line(e.what()) << '\n';
    return 1;
  }
  return 0;
}
}  // namespace

}  // namespace podperf::cli
