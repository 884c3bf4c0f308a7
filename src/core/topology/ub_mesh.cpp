// nD full mesh (UB-Mesh, Liao et al., arXiv 2503.20377): chips of a rack that differ in exactly one
// coordinate are joined by a direct link. A rank's bandwidth B is split across dimensions by
// mesh_share (B_i = share_i B) and across the d_i - 1 links of dimension i. With a switch tier,
// each chip also has tier_ports links (one per plane) to the low-radix switches of its rack, which
// reach every other rack through high-radix switches: B_up = tier_ports x port bandwidth.
//
// Placement and contention: a group of n ranks fills racks in order (dimension 0 fastest); inside a
// rack it covers a box with extent g_i <= d_i per dimension. Every group runs alongside the groups
// that tile the rest of the supernode, so a dimension gives a group B_eff(g_i, d_i) (mesh_dim_bandwidth):
// its own links plus two-hop relays through other groups' chips, each relayed byte using two links.
//
// Routing is the same for every collective: dimension by dimension inside the rack (dimension 0
// first), the switch tier last; phases of successive chunks overlap, so the bandwidth term is the
// largest per-dimension term (the busiest link), plus the step latency a per phase.
// all-to-all (uniform, b = S / n per peer; m ranks per rack, r racks):
//   t = a2a + max( max_i b m (g_i - 1) / (g_i B_eff_i),  b (n - m) / B_up )
// reduce-scatter / all-gather: a phase per dimension on S_i = S / prod_{j<i} g_j, then the tier on
//   S / m among r racks: t = phases x a + max( max_i S_i (g_i - 1) / (g_i B_eff_i),
//   (S / m) (r - 1) / (r B_up) ); all-reduce = twice that.
// broadcast: pipelined through the phases at the slowest: phases x a + S / min(B_eff_i, B_up).
// p2p: a pair in dimension 0 (a + S / B_eff(2, d_0)), or across racks over the tier (a + S / B_up).
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "podperf/core/topology.hpp"

