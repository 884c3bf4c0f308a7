// UB-Mesh as built: a 2D full mesh in each rack, racks joined by planes of LRS and HRS, 64+1
// spares. The parts priced come from the same description as the network routed; the closed-form
// collective times are checked against a traffic matrix routed link by link over that network.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "podperf/core/collectives.hpp"
#include "podperf/core/cost.hpp"
#include "podperf/io/hwdb.hpp"
#include "podperf/core/power.hpp"
#include "podperf/core/topology.hpp"

using namespace podperf;
using doctest::Approx;

namespace {
// Four racks of 16 chips (a 4 x 4 mesh, 40 % of 100 GB/s on each dimension) plus one spare each;
// two tier planes of 10 GB/s links, one LRS per rack and plane. No latency, collective efficiency 1.
System mini() {
  System s;
  s.chips = s.chips_per_supernode = 64;
  Fabric& f = s.scaleup;
  f.topology = Topology::fullmesh;
  f.gb_s_per_dir = 100;
  f.coll_eff = 1;
  f.mesh_ndims = 2;
  f.mesh_dims = {4, 4, 0, 0};
  f.mesh_share = {0.4, 0.4, 0, 0};
  f.rack_chips = 16;
  f.tier_ports = 2;
  f.tier_port_gb_s_per_dir = 10;
  f.lrs_per_rack_plane = 1;
  f.spares_per_rack = 1;
  s.scaleout.topology = Topology::clos;
  s.scaleout.gb_s_per_dir = 10;
  s.scaleout.coll_eff = 1;
  s.scaleout.oversubscription = 1;
  return s;
}

// The busiest link's time: bytes on it over its capacity.
double busiest(const topo::MeshNet& net, const std::vector<double>& load) {
  double t = 0;
  for (std::size_t i = 0; i < load.size(); ++i) t = std::max(t, load[i] / net.links[i].capacity);
  return t;
}

// Uniform all-to-all inside every group of `group` consecutive chips, all groups at once: b bytes
// from each chip to each other chip of its group.
std::vector<double> all_to_all_traffic(int n, int group, double b) {
  std::vector<double> tr(static_cast<std::size_t>(n) * n, 0.0);
  for (int s = 0; s < n; ++s)
    for (int t = 0; t < n; ++t)
      if (s != t && s / group == t / group) tr[static_cast<std::size_t>(s) * n + t] = b;
  return tr;
}

// Reduce-scatter of S bytes per chip in every group at once, as the phases route it: in dimension i
// each chip sends S_i / g_i to each group peer on its line (S_0 = S, S_{i+1} = S_i / g_i), then
// (S / m) / r to its counterpart in each other rack of the group.
std::vector<double> reduce_scatter_traffic(const Fabric& f, int n, int group, double S) {
  std::vector<double> tr(static_cast<std::size_t>(n) * n, 0.0);
  const int rack = f.rack_chips, m = std::min(group, rack), racks = group / m;
  std::array<int, kMaxMeshDims> g{};
  const int k = topo::covered_box(f, m, g);
  for (int s = 0; s < n; ++s) {
    double Si = S;
    int stride = 1;
    for (int i = 0; i < k; ++i) {
      const int ci = (s % rack / stride) % f.mesh_dims[i];
      for (int v = 0; v < f.mesh_dims[i]; ++v) {
        const int t = s + (v - ci) * stride;
        if (t != s && t / group == s / group) tr[static_cast<std::size_t>(s) * n + t] += Si / g[i];
      }
      Si /= g[i];
      stride *= f.mesh_dims[i];
    }
    for (int q = 0; racks > 1 && q < racks; ++q) {
      const int t = s / group * group + q * rack + s % rack;
      if (t != s) tr[static_cast<std::size_t>(s) * n + t] += S / m / racks;
    }
  }
  return tr;
}
}  // namespace

TEST_CASE("UB-Mesh: a partly used dimension shares its relays with the groups beside it") {
  // 8-chip line, 70 GB/s over 7 links of 10 GB/s. A group of 2 alone on it could use all 7 links;
  // with 3 other pairs running, it has its own link plus 6 relays at half rate: 10 + 6 x 10 / 2 = 40.
  CHECK(topo::mesh_dim_bandwidth(70, 2, 8) == Approx(40));
  CHECK(topo::mesh_dim_bandwidth(70, 8, 8) == Approx(70));  // the whole line: all direct
  CHECK(topo::mesh_dim_bandwidth(70, 4, 8) == Approx(50));  // 3 own links + 4 relays at half rate
}

