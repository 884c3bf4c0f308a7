// nD full mesh (UB-Mesh, Liao et al., arXiv 2503.20377): chips that differ in exactly one
// coordinate are joined by a direct link. A rank's bandwidth B is split across dimensions by
// mesh_share (B_i = share_i B) and across the d_i - 1 links of dimension i.
//
// all-to-all (uniform, bytes_per_peer b, dimension-ordered routing): a link of dimension i
//   carries b N / d_i bytes (N = chips in the box), so t = a k + max_i b N (d_i - 1) / (d_i B_i).
//   On one dimension this is the switch's b (n - 1) / B; more dimensions add the multi-hop penalty.
// reduce-scatter / all-gather: one direct phase per dimension on data S_i = S / prod_{j<i} d_j:
//   each phase moves S_i (d_i - 1) / d_i per rank; with the phases of different chunks rotated over
//   the dimensions (All-Path Routing keeps every dimension busy), the bandwidth term is
//   sum_i S_i (d_i - 1) / d_i / sum_i B_i, plus a per phase. all-reduce = twice that.
// broadcast: pipelined through the dimensions at the slowest share: k a + S / min_i B_i.
// p2p: neighbours in dimension 0, spread over all its paths (APR): a + S / B_0.
#include <algorithm>
#include <cmath>
#include <vector>

#include "podperf/topology.hpp"

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

TierTime mesh_collective(const Fabric& f, Coll c, int n, double S, Algo) noexcept {
  TierTime r{0, Algo::direct};
  if (n <= 1) return r;
  std::array<int, kMaxMeshDims> d{};
  const int k = covered_box(f, n, d);
  const double B = f.gb_s_per_dir * 1e9 * f.coll_eff;
  const double a = f.latency_us * 1e-6;
  double Bi[kMaxMeshDims] = {};
  double sumB = 0, minB = 0;
  for (int i = 0; i < k; ++i) {
    Bi[i] = f.mesh_share[i] * B;
    sumB += Bi[i];
    minB = i == 0 ? Bi[i] : std::min(minB, Bi[i]);
  }
  switch (c) {
    case Coll::all_to_all: {
      double worst_t = 0, box = 1;
      for (int i = 0; i < k; ++i) box *= d[i];
      for (int i = 0; i < k; ++i)
        if (d[i] > 1) worst_t = std::max(worst_t, (S / n) * box * (d[i] - 1) / (d[i] * Bi[i]));
      r.time_s = f.a2a_latency_us * 1e-6 + worst_t;
      break;
    }
    case Coll::all_reduce:
    case Coll::reduce_scatter:
    case Coll::all_gather: {
      double bytes = 0, Si = S;
      for (int i = 0; i < k; ++i) {
        bytes += Si * (d[i] - 1) / d[i];
        Si /= d[i];
      }
      const double once = k * a + bytes / sumB;
      r.time_s = c == Coll::all_reduce ? 2 * once : once;
      break;
    }
    case Coll::broadcast:
      r.time_s = k * a + S / minB;
      r.algo = Algo::tree;
      break;
    case Coll::p2p:
      r.time_s = a + S / Bi[0];
      break;
  }
  return r;
}

}  // namespace podperf::topo
