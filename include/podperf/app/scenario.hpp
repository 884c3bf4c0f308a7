// A scenario: one question put to podperf (a model on a system in one mode, with its precision
// recipe, plan or plan search, request shape, latency targets, site and utilisation), resolved once
// from the defaults written below and evaluated by one function. Every front end (estimate, compare,
// breakeven, claims, report, the Python module) builds a Scenario and calls evaluate(), so that one
// question has one answer (docs/workloads.md names the defaults).
#pragma once
#include <string>

#include "podperf/core/aggregated.hpp"
#include "podperf/core/deployment.hpp"
#include "podperf/core/economics.hpp"
#include "podperf/io/hwdb.hpp"
#include "podperf/io/models.hpp"
#include "podperf/core/plan.hpp"
#include "podperf/io/recipes.hpp"
#include "podperf/app/result.hpp"
#include "podperf/app/sweep.hpp"
#include "podperf/core/training_run.hpp"
#include "podperf/core/workload.hpp"

namespace podperf {

// The defaults of a scenario, in one place.
namespace defaults {
inline constexpr const char* mode = "serve";
inline constexpr int seq_in = 2048, seq_out = 256;  // prompt and output tokens
inline constexpr double mtp_accept = 0.7;           // acceptance of each draft token
// Training sequence: the model's published length, else this.
inline constexpr int train_seq = 4096;
// Training global batch: the model's published batch, else 4M tokens (Llama 2, arXiv 2307.09288
// sec. 2.2) or 2,048 tokens per chip of the system if more (assumption, range [1,024, 30,720]: the
// tokens per GPU of Llama 3 405B's 16M-token batch on 16,384 H100 and DeepSeek-V3's 63M on 2,048 H800).
inline constexpr double train_batch_tokens = 4'194'304, train_batch_tokens_per_chip = 2048;
inline constexpr double percentile = 99;  // serve: percentile of the latency bounds
}  // namespace defaults

// Training global batch in tokens when none is given (defaults above).
double default_train_batch_tokens(const System& s, const Model& m);

// What a scenario asks of the workload. Text fields hold what a user writes ("auto" and empty
// strings: not given, take the default). `batch` means one thing in every mode and front end:
// decode and serve, concurrent sequences per instance; prefill, prompts per instance pass;
// training, sequences per global step.
struct WorkloadInputs {
  std::string mode = defaults::mode;
  int tp = 0, dp = 0, ep = 0, pp = 0, cp = 0;
  int prefill_tp = 0, prefill_dp = 0, prefill_ep = 0, prefill_pp = 0;
  int batch = 0, seq_in = defaults::seq_in, seq_out = defaults::seq_out, seq = 0, context = 0;  // seq 0: the model's training length
  double tpot_ms = 0, ttft_ms = 0;  // a TPOT target picks the batch (the largest that meets it)
  std::string weights = "auto", kv = "auto", attn = "auto", precision = "bf16";
  // Per-group weight formats (empty: as --weights): attention projections, dense FFN, routed
  // experts, shared experts, LM head.
  std::string w_attn, w_ffn, w_experts, w_shared, w_head;
  std::string recipe;                  // hwdb/recipes id; empty: the chip's native one
  const RecipeDb* recipes = nullptr;   // the recipes the "auto" formats come from (null: none)
  int mtp = 0;
  double mtp_accept = defaults::mtp_accept;
  double overlap = -1;
  std::string eplb = "perfect";
  std::string prefill_eplb;  // serve: the prefill pool's expert balancing; empty: as eplb
  int redundant = -1;
  double imbalance = 1.0;
  int micro_batch = 0, interleave = 0, zero = -1;  // 0 / -1: not given (1, 1, ZeRO-1; searched)
  std::string recompute = "auto", sp = "auto", tp_overlap = "none", attn_kernel = "flash";  // auto: not given
  std::string schedule;     // hwdb/schedules id; empty: the training stack's for the interleave
  const Hwdb* db = nullptr; // the hwdb of schedules outside the stack (null: the stack's only)
  bool search = false;
  double tokens = 0;
  double batch_tokens = 0;  // train: global batch in tokens (0: `batch`, else the default)
  double hbm_reserve = -1;  // HBM fraction kept free; < 0: the serving stack's
};

// What a serve scenario adds: the deployment, the request mix and the latency rule.
struct ServingInputs {
  std::string pd_split, prefill_system, scenario, mix, seq_in_range, seq_out_range;
  double percentile = defaults::percentile, prefix_hit = 0, arrival_rate = 0;
  bool percentile_given = false, arrival_given = false;
  // Aggregated serving (prefill and decode on the same chips, core/aggregated.hpp): "aggregated",
  // "disaggregated", or empty for the stack's as deployed (aggregated when the stack runs so and a
  // concurrency or chunk size is given). Load: a closed loop of `concurrency` clients over the
  // system, Poisson at `arrival_rate`, an MLPerf `scenario`'s highest rate under its rule, else
  // offline (requests always waiting).
  std::string serving;
  int concurrency = 0;   // 0: not given
  int chunk_tokens = 0;  // tokens per engine step; 0: the stack's
  int instances = 0;     // instances that carry the load (one server benchmarked); 0: every whole instance
};

struct Scenario {
  std::string system, stack, model;  // stack empty: the system's own (or SYSTEM@STACK in `system`); runs SYSTEM@STACK
  std::string site;                  // empty: the system's home site
  double utilization = -1;           // fraction of hours under load; < 0: the site's
  WorkloadInputs w;
  ServingInputs serve;
};

// The databases a scenario resolves against.
struct ScenarioData {
  const Hwdb* db = nullptr;
  const ModelDb* models = nullptr;
  const RecipeDb* recipes = nullptr;
  std::string configs_dir;  // request mixes and MLPerf scenarios
};

// A dense model on a system that names a serving stack for dense models (its stack_dense) runs that
// stack; a mixture-of-experts model, or a system id that already names a stack, keeps the system's.
std::string with_model_stack(const Hwdb& db, const std::string& system_id, bool moe);
// The system id a scenario runs: SYSTEM@STACK when the scenario names a stack, else the model's.
std::string scenario_system_id(const ScenarioData& data, const Scenario& sc, const Model& m);

// The recipe whose precisions the "auto" formats take: `recipe`, else the chip's native one, else none.
const Recipe* chosen_recipe(const System& sys, const WorkloadInputs& f);
// The training inputs given, as pins of the plan search.
TrainingPins training_pins(const WorkloadInputs& f);
// Training: the pipeline schedule of `schedule` or of the stack for the interleave (training_input.cpp),
// and the one-line rejection (InputError naming the flag and the nearest valid value) of a plan the
// schedule cannot run.
PipeSchedule resolve_schedule(const System& sys, const WorkloadInputs& f, int interleave);
void reject_schedule(const Model& m, const WorkloadInputs& f, const TrainingSetup& t);
// The workload of a prefill, decode or training scenario (serve: the per-instance setup), with
// every default filled in; bad inputs throw InputError naming the flag.
Workload resolve_workload(const System& sys, const Model& m, const WorkloadInputs& f);
// A plan that cannot exist is bad input (InputError naming the flag); 'does not fit' is a result.
// `given` (the inputs the workload was resolved from) names the flags that were given, not those
// whose values were derived from them.
void reject_impossible(const System& sys, const Model& m, const Workload& r, const WorkloadInputs* given = nullptr);
// Rejects impossible plans, then runs the workload; prefill and decode count whole instances only.
Estimate run_request(const System& sys, const Model& m, const Workload& r, const WorkloadInputs* given = nullptr);

// A serve scenario resolved: the deployment setup and the system(s) it runs on.
struct ServingResolved {
  DeploymentSetup d;
  System prefill_system;         // the decode system unless another one runs prefill
  bool separate_prefill = false;
  Fabric join;                   // the fabric joining them when separate
};
ServingResolved resolve_serving(const ScenarioData& data, const System& sys, const Model& m, const WorkloadInputs& f,
                                const ServingInputs& s);

// Whether a serve scenario on `sys` runs aggregated (ServingInputs::serving).
bool runs_aggregated(const System& sys, const ServingInputs& s);

// An aggregated serve scenario resolved and run.
struct AggregatedServing {
  InferenceSetup x;           // one instance: plan, precisions, prompt and output lengths
  Load load = Load::offline;
  int clients = 0;            // closed loop: clients over the system
  double rate = 0;            // poisson: requests/s over the system
  ServiceRule rule;           // an MLPerf scenario's rule; its rate is the highest that meets it
  bool rule_rate = false;
  AggregatedEstimate est;
};

// A scenario evaluated: what it resolved to and its figures.
struct Evaluation {
  std::string system_id, site_id;
  System sys;
  Model model;
  Site site;
  Workload w;        // the resolved workload (serve: the decode instance's setup)
  Economics econ;    // econ.est: the estimate (serve: the deployment as an estimate)
  bool serve = false;
  ServingResolved serving;  // serve only (disaggregated)
  Deployment dep;           // serve only (disaggregated)
  bool aggregated = false;  // serve, aggregated: `agg` holds it
  AggregatedServing agg;
  TrainingRun run;          // train with tokens to train only
  double capex_usd = 0, it_power_w = 0;
  Result result;
};

// Evaluates a scenario on a system, site and model already resolved (a Monte Carlo draw of them);
// the scenario's system, site and model ids are not read. Its utilisation replaces the site's.
Evaluation evaluate_on(const ScenarioData& data, const System& sys, const Site& site, const Model& m, const Scenario& sc);
// Resolves and evaluates a scenario; `pick` selects values inside the hwdb's ranges (Monte Carlo).
Evaluation evaluate(const ScenarioData& data, const Scenario& sc, const Pick& pick = {});

// A sweep's points are scenarios: fills the defaults its axes leave open (each chip's formats,
// the training batch and sequence) from the ones `estimate` resolves.
// A dense model runs on its system's dense-model stack unless the sweep has a stack axis.
void apply_scenario_defaults(SweepContext& c, const RecipeDb* recipes, const Hwdb& db);

}  // namespace podperf
