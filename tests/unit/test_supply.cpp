// Supply model, fleets and the supply sweep: hand-derived figures (docs/supply.md), the fleet
// against `estimate` run system by system, and the CLI.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "podperf/app/claims.hpp"
#include "podperf/core/cost.hpp"
#include "podperf/io/hwdb.hpp"
#include "podperf/core/supply.hpp"
#include "podperf/io/supply_db.hpp"
#include "run_cli.hpp"

using namespace podperf;

namespace {
// The number after `"key": ` at or after `from` in podperf's JSON output (NaN when absent).
double json_num(const std::string& text, const std::string& key, std::size_t from = 0) {
  const std::string pat = "\"" + key + "\": ";
  const auto at = text.find(pat, from);
  if (at == std::string::npos) return std::nan("");
  return std::strtod(text.c_str() + at + pat.size(), nullptr);
}

SupplyInputs round_inputs() {
  SupplyInputs in;
  in.die_mm2 = 100;
  in.wafer_mm = 300;
  in.dies_per_chip = 2;
  in.yield = 0.5;
  in.node_wafers_per_month = 10000;
  in.foundry_share = 0.5;
  in.product_share = 0.5;
  in.hbm_stacks_per_chip = 8;
  in.hbm_stockpile_stacks = 16e6;
  in.stock_years = 2;
  in.packaging_chips_per_year = 3e6;
  in.package_yield = 0.9;
  return in;
}
}  // namespace

TEST_CASE("supply: dies per wafer against a hand computation") {
  // pi (d/2)^2 / A - pi d / sqrt(2 A), d = 300 mm:
  // A = 100: 70,685.83 / 100 - 942.478 / 14.1421 = 706.858 - 66.643 = 640.215
  // A = 600: 70,685.83 / 600 - 942.478 / 34.6410 = 117.810 - 27.207 = 90.603
  CHECK(dies_per_wafer(100, 300) == doctest::Approx(640.215).epsilon(1e-5));
  CHECK(dies_per_wafer(600, 300) == doctest::Approx(90.603).epsilon(1e-5));
  // Murphy at 600 mm^2 (6 cm^2) and 0.15 per cm^2: AD = 0.9, ((1 - e^-0.9) / 0.9)^2 = 0.65937^2 = 0.43477
  SupplyInputs in;
  in.die_mm2 = 600;
  in.defect_per_cm2 = 0.15;
  CHECK(supply_die_yield(in) == doctest::Approx(0.43477).epsilon(1e-4));
  in.yield_model = 1;  // Poisson: e^-0.9 = 0.40657
  CHECK(supply_die_yield(in) == doctest::Approx(0.40657).epsilon(1e-4));
}

TEST_CASE("supply: good chips per year and the binding constraint, by hand") {
  // 12 x 10,000 x 0.5 x 0.5 = 30,000 wafers; 640.215 x 0.5 = 320.107 good dies per wafer;
  // 9,603,225 dies / 2 per chip = 4,801,612 chips. HBM: 16 M / 2 years / 8 per chip = 1,000,000.
  // Packaging 3,000,000. HBM binds: 1,000,000 started, 900,000 good.
  const SupplyInputs in = round_inputs();
  const SupplyYear y = supply_year(in);
  CHECK(y.wafers_per_year == doctest::Approx(30000));
  CHECK(y.chips_logic == doctest::Approx(4801612).epsilon(1e-5));
  CHECK(y.chips_hbm == doctest::Approx(1e6));
  CHECK(y.bound == SupplyBound::hbm);
  CHECK(y.good_chips == doctest::Approx(900000));
  // Wafers the started chips take: 2,000,000 dies / 320.107 = 6,247.9.
  CHECK(y.wafers_used == doctest::Approx(6247.9).epsilon(1e-4));

  SUBCASE("doubling the HBM stockpile doubles the output while HBM still binds") {
    SupplyInputs x = in;
    x.hbm_stockpile_stacks *= 2;  // 2,000,000 chips < 3 M packaging < 4.8 M logic
    const SupplyYear z = supply_year(x);
    CHECK(z.bound == SupplyBound::hbm);
    CHECK(z.good_chips == doctest::Approx(1.8e6));
    x.hbm_stockpile_stacks *= 2;  // 4,000,000 HBM-bound chips: packaging (3 M) binds now
    CHECK(supply_year(x).bound == SupplyBound::packaging);
    CHECK(supply_year(x).good_chips == doctest::Approx(2.7e6));
  }
  SUBCASE("doubling the wafer share moves nothing while HBM binds, and doubles a logic-bound output") {
    SupplyInputs x = in;
    x.foundry_share = 1.0;
    CHECK(supply_year(x).good_chips == doctest::Approx(900000));
    // Lift HBM and packaging out of the way: 100 M / 2 / 8 = 6.25 M chips, 10 M packages.
    x = in;
    x.hbm_stockpile_stacks = 100e6;
    x.packaging_chips_per_year = 10e6;
    CHECK(supply_year(x).bound == SupplyBound::logic);
    CHECK(supply_year(x).good_chips == doctest::Approx(4801612 * 0.9).epsilon(1e-5));
    x.foundry_share = 1.0;  // 9.6 M logic-bound chips: HBM's 6.25 M binds
    CHECK(supply_year(x).bound == SupplyBound::hbm);
    CHECK(supply_year(x).good_chips == doctest::Approx(6.25e6 * 0.9));
  }
  SUBCASE("a die bank adds good dies, spread over the stock years") {
    SupplyInputs x = in;
    x.hbm_stockpile_stacks = 100e6;
    x.packaging_chips_per_year = 10e6;
    x.die_bank_dies = 2e6;  // + 1 M dies a year = + 500,000 chips
    CHECK(supply_year(x).chips_logic == doctest::Approx(4801612 + 500000).epsilon(1e-5));
  }
}

