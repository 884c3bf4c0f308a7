// Plain-text tables for the CLI: first column left-aligned, the others right-aligned.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

namespace podperf::cli {

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

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void section(const std::string& title) { rows_.push_back({"\x01" + title}); }
  void left_align_all() { left_all_ = true; }

  void print(std::ostream& os) const {
    std::vector<std::size_t> w(header_.size(), 0);
    auto widen = [&](const std::vector<std::string>& r) {
      if (!r.empty() && !r[0].empty() && r[0][0] == '\x01') return;
      for (std::size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], group_digits(r[i]).size());
    };
    widen(header_);
    for (auto& r : rows_) widen(r);
    auto line = [&](const std::vector<std::string>& r) {
      std::string s;
      for (std::size_t i = 0; i < w.size(); ++i) {
        const std::string c = i < r.size() ? group_digits(r[i]) : "";
        const std::string pad(w[i] - std::min(w[i], c.size()), ' ');
        s += (i == 0 || left_all_) ? c + (i + 1 < w.size() ? pad : "") : pad + c;
        if (i + 1 < w.size()) s += "  ";
      }
      while (!s.empty() && s.back() == ' ') s.pop_back();
      os << s << '\n';
    };
    line(header_);
    std::size_t total = 0;
    for (auto x : w) total += x + 2;
    os << std::string(total - 2, '-') << '\n';
    for (auto& r : rows_) {
      if (!r.empty() && !r[0].empty() && r[0][0] == '\x01') {
        os << r[0].substr(1) << '\n';
        continue;
      }
      line(r);
    }
  }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
  bool left_all_ = false;
};

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

inline std::string ratio(double a, double b) {
  if (b == 0 || a == 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", a / b);
  return buf;
}

}  // namespace podperf::cli
