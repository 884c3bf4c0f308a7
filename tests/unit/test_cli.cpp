// The command line: hwdb list / show / check, specs, and errors for bad flags.
#include <doctest/doctest.h>

#include <string>

#include "podperf/io/hwdb.hpp"
#include "run_cli.hpp"

TEST_CASE("podperf hwdb check passes on the shipped hwdb") {
  const CliResult r = run_podperf("hwdb check");
  CHECK(r.rc == 0);
  CHECK(r.out.find("hwdb OK: 20 chips, 20 systems, 3 clusters, 11 sites") == 0);
}

TEST_CASE("podperf hwdb list --json lists every id") {
  const CliResult r = run_podperf("hwdb list --json");
  REQUIRE(r.rc == 0);
  for (auto id : {"\"ascend-910c\"", "\"rubin-gpu\"", "\"cloudmatrix-384\"", "\"hgx-h800\"",
                  "\"atlas-950-supercluster\"", "\"china\"", "\"us\""})
    CHECK_MESSAGE(r.out.find(id) != std::string::npos, id);
  const CliResult sites = run_podperf("hwdb list --kind sites --json");
  CHECK(sites.out.find("\"cloudmatrix-384\"") == std::string::npos);
  CHECK(sites.out.find("\"china\"") != std::string::npos);
}

TEST_CASE("podperf hwdb show gives value, unit, range, kind and source") {
  const CliResult r = run_podperf("hwdb show ascend-910c --json");
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("\"specs.bf16_dense_tflops\": {\n    \"value\": 752,\n    \"unit\": \"TFLOPS\",\n"
                   "    \"range\": [\n      752,\n      800\n    ],\n    \"kind\": \"vendor\"") != std::string::npos);
  const CliResult t = run_podperf("hwdb show gb200-nvl72");
  CHECK(t.rc == 0);
  CHECK(t.out.find("scaleup.gb_s_per_dir") != std::string::npos);
  const CliResult bad = run_podperf("hwdb show nosuch");
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("unknown id 'nosuch'") == 0);
}

TEST_CASE("podperf specs --json: sums of chip entries with ratios") {
  const CliResult r = run_podperf("specs cloudmatrix-384 gb200-nvl72 --json");
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("\"bf16_dense_pflops\": 288.768") != std::string::npos);
  CHECK(r.out.find("\"hbm_tb\": 49.152") != std::string::npos);
  CHECK(r.out.find("\"hbm_tb_s\": 1228.8") != std::string::npos);
  CHECK(r.out.find("\"bf16_dense_pflops\": 180") != std::string::npos);
  CHECK(r.out.find("\"hbm_tb_s\": 576") != std::string::npos);
  // Ratio block: 288.768 / 180 = 1.6043, 49.152 / 13.392 = 3.670, 1228.8 / 576 = 2.1333.
  CHECK(r.out.find("\"numerator\": \"cloudmatrix-384\",\n      \"denominator\": \"gb200-nvl72\"") != std::string::npos);
  CHECK(r.out.find("\"bf16_dense_pflops\": 1.604266667") != std::string::npos);
  CHECK(r.out.find("\"hbm_tb_s\": 2.133333333") != std::string::npos);
}

TEST_CASE("bad flags and unknown ids exit 2 with one line") {
  const CliResult a = run_podperf("specs nosuch-system");
  CHECK(a.rc == 2);
  CHECK(a.err.find("unknown system 'nosuch-system'") == 0);
  const CliResult b = run_podperf("specs");
  CHECK(b.rc == 2);
  const CliResult c = run_podperf("--hwdb /nonexistent hwdb check");
  CHECK(c.rc == 2);
  CHECK(c.err == "/nonexistent: not a hwdb directory\n");
  const CliResult d = run_podperf("hwdb list --kind gadgets");
  CHECK(d.rc == 2);
}

TEST_CASE("podperf roofline and collective --json on every chip and system") {
  for (auto chip : {"ascend-910b", "ascend-910c", "ascend-950pr", "ascend-950dt", "ascend-960", "ascend-970",
                    "h100-sxm", "h800", "h20", "h200", "b200", "gb200-gpu", "gb300-gpu", "rubin-gpu"}) {
    const CliResult r = run_podperf(std::string("roofline --chip ") + chip + " --flops 1T --bytes 1GB --json");
    CAPTURE(chip);
    CHECK(r.rc == 0);
    CHECK(r.out.find("\"time_s\": ") != std::string::npos);
    CHECK(r.out.find("\"bound\": \"compute\"") != std::string::npos);
  }
  for (auto sys : {"cloudmatrix-384", "atlas-950-superpod", "atlas-960-superpod", "gb200-nvl72", "gb300-nvl72",
                   "vera-rubin-nvl144", "hgx-h100", "hgx-h800", "atlas-950-supercluster", "2xhgx-h800"}) {
    const CliResult r = run_podperf(std::string("collective --system ") + sys + " --op all-to-all --bytes 64MiB --json");
    CAPTURE(sys);
    CHECK(r.rc == 0);
    for (auto key : {"\"time_s\"", "\"algorithm\"", "\"bus_bandwidth_gb_s\"", "\"bottleneck\""})
      CHECK(r.out.find(key) != std::string::npos);
  }
  // Roofline of a decode-like step: 1 GB from HBM on an H100: 1e9 / (3.35e12 x hbm_eff) (launches
  // are the software stack's, not the chip's).
  const CliResult m = run_podperf("roofline --chip h100-sxm --bytes 1GB --json");
  CHECK(m.out.find("\"bound\": \"memory\"") != std::string::npos);
  const podperf::Chip h100 = podperf::load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb").chip("h100-sxm");
  const double expect = 1e9 / (3.35e12 * h100.hbm_eff);
  const auto at = m.out.find("\"time_s\": ");
  REQUIRE(at != std::string::npos);
  CHECK(std::stod(m.out.substr(at + 10)) == doctest::Approx(expect));
}

