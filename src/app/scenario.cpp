// The scenario layer: one resolution of a question's defaults and one evaluation of it, which every
// front end calls (include/podperf/app/scenario.hpp).
#include "podperf/app/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <limits>

#include "podperf/core/cost.hpp"
#include "podperf/io/error.hpp"
#include "podperf/core/power.hpp"
#include "podperf/core/precision_choice.hpp"
#include "podperf/core/reliability.hpp"
#include "podperf/io/serving_data.hpp"

namespace podperf {

double default_train_batch_tokens(const System& s, const Model& m) {
  return m.train_batch_tokens > 0 ? m.train_batch_tokens
                                  : std::max(defaults::train_batch_tokens, defaults::train_batch_tokens_per_chip * s.chips);
}

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
// A format whose tensor precision the chip has no hardware rate for (its hwdb record states none) is
// refused, not emulated: FP4 weights on a chip without FP4 units would silently borrow another rate.
void check_runs(const Format& f, const std::string& v, const char* flag, const Chip& chip) {
  if (f.p != Precision::fp4 && f.p != Precision::fp8) return;
  if (chip.dense_tflops[static_cast<int>(f.p)] > 0) return;
  throw InputError(std::string("flag ") + flag + ": " + chip.name + " has no " + to_string(f.p) +
                   " hardware (no " + to_string(f.p) + "_dense_tflops in hwdb/chips/" + chip.id + ".toml), so it cannot run '" +
                   v + "'");
}

Format format_flag(const std::string& v, const char* flag, const Chip& chip) {
  Format f;
  if (v != "auto" && parse_format(v, f)) {
    check_runs(f, v, flag, chip);
    return f;
  }
  if (v != "auto" && !parse_precision(v, f.p))
    throw InputError(std::string("flag ") + flag + ": unknown format '" + v +
                     "' (fp4 | nvfp4 | mxfp4 | fp8 | mxfp8 | hif8 | int8 | bf16 | fp32)");
  const Format out{precision_flag(v, flag, chip)};
  if (v != "auto") check_runs(out, v, flag, chip);
  return out;
}
}  // namespace

// The training flags given pin their dimension of the plan search.
TrainingPins training_pins(const WorkloadInputs& f) {
  TrainingPins p;
  p.tp = f.tp, p.pp = f.pp, p.cp = f.cp, p.ep = f.ep;
  p.micro_batch = f.micro_batch;
  p.interleave = f.interleave;
  p.schedule = !f.schedule.empty();
  p.zero = f.zero;
  if (f.recompute != "auto")
    p.recompute = static_cast<int>(f.recompute == "selective" ? Recompute::selective
                                   : f.recompute == "none"    ? Recompute::none
                                                              : Recompute::full);
  if (f.sp != "auto") p.sp = f.sp == "on" ? 1 : 0;
  return p;
}

const Recipe* chosen_recipe(const System& sys, const WorkloadInputs& f) {
  if (!f.recipes) {
    if (!f.recipe.empty()) throw InputError("flag --recipe: no recipes loaded");
    return nullptr;
  }
  return f.recipe.empty() ? f.recipes->native_for(sys.chip.id) : &f.recipes->recipe(f.recipe);
}

