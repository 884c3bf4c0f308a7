// Overheads as serving software incurs them (graph capture, host time per sequence, the stack a dense
// model runs) and the tile model of small GEMMs, checked by hand and against the published DeepGEMM
// H800 measurements (validation/measurements/kernels.toml).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "podperf/io/hwdb.hpp"
#include "podperf/io/models.hpp"
#include "podperf/core/roofline.hpp"
#include "podperf/core/workload.hpp"
#include "run_cli.hpp"

using namespace podperf;
using doctest::Approx;

TEST_CASE("tile model: m rows cost whole row tiles; weights stream at the skinny-GEMM bandwidth (by hand)") {
  Chip c;  // an H20-like part: 296 TFLOPS FP8, 4 TB/s
  c.dense_tflops[static_cast<int>(Precision::fp8)] = 296;
  c.hbm_tb_s = 4;
  c.hbm_eff = 0.9;
  c.gemm_eff = 0.7;
  c.gemm_row_tile = 8;
  c.gemm_hbm_eff = 0.7;
  CHECK(compute_efficiency(c, 8) == Approx(0.7));
  CHECK(compute_efficiency(c, 12) == Approx(0.7 * 12 / 16.0));  // two tiles of 8 rows
  CHECK(compute_efficiency(c, 4096) == Approx(0.7));
  // 8 tokens through a 2048 x 7168 FP8 expert projection: 2 x 8 x 2048 x 7168 FLOPs at 296 x 0.7
  // TFLOPS = 1.134 us; 14.68 MB of weights at 4 x 0.7 TB/s = 5.243 us: memory-bound.
  const double flops = 2.0 * 8 * 2048 * 7168, bytes = 2048.0 * 7168;
  const OpTime t = roofline(c, {flops, bytes, Precision::fp8, 8});
  CHECK(t.compute_s == Approx(1.1336e-6).epsilon(1e-3));
  CHECK(t.memory_s == Approx(5.2429e-6).epsilon(1e-3));
  CHECK(t.bound == Bound::memory);
  // A non-GEMM operator keeps the chip's streaming efficiency: 14.68 MB at 4 x 0.9 TB/s.
  CHECK(roofline(c, {0, bytes, Precision::fp8, 0}).memory_s == Approx(4.0778e-6).epsilon(1e-3));
}

TEST_CASE("tile model against the DeepGEMM H800 FP8 GEMM tables: median error within 15 %, none above 40 %") {
  const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  const Chip c = db.chip("h800");
  REQUIRE(c.gemm_row_tile > 0);
  const toml::table root = toml::parse_file(std::string(PODPERF_SOURCE_DIR) + "/validation/measurements/kernels.toml");
  std::vector<double> err;
  for (const auto& node : *root["kernel"].as_array()) {
    const toml::table& k = *node.as_table();
    if (k["chip"].value_or(std::string()) != "h800" || k["op"].value_or(std::string()).rfind("gemm", 0) != 0 ||
        !k["m"] || !k["achieved_tflops"])
      continue;
    const double m = k["m"].value<double>().value(), n = k["n"].value<double>().value(),
                 kk = k["k"].value<double>().value(), g = k["groups"].value_or(1.0);
    const double flops = 2 * m * n * kk * g;
    // FP8 weights and activations, BF16 output.
    const double bytes = g * (n * kk + m * kk + 2 * m * n);
    const double measured = flops / (k["achieved_tflops"].value<double>().value() * 1e12);
    const OpTime t = roofline(c, {flops, bytes, Precision::fp8, m});
    err.push_back(std::abs(std::max(t.compute_s, t.memory_s) / measured - 1));
  }
  REQUIRE(err.size() >= 20);
  std::sort(err.begin(), err.end());
  CHECK(err[err.size() / 2] <= 0.15);
  CHECK(err.back() <= 0.40);
}

