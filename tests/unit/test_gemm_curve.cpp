// The measured GEMM efficiency curve by rows (efficiency.gemm_eff_by_m): interpolation against
// hand-derived values, the loader accepting a good curve and rejecting each bad one.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

#include <toml++/toml.h>

#include "podperf/io/error.hpp"
#include "podperf/io/hwdb.hpp"
#include "podperf/core/roofline.hpp"

using namespace podperf;
using doctest::Approx;
namespace fs = std::filesystem;

namespace {
// m = 100, 1000, 10000 rows at 0.2, 0.5, 0.6 of peak.
GemmCurve test_curve() {
  GemmCurve g;
  g.n = 3;
  g.m[0] = 100, g.m[1] = 1000, g.m[2] = 10000;
  g.eff[0] = 0.2, g.eff[1] = 0.5, g.eff[2] = 0.6;
  return g;
}

// A one-chip hwdb whose [efficiency] ends with `shape` (the knee or the curve line(s)).
std::string chip_toml(const std::string& shape) {
  return "id = \"x\"\nname = \"Test chip\"\nvendor = \"Test\"\n\n[specs]\n"
         "dies = { value = 1, kind = \"vendor\", source = \"test\" }\n"
         "bf16_dense_tflops = { value = 1000, kind = \"vendor\", source = \"test\" }\n"
         "hbm_gb = { value = 80, kind = \"vendor\", source = \"test\" }\n"
         "hbm_tb_s = { value = 3.2, kind = \"vendor\", source = \"test\" }\n"
         "tdp_w = { value = 700, kind = \"vendor\", source = \"test\" }\n"
         "idle_w = { value = 100, kind = \"assumption\", source = \"test\" }\n\n[efficiency]\n"
         "gemm_eff = { value = 0.7, kind = \"assumption\", source = \"test\" }\n"
         "hbm_eff = { value = 0.9, kind = \"assumption\", source = \"test\" }\n"
         "attn_prefill_eff = { value = 0.65, kind = \"assumption\", source = \"test\" }\n"
         "attn_decode_eff = { value = 0.6, kind = \"assumption\", source = \"test\" }\n" +
         shape + "\n";
}

struct TempHwdb {
  fs::path dir;
  explicit TempHwdb(const std::string& chip) {
    static int serial = 0;
    dir = fs::temp_directory_path() /
          ("podperf_curve_" + std::to_string(::getpid()) + "_" + std::to_string(serial++));
    fs::create_directories(dir / "chips");
    std::ofstream(dir / "chips" / "x.toml") << chip;
  }
  ~TempHwdb() { fs::remove_all(dir); }
};

std::string curve(const std::string& m, const std::string& eff) {
  return "gemm_eff_by_m = { m = " + m + ", eff = " + eff + ", kind = \"measured\", source = \"test\" }";
}

// The loader's message for a chip file, "" when it loads.
std::string load_error(const std::string& shape) {
  TempHwdb h(chip_toml(shape));
  try {
    load_hwdb(h.dir.string());
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("GEMM curve: linear in log m between points, clamped above, m / m_first below") {
  const GemmCurve g = test_curve();
  // On the points.
  CHECK(gemm_curve_efficiency(g, 100) == Approx(0.2));
  CHECK(gemm_curve_efficiency(g, 1000) == Approx(0.5));
  CHECK(gemm_curve_efficiency(g, 10000) == Approx(0.6));
  // m = 10^2.5 = 316.23 is halfway between 100 and 1000 in log m: (0.2 + 0.5) / 2 = 0.35.
  CHECK(gemm_curve_efficiency(g, std::pow(10.0, 2.5)) == Approx(0.35));
  // m = 10^3.25 = 1778.3 is a quarter of the way from 1000 to 10000: 0.5 + 0.25 x 0.1 = 0.525.
  CHECK(gemm_curve_efficiency(g, std::pow(10.0, 3.25)) == Approx(0.525));
  // Below the first point the tile is computed whole: 0.2 x 50 / 100 = 0.1, 0.2 x 10 / 100 = 0.02.
  CHECK(gemm_curve_efficiency(g, 50) == Approx(0.1));
  CHECK(gemm_curve_efficiency(g, 10) == Approx(0.02));
  // Above the last point: the last point.
  CHECK(gemm_curve_efficiency(g, 1e6) == Approx(0.6));

  // compute_efficiency takes the curve for GEMMs (m > 0) and gemm_eff for other operators (m = 0).
  Chip c;
  c.gemm_eff = 0.7;
  c.small_gemm_m = 32;
  c.attn_prefill_eff = 0.25;
  CHECK(compute_efficiency(c, 32) == Approx(0.35));  // no curve: 0.7 x 32 / (32 + 32)
  c.gemm_curve = g;
  CHECK(compute_efficiency(c, 0) == Approx(0.7));
  CHECK(compute_efficiency(c, 50) == Approx(0.1));
  CHECK(compute_efficiency(c, std::pow(10.0, 2.5)) == Approx(0.35));
  CHECK(compute_efficiency(c, 4096, true) == Approx(0.25));  // attention keeps its own
  // 1e12 FLOPs at 1000 TFLOPS x 0.5 (m = 1000) = 2 ms.
  c.dense_tflops[static_cast<int>(Precision::bf16)] = 1000;
  c.hbm_tb_s = 2;
  c.hbm_eff = 0.5;
  CHECK(roofline(c, {1e12, 0, Precision::bf16, 1000}).compute_s == Approx(2e-3));
}

TEST_CASE("GEMM curve: the loader reads a good curve into the chip") {
  TempHwdb h(chip_toml(curve("[100, 1000, 10000]", "[0.2, 0.5, 0.6]")));
  const Hwdb db = load_hwdb(h.dir.string());
  const Chip c = db.chip("x");
  REQUIRE(c.gemm_curve.n == 3);
  CHECK(c.gemm_curve.m[0] == 100);
  CHECK(c.gemm_curve.m[2] == 10000);
  CHECK(c.gemm_curve.eff[1] == Approx(0.5));
  CHECK(compute_efficiency(c, std::pow(10.0, 2.5)) == Approx(0.35));
  const Number& n = db.chips.at("x").numbers.at("efficiency.gemm_eff_by_m");
  CHECK(n.value == Approx(0.6));  // the large-M end
  CHECK(n.kind == SourceKind::measured);
  // Sixteen points are the most the chip holds.
  std::string m = "[", e = "[";
  for (int i = 1; i <= kMaxGemmCurvePoints; ++i) {
    if (i > 1) m += ", ", e += ", ";
    m += std::to_string(16 * i);
    e += std::to_string(0.05 * i);
  }
  CHECK(load_error(curve(m + "]", e + "]")) == "");
}

TEST_CASE("GEMM curve: the loader rejects each bad curve with file, line and field") {
  const std::map<std::string, std::string> bad = {
      {curve("[256, 1024, 512]", "[0.4, 0.5, 0.6]"), "points out of order: m must be strictly increasing (512 after 1024)"},
      {curve("[256, 256]", "[0.4, 0.5]"), "points out of order: m must be strictly increasing (256 after 256)"},
      {curve("[256, 512]", "[0, 0.5]"), "eff must be in (0, 1] (got 0 at m = 256)"},
      {curve("[256, 512]", "[0.4, -0.5]"), "eff must be in (0, 1] (got -0.5 at m = 512)"},
      {curve("[256, 512]", "[0.4, 1.01]"), "eff must be in (0, 1] (got 1.01 at m = 512)"},
      {curve("[0, 512]", "[0.4, 0.5]"), "m must be > 0 (got 0)"},
      {curve("[256, 512, 1024]", "[0.4, 0.5]"), "m and eff differ in length (3 and 2 points)"},
      {curve("[256]", "[0.4]"), "a curve needs 2 to 16 points (got 1)"},
      {curve("[]", "[]"), "a curve needs 2 to 16 points (got 0)"},
      {"gemm_eff_by_m = { m = [256, 512], kind = \"measured\", source = \"test\" }", "missing 'eff'"},
      {"gemm_eff_by_m = { m = [256, 512], eff = [0.4, 0.5], value = 0.5, kind = \"measured\", source = \"test\" }",
       "unknown key 'value' (allowed: m, eff, kind, source, note)"},
      {"gemm_eff_by_m = { m = [256, 512], eff = [0.4, 0.5], source = \"test\" }", "missing 'kind'"},
  };
  for (const auto& entry : bad) {
    const std::string& shape = entry.first;
    const std::string& msg = entry.second;
    CAPTURE(shape);
    const std::string got = load_error(shape);
    CHECK(got.find("chips/x.toml:18: field 'efficiency.gemm_eff_by_m': " + msg) != std::string::npos);
  }
  std::string m = "[", e = "[";
  for (int i = 1; i <= kMaxGemmCurvePoints + 1; ++i) {
    if (i > 1) m += ", ", e += ", ";
    m += std::to_string(16 * i);
    e += std::to_string(0.05 * i);
  }
  CHECK(load_error(curve(m + "]", e + "]")).find("a curve needs 2 to 16 points (got 17)") != std::string::npos);
  // The curve replaces the knee: both is an error, neither too.
  CHECK(load_error("small_gemm_m = { value = 32, kind = \"assumption\", source = \"test\" }\n" +
                   curve("[256, 512]", "[0.4, 0.5]"))
            .find("chips/x.toml:18: field 'efficiency.small_gemm_m': not used with efficiency.gemm_eff_by_m") !=
        std::string::npos);
  CHECK(load_error("").find("field 'efficiency.small_gemm_m': missing (required without efficiency.gemm_eff_by_m") !=
        std::string::npos);
}
