// The one rule for podperf's default precision: the narrowest 8-bit format the chip runs natively
// (FP8, else INT8, else BF16). Used by estimate/compare ("auto"), sweeps and claims.
#pragma once
#include "podperf/core/spec.hpp"

namespace podperf {

inline Precision native_8bit(const Chip& c) {
  return c.peak(Precision::fp8) > 0 ? Precision::fp8 : c.peak(Precision::int8) > 0 ? Precision::int8 : Precision::bf16;
}

}  // namespace podperf
