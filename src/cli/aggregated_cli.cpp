// estimate --serving aggregated: prefill and decode on the same chips under a per-step token budget,
// driven by a closed loop of clients, Poisson arrivals or an offline batch; the scenario layer runs it
// (app/scenario.hpp), this prints it.
#include <cmath>

#include "deploy_cli.hpp"
#include "podperf/app/scenario.hpp"
#include "podperf/core/aggregated.hpp"
#include "podperf/core/plan.hpp"
#include "podperf/io/serving_data.hpp"
#include "table.hpp"

namespace podperf::cli {


void print_aggregated(std::ostream& os, const Evaluation& ev, const ServingInputs& si, Json* json) {
  const System& sys = ev.sys;
  const Model& m = ev.model;
  const AggregatedServing& g = ev.agg;
  const InferenceSetup& x = g.x;
  const AggregatedEstimate& e = g.est;
  const Load ld = g.load;
  const double rate = g.rate;
  const int clients = g.clients;
  const bool scenario_rate = g.rule_rate;
  const ServiceRule& rule = g.rule;
  if (json) {  // what every aggregated result names, with or without figures
    Json& j = *json;
    j["system"] = sys.id;
    j["stack"] = sys.stack.id;
    j["model"] = m.id;
    j["serving"] = "aggregated";
    j["fits"] = e.fits();
    if (!e.fits()) j["reason"] = reason_text(e.reason);
    j["plan"] = plan_text(x.par);
  }
  if (!e.fits()) {
    if (json) return;
    os << "aggregated serving: " << m.id << " on " << sys.id << " (" << sys.stack.id << "), " << plan_text(x.par) << "\n";
    os << (e.reason == Reason::memory ? "  DOES NOT FIT: " : "  NO RESULT: ") << reason_text(e.reason) << "\n";
    return;
  }
  const AggregatedSetup& a = e.setup;
  const AggregatedResult& res = e.result;
  const int instances = e.instances;
  const double out_tps = e.output_tokens_per_s;
  const char* load = ld == Load::closed_loop ? "closed loop" : ld == Load::poisson ? "poisson" : "offline";
  if (json) {
    Json& j = *json;
    j["instances"] = instances;
    j["load"] = load;
    if (!si.scenario.empty()) j["scenario"] = si.scenario;
    if (ld == Load::poisson) j["arrival_rate"] = rate;
    if (ld == Load::closed_loop) j["clients_per_instance"] = a.concurrency;
    j["token_budget"] = a.token_budget;
    j["max_running"] = a.max_running;
    j["stable"] = res.stable;
    Json step = Json::object();
    step["a_ms"] = a.step.a_s * 1e3;
    step["b_ms_per_seq"] = a.step.b_s * 1e3;
    step["c_ms_per_prompt_token"] = a.step.c_s * 1e3;
    j["step"] = step;
    const char* p[3] = {"p50", "p90", "p99"};
    Json tt = Json::object(), tp = Json::object();
    for (int i = 0; i < 3; ++i) {
      tt[p[i]] = res.ttft_s[i] * 1e3;
      tp[p[i]] = res.tpot_s[i] * 1e3;
    }
    tt["mean"] = res.ttft_mean_s * 1e3;
    tp["mean"] = res.tpot_mean_s * 1e3;
    j["ttft_ms"] = tt;
    j["tpot_ms"] = tp;
    j["output_tokens_per_s"] = out_tps;
    j["output_tokens_per_s_per_chip"] = e.output_tokens_per_s_per_chip;
    j["input_tokens_per_s"] = res.input_tokens_per_s * instances;
    j["mean_running"] = res.mean_running;
    j["mean_step_ms"] = res.mean_step_s * 1e3;
    return;
  }
  os << "aggregated serving: " << m.id << " on " << sys.id << " (" << sys.stack.id << "), " << plan_text(x.par) << " x "
     << instances << " instance(s), " << a.token_budget << " tokens per step, at most " << a.max_running
     << " running sequences per instance (KV)\n";
  os << "  load: " << load;
  if (ld == Load::closed_loop) os << ", " << clients << " clients (" << a.concurrency << " per instance)";
  if (ld == Load::poisson) os << ", " << num(rate) << " requests/s";
  if (scenario_rate) {
    std::string bounds;  // the bounds the rule holds (a zero bound is none)
    if (rule.ttft_ms > 0) bounds += "TTFT <= " + num(rule.ttft_ms) + " ms";
    if (rule.tpot_ms > 0) {
      if (!bounds.empty()) bounds += " and ";
      bounds += "TPOT <= " + num(rule.tpot_ms) + " ms";
    }
    os << " (the highest at which p" << num(rule.percentile) << " " << bounds << ": "
       << (si.scenario.empty() ? std::string("the targets") : "MLPerf " + si.scenario) << ")";
  }
  if (ld == Load::offline) os << ", requests always waiting (the running batch at its KV cap)";
  auto lengths = [](const LengthDist& d, int mean) {
    if (d.kind == LengthDist::uniform) return num(d.lo) + "-" + num(d.hi) + " (mean " + num(mean) + ")";
    if (d.kind == LengthDist::histogram) return "a mix, mean " + num(mean);
    return num(mean);
  };
  os << "; prompts " << lengths(a.mix.input, x.seq_in) << ", outputs " << lengths(a.mix.output, x.seq_out) << " tokens\n";
  os << "  step: " << num(a.step.a_s * 1e3, 3) << " ms + " << num(a.step.b_s * 1e6, 3) << " us per running sequence + "
     << num(a.step.c_s * 1e6, 3) << " us per prompt token\n";
  if (!res.stable) os << "  overloaded: the waiting queue grows without bound at this arrival rate\n";
  Table t({"", "p50", "p90", "p99", "mean"});
  t.row({"TTFT (ms)", num(res.ttft_s[0] * 1e3), num(res.ttft_s[1] * 1e3), num(res.ttft_s[2] * 1e3), num(res.ttft_mean_s * 1e3)});
  t.row({"TPOT (ms)", num(res.tpot_s[0] * 1e3), num(res.tpot_s[1] * 1e3), num(res.tpot_s[2] * 1e3), num(res.tpot_mean_s * 1e3)});
  t.print(os);
  os << "  output tokens/s: " << num(out_tps) << " (" << num(e.output_tokens_per_s_per_chip) << " per chip), input tokens/s: "
     << num(res.input_tokens_per_s * instances) << "\n";
  os << "  running sequences " << num(res.mean_running, 3) << " per instance on average, step " << num(res.mean_step_s * 1e3, 3)
     << " ms, prompt tokens " << num(100 * res.prefill_share, 3) << " % of step tokens\n";
}

}  // namespace podperf::cli