namespace podperf::topo {

int covered_box(const Fabric& f, int n, std::array<int, kMaxMeshDims>& dims) noexcept {
  int k = 0, span = 1;
  for (int i = 0; i < f.mesh_ndims && span < n; ++i) {
    const int need = (n + span - 1) / span;  // slices of the box so far needed to hold n ranks
    dims[k++] = std::min(need, f.mesh_dims[i]);
    span *= dims[k - 1];
  }
  return k;
}

double mesh_all_to_all_max_link_bytes(const std::array<int, kMaxMeshDims>& dims, int ndims, double b,
                                      int& worst) noexcept {
  double total = 1;
  for (int i = 0; i < ndims; ++i) total *= dims[i];
  double best = 0;
  worst = 0;
  for (int i = 0; i < ndims; ++i) {
    const double load = b * total / dims[i];
    if (load > best) best = load, worst = i;
  }
  return best;
}

double mesh_max_link_load(const std::array<int, kMaxMeshDims>& dims, int ndims, const std::vector<double>& traffic) {
  int n = 1;
  std::array<int, kMaxMeshDims> stride{};
  for (int i = 0; i < ndims; ++i) stride[i] = n, n *= dims[i];
  // load(node, dim, target coordinate): bytes leaving `node` on its dimension-`dim` link.
  const int maxd = *std::max_element(dims.begin(), dims.begin() + ndims);
  if (traffic.size() != static_cast<std::size_t>(n) * n) return std::nan("");
  const int cols = ndims * maxd;
  std::vector<double> load(static_cast<std::size_t>(n) * cols, 0.0);
  for (int s = 0; s < n; ++s)
    for (int t = 0; t < n; ++t) {
      const double b = traffic[static_cast<std::size_t>(s) * n + t];
      if (b == 0 || s == t) continue;
      int at = s;
      for (int i = 0; i < ndims; ++i) {
        const int from = (at / stride[i]) % dims[i], to = (t / stride[i]) % dims[i];
        if (from == to) continue;
        load[static_cast<std::size_t>(at) * cols + i * maxd + to] += b;
        at += (to - from) * stride[i];
      }
    }
  return *std::max_element(load.begin(), load.end());
}

double mesh_dim_bandwidth(double B_i, int g, int d) noexcept {
  if (d <= 1 || g <= 1) return 0;
  return B_i * ((g - 1) + (d - g) / 2.0) / (d - 1);
}

MeshParts mesh_parts(const Fabric& f, int chips) noexcept {
  MeshParts p;
  if (f.rack_chips <= 0 || f.tier_ports <= 0 || f.lrs_per_rack_plane <= 0) return p;
  p.racks = chips / f.rack_chips;
  p.spare_chips = p.racks * f.spares_per_rack;
  const int l = f.lrs_per_rack_plane;
  p.lrs_down = (f.rack_chips + f.spares_per_rack + l - 1) / l;
  p.lrs = f.tier_ports * p.racks * l;
  p.hrs = f.tier_ports * p.lrs_down;  // each LRS has one link to every HRS of its plane
  p.hrs_ports = p.racks * l;
  p.optical_links = double(p.lrs) * p.lrs_down;
  p.transceivers = 2 * p.optical_links;
  return p;
}

TierTime mesh_collective(const Fabric& f, Coll c, int n, double S, Algo) noexcept {
  TierTime r{0, Algo::direct};
  if (n <= 1) return r;
  const int rack = f.rack_chips > 0 ? f.rack_chips : n;  // no tier: the mesh is the whole supernode
  const int m = std::min(n, rack);                      // ranks of the group per rack
  const int racks = (n + m - 1) / m;
  std::array<int, kMaxMeshDims> g{};
  const int k = covered_box(f, m, g);
  const double eff = f.coll_eff;
  const double B = f.gb_s_per_dir * 1e9 * eff;
  const double Bup = f.tier_ports * f.tier_port_gb_s_per_dir * 1e9 * eff;
  const double a = f.latency_us * 1e-6;
  double Be[kMaxMeshDims] = {};
  double box = 1;
  for (int i = 0; i < k; ++i) {
    Be[i] = mesh_dim_bandwidth(f.mesh_share[i] * B, g[i], f.mesh_dims[i]);
    box *= g[i];
  }
  const bool tier = racks > 1;
  const int phases = k + (tier ? 1 : 0);
  switch (c) {
    case Coll::all_to_all: {
      const double b = S / n;
      double t = tier ? b * (n - m) / Bup : 0;
      for (int i = 0; i < k; ++i)
        if (g[i] > 1) t = std::max(t, b * box * (g[i] - 1) / (g[i] * Be[i]));
      r.time_s = f.a2a_latency_us * 1e-6 + t;
      break;
    }
    case Coll::all_reduce:
    case Coll::reduce_scatter:
    case Coll::all_gather: {
      double t = 0, Si = S;
      for (int i = 0; i < k; ++i) {
        if (g[i] > 1) t = std::max(t, Si * (g[i] - 1) / (g[i] * Be[i]));
        Si /= g[i];
      }
      if (tier) t = std::max(t, S / m * (racks - 1) / (racks * Bup));
      const double once = phases * a + t;
      r.time_s = c == Coll::all_reduce ? 2 * once : once;
      break;
    }
    case Coll::broadcast: {
      double minB = tier ? Bup : 0;
      for (int i = 0; i < k; ++i)
        if (g[i] > 1) minB = minB > 0 ? std::min(minB, Be[i]) : Be[i];
      r.time_s = phases * a + S / minB;
      r.algo = Algo::tree;
      break;
    }
    case Coll::p2p:
      r.time_s = a + S / (tier ? Bup : mesh_dim_bandwidth(f.mesh_share[0] * B, 2, f.mesh_dims[0]));
      break;
  }
  return r;
}

int MeshNet::link(int from, int to) const {
  for (auto& [nb, li] : out[from])
    if (nb == to) return li;
  return -1;
}

MeshNet build_mesh_net(const Fabric& f, int chips) {
  MeshNet net;
  const int rack = f.rack_chips > 0 ? f.rack_chips : chips;
  const int R = chips / rack;
  const MeshParts parts = mesh_parts(f, chips);
  net.chips = chips;
  net.spares = parts.spare_chips;
  net.lrs = parts.lrs;
  net.hrs = parts.hrs;
  const int nodes = chips + net.spares + net.lrs + net.hrs;
  net.out.assign(nodes, {});
  auto add = [&](int a, int b, double cap, bool optical) {
    net.out[a].push_back({b, static_cast<int>(net.links.size())});
    net.links.push_back({a, b, cap, optical});
  };
  const double B = f.gb_s_per_dir * 1e9 * f.coll_eff;
  // Mesh links inside each rack: every chip to every chip that differs in one coordinate.
  std::array<int, kMaxMeshDims> stride{};
  int st = 1;
  for (int i = 0; i < f.mesh_ndims; ++i) stride[i] = st, st *= f.mesh_dims[i];
  for (int rk = 0; rk < R; ++rk)
    for (int x = 0; x < rack; ++x)
      for (int i = 0; i < f.mesh_ndims; ++i) {
        const int d = f.mesh_dims[i], ci = (x / stride[i]) % d;
        for (int v = 0; v < d; ++v)
          if (v != ci) add(rk * rack + x, rk * rack + x + (v - ci) * stride[i], f.mesh_share[i] * B / (d - 1), false);
      }
  if (parts.lrs == 0) return net;
  // Tier: local chip x of rack rk (spares after the rack's chips) takes port j to LRS x / down of
  // plane j in its rack; each LRS has one link to each HRS of its plane.
  const double port = f.tier_port_gb_s_per_dir * 1e9 * f.coll_eff;
  const int l = f.lrs_per_rack_plane, down = parts.lrs_down;
  const int lrs0 = chips + net.spares, hrs0 = lrs0 + net.lrs;
  auto lrs_id = [&](int plane, int rk, int q) { return lrs0 + (plane * R + rk) * l + q; };
  for (int rk = 0; rk < R; ++rk)
    for (int x = 0; x < rack + f.spares_per_rack; ++x) {
      const int node = x < rack ? rk * rack + x : chips + rk * f.spares_per_rack + (x - rack);
      for (int j = 0; j < f.tier_ports; ++j) {
        add(node, lrs_id(j, rk, x / down), port, false);
        add(lrs_id(j, rk, x / down), node, port, false);
      }
    }
  for (int j = 0; j < f.tier_ports; ++j)
    for (int rk = 0; rk < R; ++rk)
      for (int q = 0; q < l; ++q)
        for (int h = 0; h < down; ++h) {
          add(lrs_id(j, rk, q), hrs0 + j * down + h, port, true);
          add(hrs0 + j * down + h, lrs_id(j, rk, q), port, true);
        }
  return net;
}

std::vector<double> route_mesh_net(const MeshNet& net, const Fabric& f, const std::vector<double>& traffic, int n,
                                   int group) {
  std::vector<double> load(net.links.size(), 0.0);
  const int rack = f.rack_chips > 0 ? f.rack_chips : net.chips;
  std::array<int, kMaxMeshDims> stride{};
  int st = 1;
  for (int i = 0; i < f.mesh_ndims; ++i) stride[i] = st, st *= f.mesh_dims[i];
  auto put = [&](int a, int b, double bytes) {
    const int li = net.link(a, b);
    if (li < 0) throw std::out_of_range("route_mesh_net: no link " + std::to_string(a) + " -> " + std::to_string(b));
    load[li] += bytes;
  };
  const int lrs0 = net.chips + net.spares, hrs0 = lrs0 + net.lrs;
  const int l = f.lrs_per_rack_plane, R = net.chips / rack;
  const int down = net.lrs > 0 ? net.hrs / f.tier_ports : 0;
  for (int s = 0; s < n; ++s)
    for (int t = 0; t < n; ++t) {
      const double b = traffic[static_cast<std::size_t>(s) * n + t];
      if (b == 0 || s == t) continue;
      if (s / rack != t / rack) {  // across racks: evenly over the planes, then over the HRS
        const double per_plane = b / f.tier_ports;
        for (int j = 0; j < f.tier_ports; ++j) {
          const int ls = lrs0 + (j * R + s / rack) * l + (s % rack) / down;
          const int lt = lrs0 + (j * R + t / rack) * l + (t % rack) / down;
          put(s, ls, per_plane);
          for (int h = 0; h < down; ++h) {
            put(ls, hrs0 + j * down + h, per_plane / down);
            put(hrs0 + j * down + h, lt, per_plane / down);
          }
          put(lt, t, per_plane);
        }
        continue;
      }
      int at = s;
      for (int i = 0; i < f.mesh_ndims; ++i) {
        const int d = f.mesh_dims[i];
        const int from = (at / stride[i]) % d, to = (t / stride[i]) % d;
        if (from == to) continue;
        const int nxt = at + (to - from) * stride[i];
        // Chips on this line of dimension i in the same group as `at`, and the others (relays).
        int g = 0;
        for (int v = 0; v < d; ++v) g += (at + (v - from) * stride[i]) / group == at / group;
        const double den = 2.0 * (g - 1) + (d - g);
        put(at, nxt, b * 2 * (g - 1) / den);
        for (int v = 0; v < d; ++v) {
          const int w = at + (v - from) * stride[i];
          if (w / group == at / group) continue;
          put(at, w, b / den);
          put(w, nxt, b / den);
        }
        at = nxt;
      }
    }
  return load;
}

}  // namespace podperf::topo
