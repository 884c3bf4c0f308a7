// Topology pieces: each gives the time of one collective among n ranks placed on it. They are
// swappable: the system's fabric kind picks one (single-tier switch, two-tier Clos, nD full mesh,
// scale-out Clos). All are pure functions with no heap use.
#pragma once
#include <array>
#include <vector>

#include "podperf/core/collectives.hpp"
#include "podperf/core/spec.hpp"

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

// nD full mesh (UB-Mesh): direct links between all chips of a rack that differ in one coordinate;
// a rank's bandwidth is split across dimensions by mesh_share and across the d-1 links of each
// dimension. With a switch tier, racks are joined through LRS and HRS planes (Fabric). Every group
// is taken to run alongside the groups that tile the rest of the supernode (concurrent groups).
TierTime mesh_collective(const Fabric& f, Coll c, int n, double bytes, Algo algo) noexcept;

// Bandwidth (bytes/s per direction, before coll_eff) a group with extent g on a mesh dimension of
// size d gets from it when every group runs at once: its g - 1 direct links, plus two-hop relays
// through the d - g chips of other groups, each relayed byte taking two of their links:
//   B_eff = B_i ((g - 1) + (d - g) / 2) / (d - 1).
double mesh_dim_bandwidth(double B_i, int g, int d) noexcept;

// Parts of one supernode's mesh with a switch tier, counted from the description (Fabric):
//   racks R = chips / rack_chips; per plane and rack l LRS, each with down = ceil((rack_chips +
//   spares) / l) chip ports and as many HRS links (non-blocking); HRS per plane = down, each with
//   R l ports (one per LRS of its plane); planes = tier_ports.
struct MeshParts {
  int racks = 0, lrs = 0, hrs = 0;
  int lrs_down = 0, hrs_ports = 0;
  double optical_links = 0, transceivers = 0;  // LRS-HRS links; a module at each end
  int spare_chips = 0;
};
MeshParts mesh_parts(const Fabric& f, int chips) noexcept;

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

// The network of one supernode wired link by link from its Fabric: chips (rack by rack, dimension 0
// fastest), then the spares, then LRS, then HRS; directed links with their capacity (bytes/s,
// coll_eff applied). Allocates: for tests and checks, not the hot path.
struct MeshLink {
  int from = 0, to = 0;
  double capacity = 0;
  bool optical = false;
};
struct MeshNet {
  int chips = 0, spares = 0, lrs = 0, hrs = 0;
  std::vector<MeshLink> links;
  int link(int from, int to) const;  // index of the link from -> to, -1 if none
  std::vector<std::vector<std::pair<int, int>>> out;  // per node: (neighbour, link index)
};
MeshNet build_mesh_net(const Fabric& f, int chips);

// Bytes on every link of `net` for a traffic matrix among the first n chips (traffic[s * n + t]),
// the chips forming groups of `group` consecutive ranks. Routing: inside a rack dimension by
// dimension; on each dimension a share 2(g-1)/(2(g-1)+d-g) on the direct link and 1/(2(g-1)+d-g)
// through each chip of another group on that line (two hops); between racks evenly over the
// chip's planes and each LRS's HRS links.
std::vector<double> route_mesh_net(const MeshNet& net, const Fabric& f, const std::vector<double>& traffic, int n,
                                   int group);

}  // namespace podperf::topo
