// Exit codes and the text conventions of the command line: 0 a result, 2 bad input, 3 no result under
// the targets; one number format (grouped thousands, no exponent); latency and MTBF wording.
#include <doctest/doctest.h>

#include <string>

#include "run_cli.hpp"
#include "table.hpp"

using podperf::cli::num;

TEST_CASE("estimate exits 3 when no result meets the targets, with its output complete") {
  // 0.5 ms per output token is below one pass over Llama 3 70B's weights on any GB200.
  const CliResult r = run_podperf("estimate --system gb200-nvl72 --model llama3-70b --mode decode --tpot-ms 0.5");
  CHECK(r.rc == 3);
  CHECK(r.out.find("NO RESULT: no batch meets the TPOT target") != std::string::npos);
  CHECK(r.err.empty());
  const CliResult j = run_podperf("estimate --system gb200-nvl72 --model llama3-70b --mode decode --tpot-ms 0.5 --json");
  CHECK(j.rc == 3);
  CHECK(j.out.find("\"tokens_per_s\": null") != std::string::npos);
  CHECK(j.out.rfind("}\n") == j.out.size() - 2);
  const CliResult c = run_podperf("estimate --system gb200-nvl72 --model llama3-70b --mode decode --tpot-ms 0.5 --csv");
  CHECK(c.rc == 3);
  CHECK_FALSE(c.out.empty());
  // Llama 3.1 405B in BF16 is 810 GB of weights; eight H100 hold 640 GB: DOES NOT FIT, exit 3, and the
  // MTBF (a property of the hardware) is still given.
  const CliResult m = run_podperf("estimate --system hgx-h100 --model llama3-405b --mode decode --weights bf16");
  CHECK(m.rc == 3);
  CHECK(m.out.find("DOES NOT FIT") != std::string::npos);
  CHECK(m.out.find("MTBF of the system h") != std::string::npos);
  // A result: 0.
  CHECK(run_podperf("estimate --system gb200-nvl72 --model llama3-70b --mode decode --tpot-ms 50").rc == 0);
  // Bad input stays 2.
  CHECK(run_podperf("estimate --system gb200-nvl72 --model llama3-70b --mode decode --tpot-ms 0").rc == 2);
  // The codes are in --help.
  CHECK(run_podperf("estimate --help").out.find("3 no result under the targets") != std::string::npos);
  CHECK(run_podperf("--help").out.find("3 no result under the targets") != std::string::npos);
}

TEST_CASE("one number format: grouped thousands, significant digits, never an exponent") {
  CHECK(num(14012345.0) == "14,010,000");   // 4 significant digits above 10^7
  CHECK(num(14012345.0, 6) == "14,012,300");
  CHECK(num(123456.0) == "123,456");        // integers below 10^7 keep every digit
  CHECK(num(15488.0, 6) == "15,488");
  CHECK(num(1229.4) == "1,229");
  CHECK(num(-1234.6) == "-1,235");
  CHECK(num(9999.7) == "10,000");           // rounds up past four digits without an exponent
  CHECK(num(0.0312) == "0.0312");
  CHECK(num(0.000123) == "0.000123");
  CHECK(num(0.00012346) == "0.0001235");
  CHECK(num(2.5e-9, 2) == "0.0000000025");
  CHECK(num(0) == "0");
  CHECK(num(47.63) == "47.63");
  // estimate's text carries no exponent.
  const CliResult r = run_podperf("estimate --system 64xgb200-nvl72 --model llama3-70b --mode decode --tpot-ms 50");
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("e+0") == std::string::npos);
  CHECK(r.out.find("e-0") == std::string::npos);
}

TEST_CASE("compare in prefill names the TTFT, not a TPOT of 0; a side without a result reads n/a") {
  const CliResult r = run_podperf("compare cloudmatrix-384 gb200-nvl72 --mode prefill --model llama3-70b --samples 0");
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("TPOT A") == std::string::npos);
  CHECK(r.out.find("; TTFT A ") != std::string::npos);
  CHECK(r.out.find("USD per million output tokens") == std::string::npos);
  // The Atlas side meets no 18 ms TPOT here (Vera Rubin does); its latency is n/a, its MTBF still
  // given, and no side is named better against its missing values.
  const CliResult m = run_podperf("compare atlas-950-superpod vera-rubin-nvl72 --match power --samples 0 --tpot-ms 18");
  REQUIRE(m.rc == 0);
  CHECK(m.out.find("; TPOT A n/a, B ") != std::string::npos);
  CHECK(m.out.find("either (range crosses 1)") == std::string::npos);
  const auto mtbf = m.out.find("MTBF of the system h");
  REQUIRE(mtbf != std::string::npos);
  CHECK(m.out.substr(mtbf, m.out.find('\n', mtbf) - mtbf).find("misses") == std::string::npos);
}

