// Collective communication over a system's topology (alpha-beta model, Hockney 1994; algorithm
// costs after Thakur, Rabenseifner & Gropp, IJHPCA 2005). A group of `ranks` is placed
// contiguously from chip 0: inside one supernode it runs on the scale-up topology; beyond, it runs
// hierarchically (scale-up phase + scale-out phase). The slowest tier crossed sets the time.
#pragma once
#include "podperf/core/spec.hpp"

namespace podperf {

enum class Coll { all_reduce, reduce_scatter, all_gather, all_to_all, broadcast, p2p };
enum class Algo { automatic, ring, tree, direct, hierarchical, in_network };
enum class Tier { scaleup, scaleout, none };

const char* to_string(Coll c);
const char* to_string(Algo a);
const char* to_string(Tier t);
bool parse_coll(const char* s, Coll& out);
bool parse_algo(const char* s, Algo& out);

// `bytes` follows nccl-tests: all-reduce and broadcast: the buffer on each rank; all-gather:
// the gathered output (each rank contributes bytes / n); reduce-scatter: the input on each rank;
// all-to-all: all bytes one rank sends (bytes / n to each peer, itself included); p2p: one message.
struct CollResult {
  double time_s = 0;
  Algo algo = Algo::automatic;
  double bus_gb_s = 0;       // nccl-tests bus bandwidth: algbw x the collective's factor
  Tier bottleneck = Tier::none;
  double scaleup_s = 0, scaleout_s = 0;  // time spent in each tier
};

// Bus-bandwidth factor of nccl-tests: 2(n-1)/n all-reduce, (n-1)/n gather/scatter/all-to-all, 1 else.
double bus_factor(Coll c, int n) noexcept;

// One collective among `ranks` ranks `stride` chips apart (a training group whose inner groups fill
// the chips between its ranks: cps / stride of its ranks share a supernode); `algo` forces an
// algorithm (Algo::automatic: the fastest). Every collective of the model composes the scale-up and
// scale-out tiers here. Precondition: 1 <= ranks, ranks x stride <= s.chips.
CollResult collective(const System& s, Coll c, int ranks, double bytes, Algo algo = Algo::automatic,
                      int stride = 1) noexcept;
// MoE dispatch (or combine) of `tokens` tokens per chip to k of the experts spread over ep chips,
// `bytes` per token copy: one all-to-all inside a supernode, the hierarchical dispatch across them.
double moe_all_to_all(const System& s, int ep, double tokens, double k, double bytes) noexcept;

// ---- Closed-form algorithm costs on one non-blocking tier: per-rank bandwidth bw (bytes/s per
// direction), per-step latency alpha (s). Exposed for tests and for the topology pieces.
namespace algo {
double ring_all_reduce(int n, double bytes, double bw, double alpha) noexcept;        // 2(n-1) a + 2(n-1)/n S/B
double tree_all_reduce(int n, double bytes, double bw, double alpha) noexcept;        // 2 ceil(log2 n) a + 2(n-1)/n S/B
double direct_all_reduce(int n, double bytes, double bw, double alpha) noexcept;      // 2 a + 2(n-1)/n S/B
double ring_gather(int n, double bytes, double bw, double alpha) noexcept;            // (n-1) a + (n-1)/n S/B
double tree_gather(int n, double bytes, double bw, double alpha) noexcept;            // ceil(log2 n) a + (n-1)/n S/B
double direct_gather(int n, double bytes, double bw, double alpha) noexcept;          // a + (n-1)/n S/B
double direct_all_to_all(int n, double bytes, double bw, double alpha) noexcept;      // a + (n-1)/n S/B
double ring_all_to_all(int n, double bytes, double bw, double alpha) noexcept;        // (n-1)(a + S/(nB))
double tree_broadcast(int n, double bytes, double bw, double alpha) noexcept;         // ceil(log2 n) a + S/B (pipelined)
}  // namespace algo

}  // namespace podperf
