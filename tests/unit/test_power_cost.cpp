// Power, cost, TCO, break-even and the propagation of hwdb ranges.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "podperf/core/economics.hpp"
#include "podperf/io/hwdb.hpp"
#include "podperf/io/models.hpp"
#include "podperf/core/plan.hpp"
#include "podperf/core/system_specs.hpp"
#include "podperf/app/uncertainty.hpp"

using namespace podperf;
using doctest::Approx;

namespace {
const std::string kHwdb = std::string(PODPERF_SOURCE_DIR) + "/hwdb";
const Hwdb& hwdb() {
  static const Hwdb db = load_hwdb(kHwdb);
  return db;
}
}  // namespace

TEST_CASE("CloudMatrix 384 peak power term by term from its parts; the published totals lie inside its range") {
  // NPUs 384 x 700 = 268,800; Kunpeng 192 x 250 = 48,000; overhead 0.1 x 316,800 = 31,680;
  // UB switches 448 x 250 = 112,000; UB optics 5,376 x 10 = 53,760; scale-out (2 tiers: 3 ports per
  // NPU) switches 384 x 3/64 x 1,000 = 18,000, NICs 384 x 15 = 5,760, modules 384 x 4 x 8 = 12,288.
  const PowerBreakdown p = peak_power(hwdb().system("cloudmatrix-384"));
  CHECK(p.chips_w == 268800);
  CHECK(p.cpus_w == 48000);
  CHECK(p.node_overhead_w == Approx(31680));
  CHECK(p.scaleup_switch_w == 112000);
  CHECK(p.scaleup_optics_w == 53760);
  CHECK(p.scaleout_switch_w == Approx(18000));
  CHECK(p.scaleout_nic_w == 5760);
  CHECK(p.scaleout_optics_w == 12288);
  CHECK(p.total_w() == Approx(550288));
  // The 910C TDP is set from its dies, not from the total: SemiAnalysis' 559 kW and the ~500 kW of a
  // Chinese analysis are checked against the range of the parts, never fitted. At the ends of the TDP
  // range alone (620 and 900 W) the total moves by 384 x 1.1 x (TDP - 700) W: 516.5 and 634.8 kW.
  const std::vector<RangedInput> in = ranged_inputs(hwdb(), entities_of_system(hwdb(), "cloudmatrix-384"));
  const Interval band = monte_carlo(in, 2000, 1, [](const Pick& pk) {
    return peak_power(hwdb().system("cloudmatrix-384", pk)).total_w() / 1000;
  });
  CHECK(band.low < 559);
  CHECK(band.high > 559);
  Pick lo, hi;
  lo.per_value["ascend-910c:specs.tdp_w"] = 620;
  hi.per_value["ascend-910c:specs.tdp_w"] = 900;
  CHECK(peak_power(hwdb().system("cloudmatrix-384", lo)).total_w() == Approx(550288 - 384 * 1.1 * 80));
  CHECK(peak_power(hwdb().system("cloudmatrix-384", hi)).total_w() == Approx(550288 + 384 * 1.1 * 200));
  // Rack IT of NVL72 (without scale-out): 86.4 + 10.8 + 9.72 + 12.6 = 119.52 kW, NVIDIA's ~120 kW.
  const PowerBreakdown n = peak_power(hwdb().system("gb200-nvl72"));
  CHECK(n.chips_w + n.cpus_w + n.node_overhead_w + n.scaleup_switch_w == Approx(119520));
}

TEST_CASE("SemiAnalysis figure set reproduces their CM384 / NVL72 ratios within 5%") {
  const Hwdb db = load_hwdb(kHwdb, {"semianalysis"});
  const SystemSpecs cm = system_specs(db.system("cloudmatrix-384"));
  const SystemSpecs nv = system_specs(db.system("gb200-nvl72"));
  const int bf = static_cast<int>(Precision::bf16);
  auto within = [](double got, double want) { return std::abs(got / want - 1) <= 0.05; };
  CHECK(within(cm.dense_pflops[bf] / nv.dense_pflops[bf], 1.7));
  CHECK(within(cm.hbm_tb / nv.hbm_tb, 3.6));
  CHECK(within(cm.hbm_tb_s / nv.hbm_tb_s, 2.1));
  CHECK(within(cm.all_in_kw() / nv.all_in_kw(), 3.9));
  CHECK(within((cm.all_in_kw() / cm.dense_pflops[bf]) / (nv.all_in_kw() / nv.dense_pflops[bf]), 2.3));
  CHECK(within((cm.all_in_kw() / cm.hbm_tb_s) / (nv.all_in_kw() / nv.hbm_tb_s), 1.8));
  CHECK(within(nv.all_in_kw(), 145));
  CHECK(within(cm.all_in_kw(), 559));
}

TEST_CASE("chip power is linear between idle and TDP") {
  Chip c;
  c.idle_w = 100;
  c.tdp_w = 700;
  CHECK(chip_power_w(c, 0) == 100);
  CHECK(chip_power_w(c, 0.5) == 400);
  CHECK(chip_power_w(c, 1) == 700);
}