Workload resolve_workload(const System& sys, const Model& m, const WorkloadInputs& f) {
  Workload r;
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
    if (given && f.search)
      throw InputError(std::string("flag ") + (f.tp ? "--tp" : f.dp ? "--dp" : f.ep ? "--ep" : "--pp") +
                       ": not with --search outside training (the search picks the instance's TP and DP; give the plan or "
                       "drop --search)");
    Parallel p = r.mode == Mode::serve || given ? default_inference_plan(sys, m, x.weights)
                                                : default_serving_plan(sys, m, x, r.mode);
    if (given) {
      p.tp = f.tp ? f.tp : 1;
      p.pp = f.pp ? f.pp : 1;
      // DP not given: the rest of a supernode's chips after TP and PP (an EP given for an MoE model
      // spans TP x DP of one stage).
      p.dp = f.dp ? f.dp
                  : std::max(1, f.ep && m.moe() ? f.ep / p.tp : sys.chips_per_supernode / (p.tp * p.pp));
      // ... and no more data-parallel groups than the batch has sequences (a batch of one runs DP1).
      if (!f.dp && !f.ep && f.batch > 0) p.dp = std::min(p.dp, f.batch);
      p.ep = f.ep ? f.ep : (m.moe() ? p.tp * p.dp : 1);
    }
    x.par = p;
    x.prefill = Parallel{f.prefill_tp ? f.prefill_tp : 1, f.prefill_dp ? f.prefill_dp : 1,
                         f.prefill_ep ? f.prefill_ep : 1, f.prefill_pp ? f.prefill_pp : 1, 1};
    if (f.prefill_dp && !f.prefill_ep && m.moe()) x.prefill.ep = x.prefill.tp * x.prefill.dp;
    x.redundant_experts = f.redundant >= 0 ? f.redundant : default_redundant_experts(m, p.ep);
    if (f.hbm_reserve >= 0) {
      if (!(f.hbm_reserve < 1))
        throw InputError("flag --hbm-reserve: must be in [0, 1) (got " + std::to_string(f.hbm_reserve) + ")");
      x.reserve_frac = f.hbm_reserve;
    }
    r.search = f.search;
    return r;
  }
  TrainingSetup& t = r.train;
  t.seq = f.seq ? f.seq : m.train_seq > 0 ? m.train_seq : defaults::train_seq;
  t.micro_batch = f.micro_batch ? f.micro_batch : 1;
  t.interleave = f.interleave ? f.interleave : 1;
  t.schedule = resolve_schedule(sys, f, t.interleave);
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
  // Global batch: --batch sequences, else --global-batch-tokens, else the default; in whole sequences.
  const double batch_tokens = f.batch_tokens > 0 ? f.batch_tokens : default_train_batch_tokens(sys, m);
  const double seqs = f.batch ? f.batch : std::max(1.0, std::round(batch_tokens / t.seq));
  // Blame what set the batch: the flag given, else the model's published batch, else the default.
  const std::string batch_source = f.batch_tokens > 0          ? "flag --global-batch-tokens"
                                   : m.train_batch_tokens > 0 ? "model '" + m.id + "': field 'training.batch_tokens'"
                                                              : "the default global batch";
  if (seqs > 1e9) throw InputError(batch_source + ": " + std::to_string(seqs) + " sequences of " + std::to_string(t.seq) +
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
    const long long unit = 1LL * p.dp * t.micro_batch * (t.schedule.micro_multiple_pp && p.pp > 1 ? p.pp : 1);
    if (!f.batch && f.batch_tokens <= 0 && t.global_batch >= p.dp && unit > 0 && unit <= 1'000'000'000)
      t.global_batch = static_cast<int>(std::min<long long>(1'000'000'000, (t.global_batch + unit - 1) / unit * unit));
  } else if (!f.search) {
    // No plan given: the searched plan for this batch (the flags given stay pinned).
    const TrainingSearch found = search_training_plans(sys, m, t, training_pins(f));
    if (found.found > 0) t = found.setup[0];
    else t.par = default_training_plan(sys, m);
  }
  if (!f.search && (plan_given || f.interleave > 1 || !f.schedule.empty())) reject_schedule(m, f, t);
  if (!f.search && t.global_batch < t.par.dp) {
    const std::string what = std::string(f.batch || f.batch_tokens > 0 || m.train_batch_tokens > 0 ? "" : "default ") + "global batch (" +
                             std::to_string(t.global_batch) + " sequences of " + std::to_string(t.seq) + " tokens)";
    throw InputError((f.batch ? std::string("flag --batch") : batch_source) + ": the " + what + " is smaller than DP " + std::to_string(t.par.dp) +
                     " (each data-parallel replica needs at least one sequence)");
  }
  return r;
}

// A plan that cannot exist is bad input (exit 2, naming the flag); 'does not fit' is a result.
void reject_impossible(const System& sys, const Model& m, const Workload& r, const WorkloadInputs* given) {
  if (r.search) return;
  const Parallel& p = r.mode == Mode::train ? r.train.par : r.infer.par;
  Reason why = check_parallel(sys, m, p, r.mode == Mode::train ? r.train.seq : 0);
  if (why == Reason::ok && m.moe()) {
    const int red = r.mode == Mode::train ? r.train.redundant_experts : r.infer.redundant_experts;
    if (p.ep > m.experts + red || (m.experts + red) % p.ep != 0) why = Reason::ep_experts;
  }
  // The flags given among those that shape the failing check (a DP derived from --ep is --ep's).
  auto named = [&](std::initializer_list<std::pair<const char*, bool>> flags, const char* otherwise) {
    std::string s;
    if (given)
      for (auto& [name, on] : flags)
        if (on) s += (s.empty() ? "" : "/") + std::string(name);
    return s.empty() ? std::string(otherwise) : s;
  };
  const WorkloadInputs none;
  const WorkloadInputs& g = given ? *given : none;
  std::string flag;
  switch (why) {
    case Reason::too_many_chips:
      flag = named({{"--tp", g.tp > 0}, {"--dp", g.dp > 0}, {"--ep", g.ep > 0}, {"--pp", g.pp > 0}, {"--cp", g.cp > 0}},
                   "--tp/--dp/--pp/--cp");
      break;
    case Reason::tp_beyond_scaleup:
    case Reason::tp_heads: flag = "--tp"; break;
    case Reason::ep_dense:
    case Reason::ep_group: flag = "--ep"; break;
    case Reason::ep_experts: flag = named({{"--ep", g.ep > 0}, {"--redundant-experts", g.redundant >= 0}}, "--ep"); break;
    case Reason::pp_layers: flag = "--pp"; break;
    case Reason::cp_seq: flag = "--cp"; break;
    default: return;
  }
  std::string detail = " (TP" + std::to_string(p.tp) + " DP" + std::to_string(p.dp) + " EP" + std::to_string(p.ep) +
                       " PP" + std::to_string(p.pp) + " CP" + std::to_string(p.cp) + " on " + std::to_string(sys.chips) +
                       " chips, " + std::to_string(sys.chips_per_supernode) + " per supernode; model: " +
                       std::to_string(m.heads) + " heads, " + std::to_string(m.experts) + " experts)";
  throw InputError("flag " + flag + ": " + reason_text(why) + detail);
}

Estimate run_request(const System& sys, const Model& m, const Workload& r, const WorkloadInputs* given) {
  reject_impossible(sys, m, r, given);
  Estimate e = run_workload(sys, m, r);
  count_whole_instances(sys, e);
  return e;
}

namespace {
std::string fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

double parse_num(const std::string& s, const std::string& flag) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end == s.c_str() || *end != '\0' || !std::isfinite(v))
    throw InputError("flag " + flag + ": '" + s + "' is not a number");
  return v;
}

// "A:B" with two positive integers.
std::pair<int, int> parse_pair(const std::string& s, const std::string& flag, const char* what) {
  const auto colon = s.find(':');
  if (colon == std::string::npos) throw InputError("flag " + flag + ": expected " + what + " (got '" + s + "')");
  const double a = parse_num(s.substr(0, colon), flag), b = parse_num(s.substr(colon + 1), flag);
  if (a < 1 || b < 1 || a > 1e8 || b > 1e8 || std::floor(a) != a || std::floor(b) != b)
    throw InputError("flag " + flag + ": both numbers must be whole and >= 1 (got '" + s + "')");
  return {static_cast<int>(a), static_cast<int>(b)};
}

std::string plan_text(const Parallel& p) {
  return "TP" + std::to_string(p.tp) + " DP" + std::to_string(p.dp) + " EP" + std::to_string(p.ep) + " PP" +
         std::to_string(p.pp);
}
}  // namespace

