#include "podperf/core/collectives.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "podperf/core/topology.hpp"

namespace podperf {

const char* to_string(Coll c) {
  switch (c) {
    case Coll::all_reduce: return "all-reduce";
    case Coll::reduce_scatter: return "reduce-scatter";
    case Coll::all_gather: return "all-gather";
    case Coll::all_to_all: return "all-to-all";
    case Coll::broadcast: return "broadcast";
    case Coll::p2p: return "p2p";
  }
  return "?";
}

const char* to_string(Algo a) {
  switch (a) {
    case Algo::automatic: return "auto";
    case Algo::ring: return "ring";
    case Algo::tree: return "tree";
    case Algo::direct: return "direct";
    case Algo::hierarchical: return "hierarchical";
    case Algo::in_network: return "in-network";
  }
  return "?";
}

const char* to_string(Tier t) {
  switch (t) {
    case Tier::scaleup: return "scale-up";
    case Tier::scaleout: return "scale-out";
    case Tier::none: return "none";
  }
  return "?";
}

bool parse_coll(const char* s, Coll& out) {
  for (Coll c : {Coll::all_reduce, Coll::reduce_scatter, Coll::all_gather, Coll::all_to_all, Coll::broadcast,
                 Coll::p2p})
    if (std::strcmp(s, to_string(c)) == 0) { out = c; return true; }
  return false;
}

bool parse_algo(const char* s, Algo& out) {
  for (Algo a : {Algo::automatic, Algo::ring, Algo::tree, Algo::direct, Algo::hierarchical, Algo::in_network})
    if (std::strcmp(s, to_string(a)) == 0) { out = a; return true; }
  return false;
}

double bus_factor(Coll c, int n) noexcept {
  if (n <= 1) return 0;
  switch (c) {
    case Coll::all_reduce: return 2.0 * (n - 1) / n;
    case Coll::reduce_scatter:
    case Coll::all_gather:
    case Coll::all_to_all: return double(n - 1) / n;
    default: return 1;
  }
}

namespace algo {
namespace {
double log2_steps(int n) { return std::ceil(std::log2(static_cast<double>(n))); }
}  // namespace
double ring_all_reduce(int n, double S, double B, double a) noexcept {
  return n <= 1 ? 0 : 2.0 * (n - 1) * a + 2.0 * (n - 1) / n * S / B;
}
double tree_all_reduce(int n, double S, double B, double a) noexcept {
  return n <= 1 ? 0 : 2.0 * log2_steps(n) * a + 2.0 * (n - 1) / n * S / B;
}
double direct_all_reduce(int n, double S, double B, double a) noexcept {
  return n <= 1 ? 0 : 2.0 * a + 2.0 * (n - 1) / n * S / B;
}
double ring_gather(int n, double S, double B, double a) noexcept {
  return n <= 1 ? 0 : (n - 1) * a + double(n - 1) / n * S / B;
}
double tree_gather(int n, double S, double B, double a) noexcept {
  return n <= 1 ? 0 : log2_steps(n) * a + double(n - 1) / n * S / B;
}
double direct_gather(int n, double S, double B, double a) noexcept {
  return n <= 1 ? 0 : a + double(n - 1) / n * S / B;
}
double direct_all_to_all(int n, double S, double B, double a) noexcept {
  return n <= 1 ? 0 : a + double(n - 1) / n * S / B;
}
// Pairwise exchange: n-1 steps, each sending S/n to one peer.
double ring_all_to_all(int n, double S, double B, double a) noexcept {
  return n <= 1 ? 0 : (n - 1) * (a + S / n / B);
}
double tree_broadcast(int n, double S, double B, double a) noexcept {
  return n <= 1 ? 0 : log2_steps(n) * a + S / B;
}
}  // namespace algo

namespace topo {

// One all-to-all kernel (MoE dispatch or combine) that reaches `peers` other ranks over this fabric
// and moves `bytes_out` bytes off each rank through it:
//   t = a2a_latency + a2a_per_peer x peers + bytes_out / B,
// B = the kernel's achieved bandwidth fitted to measured kernels (a2a_gb_s) where the hwdb has one,
// else the link bandwidth x coll_eff; over a scale-out Clos divided by its oversubscription. The
// fitted terms come from kernel times that include their payload, so launch and payload are
// separate parameters and no byte is counted twice (docs/methodology.md).
double all_to_all_kernel_s(const Fabric& f, double peers, double bytes_out) noexcept {
  const double bw = (f.a2a_gb_s > 0 ? f.a2a_gb_s : f.gb_s_per_dir * f.coll_eff) * 1e9 / f.oversubscription;
  return f.a2a_latency_us * 1e-6 + f.a2a_per_peer_us * 1e-6 * peers + bytes_out / bw;
}

// All-reduce reduced in the switch (NVLink SHARP): t = in_network_latency + S / in_network_gb_s,
// both fitted to nccl-tests NVLS all-reduce measurements.
double in_network_all_reduce_s(const Fabric& f, double bytes) noexcept {
  return f.in_network_latency_us * 1e-6 + bytes / (f.in_network_gb_s * 1e9);
}

// The fastest applicable algorithm on one non-blocking tier (or the forced one, if it applies).
TierTime on_nonblocking_tier(Coll c, int n, double S, double B, double a, double a2a, Algo forced) noexcept {
  TierTime best{0, Algo::direct};
  if (n <= 1) return best;
  struct Cand {
    Algo algo;
    double t;
  };
  Cand cands[3] = {};
  int k = 0;
  switch (c) {
    case Coll::all_reduce:
      cands[k++] = {Algo::ring, algo::ring_all_reduce(n, S, B, a)};
      cands[k++] = {Algo::tree, algo::tree_all_reduce(n, S, B, a)};
      cands[k++] = {Algo::direct, algo::direct_all_reduce(n, S, B, a)};
      break;
    case Coll::reduce_scatter:
    case Coll::all_gather:
      cands[k++] = {Algo::ring, algo::ring_gather(n, S, B, a)};
      cands[k++] = {Algo::tree, algo::tree_gather(n, S, B, a)};
      cands[k++] = {Algo::direct, algo::direct_gather(n, S, B, a)};
      break;
    case Coll::all_to_all:
      cands[k++] = {Algo::ring, a2a + algo::ring_all_to_all(n, S, B, a)};
      cands[k++] = {Algo::direct, algo::direct_all_to_all(n, S, B, a2a)};
      break;
    case Coll::broadcast:
      cands[k++] = {Algo::tree, algo::tree_broadcast(n, S, B, a)};
      cands[k++] = {Algo::direct, 2 * a + 2.0 * (n - 1) / n * S / B};  // scatter + all-gather
      break;
    case Coll::p2p:
      cands[k++] = {Algo::direct, a + S / B};
      break;
  }
  best = {cands[0].t, cands[0].algo};
  for (int i = 0; i < k; ++i) {
    if (forced == cands[i].algo) return {cands[i].t, cands[i].algo};
    if (cands[i].t < best.time_s) best = {cands[i].t, cands[i].algo};
  }
  return best;
}

}  // namespace topo

namespace {
topo::TierTime scaleup(const Fabric& f, Coll c, int n, double S, Algo algo) noexcept {
  switch (f.topology) {
    case Topology::switch1: return topo::switch_collective(f, c, n, S, algo);
    case Topology::clos2: return topo::clos2_collective(f, c, n, S, algo);
    case Topology::fullmesh: return topo::mesh_collective(f, c, n, S, algo);
    case Topology::clos: return topo::scaleout_collective(f, c, n, S, algo);
  }
  return {};
}
}  // namespace

CollResult collective(const System& s, Coll c, int n, double S, Algo algo, int stride) noexcept {
  CollResult r;
  if (n <= 1 || S <= 0) return r;
  // Ranks per supernode in the group: ranks `stride` chips apart, so cps / stride of them share one.
  const int m = std::clamp(s.chips_per_supernode / std::max(1, stride), 1, n);
  const int g = (n + m - 1) / m;                      // supernodes spanned
  const Fabric& out = s.scaleout;
  if (g == 1) {
    const topo::TierTime t = scaleup(s.scaleup, c, n, S, algo);
    r.time_s = r.scaleup_s = t.time_s;
    r.algo = t.algo;
    r.bottleneck = Tier::scaleup;
  } else {
    // Hierarchical: scale-up phase inside each supernode, scale-out phase between them, each rank
    // driving its own NIC (rail-aligned), so the scale-out phase moves 1/m of the data per rank.
    // A supernode holding one rank of the group has no scale-up phase.
    const Algo inner = algo == Algo::hierarchical ? Algo::automatic : algo;
    auto up = [&](Coll k, double bytes) { return m > 1 ? scaleup(s.scaleup, k, m, bytes, inner).time_s : 0.0; };
    switch (c) {
      case Coll::all_reduce:
        r.scaleup_s = 2 * up(Coll::reduce_scatter, S);
        r.scaleout_s = topo::scaleout_collective(out, Coll::all_reduce, g, S / m, inner).time_s;
        break;
      case Coll::reduce_scatter:
      case Coll::all_gather:
        r.scaleup_s = up(c, S);
        r.scaleout_s = topo::scaleout_collective(out, c, g, S / m, inner).time_s;
        break;
      case Coll::all_to_all: {
        // Peers inside the supernode over scale-up, the n - m others over scale-out, concurrently.
        r.scaleup_s = up(c, S * m / n);
        r.scaleout_s = topo::all_to_all_kernel_s(out, n - m, S * (n - m) / n);
        break;
      }
      case Coll::broadcast:
        r.scaleout_s = topo::scaleout_collective(out, c, g, S, inner).time_s;
        r.scaleup_s = up(c, S);
        break;
      case Coll::p2p:  // first and last rank sit in different supernodes
        r.scaleout_s = topo::scaleout_collective(out, c, 2, S, inner).time_s;
        break;
    }
    r.time_s = c == Coll::all_to_all ? std::max(r.scaleup_s, r.scaleout_s) : r.scaleup_s + r.scaleout_s;
    r.algo = c == Coll::p2p ? Algo::direct : Algo::hierarchical;
    r.bottleneck = r.scaleout_s >= r.scaleup_s ? Tier::scaleout : Tier::scaleup;
  }
  r.bus_gb_s = r.time_s > 0 ? S / r.time_s * bus_factor(c, n) / 1e9 : 0;
  return r;
}

// MoE dispatch or combine over the same tiers: `tokens` tokens leave each chip, each for k experts
// spread over ep chips, `bytes` per copy. Inside one supernode this is one all-to-all. Across g
// supernodes the dispatch is hierarchical (DeepEP; DeepSeek-V3 report sec. 3.2.2): a token crosses
// scale-out once per distinct remote supernode it targets, (g - 1)(1 - (1 - 1/g)^k) on average for
// uniform routing, and fans out to its experts over scale-up; both phases run at once.
double moe_all_to_all(const System& s, int ep, double tokens, double k, double bytes) noexcept {
  const int cps = s.chips_per_supernode;
  if (ep <= cps) return collective(s, Coll::all_to_all, ep, tokens * k * bytes).time_s;
  const double g = std::ceil(double(ep) / cps);
  const double remote = (g - 1) * (1 - std::pow(1 - 1 / g, k));
  const double out = topo::all_to_all_kernel_s(s.scaleout, ep - cps, tokens * remote * bytes);
  const double up = collective(s, Coll::all_to_all, cps, tokens * k * bytes).time_s;
  return std::max(out, up);
}

}  // namespace podperf
