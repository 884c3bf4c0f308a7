// Public claims about quantity-for-quality, shipped as data (configs/claims/*.toml) and checked
// against the hwdb and the model. A claim states a quantity (a ratio A/B, or a break-even price
// against a site's price) and the relation the sentence implies; each of its readings (precision,
// dies vs packages, figure set, workload) computes that quantity. Nothing is hard-coded: change an
// hwdb figure and the verdict follows.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "podperf/app/result.hpp"
#include "podperf/app/scenario.hpp"
#include "podperf/app/uncertainty.hpp"
#include "podperf/io/hwdb.hpp"
#include "podperf/io/models.hpp"

namespace podperf {

enum class Relation { about, at_least, at_most };

struct ClaimReading {
  std::string label;
  std::string metric;       // see docs/claims.md
  std::string a, b;         // overrides of the claim's A and B
  std::string figures;      // figure set to apply ("" = the shipped hwdb)
  double b_factor = 1;      // multiplies B's figure (e.g. 2 for a 2:4-sparse rate)
  // Workload readings (tokens_per_s_per_chip, breakeven_electricity, energy_cost_ratio) are
  // scenarios: each system evaluated as `estimate` evaluates it with these inputs.
  std::string model, mode = "decode";
  std::string weights_a, weights_b;
  double tpot_ms = 0;
  int seq_in = defaults::seq_in, seq_out = defaults::seq_out, seq = 0;  // seq 0: the model's training length
  std::string site_a, site_b;
  // Operating points of A and B (0 = the hwdb's): utilisation of the site, die yield of the chip.
  double utilization_a = 0, utilization_b = 0, yield_a = 0, yield_b = 0;
  // Supply readings (metrics supply_*, A and B are hwdb/supply ids): inputs changed for A and for B,
  // each "SECTION.FIELD=VALUE" (docs/supply.md).
  std::vector<std::string> supply_set_a, supply_set_b;
};

struct Claim {
  std::string id, sentence, source, file, quantity;
  std::string a, b;
  double claimed = 1;
  Relation relation = Relation::about;
  double tolerance = 0.15;
  std::vector<ClaimReading> readings;
};

std::vector<Claim> load_claims(const std::string& dir);

struct ReadingResult {
  std::string label;
  double value = 0;         // the quantity this reading computes
  Interval range;           // over the hwdb ranges
  bool holds = false;
  std::string note;         // why there is no value
  // A workload reading: the figures of A and of B at the hwdb's values (B absent where the metric
  // reads A alone).
  bool has_a = false, has_b = false;
  Result a, b;
};

struct ClaimResult {
  std::vector<ReadingResult> readings;
  std::string verdict;      // holds | holds only under ... | does not hold
  std::string reason;       // one line
};

// `hwdb_for(figures)` returns the hwdb with a figure set applied ("" = the shipped one); `data` the
// models and recipes a workload reading's scenario resolves against; `pick` overrides hwdb values
// (tests make a claim flip with it); `samples` Monte Carlo draws (0 = none).
ClaimResult evaluate_claim(const Claim& c, const std::function<const Hwdb&(const std::string&)>& hwdb_for,
                           const ScenarioData& data, const Pick& pick, int samples, unsigned long seed);

}  // namespace podperf