TEST_CASE("supply: the range moves each input to the end that lowers or raises the output") {
  SupplyInputs c = round_inputs(), lo = c, hi = c;
  lo.hbm_stockpile_stacks = 8e6;   // 500,000 chips
  hi.hbm_stockpile_stacks = 32e6;  // 2,000,000
  lo.die_mm2 = 80;                 // a smaller die: more chips (the high end of G)
  hi.die_mm2 = 400;                // 143.4 dies per wafer: logic 1.08 M chips
  const SupplyRange r = supply_range(c, lo, hi);
  CHECK(r.central == doctest::Approx(900000));
  CHECK(r.low == doctest::Approx(450000));  // HBM at 8 M binds: 500,000 x 0.9
  // High: HBM 2 M, die 80 mm^2 (logic > 4.8 M), packaging 3 M: 2 M x 0.9.
  CHECK(r.high == doctest::Approx(1.8e6));
}

TEST_CASE("supply: the shipped 910C supply and the CLI, doubling HBM and wafer share") {
  const CliResult base = run_podperf("supply ascend-910c --json");
  REQUIRE(base.rc == 0);
  // Shipped: HBM 13 M / 2 + 1 M + 0.5 M = 8 M stacks / 8 = 1 M chips; logic 4.15 M; packaging 1.5 M.
  CHECK(json_num(base.out, "value") == doctest::Approx(900000));
  CHECK(base.out.find("\"binding_constraint\": \"hbm\"") != std::string::npos);
  // Doubling the stockpile: 26 M / 2 + 1.5 M = 14.5 M stacks = 1.8125 M chips: packaging's 1.5 M binds.
  const CliResult hbm = run_podperf("supply ascend-910c --with hbm.stockpile_stacks=26e6 --json");
  CHECK(json_num(hbm.out, "value") == doctest::Approx(1.5e6 * 0.9));
  CHECK(hbm.out.find("\"binding_constraint\": \"packaging\"") != std::string::npos);
  // Doubling the product share of the wafers: more logic, the same HBM-bound output.
  const CliResult wafers = run_podperf("supply ascend-910c --with wafers.product_share=1 --json");
  CHECK(json_num(wafers.out, "value") == doctest::Approx(900000));
  CHECK(json_num(wafers.out, "chips_logic") == doctest::Approx(2 * json_num(base.out, "chips_logic") - 1450000 / 2.0));
  const CliResult text = run_podperf("supply ascend-910c");
  CHECK(text.rc == 0);
  CHECK(text.out.find("binding constraint: HBM stacks") != std::string::npos);
  CHECK(text.out.find("cloudmatrix-384 2,343") != std::string::npos);
  CHECK(text.out.find("SemiAnalysis") != std::string::npos);
  const CliResult bad = run_podperf("supply ascend-910c --with die.yield=1.5");
  CHECK(bad.rc == 2);
  CHECK(bad.err == "flag --with: 'die.yield' must be in (0, 1] (got 1.5)\n");
}

TEST_CASE("fleet: the totals equal estimate run on each system times its count") {
  const CliResult f = run_podperf("fleet china-2026 us-hyperscaler-2026 china-2026-h200-allowed --json");
  REQUIRE(f.rc == 0);
  for (const char* id : {"china-2026", "us-hyperscaler-2026", "china-2026-h200-allowed"}) {
    CAPTURE(id);
    const std::size_t at = f.out.find(std::string("\"id\": \"") + id + "\"");
    REQUIRE(at != std::string::npos);
    const std::size_t end = f.out.find("\"totals\"", at);
    double tokens = 0, capex = 0, tco = 0, mw = 0;
    for (std::size_t p = f.out.find("\"system\": \"", at); p < end; p = f.out.find("\"system\": \"", p + 1)) {
      const std::size_t q = p + 11;
      const std::string sys = f.out.substr(q, f.out.find('"', q) - q);
      const double count = json_num(f.out, "systems", p);
      const CliResult e = run_podperf("estimate --system " + sys + " --model deepseek-v3 --mode decode --tpot-ms 50 --json");
      REQUIRE(e.rc == 0);
      tokens += count * json_num(e.out, "tokens_per_s");
      const std::size_t econ = e.out.find("\"economics\"");
      capex += count * json_num(e.out, "value", e.out.find("\"capex_usd\"", econ));
      tco += count * json_num(e.out, "value", e.out.find("\"tco_usd_per_h\"", econ)) * 8760;
      mw += count * json_num(e.out, "value", e.out.find("\"avg_facility_kw\"", econ)) / 1000;
    }
    CHECK(tokens > 0);
    CHECK(json_num(f.out, "tokens_per_s", end) == doctest::Approx(tokens).epsilon(1e-8));
    CHECK(json_num(f.out, "capex_usd", end) == doctest::Approx(capex).epsilon(1e-8));
    CHECK(json_num(f.out, "tco_usd_per_year", end) == doctest::Approx(tco).epsilon(1e-8));
    CHECK(json_num(f.out, "facility_avg_mw", end) == doctest::Approx(mw).epsilon(1e-8));
  }
}

