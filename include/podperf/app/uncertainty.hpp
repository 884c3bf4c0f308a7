// Propagating the hwdb's ranges to any output: Monte Carlo over every ranged input of the entities
// involved (triangular distribution: low, the central value as mode, high), and a one-at-a-time
// sensitivity (tornado) list. The output is any function of a Pick (which builds the specs).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "podperf/io/hwdb.hpp"

namespace podperf {

struct RangedInput {
  std::string key;  // "<id>:<section.field>"
  double low = 0, central = 0, high = 0;
  std::string unit, source_kind;
};

// The hwdb ids a system depends on: the system (or cluster and its system) and its chip.
std::vector<std::string> entities_of_system(const Hwdb& db, const std::string& system_id);
std::vector<RangedInput> ranged_inputs(const Hwdb& db, const std::vector<std::string>& ids);

struct Interval {
  double central = 0;     // at the central values
  double low = 0, high = 0;  // 5th and 95th percentiles of the draws (with the log factors convolved in)
  double positive = 0;       // fraction of finite draws above zero
  int samples = 0, failed = 0;  // draws run, draws with no finite result
};

using Metric = std::function<double(const Pick&)>;

// f is called from several threads at once (OpenMP), one draw per call: it must only read shared
// state. The result is the same for any thread count.
Interval monte_carlo(const std::vector<RangedInput>& inputs, int samples, std::uint64_t seed, const Metric& f);

// Many outputs from the same draws (f returns one value per output, the same count every call).
std::vector<Interval> monte_carlo(const std::vector<RangedInput>& inputs, int samples, std::uint64_t seed,
                                  const std::function<std::vector<double>(const Pick&)>& f);

// An uncertain input whose whole effect is a factor exp(power[k] x) on output k, x triangular on
// [low, high] with mode `central` (a model error in log space). It is not drawn: the distribution of
// the factors is convolved exactly with the draws of the other inputs (conditional Monte Carlo), so
// it adds no sampling noise to the band edges. f is called without it (as if x were 0).
struct LogFactor {
  RangedInput input;
  std::vector<int> power;  // per output; missing entries are 0
};
std::vector<Interval> monte_carlo(const std::vector<RangedInput>& inputs, int samples, std::uint64_t seed,
                                  const std::function<std::vector<double>(const Pick&)>& f,
                                  const std::vector<LogFactor>& factors);
Interval monte_carlo(const std::vector<RangedInput>& inputs, int samples, std::uint64_t seed, const Metric& f,
                     const std::vector<LogFactor>& factors);

struct Swing {
  RangedInput input;
  double at_low = 0, at_high = 0;
  double span() const;
};
// Each ranged input at its low and high end, the rest central; sorted by |at_high - at_low|.
std::vector<Swing> sensitivity(const std::vector<RangedInput>& inputs, const Metric& f);

}  // namespace podperf
