// podperf: analytic performance, power and cost model of AI supernodes.
// Exit codes: 0 success, 2 bad input (one line on stderr naming file, line and field), 1 bug.
#include <iostream>

#include "context.hpp"
#include "podperf/error.hpp"

#ifdef PODPERF_HAVE_MPI
#include <mpi.h>
#endif

namespace {
int run(int argc, char** argv);
}

int main(int argc, char** argv) {
#ifdef PODPERF_HAVE_MPI
  MPI_Init(&argc, &argv);
  const int rc = run(argc, argv);
  if (rc != 0) MPI_Abort(MPI_COMM_WORLD, rc);
  MPI_Finalize();
  return rc;
#else
  return run(argc, argv);
#endif
}

namespace {
int run(int argc, char** argv) {
  using namespace podperf;
  cli::Context ctx;
  CLI::App app{"podperf " PODPERF_VERSION
               ": performance, power and cost of AI supernodes (CloudMatrix / Atlas SuperPoD vs NVL72)"};
  app.set_version_flag("--version", std::string(PODPERF_VERSION) + " (" + PODPERF_GIT_REV + ")");
  app.require_subcommand(1);
  ctx.hwdb_dir = default_hwdb_dir(argc > 0 ? argv[0] : nullptr);
  app.add_option("--hwdb", ctx.hwdb_dir, "hardware database directory (default: the shipped hwdb, or $PODPERF_HWDB)")
      ->capture_default_str();
  ctx.configs_dir = default_configs_dir(argc > 0 ? argv[0] : nullptr);
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    std::cerr << "podperf: " << msg << " (see --help)\n";
    return 2;
  } catch (const cli::ExitCode& e) {
    return e.code;
  } catch (const InputError& e) {
    std::cerr << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "podperf: internal error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
}  // namespace
