// Collectives over topologies, each case derived by hand in its comment.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "podperf/core/collectives.hpp"
#include "podperf/io/hwdb.hpp"
#include "podperf/core/topology.hpp"

using namespace podperf;
using doctest::Approx;

namespace {
// A supernode of `chips` on a non-blocking switch at bw GB/s per direction, alpha us per step,
// collective efficiency 1; scale-out 10 GB/s per chip, 5 us, 1:1.
System switch_system(int chips, double bw, double alpha_us) {
  System s;
  s.chips = s.chips_per_supernode = chips;
  s.scaleup.topology = Topology::switch1;
  s.scaleup.gb_s_per_dir = bw;
  s.scaleup.latency_us = alpha_us;
  s.scaleup.a2a_latency_us = alpha_us;  // the all-to-all kernel's fixed cost, here equal to a step
  s.scaleup.coll_eff = 1;
  s.scaleout.topology = Topology::clos;
  s.scaleout.gb_s_per_dir = 10;
  s.scaleout.latency_us = 5;
  s.scaleout.coll_eff = 1;
  s.scaleout.oversubscription = 1;
  return s;
}

System mesh_system(std::array<int, 4> dims, int nd, std::array<double, 4> share, double bw) {
  System s = switch_system(1, bw, 0);
  s.scaleup.topology = Topology::fullmesh;
  s.scaleup.mesh_ndims = nd;
  s.chips = 1;
  for (int i = 0; i < nd; ++i) {
    s.scaleup.mesh_dims[i] = dims[i];
    s.scaleup.mesh_share[i] = share[i];
    s.chips *= dims[i];
  }
  s.chips_per_supernode = s.chips;
  return s;
}
}  // namespace

TEST_CASE("ring all-reduce: 2(n-1) alpha + 2(n-1)/n S/B") {
  // n = 8, S = 1 GB, B = 100 GB/s, alpha = 1 us: 14 us + 1.75 x 10 ms = 17.514 ms.
  CHECK(algo::ring_all_reduce(8, 1e9, 100e9, 1e-6) == Approx(0.017514));
  const System s = switch_system(8, 100, 1);
  const CollResult ring = collective(s, Coll::all_reduce, 8, 1e9, Algo::ring);
  CHECK(ring.time_s == Approx(0.017514));
  CHECK(ring.algo == Algo::ring);
  // Tree (halving-doubling): 2 log2(8) = 6 steps -> 6 us + 17.5 ms.
  CHECK(collective(s, Coll::all_reduce, 8, 1e9, Algo::tree).time_s == Approx(0.017506));
  // On a non-blocking switch the direct (one-step reduce-scatter + all-gather) form wins: 2 us + 17.5 ms.
  const CollResult best = collective(s, Coll::all_reduce, 8, 1e9);
  CHECK(best.algo == Algo::direct);
  CHECK(best.time_s == Approx(0.017502));
  // Bus bandwidth = S / t x 2(n-1)/n = 1e9 / 0.017502 x 1.75 = 99.99 GB/s.
  CHECK(best.bus_gb_s == Approx(99.9886).epsilon(1e-4));
  CHECK(best.bottleneck == Tier::scaleup);
}

TEST_CASE("latency-dominated all-reduce prefers fewer steps") {
  // 1 KB over 64 ranks, alpha 10 us: ring 126 steps = 1.26 ms; direct 2 steps = 20 us.
  const System s = switch_system(64, 100, 10);
  CHECK(collective(s, Coll::all_reduce, 64, 1e3).algo == Algo::direct);
  CHECK(collective(s, Coll::all_reduce, 64, 1e3, Algo::ring).time_s == Approx(126 * 10e-6 + 2.0 * 63 / 64 * 1e3 / 100e9));
}

