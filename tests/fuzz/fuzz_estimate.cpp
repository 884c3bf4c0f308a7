// libFuzzer target for the estimate entry point: bytes choose a system, a model, a mode, a parallel
// plan, batch, sequence lengths, precisions, MTP and overlap, within and beyond sensible ranges.
// An estimate must either not fit (with a reason) or give finite, positive numbers that fit in HBM.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "podperf/core/economics.hpp"
#include "podperf/io/hwdb.hpp"
#include "podperf/io/models.hpp"

using namespace podperf;

namespace {
struct Bytes {
  const uint8_t* p;
  size_t n, i = 0;
  unsigned next() { return i < n ? p[i++] : 0; }
  unsigned u16() { return next() | (next() << 8); }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  static const ModelDb models = load_models(std::string(PODPERF_SOURCE_DIR) + "/configs");
  static std::vector<System> systems = [] {
    std::vector<System> v;
    for (auto* m : {&db.systems, &db.clusters})
      for (auto& [id, r] : *m) v.push_back(db.system(id));
    v.push_back(db.system("3xgb200-nvl72:os=4"));
    return v;
  }();
  static std::vector<Model> ms = [] {
    std::vector<Model> v;
    for (auto& [id, r] : models.records) v.push_back(models.model(id));
    return v;
  }();
  Bytes b{data, size};
  const System& s = systems[b.next() % systems.size()];
  const Model& m = ms[b.next() % ms.size()];
  Workload w;
  w.mode = static_cast<Mode>(b.next() % 4);
  const Parallel p{1 + static_cast<int>(b.next() % 64), 1 + static_cast<int>(b.u16() % 1024),
                   1 + static_cast<int>(b.u16() % 1024), 1 + static_cast<int>(b.next() % 32), 1 + static_cast<int>(b.next() % 8)};
  const Precision precs[] = {Precision::fp4, Precision::fp8, Precision::int8, Precision::bf16, Precision::fp32};
  InferenceSetup& x = w.infer;
  x.par = p;
  x.prefill = Parallel{1 + static_cast<int>(b.next() % 8), 1 + static_cast<int>(b.next() % 64), 1 + static_cast<int>(b.next() % 64), 1, 1};
  x.batch = static_cast<int>(b.u16());
  x.seq_in = 1 + static_cast<int>(b.u16() * 4);
  x.seq_out = 1 + static_cast<int>(b.u16());
  x.context = static_cast<int>(b.u16() * 8);
  x.weights = precs[b.next() % 5];
  x.kv = precs[b.next() % 5];
  x.attn = precs[b.next() % 5];
  x.redundant_experts = static_cast<int>(b.next());
  x.mtp_tokens = m.mtp_layers > 0 ? static_cast<int>(b.next() % 4) : 0;
  x.mtp_accept = (b.next() % 101) / 100.0;
  x.overlap = (b.next() % 102) / 100.0 - 0.01;
  x.expert_imbalance = 1 + (b.next() % 200) / 100.0;
  x.default_eplb = b.next() % 2;
  x.tpot_target_ms = b.next() % 3 ? 0 : 1 + b.next();
  x.ttft_target_ms = b.next() % 3 ? 0 : 10 * (1 + b.next());
  TrainingSetup& t = w.train;
  t.par = p;
  t.global_batch = static_cast<int>(b.u16());
  t.seq = 1 + static_cast<int>(b.u16() * 2);
  t.micro_batch = 1 + static_cast<int>(b.next() % 8);
  t.interleave = 1 + static_cast<int>(b.next() % 4);
  t.zero = static_cast<int>(b.next() % 4);
  t.recompute = static_cast<Recompute>(b.next() % 3);
  t.precision = precs[b.next() % 5];
  t.tokens = b.next() * 1e9;
  const Site site = db.site(b.next() % 2 ? "china" : "us");
  const Economics e = economics(s, site, m, w);
  if (e.est.fits()) {
    const double v[] = {e.est.tokens_per_s, e.est.tokens_per_s_per_chip, e.est.step_time_s, e.est.mfu, e.usd_per_mtok,
                        e.tokens_per_kwh, e.est.mem.used()};
    for (double x_ : v)
      if (!std::isfinite(x_) || x_ < 0) std::abort();
    if (e.est.tokens_per_s <= 0 || e.est.mem.used() > e.est.mem.capacity) std::abort();
  }
  return 0;
}
