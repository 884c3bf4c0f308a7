// Numerics: every model on every system over a wide grid; every emitted number finite, every row
// that fits within HBM, every row that does not fit without numbers.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "podperf/app/sweep.hpp"

using namespace podperf;

TEST_CASE("a wide grid over every model and system emits only finite numbers, and fitting rows fit") {
  const std::string src = PODPERF_SOURCE_DIR;
  const Hwdb db = load_hwdb(src + "/hwdb");
  const ModelDb models = load_models(src + "/configs");
  SweepSpec spec;
  spec.id = "numerics";
  Axis systems{AxisId::system, {}, {}}, mods{AxisId::model, {}, {}};
  for (auto* m : {&db.systems, &db.clusters})
    for (auto& [id, r] : *m) systems.labels.push_back(id);
  for (auto& [id, r] : models.records) mods.labels.push_back(id);
  spec.axes = {systems, mods, Axis{AxisId::mode, {"prefill", "decode", "serve", "train"}, {}},
               Axis{AxisId::weights, {"fp4", "int8", "fp8", "bf16"}, {}}, Axis{AxisId::tp, {}, {1, 2, 8, 64}},
               Axis{AxisId::batch, {}, {1, 16, 256, 4096}}, Axis{AxisId::seq_in, {}, {128, 8192, 131072}},
               Axis{AxisId::electricity_usd_kwh, {}, {0.001, 1}}};
  for (int m = 0; m < kMetrics; ++m) spec.metrics.push_back(static_cast<MetricId>(m));
  const SweepContext ctx = prepare_sweep(spec, db, models);
  ChunkBuffers buf;
  const std::uint64_t total = spec.points(), chunk = 4096;
  buf.reserve(spec, chunk);
  std::uint64_t ok = 0, bad = 0, fits = 0;
  const int mem = static_cast<int>(MetricId::memory_gb_per_chip);
  for (std::uint64_t at = 0; at < total; at += chunk) {
    evaluate_chunk(ctx, at, std::min(chunk, total - at), buf);
    for (std::size_t r = 0; r < buf.rows; ++r) {
      if (buf.reason[r] != 0) {
        for (auto& col : buf.metric) bad += !std::isnan(col[r]);  // no numbers for a point that does not fit
        continue;
      }
      ++fits;
      for (auto& col : buf.metric) ok += !std::isfinite(col[r]);  // counts failures
      const System& s = ctx.systems[static_cast<std::size_t>(buf.axis[0][r])];
      if (buf.metric[static_cast<std::size_t>(mem)][r] > s.chip.hbm_gb) ++bad;
    }
  }
  CAPTURE(total);
  CHECK(fits > 1000);
  CHECK(ok == 0);   // non-finite numbers in rows that fit
  CHECK(bad == 0);  // numbers in rows that do not fit, or rows over HBM
}
