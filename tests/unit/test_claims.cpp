// Claims: evaluated from hwdb entries and estimates, never hard-coded: moving an input flips them.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "podperf/app/claims.hpp"

using namespace podperf;

namespace {
const std::string kSrc = PODPERF_SOURCE_DIR;
struct Fixture {
  Hwdb db = load_hwdb(kSrc + "/hwdb");
  Hwdb sa = load_hwdb(kSrc + "/hwdb", {"semianalysis"});
  ModelDb models = load_models(kSrc + "/configs");
  RecipeDb recipes = load_recipes(kSrc + "/hwdb");
  std::vector<Claim> claims = load_claims(kSrc + "/configs/claims");
  const Claim& claim(const std::string& id) const {
    for (auto& c : claims)
      if (c.id == id) return c;
    throw std::runtime_error("no claim " + id);
  }
  ClaimResult eval(const std::string& id, const Pick& pick = {}) const {
    return evaluate_claim(claim(id), [&](const std::string& f) -> const Hwdb& { return f.empty() ? db : sa; },
                          ScenarioData{&db, &models, &recipes, kSrc + "/configs"}, pick, 0, 1);
  }
};
}  // namespace

TEST_CASE("every shipped claim has a source, readings and a verdict") {
  const Fixture f;
  CHECK(f.claims.size() >= 10);
  for (auto& c : f.claims) {
    CAPTURE(c.id);
    CHECK(!c.source.empty());
    const ClaimResult r = f.eval(c.id);
    CHECK(!r.verdict.empty());
    CHECK(r.readings.size() == c.readings.size());
  }
}

TEST_CASE("MERICS: 910B on par with A100 on paper; it flips when the A100's peak moves") {
  const Fixture f;
  const ClaimResult base = f.eval("merics-910b-par-a100");
  CHECK(base.verdict == "holds");
  CHECK(base.readings[0].value == doctest::Approx(376.0 / 312));  // BF16 dense, from the chip entries
  Pick p;
  p.per_value["a100-sxm:specs.bf16_dense_tflops"] = 150;  // halve the A100's BF16 peak
  const ClaimResult moved = f.eval("merics-910b-par-a100", p);
  CHECK(moved.verdict.rfind("holds only under", 0) == 0);
  CHECK_FALSE(moved.readings[0].holds);
}

TEST_CASE("SemiAnalysis' 2.3x power per FLOP holds with their figures, not with the shipped hwdb") {
  const Fixture f;
  const ClaimResult r = f.eval("semianalysis-2-3x-power-per-flop");
  CHECK(r.verdict == "holds only under SemiAnalysis figure set");
  // (550.3 kW / (384 x 780 TFLOPS)) / (143.6 kW / 180 PFLOPS) = 1.837 / 0.798 W per TFLOPS.
  CHECK(r.readings[1].value == doctest::Approx(2.30).epsilon(0.01));
  // A 910C at 600 W instead of 700 W moves the shipped reading to 2.5x: inside 10% of 2.3x.
  Pick p;
  p.per_value["ascend-910c:specs.tdp_w"] = 600;
  CHECK(f.eval("semianalysis-2-3x-power-per-flop", p).verdict == "holds");
}

TEST_CASE("compute rivals NVL72 at BF16 and 8-bit but not at FP4; dies vs packages for NPU counts") {
  const Fixture f;
  const ClaimResult c = f.eval("semianalysis-cm384-compute-rivals-nvl72");
  CHECK(c.readings[0].holds);
  CHECK_FALSE(c.readings[3].holds);
  const ClaimResult n = f.eval("huawei-950-superpod-vs-nvl144-npus");
  CHECK(n.readings[0].value == doctest::Approx(8192.0 / 144));
  CHECK(n.readings[1].value == doctest::Approx(8192.0 / 72));
  CHECK(n.verdict == "holds only under NVIDIA counted in GPU dies (144)");
}

TEST_CASE("cheap electricity: the verdict follows the Chinese electricity price") {
  const Fixture f;
  const ClaimResult r = f.eval("dset-cheap-electricity-offsets-power");
  REQUIRE(r.readings.size() == 3);
  const double ratio = r.readings[0].value;  // energy cost per token, China / US
  REQUIRE(std::isfinite(ratio));
  // Scale the Chinese price so that the energy cost per token of CM384 drops below NVL72's.
  Pick p;
  p.per_value["china:specs.electricity_usd_kwh"] = 0.056 / ratio * 0.8;
  const ClaimResult cheaper = f.eval("dset-cheap-electricity-offsets-power", p);
  CHECK(cheaper.readings[0].value == doctest::Approx(0.8).epsilon(1e-6));
  CHECK(cheaper.readings[0].holds);
  CHECK(cheaper.verdict != r.verdict);
}
