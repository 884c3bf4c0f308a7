// The compiled half of `import podperf`: runs the podperf command line in-process and hands back
// (exit code, stdout, stderr), or for a --json command the document itself as Python objects (the
// tree the command built, not its text parsed back). python/podperf/__init__.py turns that into
// dicts, DataFrames and exceptions; all the logic stays in the command line.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <mutex>
#include <sstream>

#include "command_line.hpp"

namespace py = pybind11;

namespace {
// A number that is a whole value within double's exact integers becomes an int, as json.loads of the
// command's text gives; a non-finite one None, as the text's null.
py::object to_python(const podperf::Json& j) {
  using K = podperf::Json::Kind;
  switch (j.kind()) {
    case K::null: return py::none();
    case K::boolean: return py::bool_(j.boolean());
    case K::text: return py::str(j.text());
    case K::number: {
      const double v = j.number();
      if (!std::isfinite(v)) return py::none();
      if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) return py::int_(static_cast<long long>(v));
      return py::float_(v);
    }
    case K::array: {
      py::list l;
      for (auto& x : j.items()) l.append(to_python(x));
      return std::move(l);
    }
    case K::object: {
      py::dict d;
      for (auto& [k, x] : j.members()) d[py::str(k)] = to_python(x);
      return std::move(d);
    }
  }
  return py::none();
}
std::mutex one_at_a_time;  // a run points std::cout at its own buffer
}  // namespace

PYBIND11_MODULE(_podperf, m) {
  m.doc() = "podperf's command line, run in-process (use the podperf package, not this module)";
  m.def(
      "run",
      [](const std::vector<std::string>& args) {
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
  m.def(
      "call",
      [](const std::vector<std::string>& args) {
        std::ostringstream out, err;
        podperf::Json tree;
        int rc;
        {
          py::gil_scoped_release release;
          std::lock_guard<std::mutex> lock(one_at_a_time);
          rc = podperf::cli::run_cli(args, out, err, &tree);
        }
        return py::make_tuple(rc, to_python(tree), py::bytes(out.str()), py::bytes(err.str()));
      },
      py::arg("args"),
      "run a podperf command that takes --json (args[0] is the program name): (exit code, its document as "
      "Python objects or None, other stdout, stderr)");
  m.attr("version") = PODPERF_VERSION;
  m.attr("git_revision") = PODPERF_GIT_REV;
}
