// The HTML report of A against B: one self-contained page (inline CSS and SVG, no script, no
// external resource) built from the comparison model (comparison.hpp) and the scenario results, never
// from another command's printed output. It states the question (model, mode, targets, request
// shape, and per side the site, utilisation, precisions, stack and plan), gives a verdict with its
// band and what dominates the band, shows how podperf did on validation cases of the same chips, and
// draws the charts per chip. `report_json` holds every figure the page shows: each number on the
// page carries data-metric (its path in that JSON, '.'-separated) and data-value.
#pragma once
#include <string>
#include <vector>

#include "podperf/app/comparison.hpp"
#include "podperf/io/json.hpp"
#include "podperf/core/power.hpp"
#include "podperf/app/validation.hpp"

namespace podperf {

// One comparison the page shows. The first view is the question as asked; a later one (e.g. the two
// sides scaled to equal chips or power) is another pair of scenarios with its own title and note.
struct ReportViewSpec {
  std::string title, note;
  ComparisonSpec spec;
};

struct ReportRequest {
  std::vector<ReportViewSpec> views;  // at least one
  std::vector<ValidationCase> cases;  // the validation cases (the validation panel; the model error without `residuals`)
  ResidualRecord residuals;           // calibrate's leave-one-out record (the model error; empty: in-sample from `cases`)
  bool frontier = true;               // serve and decode: tokens/s per chip at a ladder of TPOT targets
};

struct ReportView {
  std::string title, note;
  Comparison c;
};

struct FrontierPoint {
  double tpot_target_ms = 0, tokens_per_s_per_user = 0, tokens_per_s_per_chip = 0;
};

// A validation case on the chip of one side: the published figure, podperf's prediction, its error.
struct ValidationRow {
  std::string side;  // "a", "b" or "ab" (both sides run this chip)
  std::string chip;  // chip id
  ValidationCase vc;
  CaseResult r;
};

struct Report {
  std::vector<ReportView> views;
  Breakeven be;                                  // of the first view
  std::vector<FrontierPoint> frontier_a, frontier_b;
  bool has_frontier = false;
  std::vector<ValidationRow> validation;
  PowerBreakdown power_a, power_b;               // peak IT power of each system, term by term
  std::vector<std::string> input_ids;            // hwdb entries behind the page (systems, chips, stacks, sites)
};

// Builds every figure of the page (bad input throws InputError naming the flag).
Report build_report(const ScenarioData& data, const ReportRequest& req);
std::string report_html(const Report& r);
Json report_json(const Report& r);

// The page's number format: 4 significant digits (%.4g), fixed below 1e7 for large values, thousands
// grouped with commas; "-" for a value that is not finite.
std::string report_number(double v, int digits = 4);

}  // namespace podperf