TEST_CASE("direct all-to-all on a non-blocking switch: alpha + (n-1)/n S/B") {
  // n = 8, 100 MB to each peer (S = 800 MB), B = 100 GB/s: 1 us + 7/8 x 8 ms = 7.001 ms.
  const System s = switch_system(8, 100, 1);
  const CollResult r = collective(s, Coll::all_to_all, 8, 8e8);
  CHECK(r.algo == Algo::direct);
  CHECK(r.time_s == Approx(0.007001));
  // Gather/scatter and broadcast on the same switch.
  CHECK(collective(s, Coll::all_gather, 8, 8e8).time_s == Approx(1e-6 + 7.0 / 8 * 8e8 / 100e9));
  CHECK(collective(s, Coll::reduce_scatter, 8, 8e8, Algo::ring).time_s == Approx(7e-6 + 7.0 / 8 * 8e8 / 100e9));
  CHECK(collective(s, Coll::broadcast, 8, 8e8, Algo::tree).time_s == Approx(3e-6 + 8e8 / 100e9));
  CHECK(collective(s, Coll::p2p, 2, 1e9).time_s == Approx(1e-6 + 0.01));
}

TEST_CASE("two-level hierarchical all-reduce over two supernodes") {
  // 2 supernodes x 4 chips. Scale-up 100 GB/s, 1 us; scale-out 10 GB/s, 5 us. S = 1 GB.
  // Reduce-scatter + all-gather inside: 2 x (1 us + 3/4 x 10 ms) = 15.002 ms.
  // All-reduce of S/4 = 250 MB across 2 supernodes: 2 x 5 us + 2 x 1/2 x 25 ms = 25.01 ms.
  System s = switch_system(4, 100, 1);
  s.chips = 8;
  s.supernodes = 2;
  const CollResult r = collective(s, Coll::all_reduce, 8, 1e9);
  CHECK(r.scaleup_s == Approx(0.015002));
  CHECK(r.scaleout_s == Approx(0.02501));
  CHECK(r.time_s == Approx(0.040012));
  CHECK(r.algo == Algo::hierarchical);
  CHECK(r.bottleneck == Tier::scaleout);
  // Oversubscription 2:1 halves the scale-out bandwidth: 10 us + 50 ms.
  s.scaleout.oversubscription = 2;
  CHECK(collective(s, Coll::all_reduce, 8, 1e9).scaleout_s == Approx(0.05001));
}

TEST_CASE("the same all-to-all on a switch and on an 8x8 2D full mesh: the multi-hop penalty") {
  // 64 ranks, 1 MB to each peer (S = 64 MB), 400 GB/s per chip, no latency.
  // Switch: 63 x 1 MB / 400 GB/s = 157.5 us.
  const System sw = switch_system(64, 400, 0);
  const double t_switch = collective(sw, Coll::all_to_all, 64, 64e6).time_s;
  CHECK(t_switch == Approx(157.5e-6));
  // 8x8 mesh, half the bandwidth on each dimension (200 GB/s over 7 links each): a link of either
  // dimension carries b N / d = 1 MB x 64 / 8 = 8 MB at 200/7 GB/s -> 280 us, 1.78x the switch.
  const System mesh = mesh_system({8, 8, 1, 1}, 2, {0.5, 0.5, 0, 0}, 400);
  const double t_mesh = collective(mesh, Coll::all_to_all, 64, 64e6).time_s;
  CHECK(t_mesh == Approx(280e-6));
  CHECK(t_mesh / t_switch == Approx(16.0 / 9.0));
  // The closed-form link load equals the maximum over a traffic matrix routed link by link.
  std::vector<double> traffic(64 * 64, 1e6);  // traffic[s * 64 + t]
  std::array<int, kMaxMeshDims> dims{8, 8, 0, 0};
  int worst = -1;
  CHECK(topo::mesh_max_link_load(dims, 2, traffic) == Approx(8e6));
  CHECK(topo::mesh_all_to_all_max_link_bytes(dims, 2, 1e6, worst) == Approx(8e6));
  // A 4x4x4 mesh: b N / d = 1 MB x 64 / 4 = 16 MB on the busiest link, both ways.
  std::array<int, kMaxMeshDims> cube{4, 4, 4, 0};
  CHECK(topo::mesh_max_link_load(cube, 3, traffic) == Approx(16e6));
  CHECK(topo::mesh_all_to_all_max_link_bytes(cube, 3, 1e6, worst) == Approx(16e6));
  // Skewed traffic (rank 0 sends 10x): the routed maximum follows it.
  for (int t = 0; t < 64; ++t) traffic[t] *= 10;
  CHECK(topo::mesh_max_link_load(dims, 2, traffic) > 8e6);
}

