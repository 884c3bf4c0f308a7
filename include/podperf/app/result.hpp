// The result model: a named catalogue of metrics (id, unit, which direction is better, what it
// means) and a Result that holds a scenario's figures by metric id. Every mode fills throughput,
// latency, power, cost and reliability; a figure that does not apply (or a workload that does not
// fit) is NaN. Renderers (text tables, JSON, CSV, the report, claims, Python) read values by id.
#pragma once
#include <array>
#include <cmath>
#include <string>

namespace podperf {

enum class ResultMetric {
  chips,                    // chips of the system(s) as bought
  busy_chips,               // chips the workload runs on
  tokens_per_s,             // whole system (serve and decode: output tokens)
  tokens_per_s_per_chip,    // over the chips as bought
  tokens_per_s_per_busy_chip,
  tokens_per_s_per_user,
  requests_per_s,
  tpot_ms, ttft_ms, step_time_s, mfu, memory_gb_per_chip,
  batch, instance_chips,
  it_power_kw,              // IT power under load (chips at their activity, idle chips idle)
  avg_facility_kw,          // average over loaded and idle hours, IT x PUE
  capex_usd, tco_usd_per_h, tco_usd_per_chip_h, utilization, electricity_usd_kwh,
  usd_per_mtok, tokens_per_kwh, tokens_per_usd, tokens_per_s_per_kw, train_run_musd,
  train_run_weeks, train_run_interruptions,  // train with tokens to train (training_run.hpp)
  mtbf_supernode_h, mtbf_system_h, interruptions_per_day, goodput,
  good_tokens_per_s, good_tokens_per_kwh, good_usd_per_mtok,
  count
};
inline constexpr int kResultMetrics = static_cast<int>(ResultMetric::count);

struct MetricInfo {
  ResultMetric metric;
  const char* id;           // JSON key and CSV/HDF5 column name
  const char* unit;
  int better;               // +1 higher is better, -1 lower is better, 0 neither
  const char* description;  // the label of text tables
};
// The catalogue, in ResultMetric order.
const std::array<MetricInfo, kResultMetrics>& metric_catalogue();
inline const MetricInfo& info(ResultMetric m) { return metric_catalogue()[static_cast<std::size_t>(m)]; }
// The metric with this id; false when none.
bool metric_by_id(const std::string& id, ResultMetric& out);

struct Result {
  std::array<double, kResultMetrics> v;
  Result() { v.fill(std::nan("")); }
  double operator[](ResultMetric m) const { return v[static_cast<std::size_t>(m)]; }
  double& operator[](ResultMetric m) { return v[static_cast<std::size_t>(m)]; }
};

}  // namespace podperf
