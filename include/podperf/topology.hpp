// Topology pieces: each gives the time of one collective among n ranks placed on it. They are
// swappable: the system's fabric kind picks one (single-tier switch, two-tier Clos, nD full mesh,
// scale-out Clos). All are pure functions with no heap use.
#pragma once
#include <array>
#include <vector>

#include "podperf/collectives.hpp"
#include "podperf/spec.hpp"

namespace podperf::topo {

struct TierTime {
  double time_s = 0;
  Algo algo = Algo::automatic;
};

// The fastest applicable algorithm (or `forced`, where it applies) on one non-blocking tier with
// per-rank bandwidth B (bytes/s per direction) and per-step latency a (s).
// An all-to-all pays `a2a` once (the dispatch/combine kernel's fixed cost) instead of per step.
TierTime on_nonblocking_tier(Coll c, int n, double S, double B, double a, double a2a, Algo forced) noexcept;

// One all-to-all kernel reaching `peers` other ranks over fabric f and moving `bytes_out` bytes off
// each rank through it: a2a_latency + a2a_per_peer x peers + bytes_out / B, with B the fitted kernel
// bandwidth a2a_gb_s (else gb_s_per_dir x coll_eff), divided by the fabric's oversubscription.
double all_to_all_kernel_s(const Fabric& f, double peers, double bytes_out) noexcept;

// All-reduce of S bytes per rank reduced inside the switch (NVLink SHARP):
// in_network_latency + S / in_network_gb_s. Only for a fabric with in_network_gb_s > 0.
double in_network_all_reduce_s(const Fabric& f, double bytes) noexcept;

// Non-blocking single-tier switch (NVSwitch): every rank injects at its full link bandwidth; an
// all-reduce may run in the network where the switch reduces (in_network_gb_s > 0).
TierTime switch_collective(const Fabric& f, Coll c, int n, double bytes, Algo algo) noexcept;

// Two-tier non-blocking Clos (CloudMatrix 384 UB plane): L1 switches per node, L2 switches across
// nodes; full bisection, so bandwidth is as on one switch; each step crosses L2 once the group
// spans more than one L1 group.
TierTime clos2_collective(const Fabric& f, Coll c, int n, double bytes, Algo algo) noexcept;

// nD full mesh (UB-Mesh): direct links between all chips that differ in one coordinate; a rank's
// bandwidth is split across dimensions by mesh_share and across the d-1 links of each dimension.
TierTime mesh_collective(const Fabric& f, Coll c, int n, double bytes, Algo algo) noexcept;

// Scale-out Clos between `groups` supernodes, each rank using its own NIC (rail-aligned);
// bandwidth per rank = gb_s_per_dir / oversubscription.
TierTime scaleout_collective(const Fabric& f, Coll c, int groups, double bytes, Algo algo) noexcept;

// The box a contiguous group of n ranks covers on a mesh: leading dimensions fully, the next
// partly (rounded up). Returns the number of dimensions used.
int covered_box(const Fabric& f, int n, std::array<int, kMaxMeshDims>& dims) noexcept;

// Maximum bytes on one directed link for a uniform all-to-all (bytes_per_peer between every pair)
// on a full box with dimension-ordered routing: bytes_per_peer x n / d_i on dimension i links.
double mesh_all_to_all_max_link_bytes(const std::array<int, kMaxMeshDims>& dims, int ndims,
                                      double bytes_per_peer, int& worst_dim) noexcept;

// Maximum bytes on one directed link of a full box for any traffic matrix (traffic[s * n + t] = bytes
// from rank s to rank t, n ranks numbered with dimension 0 fastest), routing each pair in dimension
// order over the direct link of each dimension. For checking the closed form above and for
// non-uniform traffic (e.g. skewed expert load); allocates, so not for the hot path.
double mesh_max_link_load(const std::array<int, kMaxMeshDims>& dims, int ndims, const std::vector<double>& traffic);

}  // namespace podperf::topo
