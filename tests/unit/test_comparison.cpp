// Comparisons on equal terms: the matched counts worked out by hand from the hwdb's chip counts and
// dense rates, the nearest-count rule (a tie takes the larger count), and per-side plans.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "podperf/app/comparison.hpp"
#include "podperf/io/error.hpp"
#include "run_cli.hpp"

using namespace podperf;

namespace {
const Hwdb& shipped() {
  static const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  return db;
}
}  // namespace

TEST_CASE("match on chips: the smaller side scaled to the nearest whole number of its systems") {
  const Hwdb& db = shipped();
  // 8,192 Ascend 950DT against 72 Rubin: 8,192 / 72 = 113.8; 114 x 72 = 8,208 (16 over) beats
  // 113 x 72 = 8,136 (56 under).
  MatchedPair m = match_pair(db, "atlas-950-superpod", "vera-rubin-nvl72", MatchOn::chips);
  CHECK(m.a == "atlas-950-superpod");
  CHECK(m.b == "114xvera-rubin-nvl72");
  CHECK(m.count_a == 1);
  CHECK(m.count_b == 114);
  CHECK(m.scaled_b);
  CHECK_FALSE(m.scaled_a);
  CHECK(m.quantity_a == 8192);
  CHECK(m.quantity_b == 8208);
  CHECK(m.summary() == "matched on chips: 1 x atlas-950-superpod vs 114 x vera-rubin-nvl72 (8,192 chips vs 8,208 chips)");
  // The smaller side first: 384 / 72 = 5.33 -> 5 x 72 = 360 (24 under) beats 6 x 72 = 432 (48 over).
  m = match_pair(db, "gb200-nvl72", "cloudmatrix-384", MatchOn::chips);
  CHECK(m.a == "5xgb200-nvl72");
  CHECK(m.count_a == 5);
  CHECK(m.b == "cloudmatrix-384");
  // A tie: 360 chips against 144 per Rubin Ultra NVL576 is 2.5; 2 x 144 = 288 and 3 x 144 = 432 are
  // both 72 away, and the tie takes the larger count.
  m = match_pair(db, "5xgb200-nvl72", "vera-rubin-ultra-nvl576", MatchOn::chips);
  CHECK(m.b == "3xvera-rubin-ultra-nvl576");
  CHECK(m.count_a == 5);
  CHECK(m.count_b == 3);
  // An NxSYSTEM side keeps its unit, oversubscription and stack: 2 x 72 = 144 against 384 -> 5 x 72.
  m = match_pair(db, "2xgb200-nvl72:os=2@trtllm", "cloudmatrix-384", MatchOn::chips);
  CHECK(m.a == "5xgb200-nvl72:os=2@trtllm");
  CHECK(m.unit_a == "gb200-nvl72");
  // Equal sides stay as given.
  m = match_pair(db, "gb200-nvl72", "gb300-nvl72", MatchOn::chips);
  CHECK(m.a == "gb200-nvl72");
  CHECK(m.b == "gb300-nvl72");
  CHECK(m.count_a == 1);
  CHECK(m.count_b == 1);
}

TEST_CASE("match on dense compute: FP8 (else INT8) and BF16 from the chips' dense rates") {
  const Hwdb& db = shipped();
  // FP8: 8,192 x 1,000 TFLOPS = 8,192 PFLOPS against 72 x 16,667 = 1,200.0 PFLOPS per Rubin NVL72:
  // 6.83 -> 7 (8,400.2, 208 over) beats 6 (7,200.1, 992 under).
  MatchedPair m = match_pair(db, "atlas-950-superpod", "vera-rubin-nvl72", MatchOn::fp8);
  CHECK(m.count_b == 7);
  CHECK(m.quantity_a == doctest::Approx(8192));
  CHECK(m.quantity_b == doctest::Approx(7 * 72 * 16.667));
  // BF16: 8,192 x 500 = 4,096 PFLOPS against 72 x 8,333 = 599.98: 6.83 -> 7.
  CHECK(match_pair(db, "atlas-950-superpod", "vera-rubin-nvl72", MatchOn::bf16).count_b == 7);
  // Ascend 910C has no FP8: its 8-bit rate is INT8, 384 x 1,504 = 577.5 POPS against 72 x 5,000 =
  // 360 PFLOPS of GB200: 1.60 -> 2 (720, 142.5 over) beats 1 (360, 217.5 under).
  m = match_pair(db, "cloudmatrix-384", "gb200-nvl72", MatchOn::fp8);
  CHECK(m.b == "2xgb200-nvl72");
  // BF16: 384 x 752 = 288.8 against 72 x 2,500 = 180: 1.60 -> 2.
  CHECK(match_pair(db, "cloudmatrix-384", "gb200-nvl72", MatchOn::bf16).count_b == 2);
}

