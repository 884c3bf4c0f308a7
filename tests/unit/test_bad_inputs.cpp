// The bad-input corpus: tests/bad_inputs/<case>/hwdb is a small hwdb with one defect and
// <case>/expected.txt the exact one-line message. Checked through the loader and the CLI.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "podperf/error.hpp"
#include "podperf/hwdb.hpp"
#include "run_cli.hpp"

namespace fs = std::filesystem;

namespace {
std::vector<fs::path> cases() {
  std::vector<fs::path> out;
  for (auto& e : fs::directory_iterator(fs::path(PODPERF_TEST_DIR) / "bad_inputs"))
    if (fs::is_directory(e.path() / "hwdb")) out.push_back(e.path());
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
    const CliResult r = run_podperf("--hwdb hwdb hwdb check", c.string());
    CHECK(r.rc == 2);
    CHECK(r.err == expected(c) + "\n");
    CHECK(r.out.empty());
  }
}
