// Single-tier non-blocking switch (NVLink Switch in NVL72, NVSwitch in HGX): every rank reaches
// every other in one hop at its full per-direction link bandwidth.
#include "podperf/core/topology.hpp"

namespace podperf::topo {

TierTime switch_collective(const Fabric& f, Coll c, int n, double bytes, Algo algo) noexcept {
  if (n <= 1) return {0, Algo::direct};
  const double B = f.gb_s_per_dir * 1e9 * f.coll_eff, a = f.latency_us * 1e-6;
  if (c == Coll::all_to_all && algo != Algo::ring) return {all_to_all_kernel_s(f, n - 1, bytes * (n - 1) / n), Algo::direct};
  TierTime t = on_nonblocking_tier(c, n, bytes, B, a, f.a2a_latency_us * 1e-6, algo == Algo::in_network ? Algo::automatic : algo);
  // A switch that reduces in the network (NVLink SHARP) does the all-reduce in one pass: each rank
  // sends its S bytes into the switch and reads the S reduced bytes back, instead of moving
  // 2(n-1)/n S through its own link twice.
  if (c == Coll::all_reduce && f.in_network_gb_s > 0) {
    const double inr = in_network_all_reduce_s(f, bytes);
    if (algo == Algo::in_network || (algo == Algo::automatic && inr < t.time_s)) t = {inr, Algo::in_network};
  }
  return t;
}

}  // namespace podperf::topo