TEST_CASE("graph capture: a small decode batch pays the captured per-operator gap, a large one the eager launch") {
  const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  const ModelDb models = load_models(std::string(PODPERF_SOURCE_DIR) + "/configs");
  System s = db.system("hgx-h100@trtllm");
  const Model m = models.model("llama3-70b");
  REQUIRE(s.stack.graph_max_batch > 0);
  InferenceSetup x;
  x.par.tp = 8;
  x.batch = 1;
  x.weights = x.act = Precision::fp8;
  auto launches = [&](const System& sys) {  // overhead less the host time of the pass
    const Estimate e = estimate_decode(sys, m, x);
    return e.breakdown[static_cast<int>(Part::overhead)] - sys.stack.step_overhead_ms * 1e-3 - sys.stack.per_seq_us * 1e-6;
  };
  const double graph = launches(s);
  System eager = s;
  eager.stack.graph_max_batch = 0;
  // The same operators, each at graph_launch_us instead of launch_us.
  CHECK(graph / launches(eager) == Approx(s.stack.graph_launch_us / s.stack.launch_us).epsilon(1e-6));
  // Host time grows by per_seq_us with each sequence of the rank (a batch beyond the captured sizes
  // launches eagerly either way).
  x.batch = 2 * static_cast<int>(s.stack.graph_max_batch) + 2;
  const double o1 = estimate_decode(s, m, x).breakdown[static_cast<int>(Part::overhead)];
  x.batch += 100;
  const double o2 = estimate_decode(s, m, x).breakdown[static_cast<int>(Part::overhead)];
  CHECK(o2 - o1 == Approx(100 * s.stack.per_seq_us * 1e-6).epsilon(1e-6));
}

TEST_CASE("dense models run the system's dense stack; single-user Llama decode is memory-bound") {
  // Llama 3 70B FP8 at batch 1 over TP8 H100: 70.6 GB / 8 of weights per GPU at 3.35 TB/s x 0.71
  // is 3.7 ms; the step is a few ms, not the 26.7 ms of ~840 eager launches at the MoE stack's cost.
  const CliResult r = run_podperf("estimate --system hgx-h100 --model llama3-70b --mode decode --tp 8 --batch 1 --json");
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("\"stack\": \"trtllm\"") != std::string::npos);
  const auto at = r.out.find("\"tpot_ms\":");
  REQUIRE(at != std::string::npos);
  const double tpot = std::stod(r.out.substr(at + 10));
  CHECK(tpot > 3.7);
  CHECK(tpot < 8);
  // GB200 NVL72 serves Llama 3 70B at 12.5 ms TPOT (80 tok/s/user).
  const CliResult g = run_podperf("estimate --system gb200-nvl72 --model llama3-70b --mode decode --tpot-ms 12.5 --json");
  REQUIRE(g.rc == 0);
  CHECK(g.out.find("\"fits\": true") != std::string::npos);
  // An MoE model keeps the system's stack.
  const CliResult d = run_podperf("estimate --system hgx-h200 --model deepseek-v3 --mode decode --batch 64 --json");
  CHECK(d.out.find("\"stack\": \"sglang-hopper\"") != std::string::npos);
}

TEST_CASE("H20 DeepSeek decode at 50 ms TPOT: GEMMs no longer compute-bound; within 30 % of the published node rate") {
  // LMSYS 2025-09-26, "Best Practices for Serving DeepSeek-R1 on H20-96G" (SGLang, decode EP16 over two
  // nodes): 5.7k output tokens/s per node of 8 GPUs at 4,096-token inputs.
  const CliResult r = run_podperf("estimate --system 2xhgx-h20 --model deepseek-v3 --mode decode --tpot-ms 50 --seq-in 4096 --json");
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("\"fits\": true") != std::string::npos);
  const auto bd = r.out.find("\"breakdown\":");
  REQUIRE(bd != std::string::npos);
  auto num = [&](const std::string& key, std::size_t from) {
    const auto at = r.out.find("\"" + key + "\":", from);
    REQUIRE(at != std::string::npos);
    return std::stod(r.out.substr(at + key.size() + 3));
  };
  const double per_node = 8 * num("tokens_per_s_per_chip", 0);
  CHECK(per_node > 5700 * 0.7);
  CHECK(per_node < 5700 * 1.3);
  // The knee made the step 20.4 ms of compute against 0.015 ms of memory; with tiles the weight reads
  // are memory time again (what compute remains is the BF16 MLA attention core at 148 TFLOPS).
  CHECK(num("memory", bd) > 0.3 * num("compute", bd));
}