// The request lengths of a serve scenario: the fixed --seq-in/--seq-out, a mix file, or uniform ranges.
RequestMix request_lengths(const ScenarioData& data, const WorkloadInputs& f, const ServingInputs& df) {
  RequestMix mix;
  mix.input = LengthDist::make_fixed(f.seq_in);
  mix.output = LengthDist::make_fixed(f.seq_out);
  if (!df.mix.empty()) load_mix(df.mix, data.configs_dir, mix);
  if (!df.seq_in_range.empty()) {
    const auto [lo, hi] = parse_pair(df.seq_in_range, "--seq-in-range", "LO:HI tokens");
    if (lo > hi) throw InputError("flag --seq-in-range: LO > HI ('" + df.seq_in_range + "')");
    mix.input = LengthDist::make_uniform(lo, hi);
  }
  if (!df.seq_out_range.empty()) {
    const auto [lo, hi] = parse_pair(df.seq_out_range, "--seq-out-range", "LO:HI tokens");
    if (lo > hi) throw InputError("flag --seq-out-range: LO > HI ('" + df.seq_out_range + "')");
    mix.output = LengthDist::make_uniform(lo, hi);
  }
  return mix;
}

ServingResolved resolve_serving(const ScenarioData& data, const System& sys, const Model& m, const WorkloadInputs& f,
                                const ServingInputs& df) {
  // ---- checks of the inputs (one line, naming the flag) ----
  if (!(df.percentile > 0 && df.percentile < 100))
    throw InputError("flag --percentile: must be in (0, 100) (got " + fmt(df.percentile) + ")");
  if (!(df.prefix_hit >= 0 && df.prefix_hit <= 1))
    throw InputError("flag --prefix-hit: must be in [0, 1] (got " + fmt(df.prefix_hit) + ")");
  if (df.arrival_given && (!(df.arrival_rate > 0) || !std::isfinite(df.arrival_rate)))
    throw InputError("flag --arrival-rate: must be > 0 requests/s (got " + fmt(df.arrival_rate) + ")");
  if (f.context > 0)
    throw InputError("flag --context: serve derives the decode context from the request mix (use --seq-in/--seq-out or --mix)");
  ServingResolved out;
  DeploymentSetup& d = out.d;
  // Prefill system: the decode system unless another one is named.
  out.prefill_system = sys;
  if (!df.prefill_system.empty() && df.prefill_system != sys.id) {
    out.prefill_system = data.db->system(df.prefill_system);
    out.separate_prefill = true;
    const System* ps = &out.prefill_system;
    // KV crosses the scale-out (RDMA) networks of both systems: the slower side sets the rate.
    const Fabric& a = ps->scaleout;
    const Fabric& b = sys.scaleout;
    // KV moves between one vendor's serving stacks (its transfer library over RDMA); across vendors
    // no shared path is modelled.
    if (!(a.gb_s_per_dir > 0) || !(b.gb_s_per_dir > 0) || ps->vendor != sys.vendor)
      throw InputError("flag --prefill-system: no fabric joins '" + ps->id + "' (" + ps->vendor + ") and '" + sys.id +
                       "' (" + sys.vendor + "): KV transfer needs a scale-out network on both and one vendor's stack");
    out.join = a.gb_s_per_dir <= b.gb_s_per_dir ? a : b;
    out.join.latency_us = std::max(a.latency_us, b.latency_us);
    out.join.coll_eff = std::min(a.coll_eff, b.coll_eff);
  }
  const System& ps = out.prefill_system;
  if (!df.pd_split.empty()) {
    const auto [p, q] = parse_pair(df.pd_split, "--pd-split", "PREFILL:DECODE chips");
    const int pmax = ps.chips;
    if (!out.separate_prefill && static_cast<long>(p) + q > sys.chips)
      throw InputError("flag --pd-split: " + std::to_string(p) + " + " + std::to_string(q) + " chips is more than the " +
                       std::to_string(sys.chips) + " chips of " + sys.id);
    if (out.separate_prefill && (p > pmax || q > sys.chips))
      throw InputError("flag --pd-split: " + df.pd_split + " is more than " + std::to_string(pmax) + " prefill (" +
                       ps.id + ") or " + std::to_string(sys.chips) + " decode (" + sys.id + ") chips");
    d.pd_prefill_chips = p;
    d.pd_decode_chips = q;
  }

  // Per-role setups: precisions default per chip, so each side resolves against its own system.
  WorkloadInputs fd = f;
  fd.mode = "serve";  // the setup only; serve keeps resolve_workload from searching a default plan
  const Workload rd = resolve_workload(sys, m, fd);
  d.decode = rd.infer;
  d.decode_plan_given = f.tp || f.dp || f.ep || f.pp;
  WorkloadInputs fp = f;
  fp.mode = "serve";
  fp.tp = f.prefill_tp;
  fp.dp = f.prefill_dp;
  fp.ep = f.prefill_ep;
  fp.pp = f.prefill_pp;
  if (!f.prefill_eplb.empty()) fp.eplb = f.prefill_eplb;  // each pool balances its experts its own way
  const Workload rp = resolve_workload(ps, m, fp);
  d.prefill = rp.infer;
  d.prefill_plan_given = f.prefill_tp || f.prefill_dp || f.prefill_ep || f.prefill_pp;
  // Plans given must exist (one line naming the flag).
  if (d.decode_plan_given) reject_impossible(sys, m, rd, &f);
  if (d.prefill_plan_given) {
    d.prefill.par = rd.infer.prefill;
    Reason why = check_parallel(ps, m, d.prefill.par);
    const int copies = m.experts + default_redundant_experts(m, d.prefill.par.ep);
    if (why == Reason::ok && m.moe() && (d.prefill.par.ep > copies || copies % d.prefill.par.ep != 0))
      why = Reason::ep_experts;
    if (why != Reason::ok)
      throw InputError("flag --prefill-tp/--prefill-dp/--prefill-ep/--prefill-pp: " + std::string(reason_text(why)) + " (" +
                       plan_text(d.prefill.par) + " on " + ps.id + ")");
    d.prefill.redundant_experts = default_redundant_experts(m, d.prefill.par.ep);
  }

  // Request mix.
  d.mix = request_lengths(data, f, df);
  d.mix.prefix_hit = df.prefix_hit;
  d.mix.arrival_rate = df.arrival_rate;

  // Latency rule: the scenario's, then the TTFT / TPOT targets (which override it) at the percentile.
  if (!df.scenario.empty()) d.rule = load_scenario(df.scenario, m.id, data.configs_dir);
  if (df.percentile_given && !(f.ttft_ms > 0) && !(f.tpot_ms > 0) && !(d.rule.ttft_ms > 0) && !(d.rule.tpot_ms > 0))
    throw InputError("flag --percentile: no latency target to hold (give --ttft-ms or --tpot-ms, or a --scenario with one)");
  if (f.ttft_ms > 0 || f.tpot_ms > 0 || df.arrival_given || df.percentile_given) {
    if (d.rule.offline && df.scenario == "offline" && (f.ttft_ms > 0 || f.tpot_ms > 0))
      throw InputError("flag --scenario: offline has no latency bound; drop --ttft-ms / --tpot-ms or use server");
    if (df.scenario.empty()) d.rule.name = "latency targets";
    d.rule.offline = df.scenario == "offline";
    if (f.ttft_ms > 0) d.rule.ttft_ms = f.ttft_ms;
    if (f.tpot_ms > 0) d.rule.tpot_ms = f.tpot_ms;
    if (df.percentile_given) d.rule.percentile = df.percentile;
  }
  return out;
}

