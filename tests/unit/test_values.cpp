// Values at the edges (NaN, infinities, a denormal, an empty string, INT_MAX, INT_MIN, 1e308) through
// flags, --set and sweep axes: each run is refused in one line with exit code 2, or succeeds with
// figures that are all finite and bounded.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "run_cli.hpp"

namespace fs = std::filesystem;

namespace {
const std::vector<std::string> kValues = {"nan", "inf", "-inf", "5e-324", "''", "2147483647", "-2147483648", "1e308"};

// Every number of a JSON text finite and below 1e300 in magnitude; no "nan" or "inf" token.
bool figures_bounded(const std::string& json, std::string& bad) {
  static const std::regex tok(R"((-?\b(?:nan|inf|infinity|NaN|Infinity)\b)|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?))");
  for (std::sregex_iterator it(json.begin(), json.end(), tok), end; it != end; ++it) {
    if ((*it)[1].matched) {
      // Inside a string ("inf" in a word) is fine; a bare token is not.
      const auto at = static_cast<std::size_t>(it->position());
      if (at > 0 && (json[at - 1] == ':' || json[at - 1] == '[' || json[at - 1] == ',')) {
        bad = it->str();
        return false;
      }
      continue;
    }
    const double v = std::strtod(it->str().c_str(), nullptr);
    if (!std::isfinite(v) || std::fabs(v) > 1e300) {
      bad = it->str();
      return false;
    }
  }
  return true;
}

void check_run(const std::string& args, const std::string& cwd = "") {
  CAPTURE(args);
  const CliResult r = run_podperf(args, cwd);
  CHECK((r.rc == 0 || r.rc == 2 || r.rc == 3));  // 3: no result under the targets, the output complete
  if (r.rc == 2) {
    CHECK(!r.err.empty());
    CHECK(r.err.find('\n') == r.err.size() - 1);
  }
  if (r.rc == 0 || r.rc == 3) {
    std::string bad;
    CHECK_MESSAGE(figures_bounded(r.out, bad), "non-finite or unbounded figure " << bad);
  }
}
}  // namespace

TEST_CASE("edge values through estimate's flags: refused, or finite and bounded figures") {
  const std::vector<std::string> flags = {"--tpot-ms", "--ttft-ms", "--mtp-accept", "--overlap", "--imbalance", "--batch",
                                          "--seq-in", "--context", "--hbm-reserve", "--redundant-experts", "--percentile",
                                          "--prefix-hit", "--arrival-rate"};
  for (auto& f : flags)
    for (auto& v : kValues) check_run("estimate --system gb200-nvl72 --model deepseek-v3 --json " + f + " " + v);
  for (auto& f : {"--global-batch-tokens", "--tokens", "--micro-batch", "--zero"})
    for (auto& v : kValues) check_run(std::string("estimate --system gb200-nvl72 --model llama3-70b --mode train --json ") + f + " " + v);
  for (auto& f : {"--pue", "--electricity-usd-kwh", "--utilization"})
    for (auto& v : kValues) check_run(std::string(f) + " " + v + " estimate --system gb200-nvl72 --model llama3-70b --json");
}

TEST_CASE("edge values through --set: refused, or finite and bounded figures") {
  for (auto& field : {"gb200-gpu.hbm_tb_s", "gb200-gpu.price_usd", "gb200-gpu.tdp_w", "us.pue"})
    for (auto& v : kValues) check_run(std::string("--set ") + field + "=" + v + " estimate --system gb200-nvl72 --model llama3-70b --json");
}

TEST_CASE("edge values on sweep axes: refused, or a file whose ok rows are finite") {
  const fs::path d = fs::temp_directory_path() / ("podperf_values_" + std::to_string(::getpid()));
  fs::create_directories(d);
  for (auto& axis : {"tpot_ms", "context", "mtp", "electricity_usd_kwh", "utilization", "batch", "overlap"})
    for (auto& v : {"nan", "inf", "-inf", "5e-324", "2147483647", "-2147483648", "1e308", "0"}) {
      std::ofstream(d / "s.toml") << "id = \"v\"\ndescription = \"v\"\n[axes]\nsystem = [\"gb200-nvl72\"]\nmodel = [\"llama3-70b\"]\n"
                                  << axis << " = [" << v << "]\n";
      CAPTURE(axis);
      CAPTURE(v);
      fs::remove(d / "o.h5");
      const CliResult r = run_podperf("sweep s.toml -o o.h5 --quiet --json", d.string());
      CHECK((r.rc == 0 || r.rc == 2));
      if (r.rc == 2) CHECK(r.err.find('\n') == r.err.size() - 1);
      if (r.rc == 0) {
        std::string bad;
        CHECK(figures_bounded(r.out, bad));
      }
    }
  fs::remove_all(d);
}
