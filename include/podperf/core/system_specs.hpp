// The side-by-side spec sheet of a system: sums over its chips and fabrics.
#pragma once
#include <array>

#include "podperf/core/power.hpp"
#include "podperf/core/spec.hpp"

namespace podperf {

struct SystemSpecs {
  int chips = 0;
  std::array<double, kPrecisions> dense_pflops{};  // 0 where the chip has no native support
  double hbm_tb = 0;
  double hbm_tb_s = 0;
  double scaleup_tb_s_per_dir = 0;   // sum over chips, per direction
  double scaleout_tbit_s_per_dir = 0;
  double racks = 0;
  PowerBreakdown peak;               // all-in IT power at TDP
  double all_in_kw() const { return peak.total_w() / 1000; }
};

SystemSpecs system_specs(const System& s);

}  // namespace podperf
