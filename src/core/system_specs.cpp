#include "podperf/core/system_specs.hpp"

namespace podperf {

SystemSpecs system_specs(const System& s) {
  SystemSpecs r;
  r.chips = s.chips;
  for (int i = 0; i < kPrecisions; ++i) r.dense_pflops[i] = s.chips * s.chip.dense_tflops[i] / 1000;
  r.hbm_tb = s.chips * s.chip.hbm_gb / 1000;
  r.hbm_tb_s = s.chips * s.chip.hbm_tb_s;
  r.scaleup_tb_s_per_dir = s.chips * s.scaleup.gb_s_per_dir / 1000;
  r.scaleout_tbit_s_per_dir = s.chips * s.scaleout.gb_s_per_dir * 8 / 1000;
  r.racks = s.racks;
  r.peak = peak_power(s);
  return r;
}

}  // namespace podperf