TEST_CASE("plan flags: PP alone leaves DP the rest of the node; --search refuses a plan it would ignore; overridden recipes say so") {
  // 8 H100s, PP4 and TP1 given: DP is 8 / (1 x 4) = 2, not 8 (which needs 32 chips).
  const CliResult pp = run_podperf("estimate --system hgx-h100 --model llama3-70b --mode decode --pp 4");
  CHECK(pp.rc == 0);
  CHECK(pp.out.find("TP1 DP2 EP1 PP4") != std::string::npos);
  // A single prompt through PP4.
  // A single prompt through PP4 runs as four chunks: the pipeline fills and drains once, so the four
  // stages idle (pp - 1) / M = 3 / 4 of the busy time ((M + pp - 1) / M = 7 / 4 of it in all).
  const CliResult one = run_podperf("estimate --system hgx-h100 --model llama3-70b --mode prefill --pp 4 --batch 1 --json");
  REQUIRE(one.rc == 0);
  auto part = [&](const std::string& k) {
    const auto at = one.out.find("\"" + k + "\": ", one.out.find("\"breakdown\""));
    REQUIRE(at != std::string::npos);
    return std::stod(one.out.substr(at + k.size() + 4));
  };
  const double busy = part("compute") + part("memory") + part("overhead");
  CHECK(part("bubble") == doctest::Approx(0.75 * busy).epsilon(0.01));
  // The inference search picks TP and DP itself: a given plan would be ignored, so it is refused.
  const CliResult s = run_podperf("estimate --system hgx-h100 --model llama3-70b --mode serve --search --tp 8");
  CHECK(s.rc == 2);
  CHECK(s.err.find("flag --tp: not with --search") != std::string::npos);
  const CliResult sc = run_podperf("estimate --system hgx-h100 --model llama3-70b --mode serve --search --scenario server");
  CHECK(sc.rc == 2);
  CHECK(sc.err.find("flag --scenario: not with --search") != std::string::npos);
  // A recipe whose formats flags replaced is named as custom in the JSON.
  const CliResult r = run_podperf("estimate --system hgx-h100 --model llama3-70b --mode decode --weights bf16 --json");
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("\"recipe\": \"custom (fp8 with format flags)\"") != std::string::npos);
  const CliResult n = run_podperf("estimate --system hgx-h100 --model llama3-70b --mode decode --json");
  CHECK(n.out.find("\"recipe\": \"fp8\"") != std::string::npos);
}

TEST_CASE("serve: each pool balances its experts its own way (--prefill-eplb)") {
  // Production EPLB in prefill, perfect balance in decode: the prefill pool is slower than with
  // perfect balance in both, and the deployment (which re-picks its split around it) no faster.
  const std::string base = "estimate --system 4xhgx-h100 --model deepseek-v3 --mode serve --tpot-ms 100 --json";
  const CliResult both = run_podperf(base + " --eplb perfect");
  const CliResult mixed = run_podperf(base + " --eplb perfect --prefill-eplb default");
  REQUIRE(both.rc == 0);
  REQUIRE(mixed.rc == 0);
  auto value = [](const std::string& out, const std::string& key) {
    const auto at = out.find("\"" + key + "\": ");
    REQUIRE(at != std::string::npos);
    return std::stod(out.substr(at + key.size() + 4));
  };
  CHECK(value(mixed.out, "prefill_tokens_per_s_per_chip") < value(both.out, "prefill_tokens_per_s_per_chip"));
  CHECK(value(mixed.out, "tokens_per_s_per_chip") <= value(both.out, "tokens_per_s_per_chip"));
  const CliResult decode = run_podperf("estimate --system hgx-h100 --model deepseek-v3 --mode decode --prefill-eplb default");
  CHECK(decode.rc == 2);
  CHECK(decode.err.find("flag --prefill-eplb: only with --mode serve") != std::string::npos);
}