TEST_CASE("match on power and capex: no whole number of systems comes nearer than the one chosen") {
  const Hwdb& db = shipped();
  for (MatchOn on : {MatchOn::power, MatchOn::capex}) {
    const MatchedPair m = match_pair(db, "atlas-950-superpod", "vera-rubin-nvl72", on);
    REQUIRE(m.scaled_b);
    const double target = m.quantity_a;
    CHECK(target == match_quantity(db.system("atlas-950-superpod"), on));
    auto gap = [&](int n) { return std::abs(match_quantity(db.system(std::to_string(n) + "xvera-rubin-nvl72"), on) - target); };
    CHECK(std::abs(m.quantity_b - target) <= gap(m.count_b - 1));
    CHECK(std::abs(m.quantity_b - target) <= gap(m.count_b + 1));
    // Within one system's worth of the target.
    CHECK(std::abs(m.quantity_b - target) <= match_quantity(db.system("1xvera-rubin-nvl72"), on));
  }
}

TEST_CASE("match refuses what it cannot scale, naming the flag") {
  const Hwdb& db = shipped();
  // A cluster on the smaller side: 1,152 GPUs of the Vera Rubin pod against 8,192.
  CHECK_THROWS_WITH_AS(match_pair(db, "vera-rubin-pod", "atlas-950-superpod", MatchOn::chips),
                       doctest::Contains("flag --match: 'vera-rubin-pod' is a cluster"), InputError);
  // The larger side may be a cluster: 1,152 GPUs against 384 NPUs -> 3 x 384, exactly.
  const MatchedPair m = match_pair(db, "vera-rubin-pod", "cloudmatrix-384", MatchOn::chips);
  CHECK(m.a == "vera-rubin-pod");
  CHECK(m.b == "3xcloudmatrix-384");
  CHECK(m.quantity_b == 1152);
}

TEST_CASE("per-side plans: KEY=N pairs on top of the shared flags; bad text names the flag") {
  WorkloadInputs w;
  w.tp = 4;
  apply_plan_text(w, "tp=8,ep=144,prefill-tp=2", "--plan-a");
  CHECK(w.tp == 8);
  CHECK(w.ep == 144);
  CHECK(w.prefill_tp == 2);
  CHECK(w.dp == 0);
  for (const char* bad : {"tp=0", "tp=8,tp=4", "xp=2", "tp", "tp=1.5", "tp=-2", "", "tp=8,", "ep=99999999999"})
    CHECK_THROWS_WITH_AS(apply_plan_text(w, bad, "--plan-b"), doctest::Contains("flag --plan-b: "), InputError);
}

TEST_CASE("compare --match prints the matched counts and per-chip and per-system rows") {
  const CliResult r = run_podperf(
      "compare atlas-950-superpod vera-rubin-nvl72 --match chips --samples 0 --model llama3-70b --mode decode --tpot-ms 50");
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("matched on chips: 1 x atlas-950-superpod vs 114 x vera-rubin-nvl72 (8,192 chips vs 8,208 chips)") !=
        std::string::npos);
  CHECK(r.out.find("per chip (each side's total over its chips)") != std::string::npos);
  CHECK(r.out.find("per system (each side's total over its 1 and 114 systems)") != std::string::npos);
  // 114 Rubin NVL72 hold 8,208 accelerators; per system, 72.
  CHECK(r.out.find("8,208") != std::string::npos);
  const CliResult j = run_podperf(
      "compare atlas-950-superpod vera-rubin-nvl72 --match chips --samples 0 --model llama3-70b --mode decode --tpot-ms 50 --json");
  REQUIRE(j.rc == 0);
  CHECK(j.out.find("\"count_a\": 1,") != std::string::npos);
  CHECK(j.out.find("\"count_b\": 114,") != std::string::npos);
  CHECK(j.out.find("\"b\": \"114xvera-rubin-nvl72") != std::string::npos);  // with the stack a dense model runs
}