namespace {
// The cost, power and reliability of an estimate at a site, into the result.
void fill_economics(Result& r, const System& s, const Economics& e) {
  const bool ok = e.est.fits() && e.est.tokens_per_s > 0;
  auto w = [&](double v) { return ok ? v : std::nan(""); };
  r[ResultMetric::capex_usd] = e.tco.capex_usd;
  r[ResultMetric::tco_usd_per_h] = e.tco.per_h();
  r[ResultMetric::tco_usd_per_chip_h] = e.tco.per_h() / r[ResultMetric::chips];
  r[ResultMetric::utilization] = e.tco.utilization;
  r[ResultMetric::avg_facility_kw] = e.tco.facility_avg_w / 1000;
  r[ResultMetric::it_power_kw] = w(e.tco.it_load_w / 1000);
  r[ResultMetric::usd_per_mtok] = w(e.usd_per_mtok);
  r[ResultMetric::tokens_per_kwh] = w(e.tokens_per_kwh);
  r[ResultMetric::tokens_per_usd] = w(e.tokens_per_usd);
  r[ResultMetric::tokens_per_s_per_kw] = w(e.tokens_per_s_per_kw);
  r[ResultMetric::train_run_musd] = e.train_run_usd > 0 ? e.train_run_usd / 1e6 : std::nan("");
  // MTBF is the hardware's, given whether or not the workload fits; a training job's interruptions
  // depend on the chips it spans, so they need a plan.
  if (e.rel.stated) {
    r[ResultMetric::mtbf_supernode_h] = e.rel.mtbf_supernode_h;
    r[ResultMetric::mtbf_system_h] = e.rel.mtbf_system_h;
    if (ok || e.est.mode != Mode::train) r[ResultMetric::interruptions_per_day] = e.rel.interruptions_per_day;
  }
  if (ok && e.rel.stated) {
    r[ResultMetric::goodput] = e.rel.goodput;
    r[ResultMetric::good_tokens_per_s] = e.good_tokens_per_s;
    r[ResultMetric::good_tokens_per_kwh] = e.good_tokens_per_kwh;
    r[ResultMetric::good_usd_per_mtok] = e.good_usd_per_mtok;
  }
  (void)s;
}

// The estimate's throughput and latency figures; per chip over the chips as bought.
void fill_estimate(Result& r, const Estimate& e, int chips, double busy) {
  r[ResultMetric::chips] = chips;
  if (!e.fits()) return;
  r[ResultMetric::busy_chips] = busy;
  r[ResultMetric::tokens_per_s] = e.tokens_per_s;
  r[ResultMetric::tokens_per_s_per_chip] = e.tokens_per_s / chips;
  r[ResultMetric::tokens_per_s_per_busy_chip] = busy > 0 ? e.tokens_per_s / busy : std::nan("");
  if (e.mode != Mode::train && e.mode != Mode::prefill) r[ResultMetric::tokens_per_s_per_user] = e.tokens_per_s_per_user;
  if (e.tpot_s > 0) r[ResultMetric::tpot_ms] = e.tpot_s * 1e3;
  if (e.ttft_s > 0) r[ResultMetric::ttft_ms] = e.ttft_s * 1e3;
  if (e.step_time_s > 0) r[ResultMetric::step_time_s] = e.step_time_s;
  r[ResultMetric::mfu] = e.mfu;
  r[ResultMetric::memory_gb_per_chip] = e.mem.used();
  r[ResultMetric::batch] = e.batch;
  r[ResultMetric::instance_chips] = e.mode == Mode::train ? e.par.chips() : e.instance_chips;
}

// Aggregated serving resolved and run (docs/deployments.md): the instance's plan as a decode
// scenario would have it, the load from the inputs, the MLPerf rule's highest rate when one is named.
void evaluate_aggregated(const ScenarioData& data, const System& sys, const Model& m, const WorkloadInputs& f0,
                         const ServingInputs& s, Evaluation& ev) {
  if (!s.pd_split.empty())
    throw InputError("flag --pd-split: not with --serving aggregated (prefill and decode share every chip)");
  if (!s.prefill_system.empty()) throw InputError("flag --prefill-system: not with --serving aggregated");
  if (!f0.prefill_eplb.empty())
    throw InputError("flag --prefill-eplb: not with --serving aggregated (prefill and decode share every chip: --eplb)");
  if (f0.search) throw InputError("flag --search: not with --serving aggregated (give the instance's plan)");
  if (s.concurrency < 0) throw InputError("flag --concurrency: must be a whole number >= 1 (got " + std::to_string(s.concurrency) + ")");
  if (s.chunk_tokens < 0)
    throw InputError("flag --chunk-tokens: must be a whole number >= 1 tokens per step (got " + std::to_string(s.chunk_tokens) + ")");
  if (s.arrival_given && (!(s.arrival_rate > 0) || !std::isfinite(s.arrival_rate)))
    throw InputError("flag --arrival-rate: must be > 0 requests/s (got " + fmt(s.arrival_rate) + ")");
  if (s.arrival_given && s.concurrency > 0)
    throw InputError("flag --arrival-rate: not with --concurrency (a closed loop sets its own rate)");
  if (!s.scenario.empty() && (s.arrival_given || s.concurrency > 0))
    throw InputError("flag --scenario: not with --arrival-rate or --concurrency (the scenario sets the load)");
  if (f0.seq_out < 1) throw InputError("flag --seq-out: must be >= 1");
  if (s.prefix_hit > 0) throw InputError("flag --prefix-hit: not with --serving aggregated (every prompt token is prefilled)");
  // The request lengths: fixed, a mix or ranges; the instance's step cost is taken at their means.
  const RequestMix mix = request_lengths(data, f0, s);
  // The instance: the decode plan (given, or the default serving plan) and its precisions.
  WorkloadInputs fd = f0;
  fd.mode = "decode";
  fd.batch = 0;
  fd.tpot_ms = 0;
  fd.seq_in = std::max(1, static_cast<int>(std::lround(mix.input.mean())));
  fd.seq_out = std::max(1, static_cast<int>(std::lround(mix.output.mean())));
  const Workload r = resolve_workload(sys, m, fd);
  if (f0.tp || f0.dp || f0.ep || f0.pp) reject_impossible(sys, m, r, &f0);
  AggregatedServing& a = ev.agg;
  ev.aggregated = true;
  a.x = r.infer;
  a.clients = s.concurrency;
  a.rate = s.arrival_given ? s.arrival_rate : 0;
  const bool targets = f0.tpot_ms > 0 || f0.ttft_ms > 0;
  if (targets && (s.arrival_given || s.concurrency > 0))
    throw InputError(std::string("flag ") + (f0.tpot_ms > 0 ? "--tpot-ms" : "--ttft-ms") +
                     ": not with --concurrency or --arrival-rate under --serving aggregated (a target sets the load: the "
                     "highest arrival rate that meets it)");
  if (s.percentile_given && !targets)
    throw InputError("flag --percentile: no latency target to hold (give --ttft-ms or --tpot-ms)");
  if (s.percentile_given && s.percentile != 50 && s.percentile != 90 && s.percentile != 99)
    throw InputError("flag --percentile: aggregated serving gives p50, p90 and p99 (got " + fmt(s.percentile) + ")");
  if (!s.scenario.empty() || targets) {
    if (!s.scenario.empty()) a.rule = load_scenario(s.scenario, m.id, data.configs_dir);
    if (targets) {  // the targets override the scenario's bounds, at the percentile
      if (s.scenario.empty()) a.rule.name = "latency targets";
      a.rule.offline = false;
      if (f0.ttft_ms > 0) a.rule.ttft_ms = f0.ttft_ms;
      if (f0.tpot_ms > 0) a.rule.tpot_ms = f0.tpot_ms;
      a.rule.percentile = s.percentile_given ? s.percentile : defaults::percentile;
    }
    if (!a.rule.offline) {
      const AggregatedEstimate off = estimate_aggregated(sys, m, a.x, Load::offline, 0, 0, s.chunk_tokens, s.instances, &mix);
      if (off.fits()) {
        a.rate = aggregated_capacity(off.setup, a.rule) * off.instances;
        a.rule_rate = true;
      }
    }
  }
  Reason unmet = Reason::ok;  // a rule no arrival rate meets: a result without figures, and why
  if (a.rule_rate && !(a.rate > 0)) {
    unmet = a.rule.tpot_ms > 0 ? Reason::tpot_unreachable : Reason::ttft_unreachable;
    a.rate = 0;
  }
  a.load = a.rate > 0 ? Load::poisson : a.clients > 0 ? Load::closed_loop : Load::offline;
  a.est = estimate_aggregated(sys, m, a.x, a.load, a.clients, a.rate, s.chunk_tokens, s.instances, &mix);
  if (unmet != Reason::ok && a.est.fits()) a.est.reason = unmet;
  const AggregatedEstimate& g = a.est;
  const AggregatedResult& res = g.result;
  // As an estimate: the system's output rate; power from the chips in instances at the activity of
  // the step's decode and prompt parts (time shares), the rest idle.
  Estimate& e = ev.econ.est;
  e.mode = Mode::serve;
  e.reason = g.reason;
  e.par = a.x.par;
  e.instance_chips = a.x.par.chips();
  const int busy = g.instances * e.instance_chips;
  if (g.fits()) {
    e.batch = static_cast<int>(std::lround(res.mean_running));
    e.tokens_per_s = g.output_tokens_per_s;
    e.tokens_per_s_per_chip = g.output_tokens_per_s / sys.chips;
    e.tpot_s = res.tpot_mean_s;
    e.ttft_s = res.ttft_mean_s;
    e.tokens_per_s_per_user = e.tpot_s > 0 ? 1 / e.tpot_s : 0;
    e.step_time_s = res.mean_step_s;
    // Prompt tokens per step P from their share of step tokens, P / (P + running); their time c P.
    const double share = std::min(res.prefill_share, 0.999999);
    const double prompt = res.mean_running * share / (1 - share);
    const double tp = res.mean_step_s > 0 ? std::min(1.0, g.setup.step.c_s * prompt / res.mean_step_s) : 0;
    const StepCost& c = g.setup.step;
    const double act = tp * c.activity_prefill + (1 - tp) * c.activity_decode;
    e.mfu = tp * c.mfu_prefill + (1 - tp) * c.mfu_decode;
    e.activity = sys.chips > 0 ? act * busy / sys.chips : 0;
  }
  ev.w.mode = Mode::serve;
  ev.w.infer = a.x;
  ev.econ = economics_of(sys, ev.site, e);
  ev.capex_usd = ev.econ.tco.capex_usd;
  ev.it_power_w = g.fits() ? ev.econ.tco.it_load_w : 0;
  Result& out = ev.result;
  fill_estimate(out, e, sys.chips, busy);
  if (g.fits()) {
    out[ResultMetric::requests_per_s] = res.requests_per_s * g.instances;
    out[ResultMetric::memory_gb_per_chip] = std::nan("");
  }
  fill_economics(out, sys, ev.econ);
  out[ResultMetric::electricity_usd_kwh] = ev.site.electricity_usd_kwh;
}
}  // namespace