TEST_CASE("fleet: scenarios side by side and a fleet against another") {
  const CliResult r = run_podperf("fleet china-2026 --vs us-hyperscaler-2026");
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("A/B") != std::string::npos);
  CHECK(r.out.find("tokens/s (deepseek-v3, decode)") != std::string::npos);
  // The 60 % yield leaves an HBM-bound supply where it is; dropping HBM imports lowers it:
  // (13 M / 2 + 1 M) / 8 = 937,500 chips x 0.9 = 843,750.
  const CliResult s = run_podperf("fleet china-2026-yield-60 china-2026-no-hbm-imports --json");
  REQUIRE(s.rc == 0);
  const std::size_t y60 = s.out.find("\"id\": \"china-2026-yield-60\"");
  const std::size_t nohbm = s.out.find("\"id\": \"china-2026-no-hbm-imports\"");
  CHECK(json_num(s.out, "good_chips_per_year", y60) == doctest::Approx(900000));
  CHECK(json_num(s.out, "good_chips_per_year", nohbm) == doctest::Approx(843750));
  const CliResult unknown = run_podperf("fleet china-2062");
  CHECK(unknown.rc == 2);
  CHECK(unknown.err.find("unknown fleet 'china-2062'") != std::string::npos);
}

TEST_CASE("supply sweep: HDF5 in the sweep layout, plotted as a frontier") {
  const std::string out = (std::filesystem::temp_directory_path() / ("podperf_supply_" + std::to_string(::getpid()) + ".h5")).string();
  const CliResult r = run_podperf("sweep configs/sweeps/china-supply-frontier.toml -o " + out + " --json", PODPERF_SOURCE_DIR);
  REQUIRE(r.rc == 0);
  CHECK(json_num(r.out, "points") == 405);
  CHECK(std::filesystem::exists(out));
  CHECK(!std::filesystem::exists(out + ".part"));
  const std::string dir = out + ".plots";
  const CliResult p = run_podperf("plot " + out + " --outdir " + dir);
  CHECK(p.rc == 0);
  CHECK(std::filesystem::exists(dir + "/supply_frontier.png"));
  std::filesystem::remove_all(dir);
  std::filesystem::remove(out);
}

TEST_CASE("supply claims: verdicts from the supply model, figures by hand") {
  const std::string src = PODPERF_SOURCE_DIR;
  const Hwdb db = load_hwdb(src + "/hwdb");
  const ModelDb models = load_models(src + "/configs");
  const std::vector<Claim> claims = load_claims(src + "/configs/claims");
  const RecipeDb recipes = load_recipes(src + "/hwdb");
  const ScenarioData data{&db, &models, &recipes, src + "/configs"};
  auto eval = [&](const std::string& id) {
    for (auto& c : claims)
      if (c.id == id) return evaluate_claim(c, [&](const std::string&) -> const Hwdb& { return db; }, data, Pick{}, 0, 1);
    FAIL("no claim " << id);
    return ClaimResult{};
  };
  // Logic-bound without the die bank, output is linear in yield: 2x exactly; HBM-bound, 1x.
  const ClaimResult y = eval("recorded-future-yield-doubles-output");
  CHECK(y.readings[0].value == doctest::Approx(1));
  CHECK(y.readings[2].value == doctest::Approx(2));
  CHECK(y.verdict == "holds only under HBM and packaging unlimited, SMIC dies only");
  // 20 % yield, no bank: 90.603 x 0.2 = 18.121 good dies per wafer; HBM binds at 1 M chips = 2 M dies
  // = 110,371 wafers of 12 x 45,000 = 540,000: 0.2044.
  const ClaimResult w = eval("merics-huawei-70pct-smic-capacity");
  CHECK(w.readings[1].value == doctest::Approx(0.2044).epsilon(1e-3));
  CHECK(w.verdict == "holds");
  // Packaging at 500,000 binds: 450,000 good chips.
  const ClaimResult p = eval("recorded-future-910c-100k-2025");
  CHECK(p.readings[2].value == doctest::Approx(450000));
  CHECK(p.verdict == "holds");
  CHECK(eval("huawei-200k-vs-1m-h20").verdict == "does not hold");
  CHECK(eval("merics-hbm-binds-before-logic").readings[0].value == doctest::Approx(1e6 / 4149783.0).epsilon(1e-5));
}
