// Multi-tier scale-out Clos (RoCE / InfiniBand / UBoE) between supernodes. Each rank drives its own
// NIC; traffic that leaves a leaf is thinned by the oversubscription ratio, which podperf applies to
// all inter-supernode traffic (a group that spans supernodes crosses the leaf uplinks).
#include "podperf/core/topology.hpp"

namespace podperf::topo {

TierTime scaleout_collective(const Fabric& f, Coll c, int groups, double bytes, Algo algo) noexcept {
  if (c == Coll::all_to_all && groups > 1 && algo != Algo::ring)
    return {all_to_all_kernel_s(f, groups - 1, bytes * (groups - 1) / groups), Algo::direct};
  const double bw = f.gb_s_per_dir * 1e9 * f.coll_eff / f.oversubscription;
  return on_nonblocking_tier(c, groups, bytes, bw, f.latency_us * 1e-6, f.a2a_latency_us * 1e-6, algo);
}

}  // namespace podperf::topo
