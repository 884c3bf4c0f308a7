#include "deploy_cli.hpp"

#include <cmath>

#include "podperf/cost.hpp"
#include "podperf/deployment.hpp"
#include "podperf/plan.hpp"
#include "podperf/power.hpp"
#include "podperf/serving_data.hpp"
#include "table.hpp"

namespace podperf::cli {

std::string plan_text(const Parallel& p) {
  return "TP" + std::to_string(p.tp) + " DP" + std::to_string(p.dp) + " EP" + std::to_string(p.ep) + " PP" +
         std::to_string(p.pp);
}

namespace {

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

std::string dist_text(const LengthDist& d) {
  if (d.kind == LengthDist::fixed) return num(d.lo) + " (fixed)";
  if (d.kind == LengthDist::uniform) return num(d.mean()) + " mean (uniform " + num(d.lo) + "-" + num(d.hi) + ")";
  return num(d.mean()) + " mean (histogram, " + std::to_string(d.tokens.size()) + " bins)";
}

std::string ms3(const double* s) {
  auto one = [](double v) { return std::isfinite(v) ? num(v * 1e3) : std::string("inf"); };
  return one(s[0]) + " / " + one(s[1]) + " / " + one(s[2]);
}

Json plan_json(const InstanceChoice& c, int count) {
  Json j = Json::object();
  j["instances"] = count;
  j["chips_per_instance"] = c.chips;
  j["tp"] = c.par.tp;
  j["dp"] = c.par.dp;
  j["ep"] = c.par.ep;
  j["pp"] = c.par.pp;
  j["redundant_experts"] = c.redundant_experts;
  j["capacity_requests_per_s"] = c.capacity_rps;
  j["batch"] = c.est.batch;
  return j;
}

std::string why_text(const Deployment& r) {
  if (r.overloaded) return r.why + "; the deployment sustains " + num(r.split.rps) + " req/s";
  return std::string(reason_text(r.reason)) + (r.why.empty() ? "" : " (" + r.why + ")");
}

}  // namespace

void add_deploy_flags(CLI::App* cmd, DeployFlags& d) {
  cmd->add_option("--pd-split", d.pd_split, "serve: prefill:decode chips, e.g. 96:288 (default: the best integer split)");
  cmd->add_option("--prefill-system", d.prefill_system, "serve: run prefill on this system (KV over the fabric joining them)");
  cmd->add_option("--scenario", d.scenario, "serve: offline | server | interactive (MLPerf Inference latency rules)")
      ->check(CLI::IsMember({"offline", "server", "interactive"}));
  d.percentile_opt = cmd->add_option("--percentile", d.percentile, "serve: percentile at which --ttft-ms / --tpot-ms hold (default 99)");
  cmd->add_option("--prefix-hit", d.prefix_hit, "serve: fraction of prompt tokens served from the prefix cache [0, 1]");
  d.arrival_opt = cmd->add_option("--arrival-rate", d.arrival_rate, "serve: requests/s (default: the highest the deployment sustains)");
  cmd->add_option("--mix", d.mix, "serve: request-length histograms (configs/mixes id, e.g. chat, reasoning; or a file)");
  cmd->add_option("--seq-in-range", d.seq_in_range, "serve: prompt tokens uniform over LO:HI");
  cmd->add_option("--seq-out-range", d.seq_out_range, "serve: output tokens uniform over LO:HI");
  d.reserve_opt = cmd->add_option("--hbm-reserve", d.hbm_reserve, "HBM fraction kept free (runtime, fragmentation; default: the serving stack's)");
}

void run_deployment(std::ostream& os, Context& ctx, const System& sys, const Model& m, const WorkloadFlags& f,
                    const DeployFlags& df, bool json) {
  // ---- checks of the flags (one line, naming the flag) ----
  const bool pct_given = df.percentile_opt && df.percentile_opt->count() > 0;
  const bool rate_given = df.arrival_opt && df.arrival_opt->count() > 0;
  const bool reserve_given = df.reserve_opt && df.reserve_opt->count() > 0;
  if (!(df.percentile > 0 && df.percentile < 100))
    throw InputError("flag --percentile: must be in (0, 100) (got " + num(df.percentile) + ")");
  if (!(df.prefix_hit >= 0 && df.prefix_hit <= 1))
    throw InputError("flag --prefix-hit: must be in [0, 1] (got " + num(df.prefix_hit) + ")");
  if (rate_given && (!(df.arrival_rate > 0) || !std::isfinite(df.arrival_rate)))
    throw InputError("flag --arrival-rate: must be > 0 requests/s (got " + num(df.arrival_rate) + ")");
  if (!(df.hbm_reserve >= 0 && df.hbm_reserve < 1))
    throw InputError("flag --hbm-reserve: must be in [0, 1) (got " + num(df.hbm_reserve) + ")");

  if (f.context > 0)
    throw InputError("flag --context: serve derives the decode context from the request mix (use --seq-in/--seq-out or --mix)");
  DeploymentSetup d;
  // Prefill system: the decode system unless --prefill-system names another one.
  System psys_store;
  const System* ps = &sys;
  Fabric join;
  if (!df.prefill_system.empty() && df.prefill_system != sys.id) {
    psys_store = ctx.db().system(df.prefill_system);
    ps = &psys_store;
    // KV crosses the scale-out (RDMA) networks of both systems: the slower side sets the rate.
    const Fabric& a = ps->scaleout;
    const Fabric& b = sys.scaleout;
    // KV moves between one vendor's serving stacks (its transfer library over RDMA); across vendors
    // no shared path is modelled.
    if (!(a.gb_s_per_dir > 0) || !(b.gb_s_per_dir > 0) || ps->vendor != sys.vendor)
      throw InputError("flag --prefill-system: no fabric joins '" + ps->id + "' (" + ps->vendor + ") and '" + sys.id +
                       "' (" + sys.vendor + "): KV transfer needs a scale-out network on both and one vendor's stack");
    join = a.gb_s_per_dir <= b.gb_s_per_dir ? a : b;
    join.latency_us = std::max(a.latency_us, b.latency_us);
    join.coll_eff = std::min(a.coll_eff, b.coll_eff);
  }
  if (!df.pd_split.empty()) {
    const auto [p, q] = parse_pair(df.pd_split, "--pd-split", "PREFILL:DECODE chips");
    const int pmax = ps == &sys ? sys.chips : ps->chips;
    if (ps == &sys && static_cast<long>(p) + q > sys.chips)
      throw InputError("flag --pd-split: " + std::to_string(p) + " + " + std::to_string(q) + " chips is more than the " +
                       std::to_string(sys.chips) + " chips of " + sys.id);
    if (ps != &sys && (p > pmax || q > sys.chips))
      throw InputError("flag --pd-split: " + df.pd_split + " is more than " + std::to_string(pmax) + " prefill (" +
                       ps->id + ") or " + std::to_string(sys.chips) + " decode (" + sys.id + ") chips");
    d.pd_prefill_chips = p;
    d.pd_decode_chips = q;
  }

  // Per-role setups: precisions default per chip, so each side resolves against its own system.
  WorkloadFlags fd = f;
  fd.mode = "serve";  // the setup only; serve keeps resolve from searching a default plan
  const WorkloadRequest rd = resolve(sys, m, fd);
  d.decode = rd.infer;
  d.decode_plan_given = f.tp || f.dp || f.ep || f.pp;
  WorkloadFlags fp = f;
  fp.mode = "serve";
  fp.tp = f.prefill_tp;
  fp.dp = f.prefill_dp;
  fp.ep = f.prefill_ep;
  fp.pp = f.prefill_pp;
  const WorkloadRequest rp = resolve(*ps, m, fp);
  d.prefill = rp.infer;
  d.prefill_plan_given = f.prefill_tp || f.prefill_dp || f.prefill_ep || f.prefill_pp;
  // Plans given on the command line must exist (one line naming the flag).
  if (d.decode_plan_given) reject_impossible(sys, m, rd);
  if (d.prefill_plan_given) {
    d.prefill.par = rd.infer.prefill;
    Reason why = check_parallel(*ps, m, d.prefill.par);
    const int copies = m.experts + default_redundant_experts(m, d.prefill.par.ep);
    if (why == Reason::ok && m.moe() && (d.prefill.par.ep > copies || copies % d.prefill.par.ep != 0))
      why = Reason::ep_experts;
    if (why != Reason::ok)
      throw InputError("flag --prefill-tp/--prefill-dp/--prefill-ep/--prefill-pp: " + std::string(reason_text(why)) + " (" +
                       plan_text(d.prefill.par) + " on " + ps->id + ")");
    d.prefill.redundant_experts = default_redundant_experts(m, d.prefill.par.ep);
  }
  if (reserve_given) d.prefill.reserve_frac = d.decode.reserve_frac = df.hbm_reserve;

  // Request mix.
  d.mix.input = LengthDist::make_fixed(f.seq_in);
  d.mix.output = LengthDist::make_fixed(f.seq_out);
  if (!df.mix.empty()) load_mix(df.mix, ctx.configs_dir, d.mix);
  if (!df.seq_in_range.empty()) {
    const auto [lo, hi] = parse_pair(df.seq_in_range, "--seq-in-range", "LO:HI tokens");
    if (lo > hi) throw InputError("flag --seq-in-range: LO > HI ('" + df.seq_in_range + "')");
    d.mix.input = LengthDist::make_uniform(lo, hi);
  }
  if (!df.seq_out_range.empty()) {
    const auto [lo, hi] = parse_pair(df.seq_out_range, "--seq-out-range", "LO:HI tokens");
    if (lo > hi) throw InputError("flag --seq-out-range: LO > HI ('" + df.seq_out_range + "')");
    d.mix.output = LengthDist::make_uniform(lo, hi);
  }
  d.mix.prefix_hit = df.prefix_hit;
  d.mix.arrival_rate = df.arrival_rate;

  // Latency rule: the scenario's, then --ttft-ms / --tpot-ms (which override it) at --percentile.
  if (!df.scenario.empty()) d.rule = load_scenario(df.scenario, m.id, ctx.configs_dir);
  if (f.ttft_ms > 0 || f.tpot_ms > 0 || rate_given || pct_given) {
    if (d.rule.offline && df.scenario == "offline" && (f.ttft_ms > 0 || f.tpot_ms > 0))
      throw InputError("flag --scenario: offline has no latency bound; drop --ttft-ms / --tpot-ms or use server");
    if (df.scenario.empty()) d.rule.name = "latency targets";
    d.rule.offline = df.scenario == "offline";
    if (f.ttft_ms > 0) d.rule.ttft_ms = f.ttft_ms;
    if (f.tpot_ms > 0) d.rule.tpot_ms = f.tpot_ms;
    if (pct_given) d.rule.percentile = df.percentile;
  }

  const Deployment r = plan_deployment(sys, *ps, ps == &sys ? nullptr : &join, m, d);

  // Power and capital cost of the system(s): chips in prefill and decode instances draw power at
  // their activity, idle chips at idle.
  auto system_w = [&](const System& s, int pre_chips, double pre_act, int dec_chips, double dec_act) {
    const double chip_w = (pre_chips * chip_power_w(s.chip, pre_act) + dec_chips * chip_power_w(s.chip, dec_act) +
                           (s.chips - pre_chips - dec_chips) * s.chip.idle_w) / s.chips;
    return it_power(s, chip_w).total_w();
  };
  const int pre_chips = r.split.n_prefill * r.prefill.chips, dec_chips = r.split.n_decode * r.decode.chips;
  double it_w = 0, capex = capex_usd(sys);
  if (r.fits()) {
    if (r.heterogeneous) {
      it_w = system_w(*ps, pre_chips, r.prefill_activity, 0, 0) + system_w(sys, 0, 0, dec_chips, r.decode_activity);
      capex += capex_usd(*ps);
    } else {
      it_w = system_w(sys, pre_chips, r.prefill_activity, dec_chips, r.decode_activity);
    }
  } else if (r.heterogeneous) {
    capex += capex_usd(*ps);
  }
  const int all_chips = sys.chips + r.prefill_system_chips;
  const char* kv_path = r.heterogeneous ? "scale-out RDMA between the systems" : r.kv_over_scaleup ? "scale-up" : "scale-out";

  if (json) {
    Json j = Json::object();
    j["system"] = sys.id;
    j["prefill_system"] = ps->id;
    j["model"] = m.id;
    j["mode"] = "serve";
    j["fits"] = r.fits();
    j["reason"] = r.fits() ? "" : why_text(r);
    j["rule"] = d.rule.name;
    j["percentile"] = d.rule.offline ? Json() : Json(d.rule.percentile);
    j["ttft_bound_ms"] = d.rule.ttft_ms > 0 ? Json(d.rule.ttft_ms) : Json();
    j["tpot_bound_ms"] = d.rule.tpot_ms > 0 ? Json(d.rule.tpot_ms) : Json();
    j["input_tokens_mean"] = d.mix.input.mean();
    j["output_tokens_mean"] = d.mix.output.mean();
    j["prefix_hit"] = d.mix.prefix_hit;
    j["prefill"] = plan_json(r.prefill, r.split.n_prefill);
    j["decode"] = plan_json(r.decode, r.split.n_decode);
    j["chips"] = all_chips;
    j["prefill_chips"] = pre_chips;
    j["decode_chips"] = dec_chips;
    j["idle_chips"] = r.idle_chips + r.idle_prefill_system_chips;
    auto val = [&](double v) { return r.fits() && std::isfinite(v) ? Json(v) : Json(); };
    j["requests_per_s"] = val(r.lambda);
    j["tokens_per_s"] = val(r.output_tokens_per_s);
    j["tokens_per_s_per_chip"] = val(r.tokens_per_s_per_chip);
    j["prefill_tokens_per_s_per_chip"] = val(r.prefill.est.tokens_per_s_per_chip);
    j["decode_tokens_per_s_per_chip"] = val(r.decode.est.tokens_per_s_per_chip);
    const char* names[3] = {"p50", "p90", "p99"};
    Json tt = Json::object(), tp = Json::object();
    for (int i = 0; i < 3; ++i) {
      tt[names[i]] = d.rule.offline ? Json() : val(r.ttft_s[i] * 1e3);
      tp[names[i]] = val(r.tpot_s[i] * 1e3);
    }
    j["ttft_ms"] = tt;
    j["tpot_ms"] = tp;
    j["kv_transfer_bytes"] = r.kv_bytes;
    j["kv_transfer_ms"] = r.kv_s * 1e3;
    j["kv_fabric"] = kv_path;
    j["it_power_w"] = val(it_w);
    j["capex_usd"] = capex;
    const Recipe* rd_ = chosen_recipe(sys, f);
    const Recipe* rp_ = chosen_recipe(*ps, f);
    j["recipe"] = rd_ ? rd_->id : std::string("none");
    j["prefill_recipe"] = rp_ ? rp_->id : std::string("none");
    os << j.dump() << '\n';
    return;
  }

  os << m.name << " on " << sys.name << (r.heterogeneous ? " (decode) + " + ps->name + " (prefill)" : "")
     << ", serve\n";
  os << "  rule: " << d.rule.name;
  if (d.rule.offline) os << ", no latency bound";
  else {
    os << ", at p" << num(d.rule.percentile) << ":";
    os << " TTFT " << (d.rule.ttft_ms > 0 ? "<= " + num(d.rule.ttft_ms) + " ms" : "unbounded");
    os << ", TPOT " << (d.rule.tpot_ms > 0 ? "<= " + num(d.rule.tpot_ms) + " ms" : "unbounded");
  }
  os << "\n  requests: in " << dist_text(d.mix.input) << ", out " << dist_text(d.mix.output) << " tokens, prefix hit "
     << num(d.mix.prefix_hit, 3) << ", arrivals "
     << (d.mix.arrival_rate > 0 ? num(d.mix.arrival_rate) + " req/s" : std::string("the highest sustained"))
     << "; weights " << to_string(d.decode.main_weight_format()) << ", KV " << to_string(d.decode.kv) << ", HBM reserve "
     << num(d.decode.reserve(sys.stack), 3) << " (stack " << sys.stack.id << ")\n";
  {
    const Recipe* rd_ = chosen_recipe(sys, f);
    const Recipe* rp_ = chosen_recipe(*ps, f);
    os << "  precision recipe: decode " << (rd_ ? rd_->id : std::string("none")) << " (" << sys.chip.id << ")";
    if (r.heterogeneous) os << ", prefill " << (rp_ ? rp_->id : std::string("none")) << " (" << ps->chip.id << ")";
    os << "; flags --weights/--kv/--attn override it\n";
  }
  auto inst = [&](const char* role, const InstanceChoice& c, int n, const System& s) {
    os << "  " << role << ": " << n << " x " << c.chips << " chips (" << plan_text(c.par);
    if (c.redundant_experts) os << ", " << c.redundant_experts << " redundant experts";
    if (c.prefill_tokens_per_chip) os << ", chunk " << c.prefill_tokens_per_chip << " tokens/chip";
    else os << ", batch up to " << c.est.batch;
    os << ") on " << s.id << ", " << num(c.capacity_rps) << " req/s each\n";
  };
  if (!r.fits() && (r.split.n_prefill < 1 || r.split.n_decode < 1)) {
    os << "  DOES NOT FIT: " << why_text(r) << '\n';
    return;
  }
  inst("prefill", r.prefill, r.split.n_prefill, *ps);
  inst("decode ", r.decode, r.split.n_decode, sys);
  if (r.heterogeneous)
    os << "  chips: " << pre_chips << " prefill + " << r.idle_prefill_system_chips << " idle on " << ps->id << "; "
       << dec_chips << " decode + " << r.idle_chips << " idle on " << sys.id << '\n';
  else
    os << "  chips: " << pre_chips << " prefill + " << dec_chips << " decode + " << r.idle_chips << " idle = "
       << sys.chips << '\n';
  if (!r.fits()) {
    os << "  DOES NOT FIT: " << why_text(r) << '\n';
    return;
  }
  Table t({"result", "value"});
  t.row({"requests/s", num(r.lambda)});
  t.row({"output tokens/s (system, " + std::to_string(all_chips) + " chips)", num(r.output_tokens_per_s)});
  t.row({"output tokens/s per chip (all chips)", num(r.tokens_per_s_per_chip)});
  t.row({"prefill tokens/s per chip (in use)", num(r.prefill.est.tokens_per_s_per_chip)});
  t.row({"decode tokens/s per chip (at full batch)", num(r.decode.est.tokens_per_s_per_chip)});
  if (!d.rule.offline) t.row({"TTFT ms p50 / p90 / p99", ms3(r.ttft_s)});
  t.row({std::string("TPOT ms ") + (d.rule.offline ? "(full batch)" : "p50 / p90 / p99"),
         d.rule.offline ? num(r.tpot_s[0] * 1e3) : ms3(r.tpot_s)});
  t.row({"KV per request MB (" + std::string(kv_path) + ")", num(r.kv_bytes / 1e6)});
  t.row({"KV transfer ms", num(r.kv_s * 1e3)});
  t.row({"IT power kW (all chips)", num(it_w / 1e3)});
  t.row({"output tokens per kJ", num(r.output_tokens_per_s / it_w * 1e3)});
  t.row({"capex USD (system" + std::string(r.heterogeneous ? "s" : "") + ")", num(capex)});
  t.print(os);
}

}  // namespace podperf::cli
