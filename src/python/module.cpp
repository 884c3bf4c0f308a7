// The compiled half of `import podperf`: runs the podperf command line in-process and hands back
// (exit code, stdout, stderr). python/podperf/__init__.py turns that into dicts, DataFrames and
// exceptions; all the logic stays in the command line.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <mutex>
#include <sstream>

#include "command_line.hpp"

namespace py = pybind11;

PYBIND11_MODULE(_podperf, m) {
  m.doc() = "podperf's command line, run in-process (use the podperf package, not this module)";
  m.def(
      "run",
      [](const std::vector<std::string>& args) {
        static std::mutex one_at_a_time;  // the run points std::cout at its own buffer
        std::ostringstream out, err;
        int rc;
        {
          py::gil_scoped_release release;
          std::lock_guard<std::mutex> lock(one_at_a_time);
          rc = podperf::cli::run_cli(args, out, err);
        }
        return py::make_tuple(rc, py::bytes(out.str()), py::bytes(err.str()));
      },
      py::arg("args"), "run podperf with argv (args[0] is the program name): (exit code, stdout, stderr)");
  m.attr("version") = PODPERF_VERSION;
  m.attr("git_revision") = PODPERF_GIT_REV;
}
