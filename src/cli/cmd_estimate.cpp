// podperf estimate: tokens/s of a model on a system for prefill, decode, serve or train, with the
// time breakdown and the memory per chip. Absent flags take defaults that the output shows.
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "context.hpp"
#include "economics_output.hpp"
#include "training_run_output.hpp"
#include "podperf/io/limits.hpp"
#include "deploy_cli.hpp"
#include "estimate_output.hpp"
#include "podperf/core/deployment.hpp"
#include "podperf/core/plan.hpp"
#include "podperf/core/precision_choice.hpp"
#include "table.hpp"
#include "units.hpp"
#include "json_output.hpp"

namespace podperf::cli {

void add_workload_flags(CLI::App* cmd, WorkloadFlags& f) {
  cmd->add_option("--mode", f.mode, "prefill | decode | serve | train")
      ->check(CLI::IsMember({"prefill", "decode", "serve", "train"}))
      ->capture_default_str();
  cmd->add_option("--tp", f.tp, "tensor parallel")->check(CLI::Range(1, 100000000));
  cmd->add_option("--dp", f.dp, "data parallel (attention DP in serving)")->check(CLI::Range(1, 100000000));
  cmd->add_option("--ep", f.ep, "expert parallel")->check(CLI::Range(1, 100000000));
  cmd->add_option("--pp", f.pp, "pipeline stages")->check(CLI::Range(1, 100000000));
  cmd->add_option("--cp", f.cp, "context parallel (training)")->check(CLI::Range(1, 100000000));
  cmd->add_option("--prefill-tp", f.prefill_tp, "serve: TP of the prefill instance")->check(CLI::Range(1, 100000000));
  cmd->add_option("--prefill-dp", f.prefill_dp, "serve: DP of the prefill instance")->check(CLI::Range(1, 100000000));
  cmd->add_option("--prefill-ep", f.prefill_ep, "serve: EP of the prefill instance")->check(CLI::Range(1, 100000000));
  cmd->add_option("--prefill-pp", f.prefill_pp, "serve: pipeline stages of the prefill instance")->check(CLI::Range(1, 100000000));
  cmd->add_option("--batch", f.batch, "batch, one meaning in every command: decode and serve, concurrent sequences per instance; prefill, prompts per instance pass; train, sequences per global step")
      ->check(CLI::Range(1, 100000000));
  cmd->add_option("--global-batch-tokens", f.batch_tokens,
                  "train: tokens per global batch (default: the model's published batch, else 4M or 2,048 per chip)")
      ->check(CLI::Range(1.0, 1e12));
  cmd->add_option("--seq-in", f.seq_in, "prompt tokens")->check(CLI::Range(1, 100000000))->capture_default_str();
  cmd->add_option("--seq-out", f.seq_out, "output tokens")->check(CLI::Range(1, 100000000))->capture_default_str();
  cmd->add_option("--seq", f.seq, "training sequence length (default: the model's, else 4096)")->check(CLI::Range(1, 100000000));
  cmd->add_option("--context", f.context, "decode KV length (default seq-in + seq-out/2)")->check(CLI::Range(1, 100000000));
  cmd->add_option("--tpot-ms", f.tpot_ms, "TPOT target: the batch that maximises tokens/s per chip under it")
      ->check(CLI::Range(0.001, 1e8));
  cmd->add_option("--ttft-ms", f.ttft_ms, "TTFT target")->check(CLI::Range(0.001, 1e8));
  cmd->add_option("--weights", f.weights, "weight format of every group: auto (the chip's recipe, else FP8, else INT8, else BF16) | int8 | fp8 | mxfp8 | hif8 | fp4 | nvfp4 | mxfp4 | bf16")->capture_default_str();
  cmd->add_option("--w-attn", f.w_attn, "weight format of the attention projections (default: the recipe's, else --weights)");
  cmd->add_option("--w-ffn", f.w_ffn, "weight format of dense FFN layers (default: the recipe's, else --weights)");
  cmd->add_option("--w-experts", f.w_experts, "weight format of the routed experts (default: the recipe's, else --weights)");
  cmd->add_option("--w-shared", f.w_shared, "weight format of the shared experts (default: the recipe's, else --weights)");
  cmd->add_option("--w-head", f.w_head, "weight format of the LM head (default: the recipe's, else --weights)");
  cmd->add_option("--kv", f.kv, "KV-cache format (auto: the recipe's, else as --weights)")->capture_default_str();
  cmd->add_option("--attn", f.attn, "attention-core precision (auto: the recipe's, else bf16)")->capture_default_str();
  cmd->add_option("--recipe", f.recipe, "precision recipe from hwdb/recipes (nvfp4 | fp8 | w8a8 | hif8 | mxfp4); default: the chip's native one");
  cmd->add_option("--precision", f.precision, "training compute precision (bf16 | fp8)")->capture_default_str();
  cmd->add_option("--mtp", f.mtp, "multi-token-prediction draft tokens per step")->check(CLI::Range(0, static_cast<int>(kMaxMtpTokens)));
  cmd->add_option("--mtp-accept", f.mtp_accept, "acceptance rate of each draft token")->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--overlap", f.overlap, "fraction of communication hidden behind compute on a side stream (default: the stack's overlap scheme)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--eplb", f.eplb, "expert balancing: perfect, or default (the chip's measured imbalance)")
      ->check(CLI::IsMember({"perfect", "default"}))->capture_default_str();
  cmd->add_option("--prefill-eplb", f.prefill_eplb, "serve: the prefill pool's expert balancing (default: as --eplb)")
      ->check(CLI::IsMember({"perfect", "default"}));
  cmd->add_option("--redundant-experts", f.redundant, "EPLB replicas added to the routed experts (default: the fewest that spread evenly)")
      ->check(CLI::Range(0.0, kMaxRedundantExperts));
  cmd->add_option("--imbalance", f.imbalance, "busiest chip's expert load over the mean (1 = perfect EPLB)")
      ->check(CLI::Range(1.0, 64.0))->capture_default_str();
  cmd->add_option("--micro-batch", f.micro_batch, "training micro-batch (sequences; default 1, searched with --search)")
      ->check(CLI::Range(1, 100000000));
  cmd->add_option("--schedule", f.schedule, "training: pipeline schedule (hwdb/schedules: 1f1b, interleaved-1f1b, zb-h1, dualpipe, ...; default: the training stack's)");
  cmd->add_option("--interleave", f.interleave, "training: virtual pipeline stages per chip (default 1)")
      ->check(CLI::Range(1, 100000000));
  cmd->add_option("--zero", f.zero, "ZeRO stage 0-3 over DP x CP (default 1)")->check(CLI::Range(0, 3));
  cmd->add_option("--recompute", f.recompute, "training activation recomputation: none | selective | full (no value: full; default none)")
      ->expected(0, 1)
      ->check(CLI::IsMember({"", "none", "selective", "full"}));
  cmd->add_option("--sp", f.sp, "training: sequence parallelism on | off (default on)")->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--tp-overlap", f.tp_overlap, "training: TP communication none (exposed) | pipelined with the GEMMs")
      ->check(CLI::IsMember({"none", "pipelined"}))->capture_default_str();
  cmd->add_option("--attention-kernel", f.attn_kernel, "training: flash (fused) | unfused (scores in HBM)")
      ->check(CLI::IsMember({"flash", "unfused"}))->capture_default_str();
  cmd->add_option("--tokens", f.tokens, "training: tokens to train (time and chip-hours)")
      ->check(CLI::Validator(
          [](std::string& v) {
            char* end = nullptr;
            const double x = std::strtod(v.c_str(), &end);
            return *end == '\0' && std::isfinite(x) && x > 0 && x <= 1e18 ? std::string()
                                                                         : "must be a number in (0, 1e18] (got " + v + ")";
          },
          "TOKENS"));
  cmd->add_flag("--search", f.search, "search the parallel plan for the most tokens/s per chip");
}

// Training plan search: the best plan in full, then the best plans and the rejections by reason.
bool print_training_search(std::ostream& os, const System& sys, const Model& m, WorkloadRequest req,
                           const TrainingPins& pins, bool json) {
  const auto t0 = std::chrono::steady_clock::now();
  const TrainingSearch r = search_training_plans(sys, m, req.train, pins);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Estimate best;
  if (r.found > 0) {
    req.train = r.setup[0];
    best = r.best[0];
  } else {
    best = search_training(sys, m, req.train);
  }
  req.search = false;
  auto plan = [](const TrainingSetup& x) {
    const Parallel& p = x.par;
    return "TP" + std::to_string(p.tp) + " CP" + std::to_string(p.cp) + " PP" + std::to_string(p.pp) + " DP" +
           std::to_string(p.dp) + (p.ep > 1 ? " EP" + std::to_string(p.ep) : "");
  };
  if (json) {
    Json j = estimate_json(sys, m, req, best);
    Json sj = Json::object();
    sj["evaluated"] = static_cast<double>(r.evaluated);
    sj["fit"] = static_cast<double>(r.fits);
    sj["seconds"] = secs;
    Json rej = Json::object();
    for (int i = 1; i < kReasons; ++i)
      if (r.rejected[i] > 0) rej[reason_text(static_cast<Reason>(i))] = static_cast<double>(r.rejected[i]);
    sj["rejected"] = rej;
    Json top = Json::array();
    for (int i = 0; i < r.found; ++i) {
      Json b = Json::object();
      b["plan"] = plan(r.setup[i]);
      b["micro_batch"] = r.setup[i].micro_batch;
      b["interleave"] = r.setup[i].interleave;
      b["schedule"] = r.setup[i].par.pp > 1 ? std::string(r.setup[i].schedule.id.data()) : std::string("none");
      b["recompute"] = to_string(r.setup[i].recompute);
      b["zero"] = r.setup[i].zero;
      b["sequence_parallel"] = r.setup[i].sequence_parallel;
      b["step_time_s"] = r.best[i].step_time_s;
      b["mfu"] = r.best[i].mfu;
      b["tokens_per_s"] = r.best[i].tokens_per_s;
      b["memory_gb_per_chip"] = r.best[i].mem.used();
      top.push(b);
    }
    sj["best"] = top;
    j["search"] = sj;
    write_json(os, j);
    return best.fits();
  }
  print_estimate(os, sys, m, req, best);
  os << "  plan search: " << r.evaluated << " plans evaluated in " << num(secs, 3) << " s ("
     << num(secs > 0 ? r.evaluated / secs : 0) << " plans/s), " << r.fits << " fit; global batch "
     << req.train.global_batch << " x " << req.train.seq << " tokens\n";
  os << "  rejected:";
  bool any = false;
  for (int i = 1; i < kReasons; ++i)
    if (r.rejected[i] > 0) {
      os << (any ? "; " : " ") << reason_text(static_cast<Reason>(i)) << ' ' << r.rejected[i];
      any = true;
    }
  os << (any ? "\n" : " none\n");
  if (r.found == 0) return best.fits();
  Table t({"#", "plan", "schedule", "micro-batch", "interleave", "recompute", "ZeRO", "SP", "step s", "MFU", "tokens/s", "GB/chip"});
  for (int i = 0; i < r.found; ++i) {
    const TrainingSetup& x = r.setup[i];
    const Estimate& e = r.best[i];
    t.row({std::to_string(i + 1), plan(x), x.par.pp > 1 ? std::string(x.schedule.id.data()) : "none", std::to_string(x.micro_batch), std::to_string(x.interleave), to_string(x.recompute),
           std::to_string(x.zero), x.sequence_parallel ? "on" : "off", num(e.step_time_s, 4), num(e.mfu, 3),
           num(e.tokens_per_s), num(e.mem.used())});
  }
  t.print(os);
  return best.fits();
}

void add_metrics_command(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("metrics", "the result catalogue: each figure's id, unit and which direction is better");
  cmd->add_flag("--json", *json, "machine-readable output");
  cmd->callback([json] {
    auto better = [](int b) { return b > 0 ? "higher" : b < 0 ? "lower" : ""; };
    if (*json) {
      Json list = Json::array();
      for (const MetricInfo& m : metric_catalogue()) {
        Json x = Json::object();
        x["id"] = m.id;
        x["unit"] = m.unit;
        x["better"] = better(m.better);
        x["description"] = m.description;
        list.push(x);
      }
      Json j = Json::object();
      j["metrics"] = list;
      write_json(std::cout, j);
      return;
    }
    Table t({"id", "unit", "better", "description"});
    for (const MetricInfo& m : metric_catalogue()) t.row({m.id, m.unit, better(m.better), m.description});
    t.print(std::cout);
  });
}

void add_estimate_command(CLI::App& app, Context& ctx) {
  struct Opts {
    std::string system, model, stack;
    WorkloadFlags f;
    EconomicsFlags econ;
    DeployFlags d;
    AggregatedFlags agg;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  add_metrics_command(app);
  auto* cmd = app.add_subcommand("estimate", "tokens/s, latency, MFU and memory of a model on a system");
  cmd->footer(kExitCodesHelp);
  cmd->add_option("--system", o->system, "system or cluster id (or NxSYSTEM; SYSTEM@STACK runs that software stack)")->required();
  cmd->add_option("--stack", o->stack, "software stack from hwdb/stacks in place of the system's default (hwdb list --kind stacks)");
  cmd->add_option("--model", o->model, "model id (configs/models)")->required();
  add_workload_flags(cmd, o->f);
  add_economics_flags(cmd, o->econ);
  add_deploy_flags(cmd, o->d);
  cmd->add_option("--serving", o->agg.serving, "prefill and decode on the same chips (aggregated) or in separate pools (disaggregated); default: the stack's as deployed")
      ->check(CLI::IsMember({"aggregated", "disaggregated"}));
  cmd->add_option("--concurrency", o->agg.concurrency, "aggregated serving: closed-loop clients (each sends its next request when its last ends)");
  cmd->add_option("--chunk-tokens", o->agg.token_budget, "aggregated serving: tokens per engine step, decode tokens plus prefill chunks (default: the stack's)");
  cmd->add_flag("--json", o->json, "machine-readable output");
  cmd->callback([&ctx, o, cmd] {
    // Flags that would do nothing in the mode asked for are refused, not ignored.
    const bool train = o->f.mode == "train";
    for (const char* flag : {"--zero", "--tokens", "--recompute", "--micro-batch", "--interleave"})
      if (!train && cmd->count(flag) > 0) throw InputError(std::string("flag ") + flag + ": only with --mode train (it does nothing in " + o->f.mode + ")");
    for (const char* flag : {"--tpot-ms", "--ttft-ms"})
      if (train && cmd->count(flag) > 0) throw InputError(std::string("flag ") + flag + ": not with --mode train (it does nothing there)");
    o->agg.concurrency_given = cmd->count("--concurrency") > 0;
    o->agg.budget_given = cmd->count("--chunk-tokens") > 0;
    if (o->agg.concurrency_given && o->agg.concurrency < 1)
      throw InputError("flag --concurrency: must be a whole number >= 1 (got " + std::to_string(o->agg.concurrency) + ")");
    if (o->agg.budget_given && o->agg.token_budget < 1)
      throw InputError("flag --chunk-tokens: must be a whole number >= 1 tokens per step (got " +
                       std::to_string(o->agg.token_budget) + ")");
    Scenario sc;
    sc.system = with_stack_flag(ctx.db(), o->system, o->stack);
    sc.model = o->model;
    sc.site = o->econ.site;
    sc.w = o->f;
    sc.w.recipes = &ctx.recipes();
    sc.w.db = &ctx.db();
    sc.serve = serving_inputs(o->d);
    sc.serve.serving = o->agg.serving;
    sc.serve.concurrency = o->agg.concurrency_given ? o->agg.concurrency : 0;
    sc.serve.chunk_tokens = o->agg.budget_given ? o->agg.token_budget : 0;
    if (cmd->count("--hbm-reserve") > 0) {
      if (!(o->d.hbm_reserve >= 0 && o->d.hbm_reserve < 1))
        throw InputError("flag --hbm-reserve: must be in [0, 1) (got " + std::to_string(o->d.hbm_reserve) + ")");
      sc.w.hbm_reserve = o->d.hbm_reserve;
    }
    const ScenarioData data = ctx.scenario_data();
    if (!sc.site.empty()) {  // unknown site: error before the workload runs, naming the flag
      try {
        ctx.db().site(sc.site);
      } catch (const InputError& e) {
        throw InputError(std::string("flag --site: ") + e.what());
      }
    }
    auto draw = [&](const Pick& pick) { return evaluate(data, sc, pick).econ; };
    if (sc.w.mode == "serve" && (!sc.w.search || sc.serve.serving == "aggregated" || sc.serve.concurrency > 0 || sc.serve.chunk_tokens > 0)) {
      const Evaluation ev = evaluate(data, sc);
      Json j = Json::object();
      if (ev.aggregated) {
        print_aggregated(std::cout, ev, sc.serve, o->json ? &j : nullptr);
        if (ev.agg.est.fits()) economics_output(std::cout, o->json ? &j : nullptr, ctx.db(), ev, draw, o->econ);
        if (o->json) {
          j["result"] = result_json(ev.result);
          write_json(std::cout, j);
        }
        if (!ev.agg.est.fits()) throw ExitCode{kExitNoResult};
        return;
      }
      print_deployment(std::cout, ev, sc.w, o->json ? &j : nullptr);
      if (!o->json && !ev.dep.fits()) throw ExitCode{kExitNoResult};
      economics_output(std::cout, o->json ? &j : nullptr, ctx.db(), ev, draw, o->econ);
      if (o->json) {
        j["result"] = result_json(ev.result);
        write_json(std::cout, j);
      }
      if (!ev.dep.fits()) throw ExitCode{kExitNoResult};
      return;
    }
    for (const char* flag : {"--pd-split", "--prefill-system", "--prefill-eplb", "--scenario", "--percentile", "--prefix-hit",
                             "--arrival-rate", "--mix", "--seq-in-range", "--seq-out-range"})
      if (cmd->count(flag) > 0)
        throw InputError(std::string("flag ") + flag +
                         (sc.w.mode == "serve" ? ": not with --search (the search times one instance, not a deployment under a "
                                                 "latency rule; drop --search)"
                                               : ": only with --mode serve"));
    if (sc.w.mode == "train" && sc.w.search) {
      const System sys = ctx.db().system(sc.system);
      const Model m = ctx.models().model(sc.model);
      if (!print_training_search(std::cout, sys, m, resolve_workload(sys, m, sc.w), training_pins(sc.w), o->json))
        throw ExitCode{kExitNoResult};
      return;
    }
    const Evaluation ev = evaluate(data, sc);
    const System& sys = ev.sys;
    const Recipe* rc = chosen_recipe(sys, sc.w);
    if (o->json) {
      Json j = estimate_json(sys, ev.model, ev.w, ev.econ.est);
      // The recipe the formats came from; flags that replaced any of its formats make it custom.
      const bool overridden = sc.w.weights != "auto" || sc.w.kv != "auto" || sc.w.attn != "auto" || !sc.w.w_attn.empty() ||
                              !sc.w.w_ffn.empty() || !sc.w.w_experts.empty() || !sc.w.w_shared.empty() || !sc.w.w_head.empty();
      j["recipe"] = !rc ? std::string("none") : overridden ? "custom (" + rc->id + " with format flags)" : rc->id;
      economics_output(std::cout, &j, ctx.db(), ev, draw, o->econ);
      training_run_output(std::cout, &j, ev);
      j["result"] = result_json(ev.result);  // the figures by metric id (podperf metrics)
      write_json(std::cout, j);
    } else {
      print_estimate(std::cout, sys, ev.model, ev.w, ev.econ.est);
      if (ev.w.mode != Mode::train) {
        if (rc) std::cout << "  precision recipe: " << rc->id << (sc.w.recipe.empty() ? " (native default of " + sys.chip.id + ")" : std::string(""))
                          << ": " << rc->name << " [" << rc->kind << "]; flags --weights/--kv/--attn override it\n";
        else std::cout << "  precision: no recipe for " << sys.chip.id << "; the narrowest native 8-bit format, BF16 attention\n";
      }
      economics_output(std::cout, nullptr, ctx.db(), ev, draw, o->econ);
      training_run_output(std::cout, nullptr, ev);
    }
    if (!ev.econ.est.fits()) throw ExitCode{kExitNoResult};
  });
}

}  // namespace podperf::cli
