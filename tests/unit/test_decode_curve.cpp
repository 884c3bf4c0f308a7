// A decode search that starts from the estimates of earlier searches of the same setup (a sweep's
// TPOT axis) returns what a fresh search returns, target by target, in any order of the targets;
// and both return the largest batch that meets the target, found here by walking every batch.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "podperf/core/workload.hpp"
#include "podperf/io/hwdb.hpp"
#include "podperf/io/models.hpp"

using namespace podperf;

TEST_CASE("decode curve: searches sharing a setup give the fresh search's batch and figures") {
  const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  const ModelDb models = load_models(std::string(PODPERF_SOURCE_DIR) + "/configs");
  struct Case {
    const char* system;
    const char* model;
    int tp, dp, ep;
    Precision w;
  };
  for (const Case& k : {Case{"gb200-nvl72", "llama3-70b", 4, 1, 1, Precision::fp8},
                        Case{"cloudmatrix-384", "deepseek-v3", 1, 32, 32, Precision::int8},
                        Case{"hgx-h100@trtllm", "llama3.1-8b", 1, 1, 1, Precision::fp8}}) {
    CAPTURE(k.system);
    const System s = db.system(k.system);
    const Model m = models.model(k.model);
    InferenceSetup x;
    x.par.tp = k.tp, x.par.dp = k.dp, x.par.ep = k.ep;
    x.weights = x.kv = k.w;
    x.seq_in = 2048, x.seq_out = 256;
    x.redundant_experts = m.moe() ? (k.ep - m.experts % k.ep) % k.ep : 0;
    const std::vector<double> targets = {50, 10, 100, 25, 15, 200, 30, 12, 70, 40};
    DecodeCurve curve;
    int met = 0;
    for (double t : targets) {
      CAPTURE(t);
      x.tpot_target_ms = t;
      const Estimate fresh = estimate_decode(s, m, x);
      const Estimate shared = estimate_decode(s, m, x, &curve);
      CHECK(shared.reason == fresh.reason);
      CHECK(shared.batch == fresh.batch);
      CHECK(shared.tpot_s == fresh.tpot_s);
      CHECK(shared.tokens_per_s == fresh.tokens_per_s);
      if (!fresh.fits()) continue;
      ++met;
      // The largest batch meeting the target, by walking the batches one unit at a time.
      const int unit = x.par.dp * x.par.pp;
      InferenceSetup y = x;
      int best = 0;
      for (y.batch = unit;; y.batch += unit) {
        const Estimate e = estimate_decode(s, m, y);
        if (!e.fits()) break;
        best = y.batch;
        if (y.batch > 1 << 16) break;
      }
      CHECK(fresh.batch == best);
    }
    CHECK(met >= 5);
    CHECK(curve.n > 0);
  }
}
