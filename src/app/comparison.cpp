// Comparisons on equal terms (include/podperf/comparison.hpp): matching the smaller side to the
// larger on one quantity, and a parallel plan per side.
#include "podperf/comparison.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <set>

#include "podperf/cost.hpp"
#include "podperf/error.hpp"
#include "podperf/system_specs.hpp"
#include "table.hpp"

namespace podperf {

bool parse_match(const std::string& text, MatchOn& out) {
  for (MatchOn m : {MatchOn::chips, MatchOn::power, MatchOn::fp8, MatchOn::bf16, MatchOn::capex})
    if (text == to_string(m)) {
      out = m;
      return true;
    }
  return false;
}

const char* to_string(MatchOn m) {
  switch (m) {
    case MatchOn::chips: return "chips";
    case MatchOn::power: return "power";
    case MatchOn::fp8: return "fp8";
    case MatchOn::bf16: return "bf16";
    case MatchOn::capex: return "capex";
  }
  return "";
}

const char* match_unit(MatchOn m) {
  switch (m) {
    case MatchOn::chips: return "chips";
    case MatchOn::power: return "kW";
    case MatchOn::fp8:
    case MatchOn::bf16: return "PFLOPS";
    case MatchOn::capex: return "USD";
  }
  return "";
}

double match_quantity(const System& s, MatchOn m) {
  if (m == MatchOn::chips) return s.chips;
  if (m == MatchOn::capex) return capex_usd(s);
  const SystemSpecs sp = system_specs(s);
  if (m == MatchOn::power) return sp.all_in_kw();
  if (m == MatchOn::bf16) return sp.dense_pflops[static_cast<int>(Precision::bf16)];
  return std::max(sp.dense_pflops[static_cast<int>(Precision::fp8)], sp.dense_pflops[static_cast<int>(Precision::int8)]);
}

namespace {
// A side's id in parts: [N x]UNIT[:os=R][@STACK].
struct SideId {
  std::string given, unit, os, stack;
  int count = 1;
  bool composite = false;  // written NxUNIT
  bool cluster = false;    // a cluster from hwdb/clusters
};

SideId split_id(const Hwdb& db, const std::string& id) {
  SideId s;
  s.given = id;
  std::string core = id;
  if (const auto at = id.rfind('@'); at != std::string::npos) {
    core = id.substr(0, at);
    s.stack = id.substr(at + 1);
  }
  s.unit = core;
  if (db.systems.count(core)) return s;
  if (db.clusters.count(core)) {
    s.cluster = true;
    return s;
  }
  static const std::regex multi("^([0-9]+)x([a-z0-9-]+)(:os=[^:]*)?$");
  std::smatch m;
  if (std::regex_match(core, m, multi) && db.systems.count(m[2].str()) && m[1].length() <= 6) {
    s.unit = m[2].str();
    s.count = static_cast<int>(std::strtol(m[1].str().c_str(), nullptr, 10));
    s.os = m[3].str();
    s.composite = true;
  }
  return s;
}

std::string composite_id(const SideId& s, int n) {
  if (n == s.count && !s.composite) return s.given;
  return std::to_string(n) + "x" + s.unit + s.os + (s.stack.empty() ? "" : "@" + s.stack);
}

std::string amount(double v, MatchOn m) {
  using cli::num;
  switch (m) {
    case MatchOn::chips: return num(v, 6) + " chips";
    case MatchOn::power: return v >= 1000 ? num(v / 1000, 3) + " MW" : num(v, 3) + " kW";
    case MatchOn::fp8: return num(v, 4) + " dense 8-bit PFLOPS";
    case MatchOn::bf16: return num(v, 4) + " dense BF16 PFLOPS";
    case MatchOn::capex: return num(v / 1e6, 4) + " M USD";
  }
  return "";
}
}  // namespace

std::string MatchedPair::summary() const {
  return std::string("matched on ") + to_string(on) + ": " + std::to_string(count_a) + " x " + unit_a + " vs " +
         std::to_string(count_b) + " x " + unit_b + " (" + amount(quantity_a, on) + " vs " + amount(quantity_b, on) + ")";
}

MatchedPair match_pair(const Hwdb& db, const std::string& a, const std::string& b, MatchOn on, const std::string& flag) {
  const SideId sa = split_id(db, a), sb = split_id(db, b);
  MatchedPair p;
  p.on = on;
  p.a = a;
  p.b = b;
  p.unit_a = sa.unit;
  p.unit_b = sb.unit;
  p.count_a = sa.count;
  p.count_b = sb.count;
  const double qa = match_quantity(db.system(a), on), qb = match_quantity(db.system(b), on);
  for (auto [q, id] : {std::pair{qa, &a}, std::pair{qb, &b}})
    if (!(q > 0) || !std::isfinite(q))
      throw InputError("flag " + flag + ": '" + *id + "' has no " + to_string(on) + " figure to match on (" +
                       cli::num(q) + " " + match_unit(on) + ")");
  p.quantity_a = qa;
  p.quantity_b = qb;
  if (qa == qb) return p;
  const bool scale_a = qa < qb;
  const SideId& s = scale_a ? sa : sb;
  const double target = scale_a ? qb : qa;
  if (s.cluster)
    throw InputError("flag " + flag + ": '" + s.given + "' is a cluster and the smaller side on " + to_string(on) +
                     "; give its system as NxSYSTEM to scale it");
  // The total of n units, as the hwdb builds "nxUNIT" (its scale-out network included).
  auto total = [&](int n) { return match_quantity(db.system(std::to_string(n) + "x" + s.unit + s.os), on); };
  const double one = total(1);
  const double guess = target / one;
  if (!(guess < 100000))
    throw InputError("flag " + flag + ": matching '" + s.given + "' would take more than 100,000 of '" + s.unit + "'");
  const int lo = std::max(1, static_cast<int>(std::floor(guess)) - 1), hi = std::max(1, static_cast<int>(std::ceil(guess)) + 1);
  int best = lo;
  double best_gap = std::abs(total(lo) - target), best_q = total(lo);
  for (int n = lo + 1; n <= hi; ++n) {
    const double q = total(n), gap = std::abs(q - target);
    if (gap <= best_gap) {  // a tie goes to the larger count
      best = n;
      best_gap = gap;
      best_q = q;
    }
  }
  const std::string id = composite_id(s, best);
  const double q = id == s.given ? (scale_a ? qa : qb) : best_q;
  if (scale_a) {
    p.a = id, p.count_a = best, p.scaled_a = true, p.quantity_a = q;
  } else {
    p.b = id, p.count_b = best, p.scaled_b = true, p.quantity_b = q;
  }
  return p;
}

void apply_plan_text(WorkloadInputs& w, const std::string& text, const std::string& flag) {
  struct Key {
    const char* name;
    int WorkloadInputs::*field;
  };
  static const Key keys[] = {{"tp", &WorkloadInputs::tp},
                             {"dp", &WorkloadInputs::dp},
                             {"ep", &WorkloadInputs::ep},
                             {"pp", &WorkloadInputs::pp},
                             {"cp", &WorkloadInputs::cp},
                             {"batch", &WorkloadInputs::batch},
                             {"prefill-tp", &WorkloadInputs::prefill_tp},
                             {"prefill-dp", &WorkloadInputs::prefill_dp},
                             {"prefill-ep", &WorkloadInputs::prefill_ep},
                             {"prefill-pp", &WorkloadInputs::prefill_pp}};
  const std::string known = "tp, dp, ep, pp, cp, batch, prefill-tp, prefill-dp, prefill-ep, prefill-pp";
  if (text.find_first_not_of(" \t") == std::string::npos)
    throw InputError("flag " + flag + ": empty plan (give KEY=N pairs, e.g. tp=8,ep=144)");
  std::set<std::string> seen;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    start = comma + 1;
    const auto eq = item.find('=');
    if (eq == std::string::npos)
      throw InputError("flag " + flag + ": '" + item + "' is not KEY=N (keys: " + known + "; e.g. tp=8,ep=144)");
    std::string key = item.substr(0, eq);
    std::replace(key.begin(), key.end(), '_', '-');
    const std::string value = item.substr(eq + 1);
    const Key* k = nullptr;
    for (const Key& x : keys)
      if (key == x.name) k = &x;
    if (!k) throw InputError("flag " + flag + ": unknown key '" + key + "' (keys: " + known + ")");
    if (!seen.insert(key).second) throw InputError("flag " + flag + ": '" + key + "' given twice");
    char* end = nullptr;
    const long v = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || v < 1 || v > 100000000 || value.find_first_not_of("0123456789") != std::string::npos)
      throw InputError("flag " + flag + ": " + key + " must be a whole number in [1, 100000000] (got '" + value + "')");
    w.*(k->field) = static_cast<int>(v);
  }
}

}  // namespace podperf
