// The shipped hwdb: loads, holds every required id, and system sums equal the chip entries.
#include <doctest/doctest.h>

#include <string>

#include "podperf/io/error.hpp"
#include "podperf/io/hwdb.hpp"
#include "podperf/core/power.hpp"
#include "podperf/core/system_specs.hpp"

using namespace podperf;

namespace {
const Hwdb& shipped() {
  static const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  return db;
}
const int kBf16 = static_cast<int>(Precision::bf16);
}  // namespace

TEST_CASE("shipped hwdb holds every required id") {
  const Hwdb& db = shipped();
  for (auto id : {"ascend-910b", "ascend-910c", "ascend-950pr", "ascend-950dt", "ascend-960", "ascend-970",
                  "h100-sxm", "h800", "h20", "h200", "b200", "gb200-gpu", "gb300-gpu", "rubin-gpu"})
    CHECK_MESSAGE(db.chips.count(id) == 1, id);
  for (auto id : {"cloudmatrix-384", "atlas-950-superpod", "atlas-960-superpod", "gb200-nvl72", "gb300-nvl72",
                  "vera-rubin-nvl144", "hgx-h100", "hgx-h800"})
    CHECK_MESSAGE(db.systems.count(id) == 1, id);
  CHECK(db.clusters.count("atlas-950-supercluster") == 1);
  CHECK(db.sites.count("china") == 1);
  CHECK(db.sites.count("us") == 1);
}

TEST_CASE("every shipped number carries a source and a kind") {
  const Hwdb& db = shipped();
  for (auto* m : {&db.chips, &db.systems, &db.clusters, &db.sites})
    for (auto& [id, r] : *m)
      for (auto& [key, n] : r.numbers) {
        const std::string where = id + ":" + key;
        CHECK_MESSAGE(!n.source.empty(), where);
        CHECK_MESSAGE(n.line > 0, where);
      }
}

TEST_CASE("CloudMatrix 384 sums: 384 x 910C") {
  const System s = shipped().system("cloudmatrix-384");
  const SystemSpecs sp = system_specs(s);
  CHECK(sp.chips == 384);
  CHECK(sp.dense_pflops[kBf16] == doctest::Approx(384 * 752 / 1000.0));  // 288.768 PF
  CHECK(sp.hbm_tb == doctest::Approx(49.152));                          // 384 x 128 GB
  CHECK(sp.hbm_tb_s == doctest::Approx(1228.8));                        // 384 x 3.2 TB/s
  CHECK(sp.scaleup_tb_s_per_dir == doctest::Approx(150.528));           // 384 x 392 GB/s
  CHECK(sp.scaleout_tbit_s_per_dir == doctest::Approx(153.6));          // 384 x 400 Gb/s
}

TEST_CASE("GB200 NVL72 sums and peak power term by term") {
  const System s = shipped().system("gb200-nvl72");
  const SystemSpecs sp = system_specs(s);
  CHECK(sp.dense_pflops[kBf16] == doctest::Approx(180));
  CHECK(sp.hbm_tb == doctest::Approx(13.392));  // 72 x 186 GB
  CHECK(sp.hbm_tb_s == doctest::Approx(576));
  // Hand-derived: GPUs 72 x 1200 = 86,400; Grace 36 x 300 = 10,800; overhead 0.1 x 97,200 = 9,720;
  // NVSwitch 18 x 700 = 12,600; scale-out 2 tiers, 1:1 -> 3 ports per GPU: switches
  // 72 x 3/64 x 1000 = 3,375, NICs 72 x 25 = 1,800, modules 72 x (3 + 1) x 8 W = 2,304.
  const PowerBreakdown p = sp.peak;
  CHECK(p.chips_w == doctest::Approx(86400));
  CHECK(p.cpus_w == doctest::Approx(10800));
  CHECK(p.node_overhead_w == doctest::Approx(9720));
  CHECK(p.scaleup_switch_w == doctest::Approx(12600));
  CHECK(p.scaleup_optics_w == 0);
  CHECK(p.scaleout_switch_w == doctest::Approx(3375));
  CHECK(p.scaleout_nic_w == doctest::Approx(1800));
  CHECK(p.scaleout_optics_w == doctest::Approx(2304));
  CHECK(p.total_w() == doctest::Approx(126999));
}

TEST_CASE("figure set 'semianalysis' overrides chip figures") {
  const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb", {"semianalysis"});
  const SystemSpecs cm = system_specs(db.system("cloudmatrix-384"));
  const SystemSpecs nv = system_specs(db.system("gb200-nvl72"));
  CHECK(cm.dense_pflops[kBf16] == doctest::Approx(299.52));  // 384 x 780
  CHECK(nv.hbm_tb == doctest::Approx(13.824));               // 72 x 192
  CHECK(cm.dense_pflops[kBf16] / nv.dense_pflops[kBf16] == doctest::Approx(1.664));
  CHECK(cm.hbm_tb / nv.hbm_tb == doctest::Approx(3.5556).epsilon(1e-3));
  CHECK(cm.hbm_tb_s / nv.hbm_tb_s == doctest::Approx(2.1333).epsilon(1e-3));
  CHECK_THROWS_WITH_AS(load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb", {"nosuch"}),
                       doctest::Contains("unknown figure set 'nosuch'"), InputError);
}

TEST_CASE("Pick chooses the ends of ranges") {
  const Hwdb& db = shipped();
  Pick lo, hi;
  lo.all = Pick::low;
  hi.all = Pick::high;
  CHECK(db.chip("ascend-910c", lo).peak(Precision::bf16) == 752);
  CHECK(db.chip("ascend-910c", hi).peak(Precision::bf16) == 800);
  CHECK(db.chip("h100-sxm", hi).hbm_tb_s == 3.35);  // no range: value
  Pick one;
  one.per_field["ascend-910c:specs.tdp_w"] = Pick::high;
  CHECK(db.chip("ascend-910c", one).tdp_w == 900);
  CHECK(db.chip("ascend-910c", one).hbm_gb == 128);
}

TEST_CASE("clusters and NxSYSTEM multiply supernodes") {
  const Hwdb& db = shipped();
  const System sc = db.system("atlas-950-supercluster");
  CHECK(sc.chips == 64 * 8192);
  CHECK(sc.supernodes == 64);
  CHECK(sc.scaleout.tiers == 3);
  const System four = db.system("4xgb200-nvl72:os=2");
  CHECK(four.chips == 288);
  CHECK(four.supernodes == 4);
  CHECK(four.chips_per_supernode == 72);
  CHECK(four.scaleout.oversubscription == 2);
  CHECK_THROWS_AS(db.system("nosuch"), InputError);
  CHECK_THROWS_AS(db.system("0xgb200-nvl72"), InputError);
  CHECK_THROWS_AS(db.system("2xgb200-nvl72:os=0.5"), InputError);
  CHECK_THROWS_AS(db.system("2xatlas-950-supercluster"), InputError);
}
