#include "podperf/app/validation.hpp"
#include "podperf/core/plan.hpp"
#include "podperf/core/aggregated.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "podperf/io/limits.hpp"
#include "podperf/core/operators.hpp"
#include "podperf/io/toml_fields.hpp"

namespace fs = std::filesystem;

namespace podperf {

namespace {
// Serve cases may state the deployment as run: the prefill instance's plan and redundant experts,
// and fixed pools of chips (whole instances; both or neither).
void read_serving_layout(io::StrictReader& s, const std::string& file, const std::string& mode, InferenceSetup& x) {
  const char* keys[] = {"prefill_tp", "prefill_dp", "prefill_ep", "prefill_pp", "prefill_redundant_experts",
                        "prefill_chips", "decode_chips"};
  for (const char* k : keys)
    if (mode != "serve" && s.t.get(k))
      throw InputError(file, io::line_of(*s.t.get(k)), std::string("setup.") + k, "only with mode = \"serve\"");
  if (mode != "serve") return;
  x.prefill = Parallel{s.integer("prefill_tp", 1), s.integer("prefill_dp", 1), s.integer("prefill_ep", 1),
                       s.integer("prefill_pp", 1), 1};
  if (s.t.get("prefill_redundant_experts")) x.prefill_redundant_experts = s.integer0("prefill_redundant_experts", 0);
  const toml::node* pc = s.t.get("prefill_chips");
  const toml::node* dc = s.t.get("decode_chips");
  if (!pc != !dc)
    throw InputError(file, io::line_of(*(pc ? pc : dc)), pc ? "setup.prefill_chips" : "setup.decode_chips",
                     "needs setup." + std::string(pc ? "decode_chips" : "prefill_chips") + " too (fixed pools come in pairs)");
  if (!pc) return;
  x.prefill_pool_chips = s.integer("prefill_chips", 0);
  x.decode_pool_chips = s.integer("decode_chips", 0);
  const int pi = x.prefill_plan().chips();
  if (x.prefill_pool_chips % pi != 0)
    throw InputError(file, io::line_of(*pc), "setup.prefill_chips",
                     "must be a whole number of prefill instances of " + std::to_string(pi) + " chips (got " +
                         std::to_string(x.prefill_pool_chips) + ")");
  if (x.decode_pool_chips % x.par.chips() != 0)
    throw InputError(file, io::line_of(*dc), "setup.decode_chips",
                     "must be a whole number of decode instances of " + std::to_string(x.par.chips()) + " chips (got " +
                         std::to_string(x.decode_pool_chips) + ")");
}
}  // namespace

std::vector<ValidationCase> fit_cases(const std::vector<ValidationCase>& cases) {
  std::vector<ValidationCase> out;
  for (auto& c : cases)
    if (c.open.empty()) out.push_back(c);
  return out;
}

std::vector<ValidationCase> load_cases(const std::string& dir) {
  if (!fs::is_directory(dir)) throw InputError(dir + ": not a validation cases directory");
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".toml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<ValidationCase> out;
  std::set<std::string> ids;
  for (auto& path : files) {
    const std::string file = path.lexically_normal().string();
    const toml::table root = io::parse_toml_file(file);
    ValidationCase c;
    c.file = file;
    io::StrictReader top{file, root, "", {"setup", "measured"}};
    c.id = top.str("id");
    if (c.id != path.stem().string())
      throw InputError(file, io::line_of(*root.get("id")), "id", "'" + c.id + "' does not match the file name");
    if (!ids.insert(c.id).second) throw InputError(file, io::line_of(*root.get("id")), "id", "duplicate id");
    c.group = top.str("group");
    static const std::set<std::string> groups = {"huawei-serving", "huawei-training", "huawei-micro", "nvidia-serving",
                                                 "nvidia-training", "nvidia-micro"};
    if (!groups.count(c.group))
      throw InputError(file, io::line_of(*root.get("group")), "group", "unknown group '" + c.group +
                       "' (huawei|nvidia - serving|training|micro)");
    c.title = top.str("title");
    c.source = top.str("source");
    c.open = top.str("open", false);
    top.done();

    io::StrictReader s{file, io::required_table(root, file, "setup"), "setup", {}};
    c.system = s.str("system");
    c.stack = s.str("stack", false);
    if (const toml::node* n = s.t.get("stack")) c.stack_line = io::line_of(*n);
    c.mode = s.str("mode");
    static const std::set<std::string> modes = {"prefill", "decode", "serve", "train", "gemm", "stream"};
    if (!modes.count(c.mode))
      throw InputError(file, io::line_of(*s.t.get("mode")), "setup.mode", "unknown mode '" + c.mode + "'");
    Workload& w = c.w;
    if (c.mode == "gemm" || c.mode == "stream") {
      c.gemm_m = s.number("gemm_m", 8192);
      c.precision = s.prec("precision", Precision::bf16);
    } else {
      c.model = s.str("model");
      Parallel p{s.integer("tp", 1), s.integer("dp", 1), s.integer("ep", 1), s.integer("pp", 1), s.integer("cp", 1)};
      w.mode = c.mode == "prefill" ? Mode::prefill : c.mode == "decode" ? Mode::decode : c.mode == "serve" ? Mode::serve : Mode::train;
      if (w.mode == Mode::train) {
        w.train.par = p;
        w.train.global_batch = s.integer("batch", 0);
        w.train.seq = s.integer("seq", 4096);
        w.train.micro_batch = s.integer("micro_batch", 1);
        w.train.interleave = s.integer("interleave", 1);
        c.schedule = s.str("schedule", false);
        w.train.zero = s.integer0("zero", 1);
        // A named option of the training stack: one of `names`, else the first.
        auto pick = [&](const char* key, std::initializer_list<const char*> names) {
          const std::string v = s.str(key, false);
          int i = 0;
          for (const char* n : names) {
            if (v.empty() || v == n) return v.empty() ? 0 : i;
            ++i;
          }
          std::string all;
          for (const char* n : names) all += (all.empty() ? "" : " | ") + std::string(n);
          throw InputError(file, io::line_of(*s.t.get(key)), std::string("setup.") + key, "must be " + all);
        };
        w.train.recompute = static_cast<Recompute>(pick("recompute", {"none", "selective", "full"}));
        w.train.sequence_parallel = pick("sequence_parallel", {"on", "off"}) == 0;
        w.train.tp_overlap = static_cast<TpOverlap>(pick("tp_overlap", {"none", "pipelined"}));
        w.train.attn_kernel = static_cast<AttnKernel>(pick("attention_kernel", {"flash", "unfused"}));
        if (s.t.get("overlap")) {
          w.train.overlap = s.number("overlap", 0);
          if (w.train.overlap > 1) throw InputError(file, io::line_of(*s.t.get("overlap")), "setup.overlap", "must be in (0, 1]");
        }
        w.train.precision = s.prec("precision", Precision::bf16);
        w.train.activations = s.prec("activations", Precision::bf16);
        w.train.redundant_experts = s.integer0("redundant_experts", 0);
      } else {
        InferenceSetup& x = w.infer;
        x.par = p;
        x.batch = s.integer0("batch", 0);
        x.seq_in = s.integer("seq_in", 2048);
        x.seq_out = s.integer("seq_out", 256);
        x.context = s.integer0("context", 0);
        x.tpot_target_ms = s.number("tpot_ms", 0);
        // weights sets every group (a block-scaled format its scales too); w_* override a group.
        if (const auto wf = s.format("weights")) {
          x.weights = wf->p;
          if (wf->scaling != Scaling::none) x.group.fill(*wf);
        }
        const std::pair<const char*, Group> groups[] = {{"w_attn", Group::attn_proj}, {"w_ffn", Group::dense_ffn},
            {"w_experts", Group::experts}, {"w_shared", Group::shared_experts}, {"w_head", Group::lm_head}};
        for (const auto& [key, g] : groups)
          if (const auto gf = s.format(key)) x.group[static_cast<int>(g)] = *gf;
        if (const auto kf = s.format("kv")) {
          x.kv = kf->p;
          if (kf->scaling != Scaling::none) x.kv_format = *kf;
        }
        x.attn = s.prec("attn", Precision::bf16);
        x.redundant_experts = s.integer0("redundant_experts", 0);
        x.mtp_tokens = s.integer0("mtp", 0, kMaxMtpTokens);
        if (s.t.get("mtp_accept")) {
          x.mtp_accept = s.number("mtp_accept", 0);
          if (x.mtp_accept > 1) throw InputError(file, io::line_of(*s.t.get("mtp_accept")), "setup.mtp_accept", "must be in (0, 1]");
        }
        read_serving_layout(s, file, c.mode, x);
        const std::string serving = s.str("serving", false);
        if (!serving.empty() && (serving != "aggregated" || c.mode != "serve"))
          throw InputError(file, io::line_of(*s.t.get("serving")), "setup.serving",
                           "only \"aggregated\", with mode = \"serve\" (disaggregated is the serve default)");
        c.aggregated = serving == "aggregated";
        const std::string load = s.str("load", false);
        if (!load.empty() && (!c.aggregated || (load != "offline" && load != "closed-loop")))
          throw InputError(file, io::line_of(*s.t.get("load")), "setup.load",
                           c.aggregated ? "must be \"closed-loop\" or \"offline\" (got \"" + load + "\")"
                                        : "only with serving = \"aggregated\"");
        c.offline = load == "offline";
        if (c.aggregated) {
          if (c.offline && s.t.get("concurrency"))
            throw InputError(file, io::line_of(*s.t.get("concurrency")), "setup.concurrency",
                             "an offline load keeps the running batch at its KV cap: no concurrency");
          c.concurrency = c.offline ? 0 : s.integer("concurrency", 1);
          c.instances = s.integer("instances", 1);
          if (s.t.get("chunk_tokens")) c.chunk_tokens = s.integer("chunk_tokens", 1);
          c.mix.input = LengthDist::make_fixed(x.seq_in);
          c.mix.output = LengthDist::make_fixed(x.seq_out);
          for (const char* k : {"seq_in_range", "seq_out_range"}) {
            const std::string v = s.str(k, false);
            if (v.empty()) continue;
            const int line = io::line_of(*s.t.get(k));
            const auto colon = v.find(':');
            char* e1 = nullptr;
            char* e2 = nullptr;
            const double lo = std::strtod(v.c_str(), &e1);
            const double hi = colon == std::string::npos ? 0 : std::strtod(v.c_str() + colon + 1, &e2);
            if (colon == std::string::npos || e1 != v.c_str() + colon || !e2 || *e2 != '\0' || !(lo >= 1) || !(hi >= lo) ||
                hi > 1e8 || std::floor(lo) != lo || std::floor(hi) != hi)
              throw InputError(file, line, std::string("setup.") + k, "must be \"LO:HI\" whole tokens, 1 <= LO <= HI (got \"" + v + "\")");
            (k[4] == 'i' ? c.mix.input : c.mix.output) = LengthDist::make_uniform(lo, hi);
            (k[4] == 'i' ? x.seq_in : x.seq_out) = static_cast<int>(std::lround((lo + hi) / 2));
            c.mix_given = true;
          }
        } else {
          for (const char* k : {"seq_in_range", "seq_out_range"})
            if (s.t.get(k)) throw InputError(file, io::line_of(*s.t.get(k)), std::string("setup.") + k, "only with serving = \"aggregated\"");
        }
      }
      const std::string eplb = s.str("eplb", false);
      if (!eplb.empty() && eplb != "default" && eplb != "perfect")
        throw InputError(file, io::line_of(*s.t.get("eplb")), "setup.eplb", "must be 'default' or 'perfect'");
      c.default_eplb = eplb == "default";
    }
    s.done();

    io::StrictReader m{file, io::required_table(root, file, "measured"), "measured", {}};
    c.metric = m.str("metric");
    static const std::set<std::string> metrics = {"tokens_per_s_per_chip", "mfu", "achieved_tflops", "achieved_tb_s",
                                                  "step_time_s", "tpot_ms", "ttft_ms"};
    if (!metrics.count(c.metric))
      throw InputError(file, io::line_of(*m.t.get("metric")), "measured.metric", "unknown metric '" + c.metric + "'");
    // A measured TPOT is compared at the stated batch; a TPOT target in the setup would restate it.
    if (c.metric == "ttft_ms" && !c.aggregated)
      throw InputError(file, io::line_of(*m.t.get("metric")), "measured.metric", "ttft_ms needs setup.serving = \"aggregated\"");
    if (c.metric == "tpot_ms" && !c.aggregated && ((c.mode != "decode" && c.mode != "serve") || c.w.infer.batch <= 0 ||
                                  c.w.infer.tpot_target_ms > 0))
      throw InputError(file, io::line_of(*m.t.get("metric")), "measured.metric",
                       "tpot_ms needs a decode or serve case with setup.batch and no setup.tpot_ms");
    c.measured = m.number("value", 0, true);
    c.unit = m.str("unit");
    c.tolerance = m.number("tolerance", 0.3);
    c.tolerance_reason = m.str("tolerance_reason", false);
    m.done();
    out.push_back(std::move(c));
  }
  return out;
}

CaseResult evaluate(const Hwdb& db, const ModelDb& models, const ValidationCase& c, const Pick& pick) {
  CaseResult r;
  System sys = db.system(c.system, pick);
  if (!c.stack.empty()) {
    if (!db.stacks.count(c.stack))
      throw InputError(c.file, c.stack_line, "setup.stack", "unknown stack '" + c.stack + "'");
    const Stack st = db.stack(c.stack, pick);
    if ((st.role == StackRole::training) != (c.mode == "train"))
      throw InputError(c.file, c.stack_line, "setup.stack", "'" + c.stack + "' is a " + to_string(st.role) +
                                                                " stack; mode " + c.mode + " runs a " +
                                                                (c.mode == "train" ? "training" : "serving") + " stack");
    sys = with_stack(sys, st);
  }
  if (c.mode == "gemm" || c.mode == "stream") {
    const double n = c.gemm_m;
    const Op op = c.mode == "gemm" ? ops::gemm(n, n, n, c.precision, c.precision, c.precision)
                                   : Op{0, 1e10, Precision::bf16, 0};
    const OpTime t = roofline(sys.chip, op);
    const double body = std::max(t.compute_s, t.memory_s);  // a benchmark loop hides the launch
    r.predicted = c.mode == "gemm" ? op.flops / body / 1e12 : op.bytes / body / 1e12;
    r.dominant = to_string(t.bound);
  } else {
    const Model m = models.model(c.model);
    Workload w = c.w;
    w.infer.default_eplb = c.default_eplb;
    if (c.aggregated) {
      const AggregatedEstimate a = estimate_aggregated(sys, m, w.infer, c.offline ? Load::offline : Load::closed_loop,
                                                       c.concurrency, 0, c.chunk_tokens, c.instances, c.mix_given ? &c.mix : nullptr);
      if (!a.fits()) {
        r.note = reason_text(a.reason);
        r.predicted = r.error = std::nan("");
        return r;
      }
      r.predicted = c.metric == "ttft_ms"   ? a.result.ttft_mean_s * 1e3
                    : c.metric == "tpot_ms" ? a.result.tpot_mean_s * 1e3
                                            : a.output_tokens_per_s_per_chip;
      // What sets the step: prompt chunks (prefill share of step tokens) or decode.
      r.dominant = a.result.prefill_share > 0.5 ? "prefill" : "decode";
      r.error = r.predicted / c.measured - 1;
      r.within = std::abs(r.error) <= c.tolerance;
      return r;
    }
    if (w.mode == Mode::train) {
      const PipeSchedule* sc = c.schedule.empty() ? stack_schedule(sys.train_stack, w.train.interleave) : nullptr;
      if (c.schedule.empty() && !sc)
        throw InputError(c.file, 0, "setup.interleave", "stack '" + sys.train_stack.id + "' runs no interleaved schedule: name one (setup.schedule)");
      w.train.schedule = sc ? *sc : db.schedule(c.schedule);
    }
    const Estimate e = run_workload(sys, m, w);
    if (!e.fits()) {
      r.note = reason_text(e.reason);
      r.predicted = std::nan("");
      r.error = std::nan("");
      return r;
    }
    r.predicted = c.metric == "mfu"           ? e.mfu
                  : c.metric == "step_time_s" ? e.step_time_s
                  : c.metric == "tpot_ms"     ? e.tpot_s * 1e3
                                              : e.tokens_per_s_per_chip;
    // Dominant term: compute, memory, overhead, fabric (all communication) or bubble.
    const auto& b = e.breakdown;
    auto at = [&](Part p) { return b[static_cast<int>(p)]; };
    const double fabric = at(Part::tp_comm) + at(Part::ep_comm) + at(Part::pp_comm) + at(Part::dp_comm) +
                          at(Part::cp_comm) + at(Part::kv_transfer);
    const std::pair<const char*, double> terms[] = {{"compute", at(Part::compute)}, {"memory", at(Part::memory)},
                                                    {"overhead", at(Part::overhead)}, {"fabric", fabric},
                                                    {"bubble", at(Part::bubble)}};
    r.dominant = std::max_element(std::begin(terms), std::end(terms), [](auto& x, auto& y) { return x.second < y.second; })->first;
  }
  r.error = r.predicted / c.measured - 1;
  r.within = std::abs(r.error) <= c.tolerance;
  return r;
}

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace podperf
