// All-to-all from measured kernels and in-network all-reduce: each expected time worked out by hand
// in its comment; the measured kernels of validation/measurements/kernels.toml against the model,
// with the errors listed and bounded.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "podperf/core/collectives.hpp"
#include "podperf/io/hwdb.hpp"
#include "podperf/core/topology.hpp"

using namespace podperf;
using doctest::Approx;

namespace {

const std::string kKernels = std::string(PODPERF_SOURCE_DIR) + "/validation/measurements/kernels.toml";

// A supernode of `chips` on a non-blocking switch, 450 GB/s, 2 us per step, coll_eff 0.8.
System switch_system(int chips) {
  System s;
  s.chips = s.chips_per_supernode = chips;
  s.scaleup.topology = Topology::switch1;
  s.scaleup.gb_s_per_dir = 450;
  s.scaleup.latency_us = 2;
  s.scaleup.a2a_latency_us = 30;
  s.scaleup.coll_eff = 0.8;
  s.scaleout.topology = Topology::clos;
  s.scaleout.gb_s_per_dir = 50;
  s.scaleout.latency_us = 5;
  s.scaleout.coll_eff = 1;
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Distinct destination ranks of a token routed to k of 256 experts drawn uniformly, the experts
// spread evenly over n ranks: n (1 - C(256 - 256/n, k) / C(256, k)). By hand for n = 8, k = 8:
// 8 (1 - prod_{i<8} (224 - i)/(256 - i)) = 8 (1 - 0.3382) = 5.29.
double distinct_ranks(int n, int k) {
  const double per = 256.0 / n;
  double none = 1;
  for (int i = 0; i < k; ++i) none *= (256 - per - i) / (256.0 - i);
  return n * (1 - none);
}

// A measured all-to-all point: n ranks, S bytes per rank as the source counts them, t seconds.
struct Point {
  std::string kernel, version;
  int n = 0;
  double S = 0, t = 0;
};

// Time and bytes of an entry (scripts/fit_all_to_all.py does the same): a printed time with its
// bandwidth gives S = bandwidth x time; a DeepEP "bottleneck" bandwidth alone gives S from the
// bytes DeepEP's test counts (one copy per distinct destination rank) and t = S / bandwidth.
bool to_point(const toml::table& e, Point& p) {
  p.kernel = e["kernel"].value_or(std::string());
  p.version = e["version"].value_or(std::string());
  p.n = e["ep"].value_or(0);
  const double bw = e["achieved_gb_s"].value_or(0.0) * 1e9;
  if (auto t = e["time_us"].value<double>()) {
    p.t = *t * 1e-6;
    p.S = bw * p.t;
    return true;
  }
  const std::string place = e["placement"].value_or(std::string()), dtype = e["dtype"].value_or(std::string());
  if (e["bandwidth_definition"].value_or(std::string()) != "bottleneck" || !e.contains("tokens") ||
      (place != "intranode" && place != "supernode"))
    return false;
  const double h = e["hidden"].value_or(0.0);
  const double per_token = dtype == "fp8" ? h * (1 + 4.0 / 128) : dtype == "int8" ? h : 2 * h;
  p.S = e["tokens"].value_or(0.0) * distinct_ranks(p.n, e["topk"].value_or(8)) * per_token;
  p.t = p.S / bw;
  return true;
}

std::vector<Point> points(const std::string& system, bool (*keep)(const Point&)) {
  std::vector<Point> out;
  const toml::table root = toml::parse_file(kKernels);
  for (const auto& node : *root["all_to_all"].as_array()) {
    const toml::table& e = *node.as_table();
    Point p;
    if (e["system"].value_or(std::string()) == system && to_point(e, p) && keep(p)) out.push_back(p);
  }
  return out;
}

// Lists model against measurement and returns the |relative errors|.
template <class Model>
std::vector<double> listing(const char* title, const std::vector<Point>& pts, Model model) {
  std::vector<double> errs;
  std::printf("%s\n", title);
  for (const Point& p : pts) {
    const double m = model(p), e = m / p.t - 1;
    errs.push_back(std::abs(e));
    std::printf("  %-30s %-11s EP%-4d S %8.2f MB  measured %8.1f us  model %8.1f us  %+6.1f%%\n", p.kernel.c_str(),
                p.version.c_str(), p.n, p.S / 1e6, p.t * 1e6, m * 1e6, 100 * e);
  }
  std::printf("  median |error| %.1f%%, max %.1f%%\n", 100 * median(errs), 100 * *std::max_element(errs.begin(), errs.end()));
  return errs;
}

}  // namespace

TEST_CASE("all-to-all kernel: launch + per peer + off-rank bytes over the achieved bandwidth") {
  // t0 = 30 us, 0.05 us per peer, B = 100 GB/s; S = 8 MB per rank, (n-1)/n of it leaves the rank:
  //   EP8:   30 + 0.35  + 7 MB / 100 GB/s      = 30 + 0.35 + 70       = 100.35 us
  //   EP32:  30 + 1.55  + 7.75 MB / 100 GB/s   = 30 + 1.55 + 77.5     = 109.05 us
  //   EP256: 30 + 12.75 + 7.96875 MB / 100 GB/s = 30 + 12.75 + 79.6875 = 122.4375 us
  System s = switch_system(256);
  s.scaleup.a2a_per_peer_us = 0.05;
  s.scaleup.a2a_gb_s = 100;
  CHECK(collective(s, Coll::all_to_all, 8, 8e6).time_s == Approx(100.35e-6));
  CHECK(collective(s, Coll::all_to_all, 32, 8e6).time_s == Approx(109.05e-6));
  CHECK(collective(s, Coll::all_to_all, 256, 8e6).time_s == Approx(122.4375e-6));
  // The same on a two-tier Clos (CloudMatrix's UB plane) and as a scale-out kernel between 8 groups.
  s.scaleup.topology = Topology::clos2;
  s.scaleup.group_chips = 8;
  CHECK(collective(s, Coll::all_to_all, 32, 8e6).time_s == Approx(109.05e-6));
  // Without a fitted bandwidth the payload goes at the link x coll_eff: 30 + 0.35 + 7 MB / 360 GB/s.
  s.scaleup.a2a_gb_s = 0;
  CHECK(collective(s, Coll::all_to_all, 8, 8e6).time_s == Approx((30 + 0.35 + 7e6 / 360e9 * 1e6) * 1e-6));
}

TEST_CASE("all-to-all across supernodes: the remote share over the scale-out kernel curve") {
  // 4 supernodes of 8: EP32, S = 32 MB (1 MB per peer). Scale-out: 2 us + 0.03 us per remote peer,
  // 40 GB/s, 2:1 oversubscribed: 2 + 0.03 x 24 + 24 MB / 20 GB/s = 2 + 0.72 + 1200 = 1202.72 us.
  // Scale-up (no fit): 30 us + 7 MB / 360 GB/s = 49.44 us; the slower tier sets the time.
  System s = switch_system(8);
  s.chips = 32;
  s.supernodes = 4;
  s.scaleout.a2a_latency_us = 2;
  s.scaleout.a2a_per_peer_us = 0.03;
  s.scaleout.a2a_gb_s = 40;
  s.scaleout.oversubscription = 2;
  const CollResult r = collective(s, Coll::all_to_all, 32, 32e6);
  CHECK(r.scaleout_s == Approx(1202.72e-6));
  CHECK(r.scaleup_s == Approx((30 + 7e6 / 360e9 * 1e6) * 1e-6));
  CHECK(r.time_s == Approx(1202.72e-6));
  CHECK(r.bottleneck == Tier::scaleout);
}

TEST_CASE("all-to-all on CloudMatrix 384 from the hwdb parameters, by hand at EP8, EP32 and EP256") {
  // Fitted UB-plane curve (hwdb/systems/cloudmatrix-384.toml): t0 = 31.6 us, 0.035 us per peer,
  // B = 104.7 GB/s. A decode dispatch of 128 tokens x top-8 x 7168 INT8 bytes: S = 7,340,032 B.
  //   EP8:   31.6 + 0.245 + 6,422,528 B / 104.7 GB/s = 31.6 + 0.245 + 61.342 = 93.187 us
  //   EP32:  31.6 + 1.085 + 7,110,656 B / 104.7 GB/s = 31.6 + 1.085 + 67.915 = 100.600 us
  //   EP256: 31.6 + 8.925 + 7,311,360 B / 104.7 GB/s = 31.6 + 8.925 + 69.832 = 110.357 us
  const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  const System cm = db.system("cloudmatrix-384");
  const double S = 128.0 * 8 * 7168;
  CHECK(collective(cm, Coll::all_to_all, 8, S).time_s == Approx(93.187e-6).epsilon(1e-4));
  CHECK(collective(cm, Coll::all_to_all, 32, S).time_s == Approx(100.600e-6).epsilon(1e-4));
  CHECK(collective(cm, Coll::all_to_all, 256, S).time_s == Approx(110.357e-6).epsilon(1e-4));
  // Measured: CloudMatrix FusedDispatch 116 us at EP8 and 152 us at EP256 (arXiv 2506.12708): the
  // model is 19.7 % and 27.4 % faster (one curve over three kernels; bounds 25 % and 30 %).
  CHECK(collective(cm, Coll::all_to_all, 8, S).time_s == Approx(116e-6).epsilon(0.25));
  CHECK(collective(cm, Coll::all_to_all, 256, S).time_s == Approx(152e-6).epsilon(0.30));
  // The case: a DeepEP-style 4,096-token dispatch at EP8, S = 4096 x 8 x 7168 = 234.9 MB:
  // 31.6 + 0.245 + 205.5 MB / 104.7 GB/s = 1,994.8 us, i.e. 117.7 GB/s of S / t, inside the
  // 87-152 GB/s measured by DeepEP-Ascend on A3 (sgl-kernel-npu), where a constant kernel time plus
  // the link bandwidth gave 228-265 GB/s.
  const double big = 4096.0 * 8 * 7168;
  const double t = collective(cm, Coll::all_to_all, 8, big).time_s;
  CHECK(t == Approx(1994.8e-6).epsilon(1e-4));
  CHECK(big / t / 1e9 > 87);
  CHECK(big / t / 1e9 < 152);
}

TEST_CASE("all-to-all: model against the measured kernels (kernels.toml), errors listed and bounded") {
  const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  // CloudMatrix 384, UB plane: the fit set (FusedDispatch / Combine, DeepEP-Ascend normal and
  // low-latency); one curve for all three kernels, so the bound is loose.
  const System cm = db.system("cloudmatrix-384");
  auto cm_pts = points("cloudmatrix-384", [](const Point& p) { return p.version.empty(); });
  CHECK(cm_pts.size() == 20);
  auto cm_errs = listing("cloudmatrix-384, UB plane (fit set)", cm_pts,
                         [&](const Point& p) { return collective(cm, Coll::all_to_all, p.n, p.S).time_s; });
  CHECK(median(cm_errs) < 0.25);
  CHECK(*std::max_element(cm_errs.begin(), cm_errs.end()) < 0.5);

  // HGX H800 over InfiniBand, DeepEP low-latency (Feb 2025, pure RDMA): the scale-out kernel curve
  // with every peer over the NIC (the fit set).
  const System h800 = db.system("hgx-h800");
  auto ib = points("hgx-h800", [](const Point& p) { return p.kernel.rfind("deepep-ll", 0) == 0 && p.version == "v1-2025-02"; });
  CHECK(ib.size() == 12);
  auto ib_errs = listing("hgx-h800, InfiniBand, DeepEP low-latency v1-2025-02 (fit set)", ib, [&](const Point& p) {
    return topo::all_to_all_kernel_s(h800.scaleout, p.n - 1, p.S * (p.n - 1) / p.n);
  });
  CHECK(median(ib_errs) < 0.03);
  CHECK(*std::max_element(ib_errs.begin(), ib_errs.end()) < 0.05);

  // Out of sample: the June 2025 low-latency kernels forward a node's own peers over NVLink, which is
  // the model's hierarchical all-to-all on N x HGX H800 (scale-up and scale-out phases at once).
  const System cluster = db.system("32xhgx-h800");
  auto june = points("hgx-h800", [](const Point& p) {
    return p.kernel.rfind("deepep-ll", 0) == 0 && p.version == "v1-2025-06" && p.n > 8;
  });
  CHECK(june.size() == 10);
  auto june_errs = listing("hgx-h800 cluster, DeepEP low-latency v1-2025-06 (not fitted)", june,
                           [&](const Point& p) { return collective(cluster, Coll::all_to_all, p.n, p.S).time_s; });
  CHECK(median(june_errs) < 0.10);
  CHECK(*std::max_element(june_errs.begin(), june_errs.end()) < 0.25);

  // NVLink inside one HGX H800: DeepEP normal mode at EP8 (the points its bandwidth was fitted on).
  auto nvl = points("hgx-h800", [](const Point& p) { return p.kernel.rfind("deepep-normal", 0) == 0 && p.n == 8; });
  CHECK(nvl.size() == 4);
  auto nvl_errs = listing("hgx-h800, NVLink, DeepEP normal EP8", nvl,
                          [&](const Point& p) { return collective(h800, Coll::all_to_all, p.n, p.S).time_s; });
  CHECK(*std::max_element(nvl_errs.begin(), nvl_errs.end()) < 0.05);
}

TEST_CASE("in-network all-reduce (NVLink SHARP) against ring and direct, by hand") {
  // 8 ranks, 450 GB/s x 0.8 = 360 GB/s, 2 us per step; in-network 31.9 us + S / 246.9 GB/s.
  // S = 1 GiB = 1,073,741,824 B:
  //   ring:       14 x 2 us + 1.75 S / 360 GB/s = 28 + 5219.58 = 5247.58 us
  //   direct:      2 x 2 us + 1.75 S / 360 GB/s =  4 + 5219.58 = 5223.58 us
  //   in-network: 31.9 us  + S / 246.9 GB/s      = 31.9 + 4348.89 = 4380.79 us  (the fastest)
  System s = switch_system(8);
  s.scaleup.in_network_latency_us = 31.9;
  s.scaleup.in_network_gb_s = 246.9;
  const double G = 1073741824.0;
  CHECK(collective(s, Coll::all_reduce, 8, G, Algo::ring).time_s == Approx(5247.58e-6).epsilon(1e-5));
  CHECK(collective(s, Coll::all_reduce, 8, G, Algo::direct).time_s == Approx(5223.58e-6).epsilon(1e-5));
  const CollResult best = collective(s, Coll::all_reduce, 8, G);
  CHECK(best.algo == Algo::in_network);
  CHECK(best.time_s == Approx(4380.79e-6).epsilon(1e-5));
  // Bus bandwidth (nccl-tests): S / t x 2(n-1)/n = 1.0737 GB / 4380.79 us x 1.75 = 428.9 GB/s, above
  // the 360 GB/s a ring can reach on these links.
  CHECK(best.bus_gb_s == Approx(428.9).epsilon(1e-3));
  // 64 KiB: in-network 31.9 + 0.27 = 32.17 us; direct 4 + 0.32 = 4.32 us wins.
  CHECK(collective(s, Coll::all_reduce, 8, 65536).algo == Algo::direct);
  CHECK(collective(s, Coll::all_reduce, 8, 65536, Algo::in_network).time_s == Approx(32.165e-6).epsilon(1e-4));
  // A switch without in-network reduction never reports it.
  s.scaleup.in_network_gb_s = 0;
  CHECK(collective(s, Coll::all_reduce, 8, G).algo != Algo::in_network);
}

TEST_CASE("in-network all-reduce on HGX H100 against the measured NCCL NVLS bus bandwidth") {
  // Azure ND H100 v5, NCCL NVLS all-reduce on 8 GPUs (kernels.toml): 478.87 GB/s bus bandwidth at
  // 8 GiB and 361.78 GB/s at 64 MiB. A ring cannot pass the link x coll_eff = 360 GB/s of bus
  // bandwidth; the in-network form reaches within 15 % of both points.
  const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  const System h100 = db.system("hgx-h100");
  const double big = 8589934592.0, mid = 67108864.0;
  CHECK(collective(h100, Coll::all_reduce, 8, big, Algo::ring).bus_gb_s < 478.87);
  const CollResult r = collective(h100, Coll::all_reduce, 8, big);
  CHECK(r.algo == Algo::in_network);
  CHECK(r.bus_gb_s == Approx(478.87).epsilon(0.15));
  CHECK(collective(h100, Coll::all_reduce, 8, mid).bus_gb_s == Approx(361.78).epsilon(0.15));
  // Every measured NVLS point on H100 and H200 from 32 MiB up, within 25 % (below, the measured
  // curve bends more slowly than one latency plus one bandwidth: +25 % at 16 MiB).
  const toml::table root = toml::parse_file(kKernels);
  int n = 0;
  for (const auto& node : *root["collective"].as_array()) {
    const toml::table& e = *node.as_table();
    const std::string sys = e["system"].value_or(std::string());
    if ((sys != "hgx-h100" && sys != "hgx-h200") || e["bytes"].value_or(0.0) < 33554432) continue;
    const double S = e["bytes"].value_or(0.0), measured = e["busbw_gb_s"].value_or(0.0);
    const double model = collective(db.system(sys), Coll::all_reduce, 8, S, Algo::in_network).bus_gb_s;
    CAPTURE(sys);
    CAPTURE(S);
    CHECK(model == Approx(measured).epsilon(0.25));
    ++n;
  }
  CHECK(n == 18);
}
