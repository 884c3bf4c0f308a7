#include "podperf/core/spec.hpp"

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

double Format::bytes() const {
  switch (scaling) {
    case Scaling::mx: return bytes_per_element(p) + 1.0 / 32;  // E8M0 per 32 elements (OCP MX v1.0)
    case Scaling::nv: return bytes_per_element(p) + 1.0 / 16;  // E4M3 per 16 elements (NVFP4)
    case Scaling::none:
    case Scaling::hif: break;
  }
  return bytes_per_element(p);
}

std::string to_string(const Format& f) {
  switch (f.scaling) {
    case Scaling::mx: return std::string("mx") + to_string(f.p);
    case Scaling::nv: return std::string("nv") + to_string(f.p);
    case Scaling::hif: return "hif8";
    case Scaling::none: break;
  }
  return to_string(f.p);
}

bool parse_format(const std::string& s, Format& out) {
  Precision p;
  if (parse_precision(s, p)) { out = Format{p}; return true; }
  if (s == "mxfp8") { out = Format{Precision::fp8, Scaling::mx}; return true; }
  if (s == "mxfp4") { out = Format{Precision::fp4, Scaling::mx}; return true; }
  if (s == "nvfp4") { out = Format{Precision::fp4, Scaling::nv}; return true; }
  if (s == "hif8") { out = Format{Precision::fp8, Scaling::hif}; return true; }
  return false;
}

const char* to_string(OverlapScheme s) {
  switch (s) {
    case OverlapScheme::two_micro_batch: return "two-micro-batch";
    case OverlapScheme::two_stream: return "two-stream";
    case OverlapScheme::streams: return "streams";
  }
  return "?";
}

const char* to_string(StackRole r) { return r == StackRole::training ? "training" : "serving"; }

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
