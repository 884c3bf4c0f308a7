// "Did you mean": the closest known name to a misspelt one, by edit distance (Levenshtein, with a swap of
// two neighbouring letters counted as one edit: the optimal-string-alignment distance), with
// a bonus for a known name that contains the given one or the reverse ("gb200" -> "gb200-nvl72"), the
// largest for a known name that begins with the given one ("--tpot" -> "--tpot-ms" before "--tp").
#pragma once
#include <algorithm>
#include <string>
#include <vector>

namespace podperf {

inline std::size_t edit_distance(const std::string& a, const std::string& b) {
  // Three rows of the dynamic programme: the one two letters back holds the swap's predecessor.
  std::vector<std::size_t> back(b.size() + 1), prev(b.size() + 1), row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      row[j] = std::min({prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) row[j] = std::min(row[j], back[j - 2] + 1);
    }
    std::swap(back, prev);
    std::swap(prev, row);
  }
  return prev[b.size()];
}

// The known name closest to `given`, or "" when none is close (distance above a quarter of the
// longer name, or as long as the shorter one, and no containment).
inline std::string closest(const std::string& given, const std::vector<std::string>& known) {
  std::string best;
  std::size_t best_d = static_cast<std::size_t>(-1), best_raw = best_d;
  for (const auto& k : known) {
    const std::size_t raw = edit_distance(given, k);
    std::size_t d = raw;
    const bool contains = given.size() >= 3 && (k.find(given) != std::string::npos || given.find(k) != std::string::npos);
    if (contains) d = std::min(d, std::size_t{1});
    if (contains && k.size() > given.size() && k.compare(0, given.size(), given) == 0) d = 0;  // "--tpot" -> "--tpot-ms"
    const std::size_t limit = std::max<std::size_t>(1, std::max(given.size(), k.size()) / 4);
    // Among equally close names, the one fewest edits away ("sglang-hoper" -> "sglang-hopper", not
    // the "sglang" it contains).
    if (((d <= limit && d < std::min(given.size(), k.size())) || contains) && (d < best_d || (d == best_d && raw < best_raw))) {
      best_d = d;
      best_raw = raw;
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
