// estimate --serving aggregated: prefill and decode on the same chips under a per-step token budget,
// driven by a closed loop of clients, Poisson arrivals or an offline batch (flags, checks, output).
#include <cmath>

#include "deploy_cli.hpp"
#include "podperf/app/scenario.hpp"
#include "podperf/core/aggregated.hpp"
#include "podperf/core/plan.hpp"
#include "podperf/io/serving_data.hpp"
#include "table.hpp"
#include "json_output.hpp"

namespace podperf::cli {


void run_aggregated(std::ostream& os, const System& sys, const Model& m, const WorkloadFlags& f, const DeployFlags& df,
                    const AggregatedFlags& af, const std::string& configs_dir, bool json) {
  if (!df.pd_split.empty())
    throw InputError("flag --pd-split: not with --serving aggregated (prefill and decode share every chip)");
  if (!df.prefill_system.empty()) throw InputError("flag --prefill-system: not with --serving aggregated");
  if (af.concurrency_given && af.concurrency < 1)
    throw InputError("flag --concurrency: must be a whole number >= 1 (got " + std::to_string(af.concurrency) + ")");
  if (af.budget_given && af.token_budget < 1)
    throw InputError("flag --chunk-tokens: must be a whole number >= 1 tokens per step (got " +
                     std::to_string(af.token_budget) + ")");
  const bool rate_given = df.arrival_opt && df.arrival_opt->count() > 0;
  if (rate_given && (!(df.arrival_rate > 0) || !std::isfinite(df.arrival_rate)))
    throw InputError("flag --arrival-rate: must be > 0 requests/s (got " + num(df.arrival_rate) + ")");
  if (rate_given && af.concurrency_given)
    throw InputError("flag --arrival-rate: not with --concurrency (a closed loop sets its own rate)");
  if (f.seq_out < 1) throw InputError("flag --seq-out: must be >= 1");

  // The instance: the decode plan (given, or the default serving plan) and its precisions.
  WorkloadFlags fd = f;
  fd.mode = "decode";
  fd.batch = 0;
  fd.tpot_ms = 0;
  const WorkloadRequest r = resolve_workload(sys, m, fd);
  if (f.tp || f.dp || f.ep || f.pp) reject_impossible(sys, m, r, &f);
  const InferenceSetup& x = r.infer;
  const int clients = af.concurrency_given ? af.concurrency : 0;
  // An MLPerf scenario: offline, or the highest Poisson rate whose p99 TTFT and TPOT meet its rule.
  ServiceRule rule;
  double rate = df.arrival_rate;
  bool scenario_rate = false;
  if (!df.scenario.empty()) {
    if (rate_given || af.concurrency_given)
      throw InputError("flag --scenario: not with --arrival-rate or --concurrency (the scenario sets the load)");
    rule = load_scenario(df.scenario, m.id, configs_dir);
    if (!rule.offline) {
      const AggregatedEstimate off = estimate_aggregated(sys, m, x, Load::offline, 0, 0, af.budget_given ? af.token_budget : 0);
      if (off.fits()) {
        rate = aggregated_capacity(off.setup, rule) * off.instances;
        scenario_rate = true;
        if (!(rate > 0))
          throw InputError("flag --scenario: no arrival rate meets the " + rule.name + " rule on " + sys.id +
                           " (p99 TTFT <= " + num(rule.ttft_ms) + " ms, TPOT <= " + num(rule.tpot_ms) + " ms)");
      }
    }
  }
  const Load ld = rate_given || scenario_rate ? Load::poisson : clients > 0 ? Load::closed_loop : Load::offline;
  const AggregatedEstimate e =
      estimate_aggregated(sys, m, x, ld, clients, rate, af.budget_given ? af.token_budget : 0);
  if (!e.fits())
    throw InputError(std::string("--serving aggregated: ") + reason_text(e.reason) + " (" + plan_text(x.par) + " on " + sys.id + ")");
  const AggregatedSetup& a = e.setup;
  const AggregatedResult& res = e.result;
  const int instances = e.instances;
  const double out_tps = e.output_tokens_per_s;
  const char* load = ld == Load::closed_loop ? "closed loop" : ld == Load::poisson ? "poisson" : "offline";
  if (json) {
    Json j = Json::object();
    j["system"] = sys.id;
    j["stack"] = sys.stack.id;
    j["model"] = m.id;
    j["serving"] = "aggregated";
    j["fits"] = true;
    j["plan"] = plan_text(x.par);
    j["instances"] = instances;
    j["load"] = load;
    if (!df.scenario.empty()) j["scenario"] = df.scenario;
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
    write_json(os, j);
    return;
  }
  os << "aggregated serving: " << m.id << " on " << sys.id << " (" << sys.stack.id << "), " << plan_text(x.par) << " x "
     << instances << " instance(s), " << a.token_budget << " tokens per step, at most " << a.max_running
     << " running sequences per instance (KV)\n";
  os << "  load: " << load;
  if (ld == Load::closed_loop) os << ", " << clients << " clients (" << a.concurrency << " per instance)";
  if (ld == Load::poisson) os << ", " << num(rate) << " requests/s";
  if (scenario_rate)
    os << " (the highest at which p99 TTFT <= " << num(rule.ttft_ms) << " ms and p99 TPOT <= " << num(rule.tpot_ms)
       << " ms: MLPerf " << df.scenario << ")";
  if (ld == Load::offline) os << ", requests always waiting (the running batch at its KV cap)";
  os << "; prompts " << f.seq_in << ", outputs " << f.seq_out << " tokens\n";
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
