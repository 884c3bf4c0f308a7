#include "podperf/app/result.hpp"

namespace podperf {

const std::array<MetricInfo, kResultMetrics>& metric_catalogue() {
  static const std::array<MetricInfo, kResultMetrics> c = {{
      {ResultMetric::chips, "chips", "chips", 0, "chips of the system as bought"},
      {ResultMetric::busy_chips, "busy_chips", "chips", 0, "chips the workload runs on"},
      {ResultMetric::tokens_per_s, "tokens_per_s", "tokens/s", +1, "tokens/s per system"},
      {ResultMetric::tokens_per_s_per_chip, "tokens_per_s_per_chip", "tokens/s", +1, "tokens/s per chip (chips as bought)"},
      {ResultMetric::tokens_per_s_per_busy_chip, "tokens_per_s_per_busy_chip", "tokens/s", +1, "tokens/s per busy chip"},
      {ResultMetric::tokens_per_s_per_user, "tokens_per_s_per_user", "tokens/s", +1, "tokens/s per user (1 / TPOT)"},
      {ResultMetric::requests_per_s, "requests_per_s", "requests/s", +1, "requests/s (serve)"},
      {ResultMetric::tpot_ms, "tpot_ms", "ms", -1, "time per output token ms"},
      {ResultMetric::ttft_ms, "ttft_ms", "ms", -1, "time to first token ms"},
      {ResultMetric::step_time_s, "step_time_s", "s", -1, "time per step s"},
      {ResultMetric::mfu, "mfu", "fraction", +1, "model FLOPs utilisation"},
      {ResultMetric::memory_gb_per_chip, "memory_gb_per_chip", "GB", 0, "memory per chip GB"},
      {ResultMetric::batch, "batch", "sequences", 0,
       "batch: decode and serve, sequences per instance; prefill, prompts per pass; train, sequences per step"},
      {ResultMetric::instance_chips, "instance_chips", "chips", 0, "chips per instance (train: of the plan)"},
      {ResultMetric::it_power_kw, "it_power_kw", "kW", -1, "IT power under load kW"},
      {ResultMetric::avg_facility_kw, "avg_facility_kw", "kW", -1, "average facility power kW"},
      {ResultMetric::capex_usd, "capex_usd", "USD", -1, "capex USD (system + scale-out share)"},
      {ResultMetric::tco_usd_per_h, "tco_usd_per_h", "USD/h", -1, "TCO USD per hour"},
      {ResultMetric::tco_usd_per_chip_h, "tco_usd_per_chip_h", "USD/h", -1, "TCO USD per chip-hour"},
      {ResultMetric::utilization, "utilization", "fraction", 0, "utilisation (fraction of hours under load)"},
      {ResultMetric::electricity_usd_kwh, "electricity_usd_kwh", "USD/kWh", -1, "electricity USD/kWh (site)"},
      {ResultMetric::usd_per_mtok, "usd_per_mtok", "USD/Mtok", -1, "TCO USD per million tokens"},
      {ResultMetric::tokens_per_kwh, "tokens_per_kwh", "tokens/kWh", +1, "tokens per kWh (facility)"},
      {ResultMetric::tokens_per_usd, "tokens_per_usd", "tokens/USD", +1, "tokens per USD"},
      {ResultMetric::tokens_per_s_per_kw, "tokens_per_s_per_kw", "tokens/s/kW", +1, "tokens/s per kW (facility)"},
      {ResultMetric::train_run_musd, "train_run_musd", "M USD", -1, "training run M USD (train with --tokens)"},
      {ResultMetric::train_run_weeks, "train_run_weeks", "weeks", -1, "training run weeks (--tokens, failures)"},
      {ResultMetric::train_run_interruptions, "train_run_interruptions", "interruptions", -1,
       "training run interruptions (--tokens)"},
      {ResultMetric::mtbf_supernode_h, "mtbf_supernode_h", "h", +1, "MTBF of one supernode h"},
      {ResultMetric::mtbf_system_h, "mtbf_system_h", "h", +1, "MTBF of the system h"},
      {ResultMetric::interruptions_per_day, "interruptions_per_day", "1/day", -1, "interruptions per day"},
      {ResultMetric::goodput, "goodput", "fraction", +1, "goodput (fraction left after failures)"},
      {ResultMetric::good_tokens_per_s, "good_tokens_per_s", "tokens/s", +1, "tokens/s after failures"},
      {ResultMetric::good_tokens_per_kwh, "good_tokens_per_kwh", "tokens/kWh", +1, "tokens per kWh after failures"},
      {ResultMetric::good_usd_per_mtok, "good_usd_per_mtok", "USD/Mtok", -1, "USD per million tokens after failures"},
  }};
  return c;
}

bool metric_by_id(const std::string& id, ResultMetric& out) {
  for (const MetricInfo& m : metric_catalogue())
    if (id == m.id) {
      out = m.metric;
      return true;
    }
  return false;
}

}  // namespace podperf