Evaluation evaluate_on(const ScenarioData& data, const System& sys, const Site& site, const Model& m,
                       const Scenario& sc) {
  Evaluation ev;
  ev.system_id = sys.id;
  ev.site_id = site.id;
  ev.sys = sys;
  ev.model = m;
  ev.site = site;
  if (sc.utilization > 0) ev.site.utilization = sc.utilization;
  WorkloadInputs f = sc.w;
  if (!f.recipes) f.recipes = data.recipes;
  Result& r = ev.result;
  if (f.mode == "serve" && runs_aggregated(sys, sc.serve)) {
    evaluate_aggregated(data, sys, m, f, sc.serve, ev);
    return ev;
  }
  if (sc.serve.concurrency > 0 || sc.serve.chunk_tokens > 0)
    throw InputError(std::string("flag ") + (sc.serve.concurrency > 0 ? "--concurrency" : "--chunk-tokens") +
                     ": only with --serving aggregated");
  if (f.mode == "serve" && !f.search) {
    // Serve: whole prefill and decode instances as deployed, queueing under the latency rule.
    ev.serve = true;
    ev.serving = resolve_serving(data, sys, m, f, sc.serve);
    ev.w.mode = Mode::serve;
    ev.w.infer = ev.serving.d.decode;
    // The same system object when prefill runs on the decode system (plan_deployment tells them apart
    // by address).
    const System& ps = ev.serving.separate_prefill ? ev.serving.prefill_system : sys;
    ev.dep = plan_deployment(sys, ps, ev.serving.separate_prefill ? &ev.serving.join : nullptr, m, ev.serving.d);
    const Deployment& d = ev.dep;
    const int pre_chips = d.split.n_prefill * d.prefill.chips, dec_chips = d.split.n_decode * d.decode.chips;
    // Power: chips in instances at their activity, idle chips idle (power is linear in activity,
    // so the mean activity over the system's chips gives its IT power).
    Estimate& e = ev.econ.est;
    e.mode = Mode::serve;
    e.reason = d.fits() ? Reason::ok : d.reason;
    e.par = d.decode.par;
    e.batch = d.decode.est.batch;
    e.instance_chips = d.decode.chips;
    e.tokens_per_s = d.output_tokens_per_s;
    e.tokens_per_s_per_chip = d.tokens_per_s_per_chip;
    e.tpot_s = ev.serving.d.rule.offline ? d.tpot_s[0] : d.tpot_rule_s;
    e.ttft_s = ev.serving.d.rule.offline ? 0 : d.ttft_rule_s;
    e.tokens_per_s_per_user = e.tpot_s > 0 ? 1 / e.tpot_s : 0;
    e.mfu = d.decode.est.mfu;
    e.mem = d.decode.est.mem;
    auto act = [&](const System& s, int pc, double pa, int dc, double da) {
      return s.chips > 0 ? (pc * pa + dc * da) / s.chips : 0.0;
    };
    const bool ok = d.fits();
    Tco other;
    if (ev.serving.separate_prefill) {
      other = tco(ps, ev.site, ok ? act(ps, pre_chips, d.prefill_activity, 0, 0) : 0);
      e.activity = ok ? act(sys, 0, 0, dec_chips, d.decode_activity) : 0;
    } else {
      e.activity = ok ? act(sys, pre_chips, d.prefill_activity, dec_chips, d.decode_activity) : 0;
    }
    ev.econ = economics_of(sys, ev.site, e, ev.serving.separate_prefill ? &other : nullptr);
    ev.capex_usd = ev.econ.tco.capex_usd;
    ev.it_power_w = ok ? ev.econ.tco.it_load_w : 0;
    const int all_chips = sys.chips + (ev.serving.separate_prefill ? ps.chips : 0);
    fill_estimate(r, e, all_chips, pre_chips + dec_chips);
    if (ok) {
      r[ResultMetric::requests_per_s] = d.lambda;
      r[ResultMetric::instance_chips] = d.decode.chips;
    }
    fill_economics(r, sys, ev.econ);
    r[ResultMetric::electricity_usd_kwh] = ev.site.electricity_usd_kwh;
    return ev;
  }
  ev.w = resolve_workload(sys, m, f);
  Estimate e = run_request(sys, m, ev.w, &f);
  ev.econ = economics_of(sys, ev.site, e);
  ev.capex_usd = ev.econ.tco.capex_usd;
  ev.it_power_w = e.fits() ? ev.econ.tco.it_load_w : 0;
  double busy = e.mode == Mode::train ? e.par.chips() : 0;
  if (e.mode != Mode::train && e.instance_chips > 0) busy = double(sys.chips / e.instance_chips) * e.instance_chips;
  fill_estimate(r, e, sys.chips, busy);
  fill_economics(r, sys, ev.econ);
  r[ResultMetric::electricity_usd_kwh] = ev.site.electricity_usd_kwh;
  if (e.mode == Mode::train && ev.w.train.tokens > 0) {
    ev.run = price_training_run(ev.econ, ev.site, ev.w.train.tokens);
    if (ev.run.priced) {
      r[ResultMetric::train_run_weeks] = ev.run.weeks;
      r[ResultMetric::train_run_interruptions] = ev.run.interruptions;
    }
  }
  return ev;
}

