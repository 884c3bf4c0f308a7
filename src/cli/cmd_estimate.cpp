// podperf estimate: tokens/s of a model on a system for prefill, decode, serve or train, with the
// time breakdown and the memory per chip. Absent flags take defaults that the output shows.
#include <iostream>
#include <memory>

#include "context.hpp"
#include "estimate_output.hpp"
#include "podperf/plan.hpp"
#include "table.hpp"
#include "units.hpp"

namespace podperf::cli {

namespace {
// "auto": the narrowest 8-bit format the chip runs natively (FP8, else INT8, else BF16).
Precision precision_flag(const std::string& v, const char* flag, const Chip& chip) {
  if (v == "auto") {
    if (chip.peak(Precision::fp8) > 0) return Precision::fp8;
    if (chip.peak(Precision::int8) > 0) return Precision::int8;
    return Precision::bf16;
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
  cmd->add_option("--batch", f.batch, "decode: concurrent sequences per instance; prefill: prompts; train: global batch (sequences)")
      ->check(CLI::Range(1, 100000000));
  cmd->add_option("--seq-in", f.seq_in, "prompt tokens")->check(CLI::Range(1, 100000000))->capture_default_str();
  cmd->add_option("--seq-out", f.seq_out, "output tokens")->check(CLI::Range(1, 100000000))->capture_default_str();
  cmd->add_option("--seq", f.seq, "training sequence length")->check(CLI::Range(1, 100000000))->capture_default_str();
  cmd->add_option("--context", f.context, "decode KV length (default seq-in + seq-out/2)")->check(CLI::Range(1, 100000000));
  cmd->add_option("--tpot-ms", f.tpot_ms, "TPOT target: the batch that maximises tokens/s per chip under it")
      ->check(CLI::Range(1, 100000000));
  cmd->add_option("--ttft-ms", f.ttft_ms, "TTFT target")->check(CLI::Range(1, 100000000));
  cmd->add_option("--weights", f.weights, "weight format of every group: auto (FP8, else INT8, else BF16) | int8 | fp8 | mxfp8 | hif8 | fp4 | nvfp4 | mxfp4 | bf16")->capture_default_str();
  cmd->add_option("--w-attn", f.w_attn, "weight format of the attention projections (default: --weights)");
  cmd->add_option("--w-ffn", f.w_ffn, "weight format of dense FFN layers (default: --weights)");
  cmd->add_option("--w-experts", f.w_experts, "weight format of the routed experts (default: --weights)");
  cmd->add_option("--w-shared", f.w_shared, "weight format of the shared experts (default: --weights)");
  cmd->add_option("--w-head", f.w_head, "weight format of the LM head (default: --weights)");
  cmd->add_option("--kv", f.kv, "KV-cache format (auto as --weights)")->capture_default_str();
  cmd->add_option("--attn", f.attn, "attention-core precision")->capture_default_str();
  cmd->add_option("--precision", f.precision, "training compute precision (bf16 | fp8)")->capture_default_str();
  cmd->add_option("--mtp", f.mtp, "multi-token-prediction draft tokens per step")->check(CLI::NonNegativeNumber);
  cmd->add_option("--mtp-accept", f.mtp_accept, "acceptance rate of each draft token")->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--overlap", f.overlap, "fraction of communication hidden behind compute (default: the chip's)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--eplb", f.eplb, "expert balancing: perfect, or default (the chip's measured imbalance)")
      ->check(CLI::IsMember({"perfect", "default"}))->capture_default_str();
  cmd->add_option("--redundant-experts", f.redundant, "EPLB replicas added to the routed experts (default: the fewest that spread evenly)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--imbalance", f.imbalance, "busiest chip's expert load over the mean (1 = perfect EPLB)")
      ->check(CLI::Range(1.0, 64.0))->capture_default_str();
  cmd->add_option("--micro-batch", f.micro_batch, "training micro-batch (sequences)")->check(CLI::Range(1, 100000000))
      ->capture_default_str();
  cmd->add_option("--interleave", f.interleave, "training: virtual pipeline stages per chip")->check(CLI::Range(1, 100000000))
      ->capture_default_str();
  cmd->add_option("--zero", f.zero, "ZeRO stage 0-3")->check(CLI::Range(0, 3))->capture_default_str();
  cmd->add_flag("--recompute", f.recompute, "training: full activation recomputation");
  cmd->add_option("--tokens", f.tokens, "training: tokens to train (time and chip-hours)");
  cmd->add_flag("--search", f.search, "search the parallel plan for the most tokens/s per chip");
}

WorkloadRequest resolve(const System& sys, const Model& m, const WorkloadFlags& f) {
  WorkloadRequest r;
  r.mode = f.mode == "prefill" ? Mode::prefill : f.mode == "decode" ? Mode::decode : f.mode == "serve" ? Mode::serve : Mode::train;
  InferenceSetup& x = r.infer;
  // --weights sets every group; a block-scaled format also sets the scales of every group.
  const Format wall = format_flag(f.weights, "--weights", sys.chip);
  x.weights = wall.p;
  if (wall.scaling != Scaling::none) x.group.fill(wall);
  const std::pair<const std::string*, std::pair<Group, const char*>> groups[] = {
      {&f.w_attn, {Group::attn_proj, "--w-attn"}}, {&f.w_ffn, {Group::dense_ffn, "--w-ffn"}},
      {&f.w_experts, {Group::experts, "--w-experts"}}, {&f.w_shared, {Group::shared_experts, "--w-shared"}},
      {&f.w_head, {Group::lm_head, "--w-head"}}};
  for (const auto& [v, g] : groups)
    if (!v->empty()) x.group[static_cast<int>(g.first)] = format_flag(*v, g.second, sys.chip);
  const Format kvf = format_flag(f.kv, "--kv", sys.chip);
  x.kv = kvf.p;
  if (kvf.scaling != Scaling::none) x.kv_format = kvf;
  x.attn = precision_flag(f.attn, "--attn", sys.chip);
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
    Parallel p = default_inference_plan(sys, m, x.weights);
    const bool given = f.tp || f.dp || f.ep || f.pp;
    if (given) {
      p.tp = f.tp ? f.tp : 1;
      p.pp = f.pp ? f.pp : 1;
      p.dp = f.dp ? f.dp : std::max(1, (f.ep && m.moe() ? f.ep : sys.chips_per_supernode) / p.tp);
      p.ep = f.ep ? f.ep : (m.moe() ? p.tp * p.dp : 1);
    }
    x.par = p;
    x.prefill = Parallel{f.prefill_tp ? f.prefill_tp : 1, f.prefill_dp ? f.prefill_dp : 1,
                         f.prefill_ep ? f.prefill_ep : 1, 1, 1};
    if (f.prefill_dp && !f.prefill_ep && m.moe()) x.prefill.ep = x.prefill.tp * x.prefill.dp;
    x.redundant_experts = f.redundant >= 0 ? f.redundant : default_redundant_experts(m, p.ep);
    r.search = f.search;
    return r;
  }
  TrainingSetup& t = r.train;
  Parallel p = default_training_plan(sys, m);
  if (f.tp || f.dp || f.ep || f.pp || f.cp) {
    p.tp = f.tp ? f.tp : 1;
    p.pp = f.pp ? f.pp : 1;
    p.cp = f.cp ? f.cp : 1;
    p.dp = f.dp ? f.dp : std::max(1, sys.chips / (p.tp * p.pp * p.cp));
    p.ep = f.ep ? f.ep : 1;
  }
  t.par = p;
  t.seq = f.seq;
  t.micro_batch = f.micro_batch;
  t.interleave = f.interleave;
  t.zero = f.zero;
  t.recompute = f.recompute;
  t.precision = precision_flag(f.precision, "--precision", sys.chip);
  t.overlap = f.overlap;
  t.tokens = f.tokens;
  t.redundant_experts = f.redundant >= 0 ? f.redundant : 0;
  // Default global batch: about 4M tokens, a whole number of micro-batches per DP replica.
  const int unit = p.dp * t.micro_batch;
  t.global_batch = f.batch ? f.batch : std::max(unit, (4'194'304 / f.seq + unit - 1) / unit * unit);
  r.search = f.search;
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
  return run_workload(sys, m, r);
}

void add_estimate_command(CLI::App& app, Context& ctx) {
  struct Opts {
    std::string system, model;
    WorkloadFlags f;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("estimate", "tokens/s, latency, MFU and memory of a model on a system");
  cmd->add_option("--system", o->system, "system or cluster id (or NxSYSTEM)")->required();
  cmd->add_option("--model", o->model, "model id (configs/models)")->required();
  add_workload_flags(cmd, o->f);
  cmd->add_flag("--json", o->json, "machine-readable output");
  cmd->callback([&ctx, o] {
    const System sys = ctx.db().system(o->system);
    const Model m = ctx.models().model(o->model);
    const WorkloadRequest req = resolve(sys, m, o->f);
    const Estimate e = run_request(sys, m, req);
    if (o->json) std::cout << estimate_json(sys, m, req, e).dump() << '\n';
    else print_estimate(std::cout, sys, m, req, e);
  });
}

}  // namespace podperf::cli
