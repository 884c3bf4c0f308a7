// podperf estimate: tokens/s of a model on a system for prefill, decode, serve or train, with the
// time breakdown and the memory per chip. Absent flags take defaults that the output shows.
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "context.hpp"
#include "economics_output.hpp"
#include "podperf/limits.hpp"
#include "deploy_cli.hpp"
#include "estimate_output.hpp"
#include "podperf/deployment.hpp"
#include "podperf/plan.hpp"
#include "podperf/precision_choice.hpp"
#include "table.hpp"
#include "units.hpp"

namespace podperf::cli {

namespace {
// "auto": the narrowest 8-bit format the chip runs natively (FP8, else INT8, else BF16).
Precision precision_flag(const std::string& v, const char* flag, const Chip& chip) {
  if (v == "auto") {
    return native_8bit(chip);
  }
  Precision p;
  if (!parse_precision(v, p))
    throw InputError(std::string("flag ") + flag + ": unknown precision '" + v + "' (fp4 | fp8 | int8 | bf16 | fp32)");
  return p;
}

// A weight or KV format: a precision (as precision_flag) or a block-scaled one (mxfp4, nvfp4, ...).
Format format_flag(const std::string& v, const char* flag, const Chip& chip) {
  Format f;
  if (v != "auto" && parse_format(v, f)) return f;
  if (v != "auto" && !parse_precision(v, f.p))
    throw InputError(std::string("flag ") + flag + ": unknown format '" + v +
                     "' (fp4 | nvfp4 | mxfp4 | fp8 | mxfp8 | hif8 | int8 | bf16 | fp32)");
  return Format{precision_flag(v, flag, chip)};
}
}  // namespace

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
  cmd->add_option("--batch", f.batch, "decode: concurrent sequences per instance; prefill: prompts; train: global batch (sequences)")
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
  cmd->add_option("--redundant-experts", f.redundant, "EPLB replicas added to the routed experts (default: the fewest that spread evenly)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--imbalance", f.imbalance, "busiest chip's expert load over the mean (1 = perfect EPLB)")
      ->check(CLI::Range(1.0, 64.0))->capture_default_str();
  cmd->add_option("--micro-batch", f.micro_batch, "training micro-batch (sequences; default 1, searched with --search)")
      ->check(CLI::Range(1, 100000000));
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

// The training flags given pin their dimension of the plan search.
TrainingPins training_pins(const WorkloadFlags& f) {
  TrainingPins p;
  p.tp = f.tp, p.pp = f.pp, p.cp = f.cp, p.ep = f.ep;
  p.micro_batch = f.micro_batch;
  p.interleave = f.interleave;
  p.zero = f.zero;
  if (f.recompute != "auto")
    p.recompute = static_cast<int>(f.recompute == "selective" ? Recompute::selective
                                   : f.recompute == "none"    ? Recompute::none
                                                              : Recompute::full);
  if (f.sp != "auto") p.sp = f.sp == "on" ? 1 : 0;
  return p;
}

const Recipe* chosen_recipe(const System& sys, const WorkloadFlags& f) {
  if (!f.recipes) {
    if (!f.recipe.empty()) throw InputError("flag --recipe: no recipes loaded");
    return nullptr;
  }
  return f.recipe.empty() ? f.recipes->native_for(sys.chip.id) : &f.recipes->recipe(f.recipe);
}

WorkloadRequest resolve(const System& sys, const Model& m, const WorkloadFlags& f) {
  WorkloadRequest r;
  r.mode = f.mode == "prefill" ? Mode::prefill : f.mode == "decode" ? Mode::decode : f.mode == "serve" ? Mode::serve : Mode::train;
  InferenceSetup& x = r.infer;
  // A recipe (--recipe, else the chip's native one) fills every format flag left at auto / unset;
  // --weights given alone sets every group.
  const Recipe* rc = chosen_recipe(sys, f);
  const bool weights_given = f.weights != "auto";
  auto from = [&](const std::string& flag, const std::string& recipe_value) {
    return flag == "auto" && rc ? recipe_value : flag;
  };
  // --weights sets every group; a block-scaled format also sets the scales of every group.
  const Format wall = format_flag(from(f.weights, rc ? rc->weights : ""), "--weights", sys.chip);
  x.weights = wall.p;
  if (wall.scaling != Scaling::none) x.group.fill(wall);
  auto group_value = [&](const std::string& flag, const std::string& recipe_value) {
    return !flag.empty() ? flag : (rc && !weights_given ? recipe_value : std::string());
  };
  const std::pair<std::string, std::pair<Group, const char*>> groups[] = {
      {group_value(f.w_attn, rc ? rc->w_attn : ""), {Group::attn_proj, "--w-attn"}},
      {group_value(f.w_ffn, rc ? rc->w_ffn : ""), {Group::dense_ffn, "--w-ffn"}},
      {group_value(f.w_experts, rc ? rc->w_experts : ""), {Group::experts, "--w-experts"}},
      {group_value(f.w_shared, rc ? rc->w_shared : ""), {Group::shared_experts, "--w-shared"}},
      {group_value(f.w_head, rc ? rc->w_head : ""), {Group::lm_head, "--w-head"}}};
  for (const auto& [v, g] : groups)
    if (!v.empty()) x.group[static_cast<int>(g.first)] = format_flag(v, g.second, sys.chip);
  const Format kvf = format_flag(from(f.kv, rc ? rc->kv : ""), "--kv", sys.chip);
  x.kv = kvf.p;
  if (kvf.scaling != Scaling::none) x.kv_format = kvf;
  const std::string attn = from(f.attn, rc ? rc->attn : "");
  x.attn = attn == "auto" ? Precision::bf16 : precision_flag(attn, "--attn", sys.chip);
  x.seq_in = f.seq_in;
  x.seq_out = f.seq_out;
  x.context = f.context;
  x.batch = f.batch;
  x.tpot_target_ms = f.tpot_ms;
  x.ttft_target_ms = f.ttft_ms;
  x.mtp_tokens = f.mtp;
  x.mtp_accept = f.mtp_accept;
  x.overlap = f.overlap;
  x.expert_imbalance = f.imbalance;
  x.default_eplb = f.eplb == "default";
  if (f.mtp > 0 && m.mtp_layers == 0)
    throw InputError("flag --mtp: model '" + m.id + "' has no multi-token-prediction module");
  if (r.mode != Mode::train) {
    // Prefill and decode alone: the deployable instance size with the most tokens/s over whole
    // instances (serve mode searches its own instances in the deployment).
    const bool given = f.tp || f.dp || f.ep || f.pp;
    Parallel p = r.mode == Mode::serve || given ? default_inference_plan(sys, m, x.weights)
                                                : default_serving_plan(sys, m, x, r.mode);
    if (given) {
      p.tp = f.tp ? f.tp : 1;
      p.pp = f.pp ? f.pp : 1;
      p.dp = f.dp ? f.dp : std::max(1, (f.ep && m.moe() ? f.ep : sys.chips_per_supernode) / p.tp);
      p.ep = f.ep ? f.ep : (m.moe() ? p.tp * p.dp : 1);
    }
    x.par = p;
    x.prefill = Parallel{f.prefill_tp ? f.prefill_tp : 1, f.prefill_dp ? f.prefill_dp : 1,
                         f.prefill_ep ? f.prefill_ep : 1, f.prefill_pp ? f.prefill_pp : 1, 1};
    if (f.prefill_dp && !f.prefill_ep && m.moe()) x.prefill.ep = x.prefill.tp * x.prefill.dp;
    x.redundant_experts = f.redundant >= 0 ? f.redundant : default_redundant_experts(m, p.ep);
    r.search = f.search;
    return r;
  }
  TrainingSetup& t = r.train;
  t.seq = f.seq ? f.seq : m.train_seq > 0 ? m.train_seq : 4096;
  t.micro_batch = f.micro_batch ? f.micro_batch : 1;
  t.interleave = f.interleave ? f.interleave : 1;
  t.zero = f.zero >= 0 ? f.zero : 1;
  t.recompute = f.recompute == "selective"                         ? Recompute::selective
                : f.recompute == "none" || f.recompute == "auto" ? Recompute::none
                                                                 : Recompute::full;  // "" = given without a value
  t.sequence_parallel = f.sp != "off";
  t.tp_overlap = f.tp_overlap == "pipelined" ? TpOverlap::pipelined : TpOverlap::none;
  t.attn_kernel = f.attn_kernel == "unfused" ? AttnKernel::unfused : AttnKernel::flash;
  t.precision = precision_flag(f.precision, "--precision", sys.chip);
  t.overlap = f.overlap;
  t.tokens = f.tokens;
  t.redundant_experts = f.redundant >= 0 ? f.redundant : 0;
  // Global batch: --batch sequences, else --global-batch-tokens, else the model's published batch,
  // else 4M tokens (Llama 2, arXiv 2307.09288 sec. 2.2) or 2,048 tokens per chip of the system if
  // more (assumption, range [1,024, 30,720]: the tokens per GPU of Llama 3 405B's 16M-token batch on
  // 16,384 H100 and DeepSeek-V3's 63M on 2,048 H800); in whole sequences.
  const double batch_tokens = f.batch_tokens > 0          ? f.batch_tokens
                              : m.train_batch_tokens > 0 ? m.train_batch_tokens
                                                         : std::max(4'194'304.0, 2048.0 * sys.chips);
  const double seqs = f.batch ? f.batch : std::max(1.0, std::round(batch_tokens / t.seq));
  if (seqs > 1e9) throw InputError("flag --global-batch-tokens: " + std::to_string(seqs) + " sequences of " + std::to_string(t.seq) +
                                   " tokens are more than podperf counts (1e9)");
  t.global_batch = static_cast<int>(seqs);
  r.search = f.search;
  const bool plan_given = f.tp || f.dp || f.ep || f.pp || f.cp;
  if (plan_given) {
    Parallel p;
    p.tp = f.tp ? f.tp : 1;
    p.pp = f.pp ? f.pp : 1;
    p.cp = f.cp ? f.cp : 1;
    p.dp = f.dp ? f.dp : std::max(1, sys.chips / (p.tp * p.pp * p.cp));
    p.ep = f.ep ? f.ep : 1;
    t.par = p;
    // The default batch rounds up to whole micro-batches of every DP replica.
    const long long unit = 1LL * p.dp * t.micro_batch;
    if (!f.batch && f.batch_tokens <= 0 && t.global_batch >= p.dp && unit > 0 && unit <= 1'000'000'000)
      t.global_batch = static_cast<int>(std::min<long long>(1'000'000'000, (t.global_batch + unit - 1) / unit * unit));
  } else if (!f.search) {
    // No plan given: the searched plan for this batch (the flags given stay pinned).
    const TrainingSearch found = search_training_plans(sys, m, t, training_pins(f));
    if (found.found > 0) t = found.setup[0];
    else t.par = default_training_plan(sys, m);
  }
  if (!f.search && t.global_batch < t.par.dp) {
    const char* flag = f.batch ? "--batch" : "--global-batch-tokens";
    const std::string what = std::string(f.batch || f.batch_tokens > 0 ? "" : "default ") + "global batch (" +
                             std::to_string(t.global_batch) + " sequences of " + std::to_string(t.seq) + " tokens)";
    throw InputError(std::string("flag ") + flag + ": the " + what + " is smaller than DP " + std::to_string(t.par.dp) +
                     " (each data-parallel replica needs at least one sequence)");
  }
  return r;
}

// A plan that cannot exist is bad input (exit 2, naming the flag); 'does not fit' is a result.
void reject_impossible(const System& sys, const Model& m, const WorkloadRequest& r) {
  if (r.search) return;
  const Parallel& p = r.mode == Mode::train ? r.train.par : r.infer.par;
  Reason why = check_parallel(sys, m, p, r.mode == Mode::train ? r.train.seq : 0);
  if (why == Reason::ok && m.moe()) {
    const int red = r.mode == Mode::train ? r.train.redundant_experts : r.infer.redundant_experts;
    if (p.ep > m.experts + red || (m.experts + red) % p.ep != 0) why = Reason::ep_experts;
  }
  const char* flag = nullptr;
  switch (why) {
    case Reason::too_many_chips: flag = "--tp/--dp/--pp/--cp"; break;
    case Reason::tp_beyond_scaleup:
    case Reason::tp_heads: flag = "--tp"; break;
    case Reason::ep_dense:
    case Reason::ep_group:
    case Reason::ep_experts: flag = "--ep"; break;
    case Reason::pp_layers: flag = "--pp"; break;
    case Reason::cp_seq: flag = "--cp"; break;
    default: return;
  }
  std::string detail = " (TP" + std::to_string(p.tp) + " DP" + std::to_string(p.dp) + " EP" + std::to_string(p.ep) +
                       " PP" + std::to_string(p.pp) + " CP" + std::to_string(p.cp) + " on " + std::to_string(sys.chips) +
                       " chips, " + std::to_string(sys.chips_per_supernode) + " per supernode; model: " +
                       std::to_string(m.heads) + " heads, " + std::to_string(m.experts) + " experts)";
  throw InputError(std::string("flag ") + flag + ": " + reason_text(why) + detail);
}

Estimate run_request(const System& sys, const Model& m, const WorkloadRequest& r) {
  reject_impossible(sys, m, r);
  Estimate e = run_workload(sys, m, r);
  // Prefill and decode: the system runs whole instances only.
  if ((e.mode == Mode::prefill || e.mode == Mode::decode) && e.instance_chips > 0)
    e.tokens_per_s = double(sys.chips / e.instance_chips) * e.instance_chips * e.tokens_per_s_per_chip;
  return e;
}

// Training plan search: the best plan in full, then the best plans and the rejections by reason.
void print_training_search(std::ostream& os, const System& sys, const Model& m, WorkloadRequest req,
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
    os << j.dump() << '\n';
    return;
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
  if (r.found == 0) return;
  Table t({"#", "plan", "micro-batch", "interleave", "recompute", "ZeRO", "SP", "step s", "MFU", "tokens/s", "GB/chip"});
  for (int i = 0; i < r.found; ++i) {
    const TrainingSetup& x = r.setup[i];
    const Estimate& e = r.best[i];
    t.row({std::to_string(i + 1), plan(x), std::to_string(x.micro_batch), std::to_string(x.interleave), to_string(x.recompute),
           std::to_string(x.zero), x.sequence_parallel ? "on" : "off", num(e.step_time_s, 4), num(e.mfu, 3),
           num(e.tokens_per_s), num(e.mem.used())});
  }
  t.print(os);
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
  auto* cmd = app.add_subcommand("estimate", "tokens/s, latency, MFU and memory of a model on a system");
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
    o->system = with_stack_flag(ctx.db(), o->system, o->stack);
    const Model m = ctx.models().model(o->model);
    if (o->stack.empty()) o->system = with_model_stack(ctx.db(), o->system, m.moe());
    const System sys = ctx.db().system(o->system);
    o->f.recipes = &ctx.recipes();
    o->agg.concurrency_given = cmd->count("--concurrency") > 0;
    o->agg.budget_given = cmd->count("--chunk-tokens") > 0;
    if (o->agg.serving == "aggregated" ||
        (o->agg.serving.empty() && sys.stack.aggregated && (o->agg.concurrency_given || o->agg.budget_given))) {
      run_aggregated(std::cout, sys, m, o->f, o->d, o->agg, ctx.configs_dir, o->json);
      return;
    }
    for (const char* flag : {"--concurrency", "--chunk-tokens"})
      if (cmd->count(flag) > 0) throw InputError(std::string("flag ") + flag + ": only with --serving aggregated");
    if (o->f.mode == "serve" && !o->f.search) {
      run_deployment(std::cout, ctx, sys, m, o->f, o->d, o->json);
      return;
    }
    for (const char* flag : {"--pd-split", "--prefill-system", "--scenario", "--percentile", "--prefix-hit",
                             "--arrival-rate", "--mix", "--seq-in-range", "--seq-out-range"})
      if (cmd->count(flag) > 0) throw InputError(std::string("flag ") + flag + ": only with --mode serve");
    WorkloadRequest req = resolve(sys, m, o->f);
    if (cmd->count("--hbm-reserve") > 0) {
      if (!(o->d.hbm_reserve >= 0 && o->d.hbm_reserve < 1))
        throw InputError("flag --hbm-reserve: must be in [0, 1) (got " + std::to_string(o->d.hbm_reserve) + ")");
      req.infer.reserve_frac = o->d.hbm_reserve;
    }
    if (req.mode == Mode::train && req.search) {
      print_training_search(std::cout, sys, m, req, training_pins(o->f), o->json);
      return;
    }
    const Estimate e = run_request(sys, m, req);
    const Recipe* rc = chosen_recipe(sys, o->f);
    if (o->json) {
      Json j = estimate_json(sys, m, req, e);
      j["recipe"] = rc ? rc->id : std::string("none");
      economics_output(std::cout, &j, ctx.db(), o->system, m, req, o->econ);
      std::cout << j.dump() << '\n';
    } else {
      print_estimate(std::cout, sys, m, req, e);
      if (req.mode != Mode::train) {
        if (rc) std::cout << "  precision recipe: " << rc->id << (o->f.recipe.empty() ? " (native default of " + sys.chip.id + ")" : std::string(""))
                          << ": " << rc->name << " [" << rc->kind << "]; flags --weights/--kv/--attn override it\n";
        else std::cout << "  precision: no recipe for " << sys.chip.id << "; the narrowest native 8-bit format, BF16 attention\n";
      }
      economics_output(std::cout, nullptr, ctx.db(), o->system, m, req, o->econ);
    }
  });
}

}  // namespace podperf::cli
