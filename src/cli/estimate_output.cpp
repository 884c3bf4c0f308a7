#include "estimate_output.hpp"

#include <cmath>

#include "table.hpp"

namespace podperf::cli {

namespace {
std::string plan_text(const Parallel& p) {
  return "TP" + std::to_string(p.tp) + " DP" + std::to_string(p.dp) + " EP" + std::to_string(p.ep) + " PP" +
         std::to_string(p.pp) + (p.cp > 1 ? " CP" + std::to_string(p.cp) : "");
}
Json plan_json(const Parallel& p) {
  Json j = Json::object();
  j["tp"] = p.tp;
  j["dp"] = p.dp;
  j["ep"] = p.ep;
  j["pp"] = p.pp;
  j["cp"] = p.cp;
  return j;
}
}  // namespace

Json result_json(const Result& r) {
  Json j = Json::object();
  for (const MetricInfo& m : metric_catalogue()) j[m.id] = std::isfinite(r[m.metric]) ? Json(r[m.metric]) : Json();
  return j;
}

Json estimate_json(const System& sys, const Model& m, const WorkloadRequest& r, const Estimate& e) {
  Json j = Json::object();
  j["system"] = sys.id;
  j["model"] = m.id;
  j["mode"] = to_string(e.mode);
  j["fits"] = e.fits();
  j["reason"] = e.fits() ? "" : reason_text(e.reason);
  j["parallel"] = plan_json(e.par);
  j["instance_chips"] = e.instance_chips;
  j["batch"] = e.batch;
  if (e.mode == Mode::train) {
    j["seq"] = r.train.seq;
    j["precision"] = to_string(r.train.precision);
    j["global_batch_tokens"] = double(e.batch) * r.train.seq;
    j["micro_batch"] = r.train.micro_batch;
    j["interleave"] = r.train.interleave;
    j["schedule"] = r.train.par.pp > 1 ? std::string(r.train.schedule.id.data()) : std::string("none");
    j["zero"] = r.train.zero;
    j["recompute"] = to_string(r.train.recompute);
    j["sequence_parallel"] = r.train.sequence_parallel;
    j["tp_overlap"] = to_string(r.train.tp_overlap);
    j["attention_kernel"] = to_string(r.train.attn_kernel);
    j["overlap"] = r.train.overlap >= 0 ? r.train.overlap : sys.train_stack.hidden_frac;
    j["stack"] = sys.train_stack.id;
    j["idle_chips"] = e.idle_chips;
  } else {
    j["seq_in"] = r.infer.seq_in;
    j["seq_out"] = r.infer.seq_out;
    j["weights"] = to_string(r.infer.main_weight_format());
    Json fm = Json::object();
    for (int g = 0; g < kGroups; ++g) fm[to_string(static_cast<Group>(g))] = to_string(r.infer.weight_format(static_cast<Group>(g)));
    j["weight_formats"] = fm;
    j["kv"] = to_string(r.infer.kv_fmt());
    j["redundant_experts"] = r.infer.redundant_experts;
    j["mtp_tokens"] = r.infer.mtp_tokens;
    j["stack"] = sys.stack.id;
    j["overlap_scheme"] = r.infer.overlap >= 0 ? "streams" : to_string(sys.stack.scheme);
    if (r.infer.overlap >= 0 || sys.stack.scheme == OverlapScheme::streams)
      j["overlap"] = r.infer.overlap >= 0 ? r.infer.overlap : sys.stack.hidden_frac;
  }
  // Numbers only where the configuration fits: a 'does not fit' result carries no throughput.
  auto val = [&](double v) { return e.fits() ? Json(v) : Json(); };
  j["tokens_per_s"] = val(e.tokens_per_s);
  // Per chip over the chips as bought; the chips the workload keeps busy beside it.
  j["tokens_per_s_per_chip"] = val(e.tokens_per_s / sys.chips);
  j["tokens_per_s_per_busy_chip"] = val(e.tokens_per_s_per_chip);
  j["tokens_per_s_per_user"] = val(e.tokens_per_s_per_user);
  j["tpot_ms"] = val(e.tpot_s * 1e3);
  j["ttft_ms"] = val(e.ttft_s * 1e3);
  j["step_time_s"] = val(e.step_time_s);
  j["mfu"] = val(e.mfu);
  j["memory_gb_per_chip"] = e.mem.used();
  Json mem = Json::object();
  mem["weights"] = e.mem.weights;
  mem["kv_cache"] = e.mem.kv_cache;
  mem["activations"] = e.mem.activations;
  mem["gradients"] = e.mem.gradients;
  mem["optimizer"] = e.mem.optimizer;
  mem["reserve"] = e.mem.reserve;
  mem["capacity"] = e.mem.capacity;
  j["memory"] = mem;
  j["bound"] = to_string(e.bound);
  Json b = Json::object();
  for (int i = 0; i < kParts; ++i) b[to_string(static_cast<Part>(i))] = e.breakdown[i];
  j["breakdown"] = b;
  if (e.mode == Mode::decode || e.mode == Mode::serve) j["max_batch"] = e.max_batch;
  if (e.mode == Mode::serve) {
    j["prefill_tokens_per_s_per_chip"] = e.prefill_tokens_per_s_per_chip;
    j["decode_tokens_per_s_per_chip"] = e.decode_tokens_per_s_per_chip;
    j["decode_chip_share"] = e.decode_chip_share;
    j["kv_transfer_bytes"] = e.kv_transfer_bytes;
  }
  if (e.mode == Mode::train) {
    j["bubble_fraction"] = e.bubble_frac;
    j["train_time_days"] = val(e.train_time_s / 86400);
    j["chip_hours"] = val(e.chip_hours);
  }
  return j;
}

void print_estimate(std::ostream& os, const System& sys, const Model& m, const WorkloadRequest& r, const Estimate& e) {
  os << m.name << " on " << sys.name << ", " << to_string(e.mode) << "\n  plan: " << plan_text(e.par) << " ("
     << e.instance_chips << " chips per instance";
  if (e.mode == Mode::train) {
    const TrainingSetup& t = r.train;
    os << "), global batch " << e.batch << " x " << t.seq << " tokens, " << to_string(t.precision) << ", micro-batch "
       << t.micro_batch << ", schedule " << (r.train.par.pp > 1 ? t.schedule.id.data() : "none") << ", interleave " << t.interleave << ", ZeRO-" << t.zero << ", recompute "
       << to_string(t.recompute) << ", SP " << (t.sequence_parallel ? "on" : "off") << ", TP overlap "
       << to_string(t.tp_overlap) << ", " << to_string(t.attn_kernel) << " attention, overlap "
       << num(t.overlap >= 0 ? t.overlap : sys.train_stack.hidden_frac, 2) << '\n'
       << "  stack: " << sys.train_stack.id << " (" << sys.train_stack.name << ")\n";
    if (e.idle_chips > 0) os << "  idle chips: " << e.idle_chips << " (the batch does not divide over more)\n";
  } else {
    const InferenceSetup& x = r.infer;
    const Format main = x.main_weight_format();
    os << "), batch " << e.batch << ", in " << x.seq_in << " / out " << x.seq_out << " tokens, weights "
       << to_string(main);
    for (int g = 0; g < kGroups; ++g)
      if (!(x.weight_format(static_cast<Group>(g)) == main))
        os << " (" << to_string(static_cast<Group>(g)) << ' ' << to_string(x.weight_format(static_cast<Group>(g))) << ')';
    os << ", KV " << to_string(x.kv_fmt()) << ", attention " << to_string(x.attn);
    if (x.redundant_experts) os << ", " << x.redundant_experts << " redundant experts";
    if (x.mtp_tokens) os << ", MTP " << x.mtp_tokens << " @ " << num(x.mtp_accept, 2);
    os << (x.default_eplb ? ", default EPLB" : "") << "\n  stack: " << sys.stack.id << " (" << sys.stack.name << "): ";
    if (x.overlap >= 0) os << "overlap " << num(x.overlap, 2) << " (--overlap)";
    else if (sys.stack.scheme == OverlapScheme::streams) os << "overlap " << num(sys.stack.hidden_frac, 2) << " on a side stream";
    else os << to_string(sys.stack.scheme) << " overlap";
    os << ", host " << num(sys.stack.step_overhead_ms, 3) << " ms per pass";
    if (sys.stack.per_seq_us > 0) os << " + " << num(sys.stack.per_seq_us, 3) << " us per sequence";
    os << ", launch " << num(sys.stack.launch_us, 3) << " us per operator";
    if (sys.stack.graph_max_batch > 0)
      os << " (" << num(sys.stack.graph_launch_us, 3) << " us in a captured graph, decode up to "
         << num(sys.stack.graph_max_batch) << " sequences per rank)";
    os << "\n";
    if (e.mode == Mode::serve && x.prefill_given())
      os << "  prefill plan: " << plan_text(x.prefill) << '\n';
  }
  if (!e.fits()) {
    os << (e.reason == Reason::memory ? "  DOES NOT FIT: " : "  NO RESULT: ") << reason_text(e.reason) << '\n';
  } else {
    Table t({"result", "value"});
    t.row({"tokens/s (system, " + group_digits(std::to_string(sys.chips)) + " chips)", num(e.tokens_per_s)});
    // Per chip over the chips as bought; per busy chip beside it where chips idle.
    t.row({"tokens/s per chip (all chips)", num(e.tokens_per_s / sys.chips)});
    if (std::abs(e.tokens_per_s / sys.chips - e.tokens_per_s_per_chip) > 1e-9 * e.tokens_per_s_per_chip)
      t.row({"tokens/s per busy chip", num(e.tokens_per_s_per_chip)});
    if (e.mode != Mode::train) {
      if (e.mode != Mode::prefill) {
        t.row({"TPOT ms", num(e.tpot_s * 1e3)});
        t.row({"tokens/s per user", num(e.tokens_per_s_per_user)});
      }
      if (e.mode != Mode::decode) t.row({"TTFT ms", num(e.ttft_s * 1e3)});
      if (e.mode == Mode::serve) {
        t.row({"prefill tokens/s per chip", num(e.prefill_tokens_per_s_per_chip)});
        t.row({"decode tokens/s per chip", num(e.decode_tokens_per_s_per_chip)});
        t.row({"decode share of chips", num(e.decode_chip_share, 3)});
      }
    } else {
      t.row({"step time s", num(e.step_time_s)});
      t.row({"pipeline bubble", num(e.bubble_frac, 3)});
      if (e.chip_hours > 0) {
        t.row({"days to train", num(e.train_time_s / 86400)});
        t.row({"chip-hours", num(e.chip_hours)});
      }
    }
    t.row({"MFU", num(e.mfu, 3)});
    t.row({"bound", to_string(e.bound)});
    t.print(os);
  }
  os << "  time per step (" << (e.mode == Mode::serve ? "decode pool" : "per chip") << "):";
  for (int i = 0; i < kParts; ++i)
    if (e.breakdown[i] > 0) os << ' ' << to_string(static_cast<Part>(i)) << ' ' << num(e.breakdown[i] * 1e3) << " ms;";
  os << "\n  memory per chip GB: weights " << num(e.mem.weights) << ", KV " << num(e.mem.kv_cache) << ", activations "
     << num(e.mem.activations);
  if (e.mode == Mode::train) os << ", gradients " << num(e.mem.gradients) << ", optimizer " << num(e.mem.optimizer);
  os << "; used " << num(e.mem.used()) << " of " << num(e.mem.capacity) << " (reserve " << num(e.mem.reserve) << ")";
  if (e.max_batch > 0) os << "; max batch " << e.max_batch;
  os << '\n';
}

}  // namespace podperf::cli
