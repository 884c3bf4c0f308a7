// The one number format of text output (the CLI's tables and lines, the app's one-line summaries):
// significant digits, thousands grouped, never an exponent. Header-only; the CLI's table.hpp brings
// both into podperf::cli.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace podperf::text {

// "1234567.8" -> "1,234,567.8": thousands separators for a cell that is a plain decimal number with
// four or more integer digits; any other text is returned as is.
inline std::string group_digits(const std::string& s) {
  const std::size_t i = !s.empty() && s[0] == '-' ? 1 : 0;
  std::size_t j = i;
  while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
  if (j - i < 4) return s;
  if (j < s.size()) {
    if (s[j] != '.') return s;
    for (std::size_t k = j + 1; k < s.size(); ++k)
      if (s[k] < '0' || s[k] > '9') return s;
  }
  std::string out = s.substr(0, i);
  for (std::size_t k = i; k < j; ++k) {
    out += s[k];
    if (k + 1 < j && (j - k - 1) % 3 == 0) out += ',';
  }
  return out + s.substr(j);
}

// The one number format of text output: `digits` significant digits, thousands grouped, never an
// exponent ("1,229", "0.0312", "14,010,000", "0.000123"). Integers below 10^7 keep every digit
// ("15,488" chips); larger magnitudes round to `digits` significant digits.
inline std::string num(double v, int digits = 4) {
  char buf[400];
  if (!std::isfinite(v) || v == 0) {
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
  }
  const double a = std::abs(v);
  const int mag = static_cast<int>(std::floor(std::log10(a)));
  if (a >= 1e7) {
    const double q = std::pow(10.0, mag - digits + 1);
    std::snprintf(buf, sizeof buf, "%.0f", std::round(v / q) * q);
  } else if (a >= std::pow(10.0, digits)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else if (a < 1e-3) {
    std::snprintf(buf, sizeof buf, "%.*f", std::min(30, digits - 1 - mag), v);
    std::string s = buf;
    if (s.find('.') != std::string::npos) {
      while (s.back() == '0') s.pop_back();
      if (s.back() == '.') s.pop_back();
    }
    return s;
  } else {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::string(buf).find('e') != std::string::npos) std::snprintf(buf, sizeof buf, "%.0f", v);  // 9999.7 -> 10000
  }
  return group_digits(buf);
}

}  // namespace podperf::text
