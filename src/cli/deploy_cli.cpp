#include "deploy_cli.hpp"

#include <cmath>

#include "podperf/core/cost.hpp"
#include "podperf/core/deployment.hpp"
#include "podperf/core/plan.hpp"
#include "podperf/core/power.hpp"
#include "podperf/io/serving_data.hpp"
#include "table.hpp"

namespace podperf::cli {

std::string plan_text(const Parallel& p) {
  return "TP" + std::to_string(p.tp) + " DP" + std::to_string(p.dp) + " EP" + std::to_string(p.ep) + " PP" +
         std::to_string(p.pp);
}

namespace {

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

ServingInputs serving_inputs(const DeployFlags& df) {
  ServingInputs s;
  s.pd_split = df.pd_split;
  s.prefill_system = df.prefill_system;
  s.scenario = df.scenario;
  s.mix = df.mix;
  s.seq_in_range = df.seq_in_range;
  s.seq_out_range = df.seq_out_range;
  s.percentile = df.percentile;
  s.prefix_hit = df.prefix_hit;
  s.arrival_rate = df.arrival_rate;
  s.percentile_given = df.percentile_opt && df.percentile_opt->count() > 0;
  s.arrival_given = df.arrival_opt && df.arrival_opt->count() > 0;
  return s;
}

void print_deployment(std::ostream& os, const Evaluation& ev, const WorkloadFlags& f, Json* json) {
  const System& sys = ev.sys;
  const Model& m = ev.model;
  const System* ps = ev.serving.separate_prefill ? &ev.serving.prefill_system : &ev.sys;
  const DeploymentSetup& d = ev.serving.d;
  const Deployment& r = ev.dep;
  const int pre_chips = r.split.n_prefill * r.prefill.chips, dec_chips = r.split.n_decode * r.decode.chips;
  const double it_w = ev.it_power_w, capex = ev.capex_usd;
  const int all_chips = sys.chips + r.prefill_system_chips;
  const char* kv_path = r.heterogeneous ? "scale-out RDMA between the systems" : r.kv_over_scaleup ? "scale-up" : "scale-out";

  if (json) {
    Json& j = *json;
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
