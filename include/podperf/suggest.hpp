// "Did you mean": the closest known name to a misspelt one, by edit distance (Levenshtein), with
// a bonus for a known name that contains the given one or the reverse ("gb200" -> "gb200-nvl72").
#pragma once
#include <algorithm>
#include <string>
#include <vector>

namespace podperf {

inline std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The known name closest to `given`, or "" when none is close (distance above a quarter of the
// longer name, or as long as the shorter one, and no containment).
inline std::string closest(const std::string& given, const std::vector<std::string>& known) {
  std::string best;
  std::size_t best_d = static_cast<std::size_t>(-1);
  for (const auto& k : known) {
    std::size_t d = edit_distance(given, k);
    const bool contains = given.size() >= 3 && (k.find(given) != std::string::npos || given.find(k) != std::string::npos);
    if (contains) d = std::min(d, std::size_t{1});
    const std::size_t limit = std::max<std::size_t>(1, std::max(given.size(), k.size()) / 4);
    if (((d <= limit && d < std::min(given.size(), k.size())) || contains) && d < best_d) {
      best_d = d;
      best = k;
    }
  }
  return best;
}

// " (did you mean 'x'?)" or "".
inline std::string did_you_mean(const std::string& given, const std::vector<std::string>& known) {
  const std::string c = closest(given, known);
  return c.empty() ? "" : " (did you mean '" + c + "'?)";
}

}  // namespace podperf
