// Single-tier non-blocking switch (NVLink Switch in NVL72, NVSwitch in HGX): every rank reaches
// every other in one hop at its full per-direction link bandwidth.
#include "podperf/topology.hpp"

namespace podperf::topo {

TierTime switch_collective(const Fabric& f, Coll c, int n, double bytes, Algo algo) noexcept {
  return on_nonblocking_tier(c, n, bytes, f.gb_s_per_dir * 1e9 * f.coll_eff, f.latency_us * 1e-6, f.a2a_latency_us * 1e-6, algo);
}

}  // namespace podperf::topo