bool runs_aggregated(const System& sys, const ServingInputs& s) {
  return s.serving == "aggregated" || (s.serving.empty() && sys.stack.aggregated && (s.concurrency > 0 || s.chunk_tokens > 0));
}

std::string with_model_stack(const Hwdb& db, const std::string& system_id, bool moe) {
  if (moe || system_id.find('@') != std::string::npos) return system_id;
  // NxSYSTEM[:os=R] runs SYSTEM's stacks.
  std::string base = system_id.substr(0, system_id.find(':'));
  if (const auto x = base.find('x'); x != std::string::npos && x > 0 &&
      base.find_first_not_of("0123456789") == x && !db.systems.count(base))
    base = base.substr(x + 1);
  const auto it = db.systems.find(base);
  if (it == db.systems.end() || it->second.str("stack_dense").empty()) return system_id;
  return system_id + "@" + it->second.str("stack_dense");
}

std::string scenario_system_id(const ScenarioData& data, const Scenario& sc, const Model& m) {
  return sc.stack.empty() ? with_model_stack(*data.db, sc.system, m.moe()) : sc.system + "@" + sc.stack;
}

Evaluation evaluate(const ScenarioData& data, const Scenario& sc, const Pick& pick) {
  const Model m = data.models->model(sc.model);
  const std::string id = scenario_system_id(data, sc, m);
  const System sys = data.db->system(id, pick);
  const std::string site_id = sc.site.empty() ? sys.home_site : sc.site;
  const Site site = data.db->site(site_id, pick);
  Evaluation ev = evaluate_on(data, sys, site, m, sc);
  ev.system_id = id;
  return ev;
}

void apply_scenario_defaults(SweepContext& c, const RecipeDb* recipes, const Hwdb& db) {
  c.formats.clear();
  c.train_batch_tokens.clear();
  c.train_seq.clear();
  c.model_systems.clear();
  const Axis* labels = c.spec ? c.spec->axis(AxisId::system) : nullptr;
  for (std::size_t e = 0; e < c.systems.size(); ++e)
    for (const Model& m : c.models) {
      // The system as a scenario runs this model: its dense-model stack for a dense model, unless a
      // stack axis (or SYSTEM@STACK) names the stack.
      System sys = c.systems[e];
      if (c.stacks == 1 && labels && e < labels->labels.size()) {
        const std::string& id = labels->labels[e];
        if (const std::string run = with_model_stack(db, id, m.moe()); run != id) sys = db.system(run);
      }
      c.model_systems.push_back(sys);
      WorkloadInputs f;
      f.mode = "serve";  // the formats only: no plan search
      f.recipes = recipes;
      c.formats.push_back(resolve_workload(sys, m, f).infer);
      c.train_batch_tokens.push_back(default_train_batch_tokens(sys, m));
      c.train_seq.push_back(m.train_seq > 0 ? m.train_seq : defaults::train_seq);
    }
}

}  // namespace podperf
