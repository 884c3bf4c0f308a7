// Two-tier non-blocking Clos (CloudMatrix 384 UB plane: 7 L1 switch chips per 8-NPU node, L2
// switches in network racks). With full bisection every rank injects at its link bandwidth whatever
// the placement; Zuo et al. (arXiv 2506.12708, sec. 3) measure < 3% bandwidth loss and < 1 us more
// latency between nodes than inside one, within the per-step latency the hwdb gives. So the cost
// is that of one non-blocking tier; the piece stays separate so a blocking L2 can be modelled here.
#include "podperf/core/topology.hpp"

namespace podperf::topo {

TierTime clos2_collective(const Fabric& f, Coll c, int n, double bytes, Algo algo) noexcept {
  if (c == Coll::all_to_all && n > 1 && algo != Algo::ring)
    return {all_to_all_kernel_s(f, n - 1, bytes * (n - 1) / n), Algo::direct};
  return on_nonblocking_tier(c, n, bytes, f.gb_s_per_dir * 1e9 * f.coll_eff, f.latency_us * 1e-6, f.a2a_latency_us * 1e-6, algo);
}

}  // namespace podperf::topo