TEST_CASE("the same all-to-all on NVL72 and CloudMatrix 384 from the shipped hwdb") {
  const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  for (auto id : {"gb200-nvl72", "cloudmatrix-384"}) {
    CAPTURE(id);
    const System s = db.system(id);
    // 1 MB to each of n peers: a2a kernel latency + per-peer term + (n-1) x 1 MB over the kernel's
    // fitted bandwidth (a2a_gb_s), else gb_s_per_dir x coll_eff.
    const int n = s.chips;
    const CollResult r = collective(s, Coll::all_to_all, n, n * 1e6);
    const Fabric& f = s.scaleup;
    const double bw = f.a2a_gb_s > 0 ? f.a2a_gb_s : f.gb_s_per_dir * f.coll_eff;
    const double expect = f.a2a_latency_us * 1e-6 + f.a2a_per_peer_us * 1e-6 * (n - 1) + (n - 1) * 1e6 / (bw * 1e9);
    CHECK(r.time_s == Approx(expect));
    CHECK(r.bottleneck == Tier::scaleup);
  }
  // With hwdb values: NVL72 150 us + 71 MB / 720 GB/s = 248.6 us; CM384 (fitted kernel curve)
  // 31.6 us + 0.035 us x 383 + 383 MB / 104.7 GB/s = 31.6 + 13.4 + 3658.1 = 3703.1 us.
  CHECK(collective(db.system("gb200-nvl72"), Coll::all_to_all, 72, 72e6).time_s == Approx(248.61e-6).epsilon(1e-3));
  CHECK(collective(db.system("cloudmatrix-384"), Coll::all_to_all, 384, 384e6).time_s ==
        Approx(3.7031e-3).epsilon(1e-3));
}

TEST_CASE("mesh all-reduce, partial boxes and groups spanning supernodes") {
  // 8x8 mesh, 400 GB/s split evenly, no latency, S = 64 MB. Dimension 0 first: 64 MB x 7/8 = 56 MB
  // at 200 GB/s = 280 us; then dimension 1 on 8 MB: 7 MB at 200 GB/s = 35 us. Successive chunks
  // overlap the phases, so the busier dimension sets the time: 280 us; all-reduce twice.
  const System mesh = mesh_system({8, 8, 1, 1}, 2, {0.5, 0.5, 0, 0}, 400);
  CHECK(collective(mesh, Coll::reduce_scatter, 64, 64e6).time_s == Approx(280e-6));
  CHECK(collective(mesh, Coll::all_reduce, 64, 64e6).time_s == Approx(560e-6));
  // 12 ranks on 8x8 cover a box of 8 x 2.
  std::array<int, kMaxMeshDims> box{};
  CHECK(topo::covered_box(mesh.scaleup, 12, box) == 2);
  CHECK(box[0] == 8);
  CHECK(box[1] == 2);
  CHECK(topo::covered_box(mesh.scaleup, 5, box) == 1);
  CHECK(box[0] == 5);
  // A group beyond one supernode: all-to-all over scale-up and scale-out at once.
  System two = switch_system(4, 100, 0);
  two.chips = 8;
  two.supernodes = 2;
  two.scaleout.latency_us = 0;
  two.scaleup.a2a_latency_us = two.scaleout.a2a_latency_us = 0;
  // 8 ranks, 1 MB per peer: 3 MB inside at 100 GB/s = 30 us; 4 MB out at 10 GB/s = 400 us.
  const CollResult a2a = collective(two, Coll::all_to_all, 8, 8e6);
  CHECK(a2a.time_s == Approx(400e-6));
  CHECK(a2a.bottleneck == Tier::scaleout);
}

TEST_CASE("every collective runs on every shipped system") {
  const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  for (auto* m : {&db.systems, &db.clusters})
    for (auto& entry : *m) {
      const std::string id = entry.first;
      const System s = db.system(id);
      for (Coll c : {Coll::all_reduce, Coll::reduce_scatter, Coll::all_gather, Coll::all_to_all, Coll::broadcast,
                     Coll::p2p})
        for (int n : {2, 8, s.chips_per_supernode, s.chips}) {
          if (n > s.chips || n < 2) continue;
          const CollResult r = collective(s, c, n, 64e6);
          CAPTURE(id);
          CAPTURE(to_string(c));
          CAPTURE(n);
          CHECK(r.time_s > 0);
          CHECK(std::isfinite(r.time_s));
          CHECK(r.bus_gb_s > 0);
        }
    }
}