TEST_CASE("capex from parts, and from the price plus the scale-out share") {
  // CM384: its reported price, 8.2 M USD (CNY 60 M), plus the scale-out share 384 x (3 ports x 1,000 +
  // 4 modules x 300) = 1,612,800. Without the price, from parts: 384 x 15,000 + 48 x 60,000 + 448 x 3,000
  // + 5,376 x 300 + 16 x 50,000 = 12,396,800.
  CHECK(capex_usd(hwdb().system("cloudmatrix-384")) == Approx(9812800));
  System parts = hwdb().system("cloudmatrix-384");
  parts.price_usd = 0;
  CHECK(capex_usd(parts) == Approx(14009600));
  // NVL72: 3.1 M USD rack + 72 x 4,200 = 3,402,400.
  CHECK(capex_usd(hwdb().system("gb200-nvl72")) == Approx(3402400));
  CHECK(capex_usd(hwdb().system("4xgb200-nvl72")) == Approx(4 * 3402400.0));
}

TEST_CASE("TCO per hour by hand") {
  // CRF(8%, 4 y) = 0.08 x 1.08^4 / (1.08^4 - 1) = 0.301921.
  CHECK(capital_recovery_factor(0.08, 4) == Approx(0.301921).epsilon(1e-5));
  CHECK(capital_recovery_factor(0, 5) == Approx(0.2));
  const System s = hwdb().system("gb200-nvl72");
  const Site us = hwdb().site("us");
  const Tco t = tco(s, us, 1.0);  // at full load the chips draw TDP
  const double peak = peak_power(s).total_w();
  CHECK(t.it_avg_w == Approx(peak));
  CHECK(t.capex_per_h == Approx(3402400 * 0.301921 / 8760).epsilon(1e-5));
  CHECK(t.facility_per_h == Approx(12 * peak * capital_recovery_factor(0.08, 15) / 8760));
  CHECK(t.maintenance_per_h == Approx(0.03 * 3402400 / 8760));
  CHECK(t.energy_per_h == Approx(peak * 1.2 / 1000 * 0.08));
  const Tco idle = tco(s, us, 0.0);
  CHECK(idle.it_avg_w == Approx(peak - 72 * (1200 - 180) * 1.1));  // chips at idle, node overhead follows
}

TEST_CASE("break-even electricity and capex solve the linear cost equations") {
  const ModelDb models = load_models(std::string(PODPERF_SOURCE_DIR) + "/configs");
  const Model m = models.model("llama3-70b");
  const System a = hwdb().system("cloudmatrix-384"), b = hwdb().system("gb200-nvl72");
  Site sa = hwdb().site("china");
  const Site sb = hwdb().site("us");
  Workload w;
  w.mode = Mode::decode;
  w.infer.weights = w.infer.kv = Precision::int8;
  w.infer.tpot_target_ms = 50;
  w.infer.par = default_inference_plan(a, m, w.infer.weights);
  Workload wb = w;
  wb.infer.weights = wb.infer.kv = Precision::fp8;
  wb.infer.par = default_inference_plan(b, m, wb.infer.weights);
  const Economics ea = economics(a, sa, m, w), eb = economics(b, sb, m, wb);
  REQUIRE(ea.est.fits());
  REQUIRE(eb.est.fits());
  // Cost per Mtok = TCO per hour / tokens per hour x 1e6.
  CHECK(ea.usd_per_mtok == Approx(ea.tco.per_h() / (ea.est.tokens_per_s * 3600) * 1e6));
  // Putting A's site at the break-even price makes the costs equal (when it is positive).
  const double p = breakeven_electricity(ea, eb.usd_per_mtok);
  sa.electricity_usd_kwh = p;
  const Tco t = tco(a, sa, ea.est.activity);
  CHECK(t.per_h() / (ea.est.tokens_per_s * 3600) * 1e6 == Approx(eb.usd_per_mtok));
  // And the break-even system price: scale A's capex to it.
  const double capex = breakeven_capex(ea, hwdb().site("china"), eb.usd_per_mtok);
  System cheaper = a;
  cheaper.price_usd = capex - (capex_usd(a) - a.price_usd);  // the price is the system's, scale-out stays
  const Tco t2 = tco(cheaper, hwdb().site("china"), ea.est.activity);
  CHECK(t2.capex_usd == Approx(capex));
  CHECK(t2.per_h() / (ea.est.tokens_per_s * 3600) * 1e6 == Approx(eb.usd_per_mtok));
}

TEST_CASE("Monte Carlo over the hwdb ranges: deterministic, inside the ranges, and tornado order") {
  const Hwdb& db = hwdb();
  const auto ids = entities_of_system(db, "cloudmatrix-384");
  CHECK(ids == std::vector<std::string>{"cloudmatrix-384", "ascend-910c", "cloudmatrix-infer", "mindspeed"});
  const auto inputs = ranged_inputs(db, ids);
  CHECK(inputs.size() > 10);
  auto bf16 = [&](const Pick& p) { return system_specs(db.system("cloudmatrix-384", p)).dense_pflops[3]; };
  const Interval a = monte_carlo(inputs, 500, 7, bf16), b = monte_carlo(inputs, 500, 7, bf16);
  CHECK(a.low == b.low);
  CHECK(a.high == b.high);
  CHECK(a.central == Approx(288.768));
  CHECK(a.low >= 288.768);            // 752 is the low end of the 910C's range
  CHECK(a.high <= 384 * 800 / 1000.0);
  CHECK(a.high > a.low);
  const auto t = sensitivity(inputs, bf16);
  CHECK(t.front().input.key == "ascend-910c:specs.bf16_dense_tflops");
  CHECK(t.front().at_high == Approx(307.2));
}