TEST_CASE("podperf collective rejects impossible requests") {
  CHECK(run_podperf("collective --system gb200-nvl72 --ranks 73 --bytes 1MiB").rc == 2);
  CHECK(run_podperf("collective --system gb200-nvl72 --bytes 1XB").err ==
        "flag --bytes: unknown unit 'XB' in '1XB' (use K, M, G, T, P or KiB, MiB, GiB, TiB)\n");
  CHECK(run_podperf("collective --system gb200-nvl72 --bytes -5").rc == 2);
  CHECK(run_podperf("collective --system gb200-nvl72 --bytes 1MB --op gossip").rc == 2);
  CHECK(run_podperf("roofline --chip h100-sxm").rc == 2);
  CHECK(run_podperf("roofline --chip h100-sxm --flops 1T --precision fp6").rc == 2);
}

TEST_CASE("podperf estimate: DeepSeek-R1 on CloudMatrix 384, GB200 NVL72 and H800, JSON fields") {
  const CliResult cm = run_podperf(
      "estimate --system cloudmatrix-384 --model deepseek-v3 --mode decode --weights int8 --kv int8 --tpot-ms 50 --json");
  REQUIRE(cm.rc == 0);
  for (auto key : {"\"tokens_per_s_per_chip\"", "\"tokens_per_s\"", "\"tpot_ms\"", "\"ttft_ms\"", "\"step_time_s\"",
                   "\"mfu\"", "\"memory_gb_per_chip\"", "\"fits\": true", "\"bound\"", "\"breakdown\""})
    CHECK_MESSAGE(cm.out.find(key) != std::string::npos, key);
  CHECK(run_podperf("estimate --system gb200-nvl72 --model deepseek-v3 --weights fp8 --kv fp8 --tpot-ms 50").rc == 0);
  // One HGX H800 cannot hold the model: a clear 'does not fit', with no throughput, and the no-result exit code.
  const CliResult one = run_podperf("estimate --system hgx-h800 --model deepseek-v3 --mode decode --weights fp8 --json");
  CHECK(one.rc == 3);
  CHECK(one.out.find("\"fits\": false") != std::string::npos);
  CHECK(one.out.find("\"reason\": \"does not fit in HBM\"") != std::string::npos);
  CHECK(one.out.find("\"tokens_per_s_per_chip\": null") != std::string::npos);
  const CliResult dsk = run_podperf("estimate --system 18xhgx-h800 --model deepseek-v3 --mode decode --weights fp8 --kv fp8 --tpot-ms 50");
  CHECK(dsk.rc == 0);
  CHECK(dsk.out.find("tokens/s per chip") != std::string::npos);
}

TEST_CASE("podperf estimate rejects impossible plans with the flag named") {
  const CliResult a = run_podperf("estimate --system gb200-nvl72 --model llama3-70b --mode decode --tp 128");
  CHECK(a.rc == 2);
  CHECK(a.err.find("flag --tp: the parallel plan needs more chips than the system has") == 0);  // the flag given
  const CliResult b = run_podperf("estimate --system gb200-nvl72 --model deepseek-v3 --mode decode --dp 72 --ep 72 --redundant-experts 0");
  CHECK(b.rc == 2);
  CHECK(b.err.find("flag --ep/--redundant-experts: experts (plus redundant experts) must divide evenly over EP") == 0);
  CHECK(run_podperf("estimate --system gb200-nvl72 --model llama3-70b --tp 3").rc == 2);
  CHECK(run_podperf("estimate --system gb200-nvl72 --model nosuch").err.find("unknown model 'nosuch'") == 0);
  CHECK(run_podperf("estimate --system gb200-nvl72 --model llama3-70b --weights fp6").rc == 2);
  CHECK(run_podperf("estimate --system gb200-nvl72 --model llama3-70b --mtp 1").rc == 2);  // no MTP module
}

TEST_CASE("podperf compare and breakeven") {
  const CliResult c = run_podperf("--figures semianalysis compare cloudmatrix-384 gb200-nvl72 --samples 20 --json");
  REQUIRE(c.rc == 0);
  for (auto key : {"\"key\": \"bf16_dense_pflops\"", "\"key\": \"all_in_power_kw\"", "\"key\": \"usd_per_mtok\"",
                   "\"ratio_low\"", "\"better\": \"cloudmatrix-384\"", "\"better\": \"gb200-nvl72\""})
    CHECK_MESSAGE(c.out.find(key) != std::string::npos, key);
  const CliResult t = run_podperf("compare cloudmatrix-384 gb200-nvl72 --samples 10 --sensitivity");
  CHECK(t.rc == 0);
  CHECK(t.out.find("TCO USD per million output tokens") != std::string::npos);
  CHECK(t.out.find("inputs that move the cost-per-token ratio") != std::string::npos);
  const CliResult b = run_podperf("breakeven cloudmatrix-384 gb200-nvl72 --samples 20 --json");
  REQUIRE(b.rc == 0);
  CHECK(b.out.find("\"breakeven_capex_usd\": ") != std::string::npos);
  CHECK(b.out.find("\"breakeven_electricity_unclipped\": ") != std::string::npos);
  CHECK(run_podperf("compare cloudmatrix-384 gb200-nvl72 --site mars").rc == 2);
  CHECK(run_podperf("compare cloudmatrix-384 gb200-nvl72 --sites china").rc == 2);
}
