// Input limits shared by the loaders and the command-line flags, so that a sweep axis, a
// validation case and a flag accept the same values; they keep every int product far from wrapping.
#pragma once
#include <cmath>
#include <cstddef>
#include <string>

namespace podperf {

inline constexpr double kMaxAxisCount = 1e8;          // tp, ep, pp, batch, seq_in, seq_out, context, tpot_ms
inline constexpr double kMaxMtpTokens = 64;           // mtp draft tokens (--mtp)
inline constexpr double kMaxElectricityUsdKwh = 5;    // the hwdb's plausibility bound for a site price
inline constexpr double kMaxSweepPoints = 1e15;       // the product of a sweep's axis sizes
inline constexpr std::size_t kMaxAxisLabels = 1000;   // labels of one text axis (one HDF5 attribute)

inline constexpr double kMinMagnitude = 1e-12;        // a non-zero number nearer 0 than this is no physical figure
inline constexpr double kMinUtilization = 1e-3;       // fraction of hours under load (cost per token divides by it)
inline constexpr double kMinTargetMs = 1e-3;          // --tpot-ms, --ttft-ms and the tpot_ms axis
inline constexpr double kMaxRedundantExperts = 65536; // --redundant-experts: EPLB replicas

// The check every number passes wherever it enters (flags, --set, hwdb fields, sweep axes, Python
// arguments): "" when fine, else the complaint. Finite, and zero or at least kMinMagnitude in
// magnitude (no denormals, no 1e-300 that turns a ratio into 1e+300).
inline std::string number_problem(double x) {
  if (!std::isfinite(x)) return "must be a finite number";
  if (x != 0 && std::fabs(x) < kMinMagnitude) return "must be 0 or at least 1e-12 in magnitude";
  return "";
}

}  // namespace podperf