TEST_CASE("UB-Mesh: closed forms on partial dimensions and the switch tier match the routed traffic matrix") {
  const System s = mini();
  const Fabric& f = s.scaleup;
  const topo::MeshNet net = topo::build_mesh_net(f, s.chips);
  const int n = s.chips;
  // Hand values first. All-to-all of 8 MB per chip in groups of 8 (a 4 x 2 box, dimension 1 half
  // used): b = 1 MB per peer. Dimension 0 (whole): 1 MB x 8 x 3/4 = 6 MB at 40 GB/s = 150 us.
  // Dimension 1 (2 of 4): 1 MB x 8 x 1/2 = 4 MB at 40 x (1 + 2/2) / 3 = 26.7 GB/s = 150 us.
  CHECK(collective(s, Coll::all_to_all, 8, 8e6).time_s == Approx(150e-6));
  // Groups of 32 (two racks): the tier carries 1 MB x 16 peers in the other rack at 2 x 10 GB/s
  // = 800 us; inside the rack 1 MB x 16 x 3/4 = 12 MB at 40 GB/s = 300 us per dimension.
  CHECK(collective(s, Coll::all_to_all, 32, 32e6).time_s == Approx(800e-6));
  for (int group : {2, 4, 8, 16, 32, 64}) {
    CAPTURE(group);
    const double b = 1e6;
    const std::vector<double> a2a = topo::route_mesh_net(net, f, all_to_all_traffic(n, group, b), n, group);
    CHECK(collective(s, Coll::all_to_all, group, b * group).time_s == Approx(busiest(net, a2a)));
    const double S = 64e6;
    const std::vector<double> rs = topo::route_mesh_net(net, f, reduce_scatter_traffic(f, n, group, S), n, group);
    CHECK(collective(s, Coll::reduce_scatter, group, S).time_s == Approx(busiest(net, rs)));
    CHECK(collective(s, Coll::all_gather, group, S).time_s == Approx(busiest(net, rs)));
    CHECK(collective(s, Coll::all_reduce, group, S).time_s == Approx(2 * busiest(net, rs)));
  }
  // Relaying consumes the relaying links: pair {0, 1} sends half of its 1 MB direct and a quarter
  // through each of chips 2 and 3 (2 (g-1) : 1 : 1 with g = 2, d = 4). Alone, link 0 -> 2 carries
  // that quarter; with pair {2, 3} running too it also carries their relay 3 -> 0 -> 2: 0.5 MB, as
  // much as the direct link, so the busiest link takes 0.5 MB / (40 GB/s / 3) = 37.5 us.
  std::vector<double> alone(static_cast<std::size_t>(n) * n, 0.0);
  alone[1] = alone[n] = 1e6;  // chips 0 and 1 only
  const std::vector<double> l_alone = topo::route_mesh_net(net, f, alone, n, 2);
  const std::vector<double> l_all = topo::route_mesh_net(net, f, all_to_all_traffic(n, 2, 1e6), n, 2);
  CHECK(l_alone[net.link(0, 1)] == Approx(0.5e6));
  CHECK(l_alone[net.link(0, 2)] == Approx(0.25e6));
  CHECK(l_all[net.link(0, 2)] == Approx(0.5e6));
  CHECK(busiest(net, l_all) == Approx(37.5e-6));
  CHECK(collective(s, Coll::all_to_all, 2, 2e6).time_s == Approx(37.5e-6));
}

TEST_CASE("UB-Mesh: the Atlas 950 SuperPoD prices the links and switches its routing uses") {
  const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  const System s = db.system("atlas-950-superpod");
  const Fabric& f = s.scaleup;
  const topo::MeshNet net = topo::build_mesh_net(f, s.chips);
  // Count what the wiring holds: switches that carry links, optical links (both directions listed).
  std::set<int> switches;
  double optical = 0;
  std::vector<int> mesh_degree(s.chips, 0), tier_degree(s.chips, 0);
  const int first_switch = net.chips + net.spares;
  for (auto& l : net.links) {
    if (l.from >= first_switch) switches.insert(l.from);
    if (l.to >= first_switch) switches.insert(l.to);
    optical += l.optical ? 0.5 : 0;
    if (l.from < s.chips) (l.to < s.chips ? mesh_degree : tier_degree)[l.from]++;
  }
  CHECK(s.scaleup.switch_chips + s.scaleup.hrs_chips == double(switches.size()));
  CHECK(s.scaleup.transceivers == 2 * optical);
  // By hand: 128 racks x 6 planes x 2 LRS = 1,536 LRS, each with 33 NPU ports (65 NPUs over 2) and
  // 33 HRS links; 6 x 33 = 198 HRS of 256 ports; 1,536 x 33 = 50,688 links, 101,376 modules.
  CHECK(s.scaleup.switch_chips == 1536);
  CHECK(s.scaleup.hrs_chips == 198);
  CHECK(s.scaleup.transceivers == 101376);
  // Every NPU: 7 + 7 electrical mesh links in its rack, 6 links to its LRS, no direct optics.
  CHECK(*std::min_element(mesh_degree.begin(), mesh_degree.end()) == 14);
  CHECK(*std::max_element(mesh_degree.begin(), mesh_degree.end()) == 14);
  CHECK(*std::min_element(tier_degree.begin(), tier_degree.end()) == 6);
  // 64+1: 128 spares on the LRS, priced and powered at idle, not counted as compute.
  CHECK(net.spares == 128);
  CHECK(s.spare_chips == 128);
  CHECK(s.chips == 8192);
  const PowerBreakdown p = peak_power(s);
  CHECK(p.spare_chips_w == Approx(128 * s.chip.idle_w));
  CHECK(p.chips_w == Approx(8192 * s.chip.tdp_w));
  CHECK(p.scaleup_optics_w == Approx(101376 * f.transceiver_w));
  CHECK(p.scaleup_switch_w == Approx(1536 * f.switch_w + 198 * f.hrs_w));
  System no_spares = s;
  no_spares.spare_chips = 0;
  const double chip_usd = s.chip.price_usd > 0 ? s.chip.price_usd : s.cost.chip_usd;
  CHECK(capex_usd(s) - capex_usd(no_spares) == Approx(128 * chip_usd));
  CHECK(s.fail.spare_every == 64);
}
