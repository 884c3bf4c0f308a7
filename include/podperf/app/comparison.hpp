// Two scenarios side by side: the pipeline behind `compare`, `breakeven` and the HTML report. Each
// side is the scenario `estimate` would run on its system and site; the rows are the hardware specs
// and the scenario's result by metric id; the ratios A/B carry their 5-95 % band over the hwdb's
// ranges (Latin hypercube draws) and each side's model error (calibrate's leave-one-out residuals of
// its case class, convolved exactly with the draws), and the cost band is split into those two sources. Renderers (the CLI's table and JSON, the report) read it.
// A pair may be matched first (the smaller side scaled to the other on one quantity) and each side
// given a plan of its own.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "podperf/core/economics.hpp"
#include "podperf/io/hwdb.hpp"
#include "podperf/app/model_error.hpp"
#include "podperf/app/scenario.hpp"
#include "podperf/app/uncertainty.hpp"
#include "podperf/app/validation.hpp"

namespace podperf {

// Comparisons on equal terms: the smaller side scaled to the whole number of its systems that comes
// nearest the other side on one quantity (chips, peak all-in IT power, dense 8-bit or BF16 compute,
// capex), and a parallel plan per side.
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

// What a comparison asks: two systems (ids as the scenario runs them, SYSTEM@STACK included), one
// model and workload, the site of each side, and the draws of the bands.
struct ComparisonSpec {
  std::string a, b, model, site_a, site_b;
  std::string stack;  // the one stack both sides run ("" : each as deployed); the ids already name it
  WorkloadInputs w;
  ServingInputs serve;  // serve: the deployment both sides run (aggregated serving and its load)
  int samples = 2000;  // Monte Carlo draws (0: none)
  unsigned long seed = 1;
  bool sensitivity = false;  // the tornado of the cost ratio
  bool split = true;         // split the cost band into the hwdb ranges and the model error
  std::string match;         // "" or a MatchOn name: scale the smaller side to the other (match_pair)
  std::string plan_a, plan_b;  // per-side plans on top of `w` (apply_plan_text; flags --plan-a, --plan-b)
};

struct ComparisonSide {
  std::string id, site_id;
  std::string stack_id;   // the stack of the mode it runs
  Scenario sc;            // the side's scenario (its site: site_id)
  Evaluation ev;          // at the hwdb's central values
  std::string error_key;  // the Monte Carlo input that carries this side's model error
  ModelError err;
};

struct ComparisonRow {
  std::string key, label;
  int better = 0;  // +1 higher is better, -1 lower is better, 0 neither
  bool workload = false;  // a metric of the scenario's result (the rest: hardware specs)
  std::string unit;
};
// The rows, hardware first, then the workload metrics of the result catalogue.
const std::vector<ComparisonRow>& comparison_rows();
std::size_t comparison_row(const std::string& key);  // index of a row key (0 when unknown)
// A row's label for this mode: what the tokens count (output, input or training tokens); the 8-bit
// row names the formats counted.
std::string comparison_row_label(const ComparisonRow& r, Mode mode, const std::string& eight_bit);
// A label's "tokens" named for the mode: output tokens when serving, input tokens in prefill,
// training tokens.
std::string tokens_named(std::string label, Mode mode);
// The 8-bit format a system's figure counts (the higher of its FP8 and INT8 rates): "FP8" or "INT8".
std::string eight_bit_format(const System& s);

// The home-site reading: each system at its hwdb home site.
struct HomeReading {
  std::string site_a, site_b;
  Economics a, b;
};

struct Comparison {
  ComparisonSpec spec;
  ScenarioData data;
  Model model;
  ComparisonSide a, b;
  bool matched = false;              // spec.match given: the ids are match's
  MatchedPair match;
  std::vector<RangedInput> inputs;   // hwdb ranges of both sides, then each side's model error (the tornado's inputs)
  std::vector<RangedInput> hw;       // the hwdb ranges alone (drawn; the model errors are convolved)
  std::vector<double> va, vb;        // every row at the central values
  std::vector<Interval> ratio;       // A/B per row, central and 5-95 % band
  std::vector<Swing> tornado;        // cost-per-token ratio (spec.sensitivity)
  bool has_split = false;            // the cost band by source (samples > 0 and a cost ratio)
  Interval cost_hwdb_only, cost_model_error_only;
  int split_samples = 0;
};

// Enough draws that the 5-95 % edges move by less than 2 % between seeds: Latin hypercube draws of the
// hwdb ranges, each side's model error convolved exactly (it scales the rows, so it is not drawn). The
// rows the hardware alone gives need no deployment and take kCompareHardwareDrawsPerDraw times the
// draws. The split of the cost band into its sources is an explanation and takes fewer.
inline constexpr int kCompareSamples = 2000, kCompareSplitSamples = 1000, kCompareHardwareDrawsPerDraw = 4;

// The sides resolved and evaluated at the central values (bad input throws InputError naming the flag).
// The model error comes from `residuals` (calibrate's leave-one-out record, validation/residuals.toml);
// where that record is empty, from the current in-sample residuals of `cases`.
Comparison prepare_comparison(const ScenarioData& data, const ComparisonSpec& spec, const std::vector<ValidationCase>& cases,
                              const ResidualRecord& residuals = {});
// Every row's value for one side at a draw (the model error scales the workload rows by
// e^{comparison_error_power(row) x}, x the pick's value of side.error_key, 0 when absent).
// hardware_only: the hardware rows alone (comparison_hardware_row; the rest NaN), without evaluating
// the deployment.
std::vector<double> comparison_values(const Comparison& c, const ComparisonSide& side, const Pick& pick,
                                      Evaluation* keep = nullptr, bool hardware_only = false);
// How the model's error e (ln of the throughput factor) moves a row: x e^{power e}. Throughput up
// (+1), cost and time per token down (-1), the rest not at all.
int comparison_error_power(std::size_t row);
// A row the side's hardware alone gives, without its deployment: specs, capex (unless another system
// runs prefill), MTBF, and serving's interruptions.
bool comparison_hardware_row(std::size_t row, const ComparisonSide& side);
// Each side's model error as a factor on the ratios A/B of the rows (convolved, not drawn): on every
// row, or (only set) on that row alone as output 0.
std::vector<LogFactor> comparison_errors(const Comparison& c, std::size_t only = static_cast<std::size_t>(-1));
// The ratios and their bands, the tornado and the cost split; `tick` (may be empty) is called per draw.
// A workload row counts only the draws where both sides' workloads fit.
void run_comparison(Comparison& c, const std::function<void()>& tick = {});
// prepare_comparison and run_comparison.
Comparison make_comparison(const ScenarioData& data, const ComparisonSpec& spec, const std::vector<ValidationCase>& cases,
                           const ResidualRecord& residuals = {}, const std::function<void()>& tick = {});
// Evaluations run_comparison makes, the central one included (for a progress bar).
long comparison_draws(const Comparison& c);

HomeReading home_costs(const Comparison& c);

// A ratio's band: present, crossing 1, the central value outside it (skewed ranges); two values even.
bool has_band(const Interval& r);
bool band_crosses_one(const Interval& r);
bool point_outside_band(const Interval& r);
bool even(double a, double b);  // within half a percent: no side is better
// The side that is better on row i ("a", "b" or "" when neither is, the band crosses 1 or a value is missing).
std::string better_side(const Comparison& c, std::size_t i);

// Break-even of A against B at one draw: electricity price, capex, the two costs, utilisation of each at
// parity, the costs after failures, A's utilisation (NaN when a side has no cost).
struct Breakeven {
  std::vector<Interval> v;  // indexed by the enum below
  enum { electricity, capex, usd_a, usd_b, util_a, util_b, good_a, good_b, utilization_a, count };
};
Breakeven breakeven(const Comparison& c, int samples, unsigned long seed);

}  // namespace podperf
