// Two systems compared on equal terms: the smaller side scaled to the whole number of its systems
// that comes nearest the other side on one quantity (chips, peak all-in IT power, dense 8-bit or BF16
// compute, capex), and a parallel plan per side. compare and the report both call these.
#pragma once
#include <string>

#include "podperf/hwdb.hpp"
#include "podperf/scenario.hpp"

namespace podperf {

enum class MatchOn { chips, power, fp8, bf16, capex };

// "chips" | "power" | "fp8" | "bf16" | "capex"; false for anything else.
bool parse_match(const std::string& text, MatchOn& out);
const char* to_string(MatchOn m);
// The unit a quantity is counted in ("chips", "kW", "PFLOPS", "USD").
const char* match_unit(MatchOn m);

// A system's total of the quantity: chips; peak all-in IT power kW (chips at TDP, hosts, switches,
// optics, overhead: the compare table's all-in row); dense 8-bit PFLOPS (FP8, else INT8, as the
// compare table's 8-bit row); dense BF16 PFLOPS; capex USD (system and its scale-out share).
double match_quantity(const System& s, MatchOn m);

// The pair after matching. The side with the smaller total is scaled: its unit is the system it is
// (or N x that system, for an NxSYSTEM id), and its count the whole number n >= 1 of units whose
// total comes nearest the other side's total (|Q(n) - Q(other)| least, with Q(n) the total of
// "nxUNIT" as the hwdb builds it; a tie goes to the larger count). The larger side is unchanged.
struct MatchedPair {
  MatchOn on = MatchOn::chips;
  std::string a, b;                // the ids to run (NxUNIT[:os=R][@STACK] on the scaled side)
  std::string unit_a, unit_b;      // the unit system of each side (SYSTEM, without count or stack)
  int count_a = 1, count_b = 1;    // units on each side after matching
  bool scaled_a = false, scaled_b = false;
  double quantity_a = 0, quantity_b = 0;  // each side's total after matching, in match_unit(on)
  // The one line a front end prints: "matched on power: 1 x A vs 114 x B (16.3 MW vs 16.4 MW)".
  std::string summary() const;
};

// Matches a and b (system ids as the command line takes them: SYSTEM, NxSYSTEM[:os=R], either with
// @STACK). Bad input (InputError naming `flag`): a side that is a cluster from hwdb/clusters and
// would have to be scaled, or a quantity of zero on either side (e.g. no 8-bit units).
MatchedPair match_pair(const Hwdb& db, const std::string& a, const std::string& b, MatchOn on,
                       const std::string& flag = "--match");

// A per-side plan, "tp=8,ep=144" (keys tp, dp, ep, pp, cp, batch, prefill-tp, prefill-dp, prefill-ep,
// prefill-pp; whole numbers >= 1, each key once), set on top of `w`. Bad text: InputError naming `flag`.
void apply_plan_text(WorkloadInputs& w, const std::string& text, const std::string& flag);

}  // namespace podperf
