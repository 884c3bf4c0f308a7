// The published kernel and communication measurements (validation/measurements/kernels.toml): every
// entry names its source and kind, every figure is positive, and the printed figures agree with each
// other where the source prints two views of one run (a transcription check, derived by hand).
#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>

#include <toml++/toml.h>

namespace {

const std::string kFile = std::string(PODPERF_SOURCE_DIR) + "/validation/measurements/kernels.toml";

double num(const toml::table& t, const char* key) {
  const auto v = t[key];
  if (auto d = v.value<double>()) return *d;
  return std::nan("");
}

}  // namespace

TEST_CASE("kernel measurements: every entry is sourced, typed and positive") {
  const toml::table root = toml::parse_file(kFile);
  const std::set<std::string> kinds = {"measured", "measured-secondary"};
  int entries = 0;
  for (const char* section : {"kernel", "all_to_all", "collective"}) {
    const toml::array* arr = root[section].as_array();
    REQUIRE(arr != nullptr);
    CHECK(arr->size() > 0);
    for (const auto& node : *arr) {
      const toml::table& t = *node.as_table();
      ++entries;
      CAPTURE(section);
      CAPTURE(t["source"].value_or(std::string("<none>")));
      CHECK(!t["source"].value_or(std::string()).empty());
      CHECK(kinds.count(t["kind"].value_or(std::string())) == 1);
      for (auto&& [key, value] : t)
        if (value.is_number()) {
          const std::string field(key.str());  // a copy: structured bindings cannot be captured before clang 16
          const double v = value.value<double>().value();
          CAPTURE(field);
          CHECK(v > 0);
        }
    }
  }
  CHECK(entries >= 100);
}

TEST_CASE("kernel measurements: DeepGEMM TFLOPS and GB/s describe the same run") {
  // FP8 inputs (1 byte), BF16 output (2 bytes), one weight matrix per group:
  // time = 2 g M N K / FLOP/s, bytes = g (M K + N K + 2 M N); the printed GB/s must match bytes / time.
  // Row M=4096 N=7168 K=16384 by hand: 9.62e11 FLOP / 1520 TFLOPS = 0.633 ms; 243.3 MB / 0.633 ms = 384 GB/s.
  const toml::table root = toml::parse_file(kFile);
  int rows = 0;
  for (const auto& node : *root["kernel"].as_array()) {
    const toml::table& t = *node.as_table();
    if (t["chip"].value_or(std::string()) != "h800" || !t.contains("m") || !t.contains("achieved_gb_s")) continue;
    const double g = t["groups"].value_or(1.0), m = num(t, "m"), n = num(t, "n"), k = num(t, "k");
    const double seconds = 2 * g * m * n * k / (num(t, "achieved_tflops") * 1e12);
    const double bytes = g * (m * k + n * k + 2 * m * n);
    CAPTURE(t["shape"].value_or(std::string()));
    CHECK(bytes / seconds / 1e9 == doctest::Approx(num(t, "achieved_gb_s")).epsilon(0.01));
    ++rows;
  }
  CHECK(rows == 28);
}

TEST_CASE("kernel measurements: low-latency all-to-all bandwidth x time = the payload") {
  // Each rank sends tokens x top-k copies of a hidden-size row: 1 byte per element for FP8/INT8
  // dispatch, 2 for BF16 combine. DeepEP EP8 dispatch by hand: 128 x 8 x 7168 B = 7.34 MB;
  // 98 GB/s x 77 us = 7.55 MB (+3 %, the per-128-element FP8 scales).
  const toml::table root = toml::parse_file(kFile);
  int rows = 0;
  for (const auto& node : *root["all_to_all"].as_array()) {
    const toml::table& t = *node.as_table();
    if (!t.contains("time_us") || !t.contains("tokens") || !t.contains("achieved_gb_s")) continue;
    const std::string dtype = t["dtype"].value_or(std::string());
    const double elem = dtype == "fp8" || dtype == "int8" ? 1 : 2;
    const double payload = num(t, "tokens") * num(t, "topk") * num(t, "hidden") * elem;
    const double moved = num(t, "achieved_gb_s") * 1e9 * num(t, "time_us") * 1e-6;
    CAPTURE(t["kernel"].value_or(std::string()));
    CAPTURE(num(t, "ep"));
    CHECK(moved / payload == doctest::Approx(1.0).epsilon(0.05));
    ++rows;
  }
  CHECK(rows >= 30);
}
