// Plain-text tables for the CLI: first column left-aligned, the others right-aligned.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "podperf/app/number_text.hpp"

namespace podperf::cli {

// group_digits(): thousands separators for a plain decimal number (podperf/app/number_text.hpp).
using text::group_digits;

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

// num(): the one number format of text output (podperf/app/number_text.hpp).
using text::num;

inline std::string ratio(double a, double b) {
  if (b == 0 || a == 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", a / b);
  return buf;
}

}  // namespace podperf::cli
