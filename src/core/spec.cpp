#include "podperf/spec.hpp"

namespace podperf {

const char* to_string(Precision p) {
  switch (p) {
    case Precision::fp4: return "fp4";
    case Precision::fp8: return "fp8";
    case Precision::int8: return "int8";
    case Precision::bf16: return "bf16";
    case Precision::fp32: return "fp32";
  }
  return "?";
}

bool parse_precision(const std::string& s, Precision& out) {
  for (int i = 0; i < kPrecisions; ++i)
    if (s == to_string(static_cast<Precision>(i))) { out = static_cast<Precision>(i); return true; }
  if (s == "fp16") { out = Precision::bf16; return true; }
  return false;
}

double bytes_per_element(Precision p) {
  switch (p) {
    case Precision::fp4: return 0.5;
    case Precision::fp8:
    case Precision::int8: return 1;
    case Precision::bf16: return 2;
    case Precision::fp32: return 4;
  }
  return 2;
}

const char* to_string(Topology t) {
  switch (t) {
    case Topology::switch1: return "switch";
    case Topology::clos2: return "clos2";
    case Topology::fullmesh: return "fullmesh";
    case Topology::clos: return "clos";
  }
  return "?";
}

}  // namespace podperf
