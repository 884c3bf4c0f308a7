// Parsing quantities on the command line: "64MiB", "1.5GB", "2e12", "3T".
#pragma once
#include <cmath>
#include <cstdlib>
#include <string>

#include "podperf/io/error.hpp"

namespace podperf::cli {

// Decimal suffixes K M G T P (x1000) and binary KiB MiB GiB TiB (x1024); a trailing 'B' or
// 'FLOP' is allowed. Throws InputError naming the flag for anything else, and for values <= 0
// or not finite.
inline double parse_quantity(const std::string& text, const std::string& flag) {
  const char* s = text.c_str();
  char* end = nullptr;
  double v = std::strtod(s, &end);
  std::string suffix(end);
  struct Unit { const char* name; double mult; };
  static const Unit units[] = {{"", 1}, {"B", 1}, {"K", 1e3}, {"KB", 1e3}, {"M", 1e6}, {"MB", 1e6},
                               {"G", 1e9}, {"GB", 1e9}, {"T", 1e12}, {"TB", 1e12}, {"P", 1e15},
                               {"PB", 1e15}, {"KiB", 1024.0}, {"MiB", 1048576.0},
                               {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}};
  if (end == s) throw InputError("flag " + flag + ": '" + text + "' is not a number");
  for (const char* tail : {"FLOPs", "FLOP", "flops"})
    if (suffix.size() >= std::string(tail).size() &&
        suffix.compare(suffix.size() - std::string(tail).size(), std::string::npos, tail) == 0)
      suffix.erase(suffix.size() - std::string(tail).size());
  for (auto& u : units)
    if (suffix == u.name) {
      v *= u.mult;
      if (!std::isfinite(v) || v <= 0) throw InputError("flag " + flag + ": must be > 0 and finite (got " + text + ")");
      return v;
    }
  throw InputError("flag " + flag + ": unknown unit '" + suffix + "' in '" + text +
                   "' (use K, M, G, T, P or KiB, MiB, GiB, TiB)");
}

}  // namespace podperf::cli
