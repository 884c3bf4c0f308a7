// Input limits shared by the loaders and the command-line flags, so that a sweep axis, a
// validation case and a flag accept the same values; they keep every int product far from wrapping.
#pragma once
#include <cstddef>

namespace podperf {

inline constexpr double kMaxAxisCount = 1e8;          // tp, ep, pp, batch, seq_in, seq_out, context, tpot_ms
inline constexpr double kMaxMtpTokens = 64;           // mtp draft tokens (--mtp)
inline constexpr double kMaxElectricityUsdKwh = 5;    // the hwdb's plausibility bound for a site price
inline constexpr double kMaxSweepPoints = 1e15;       // the product of a sweep's axis sizes
inline constexpr std::size_t kMaxAxisLabels = 1000;   // labels of one text axis (one HDF5 attribute)

}  // namespace podperf
