// The bad-input corpus: tests/bad_inputs/<case>/hwdb is a small hwdb with one defect and
// <case>/expected.txt the exact one-line message. Checked through the loader and the CLI.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "podperf/io/error.hpp"
#include "podperf/io/hwdb.hpp"
#include "run_cli.hpp"

namespace fs = std::filesystem;

namespace {
std::vector<fs::path> cases() {
  std::vector<fs::path> out;
  for (auto& e : fs::directory_iterator(fs::path(PODPERF_TEST_DIR) / "bad_inputs"))
    if (fs::is_directory(e.path() / "hwdb") && !fs::exists(e.path() / "cmd")) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}
std::string expected(const fs::path& c) {
  std::string s = slurp((c / "expected.txt").string());
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}
}  // namespace

TEST_CASE("bad hwdb inputs: the loader names file, line and field") {
  const auto all = cases();
  CHECK(all.size() >= 20);
  for (auto& c : all) {
    CAPTURE(c.filename().string());
    std::string got;
    try {
      podperf::load_hwdb((c / "hwdb").string());
    } catch (const podperf::InputError& e) {
      got = e.what();
    }
    // The loader names files under the directory it was given; strip that to compare.
    const std::string prefix = c.string() + "/";
    for (auto pos = got.find(prefix); pos != std::string::npos; pos = got.find(prefix))
      got.erase(pos, prefix.size());
    CHECK(got == expected(c));
  }
}

TEST_CASE("bad hwdb inputs: podperf hwdb check prints the line and exits 2") {
  for (auto& c : cases()) {
    CAPTURE(c.filename().string());
    if (fs::exists(c / "cmd")) continue;
    const CliResult r = run_podperf("--hwdb hwdb hwdb check", c.string());
    CHECK(r.rc == 2);
    CHECK(r.err == expected(c) + "\n");
    CHECK(r.out.empty());
  }
}

// The rest of the corpus: models, sweep specs, claims, validation cases, figure sets and flags. Each
// case directory holds `cmd` (podperf's arguments, run inside the directory) and `expected.txt`.
TEST_CASE("bad inputs of every loader and flag: one line, exit code 2") {
  int n = 0;
  for (auto& e : fs::directory_iterator(fs::path(PODPERF_TEST_DIR) / "bad_inputs")) {
    if (!fs::exists(e.path() / "cmd")) continue;
    ++n;
    CAPTURE(e.path().filename().string());
    std::string args = slurp((e.path() / "cmd").string());
    while (!args.empty() && args.back() == '\n') args.pop_back();
    const CliResult r = run_podperf(args, e.path().string());
    CHECK(r.rc == 2);
    CHECK(r.err == expected(e.path()) + "\n");
    CHECK(r.err.find('\n') == r.err.size() - 1);  // exactly one line
  }
  CHECK(n >= 30);
}

TEST_CASE("a huge file is refused before parsing") {
  const fs::path dir = fs::temp_directory_path() / ("podperf_huge_" + std::to_string(::getpid()));
  fs::create_directories(dir / "hwdb" / "chips");
  {
    std::ofstream f(dir / "hwdb" / "chips" / "x.toml");
    const std::string line = "# " + std::string(1000, 'x') + "\n";
    for (int i = 0; i < 2000; ++i) f << line;
  }
  const CliResult r = run_podperf("--hwdb hwdb hwdb check", dir.string());
  CHECK(r.rc == 2);
  CHECK(r.err == "hwdb/chips/x.toml: file too large (2006000 bytes; limit 1048576)\n");
  fs::remove_all(dir);
}
