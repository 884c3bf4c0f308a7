// Software stacks: the two-micro-batch overlap step, expected experts hit, the dispatch kernel across
// EP sizes, and the stack files of the shipped hwdb. Values derived by hand or by simulation.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "podperf/error.hpp"
#include "podperf/hwdb.hpp"
#include "podperf/models.hpp"
#include "podperf/workload.hpp"

using namespace podperf;
using doctest::Approx;

TEST_CASE("two-micro-batch overlap: a layer takes max(2 compute halves, 2 comm halves)") {
  // Halves of 3 ms compute and 5 ms communication: the communication streams back to back
  // (A's comm after A's compute, B's under A's next compute): 10 ms of comm against 6 ms of
  // compute -> 4 ms exposed.
  CHECK(two_batch_exposed(3e-3, 5e-3) == Approx(4e-3));
  // Communication shorter than compute hides entirely.
  CHECK(two_batch_exposed(5e-3, 3e-3) == 0);
  // Streams: 40% of 10 ms hidden under 2 ms of compute -> 6 ms + (4 - 2) ms exposed.
  CHECK(exposed_comm(10e-3, 2e-3, 0.4) == Approx(8e-3));
}

TEST_CASE("expected experts hit match a routing simulation") {
  // 256 experts, top-8, a chip holding experts 0..3; n tokens each pick 8 distinct experts.
  std::mt19937 rng(7);
  for (int n : {1, 16, 128, 1024}) {
    CAPTURE(n);
    const int trials = 4000;
    double sum = 0;
    std::vector<int> pool(256);
    for (int t = 0; t < trials; ++t) {
      bool hit[4] = {false, false, false, false};
      for (int i = 0; i < n; ++i) {
        for (int e = 0; e < 256; ++e) pool[e] = e;
        for (int j = 0; j < 8; ++j) {  // partial Fisher-Yates: 8 distinct experts
          std::uniform_int_distribution<int> d(j, 255);
          std::swap(pool[j], pool[d(rng)]);
          if (pool[j] < 4) hit[pool[j]] = true;
        }
      }
      for (bool h : hit) sum += h;
    }
    const double simulated = sum / trials;
    CHECK(experts_hit(4, 256, 8, n) == Approx(simulated).epsilon(0.04));
  }
  // By hand: one token hits 4 x 8/256 = 0.125 of the chip's experts.
  CHECK(experts_hit(4, 256, 8, 1) == Approx(0.125));
}

TEST_CASE("dispatch kernel across EP sizes: launch + per peer + payload once") {
  System s;
  s.chips = s.chips_per_supernode = 256;
  s.scaleup.topology = Topology::switch1;
  s.scaleup.gb_s_per_dir = 100;
  s.scaleup.coll_eff = 1;
  s.scaleup.latency_us = 1;
  s.scaleup.a2a_latency_us = 150;  // the fabric's own all-to-all latency must not be added again
  s.stack.a2a_launch_us = 10;
  s.stack.a2a_per_peer_us = 0.5;
  // 128 tokens x top-8 x 7,168 B = 7,340,032 B leave each chip; direct all-to-all over a switch
  // moves (n-1)/n of it at 100 GB/s.
  const double S = 128.0 * 8 * 7168;
  for (int ep : {8, 16, 64, 256}) {
    CAPTURE(ep);
    const double expect = (10 + 0.5 * (ep - 1)) * 1e-6 + double(ep - 1) / ep * S / 100e9;
    CHECK(moe_all_to_all(s, ep, 128, 8, 7168, 1) == Approx(expect));
    // Default-EPLB imbalance: the busiest receiver gets 1.3x the mean payload.
    CHECK(moe_all_to_all(s, ep, 128, 8, 7168, 1.3) ==
          Approx((10 + 0.5 * (ep - 1)) * 1e-6 + 1.3 * double(ep - 1) / ep * S / 100e9));
  }
}

TEST_CASE("every system names a stack of the hwdb; --stack style ids swap it") {
  const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  CHECK(db.stacks.size() >= 7);
  for (auto& [id, r] : db.systems) {
    CAPTURE(id);
    CHECK(db.stacks.count(db.default_stack(id)) == 1);
    CHECK(db.system(id).stack.id == db.default_stack(id));
  }
  CHECK(db.system("cloudmatrix-384@sglang-hopper").stack.id == "sglang-hopper");
  CHECK(db.system("cloudmatrix-384@sglang-hopper").chip.id == "ascend-910c");
  CHECK_THROWS_AS(db.system("cloudmatrix-384@no-such-stack"), InputError);
}

TEST_CASE("DeepSeek-R1 decode at 128K: GB300 NVL72 per GPU at least 1.3x GB200 NVL72; batch-1 floors follow HBM") {
  // The published comparison (LMSYS 2026-02-19): NVFP4 experts, FP8 KV, DEP8 decode, 128K/8K.
  const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  const ModelDb models = load_models(std::string(PODPERF_SOURCE_DIR) + "/configs");
  const Model m = models.model("deepseek-v3");
  auto run = [&](const char* sys, int batch) {
    InferenceSetup x;
    x.par = Parallel{1, 8, 8, 1, 1};
    x.batch = batch;
    x.seq_in = 131072;
    x.seq_out = 8192;
    x.weights = Precision::fp8;
    x.group[static_cast<int>(Group::experts)] = Format{Precision::fp4, Scaling::nv};
    x.kv = x.attn = Precision::fp8;
    return estimate_decode(db.system(sys), m, x);
  };
  const Estimate b200 = run("gb200-nvl72", 0), b300 = run("gb300-nvl72", 0);
  REQUIRE(b200.fits());
  REQUIRE(b300.fits());
  CAPTURE(b200.batch);
  CAPTURE(b300.batch);
  CHECK(b300.tokens_per_s_per_chip / b200.tokens_per_s_per_chip >= 1.3);
  // Batch-1 TPOT floors follow HBM bandwidth: Vera Rubin's HBM4 against GB300's HBM3e.
  const Model l = models.model("llama3-70b");
  auto floor = [&](const char* sys) {
    InferenceSetup x;
    x.par = Parallel{8, 1, 1, 1, 1};
    x.batch = 1;
    x.weights = x.kv = Precision::fp8;
    return estimate_decode(db.system(sys), l, x).tpot_s;
  };
  const double bw = db.system("vera-rubin-nvl144").chip.hbm_tb_s / db.system("gb300-nvl72").chip.hbm_tb_s;
  REQUIRE(bw > 1.2);
  CHECK(floor("gb300-nvl72") / floor("vera-rubin-nvl144") > 1.2);
}
