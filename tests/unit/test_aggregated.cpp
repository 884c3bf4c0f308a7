// Aggregated serving (chunked prefill under a per-step token budget) under closed-loop, Poisson and
// offline load: a single client by hand, the response-time law of a closed loop, and the directions
// a step schedule must show (TPOT up with clients and prompt length, TTFT up with clients).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "podperf/core/aggregated.hpp"
#include "run_cli.hpp"

using namespace podperf;
using doctest::Approx;

namespace {
AggregatedSetup base(int clients, int in, int out) {
  AggregatedSetup a;
  a.step = {10e-3, 0.1e-3, 0.01e-3};  // 10 ms + 0.1 ms per running sequence + 10 us per prompt token
  a.token_budget = 2048;
  a.load = Load::closed_loop;
  a.concurrency = clients;
  a.mix.input = LengthDist::make_fixed(in);
  a.mix.output = LengthDist::make_fixed(out);
  return a;
}
}  // namespace

TEST_CASE("aggregated: one client by hand") {
  // A 1,000-token prompt fits one step: 10 ms + 1,000 x 10 us = 20 ms to the first token. Each of
  // the 10 further tokens takes a step of one running sequence: 10.1 ms.
  const AggregatedResult r = simulate_aggregated(base(1, 1000, 11));
  CHECK(r.ttft_s[0] == Approx(20e-3));
  CHECK(r.ttft_s[2] == Approx(20e-3));
  CHECK(r.tpot_s[0] == Approx(10.1e-3));
  CHECK(r.tpot_s[2] == Approx(10.1e-3));
  // 11 tokens per 20 + 10 x 10.1 = 121 ms.
  CHECK(r.output_tokens_per_s == Approx(11 / 121e-3).epsilon(0.01));
  // A 5,000-token prompt takes three steps under a 2,048-token budget: chunks of 2,048, 2,048 and 904.
  const AggregatedResult c = simulate_aggregated(base(1, 5000, 11));
  CHECK(c.ttft_s[0] == Approx(3 * 10e-3 + 5000 * 0.01e-3));
}

TEST_CASE("aggregated: a closed loop obeys the response-time law N = X (TTFT + (out - 1) TPOT)") {
  for (int n : {4, 32, 128}) {
    const AggregatedResult r = simulate_aggregated(base(n, 2000, 200));
    const double x = r.output_tokens_per_s / 200;  // requests/s
    CAPTURE(n);
    CHECK(x * (r.ttft_mean_s + 199 * r.tpot_mean_s) == Approx(n).epsilon(0.03));
  }
}

TEST_CASE("aggregated: TPOT grows with clients and prompt length; TTFT grows with clients (closed loop)") {
  const AggregatedResult c4 = simulate_aggregated(base(4, 2000, 200));
  const AggregatedResult c32 = simulate_aggregated(base(32, 2000, 200));
  const AggregatedResult c128 = simulate_aggregated(base(128, 2000, 200));
  CHECK(c4.tpot_s[0] < c32.tpot_s[0]);
  CHECK(c32.tpot_s[0] < c128.tpot_s[0]);
  CHECK(c4.ttft_s[0] < c32.ttft_s[0]);
  CHECK(c32.ttft_s[0] < c128.ttft_s[0]);
  const AggregatedResult long_prompt = simulate_aggregated(base(32, 8000, 200));
  CHECK(c32.tpot_s[0] < long_prompt.tpot_s[0]);
  // Tails: steps that carry prompt chunks are slower than steps that do not, so p99 > p50 for TPOT
  // once prompts and decodes share steps.
  CHECK(c32.tpot_s[2] > c32.tpot_s[0]);
  // Every percentile finite and ordered.
  for (const AggregatedResult* r : {&c4, &c32, &c128, &long_prompt})
    for (int i = 0; i < 3; ++i) {
      CHECK(std::isfinite(r->ttft_s[i]));
      CHECK(std::isfinite(r->tpot_s[i]));
      if (i > 0) CHECK(r->tpot_s[i] >= r->tpot_s[i - 1]);
    }
}

TEST_CASE("aggregated: the KV cap limits the running batch and queues the rest") {
  AggregatedSetup a = base(64, 1000, 100);
  a.max_running = 16;
  const AggregatedResult r = simulate_aggregated(a);
  CHECK(r.mean_running <= 16.0 + 1e-9);
  // 64 clients on 16 slots: three quarters of a request's time is spent waiting for a slot.
  CHECK(r.ttft_mean_s > 2 * 99 * r.tpot_mean_s);
}

TEST_CASE("aggregated: Poisson below capacity has a finite, stable queue; above it does not") {
  AggregatedSetup a = base(1, 1000, 100);
  a.load = Load::poisson;
  // Capacity: about 1,000 prompt tokens x 10 us + 100 decode steps shared by the batch; 20 req/s is light.
  a.arrival_rate = 20;
  const AggregatedResult light = simulate_aggregated(a);
  CHECK(light.stable);
  CHECK(light.requests_per_s == Approx(20).epsilon(0.1));
  a.arrival_rate = 1e5;
  a.max_running = 64;
  a.requests = 2000;
  CHECK_FALSE(simulate_aggregated(a).stable);
}

TEST_CASE("estimate --serving aggregated prints TTFT and TPOT percentiles on Hopper, Blackwell and Ascend") {
  for (const char* sys : {"hgx-h200", "gb200-nvl72", "atlas-800i-a2"}) {
    const CliResult r = run_podperf(std::string("estimate --system ") + sys +
                                    " --model llama3-70b --serving aggregated --concurrency 64 --seq-in 4096 --seq-out 512");
    CAPTURE(sys);
    CAPTURE(r.err);
    REQUIRE(r.rc == 0);
    CHECK(r.out.find("TTFT (ms)") != std::string::npos);
    CHECK(r.out.find("TPOT (ms)") != std::string::npos);
    CHECK(r.out.find("p99") != std::string::npos);
    CHECK(r.out.find("output tokens/s") != std::string::npos);
  }
}

TEST_CASE("aggregated: offline > server > interactive, each scenario limited by its p99 rule") {
  AggregatedSetup a = base(1, 2000, 200);
  a.max_running = 256;
  ServiceRule offline;
  ServiceRule server;
  server.offline = false;
  server.ttft_ms = 2000;
  server.tpot_ms = 200;
  ServiceRule interactive = server;
  interactive.ttft_ms = 450;
  interactive.tpot_ms = 40;
  const double off = aggregated_capacity(a, offline), srv = aggregated_capacity(a, server),
               inter = aggregated_capacity(a, interactive);
  CHECK(off > srv);
  CHECK(srv > inter);
  CHECK(inter > 0);
  // At the interactive rate the p99 latencies meet the rule.
  a.load = Load::poisson;
  a.arrival_rate = inter;
  const AggregatedResult r = simulate_aggregated(a);
  CHECK(r.ttft_s[2] * 1e3 <= 450);
  CHECK(r.tpot_s[2] * 1e3 <= 40);
}

TEST_CASE("a serve result that fits has a finite TTFT: without a TTFT bound a saturated prefill pool does not fit") {
  const CliResult r = run_podperf(
      "estimate --system gb200-nvl72 --model deepseek-v3 --seq-in 131072 --seq-out 1024 --tpot-ms 50 --json");
  const bool fits = r.out.find("\"fits\": true") != std::string::npos;
  REQUIRE(r.rc == (fits ? 0 : 3));  // 3: no result under the targets
  if (fits) {
    const auto at = r.out.find("\"p99\":", r.out.find("\"ttft_ms\""));
    REQUIRE(at != std::string::npos);
    const double p99 = std::stod(r.out.substr(at + 6));
    CHECK(std::isfinite(p99));
    CHECK(p99 < 1e6);
  } else {
    CHECK(r.out.find("TTFT") != std::string::npos);
  }
  // With a TTFT bound the same deployment fits, at a finite p99 TTFT within it.
  const CliResult b = run_podperf(
      "estimate --system gb200-nvl72 --model deepseek-v3 --seq-in 131072 --seq-out 1024 --tpot-ms 50 --ttft-ms 60000 --json");
  const bool b_fits = b.out.find("\"fits\": true") != std::string::npos;
  REQUIRE(b.rc == (b_fits ? 0 : 3));
  if (b_fits) {
    const auto at = b.out.find("\"p99\":", b.out.find("\"ttft_ms\""));
    REQUIRE(at != std::string::npos);
    CHECK(std::stod(b.out.substr(at + 6)) <= 60000 + 1e-6);
  }
}

TEST_CASE("aggregated: request lengths drawn from a range give TTFT tails that follow a + c L") {
  // One client, prompts uniform in [200, 1,800] tokens (each fits one 2,048-token step): a prompt of
  // L tokens waits for nothing and prefills in one step of 10 ms + L x 10 us. The simulation draws a
  // uniform range as 64 equal-mass points, so the quantiles of TTFT are those of a + c L over them:
  // the median near L = 1,000 (20 ms), p99 near the top point L = 1,787.5 (27.9 ms).
  AggregatedSetup a = base(1, 1000, 11);
  a.mix.input = LengthDist::make_uniform(200, 1800);
  a.requests = 4000;
  const AggregatedResult r = simulate_aggregated(a);
  CHECK(r.ttft_s[0] == Approx(20e-3).epsilon(0.02));
  CHECK(r.ttft_s[2] == Approx(10e-3 + 1787.5 * 0.01e-3).epsilon(0.02));
  CHECK(r.ttft_mean_s == Approx(20e-3).epsilon(0.02));
  // Fixed lengths: no tail at all.
  const AggregatedResult f = simulate_aggregated(base(1, 1000, 11));
  CHECK(f.ttft_s[2] == Approx(f.ttft_s[0]));
}

TEST_CASE("aggregated: clients with drawn lengths fall out of step; with fixed lengths they stay in it") {
  // 16 clients started together: with equal lengths every request meets the same queue of prompt
  // chunks (p50 = p99); with lengths drawn from a range the arrivals spread and TTFT gains a tail.
  AggregatedSetup fixed = base(16, 500, 500);
  AggregatedSetup drawn = fixed;
  drawn.mix.input = LengthDist::make_uniform(1, 1000);
  drawn.mix.output = LengthDist::make_uniform(2, 1000);
  const AggregatedResult f = simulate_aggregated(fixed), d = simulate_aggregated(drawn);
  CHECK(f.ttft_s[2] == Approx(f.ttft_s[0]).epsilon(0.01));
  CHECK(d.ttft_s[2] > 1.2 * d.ttft_s[0]);
}

TEST_CASE("estimate --serving aggregated: a TPOT target picks the highest arrival rate that meets it at p99") {
  double last = 0;
  for (int target : {20, 40, 80}) {
    const CliResult r = run_podperf("estimate --system hgx-h200 --model llama3-70b --tp 2 --serving aggregated --tpot-ms " +
                                    std::to_string(target) + " --seq-in-range 500:1500 --seq-out-range 200:600 --json");
    CAPTURE(target);
    CAPTURE(r.err);
    REQUIRE(r.rc == 0);
    const auto at = r.out.find("\"p99\":", r.out.find("\"tpot_ms\""));
    REQUIRE(at != std::string::npos);
    CHECK(std::stod(r.out.substr(at + 6)) <= target + 1e-9);
    const auto tps = r.out.find("\"output_tokens_per_s\":");
    REQUIRE(tps != std::string::npos);
    const double v = std::stod(r.out.substr(tps + 22));
    CHECK(v > last);  // a looser target admits more load
    last = v;
  }
  // A target nothing meets: no result (exit 3), and says why.
  const CliResult n = run_podperf("estimate --system hgx-h200 --model llama3-70b --tp 2 --serving aggregated --tpot-ms 1");
  CHECK(n.rc == 3);
  CHECK(n.out.find("TPOT") != std::string::npos);
}

TEST_CASE("aggregated serving is a scenario: estimate, compare and its cost rows agree") {
  const std::string flags = " --model llama3-70b --serving aggregated --concurrency 32 --seq-in 2048 --seq-out 256 --json";
  const CliResult e = run_podperf("estimate --system hgx-h200" + flags);
  const CliResult c = run_podperf("compare hgx-h200 gb200-nvl72 --samples 0" + flags);
  REQUIRE(e.rc == 0);
  REQUIRE(c.rc == 0);
  for (const char* key : {"\"tokens_per_s\":", "\"usd_per_mtok\":", "\"ttft_ms\":", "\"tpot_ms\":", "\"it_power_kw\":"}) {
    CAPTURE(key);
    const auto er = e.out.find(key, e.out.find("\"result\""));
    const auto cr = c.out.find(key, c.out.find("\"result_a\""));
    REQUIRE(er != std::string::npos);
    REQUIRE(cr != std::string::npos);
    const double ev = std::stod(e.out.substr(er + std::string(key).size()));
    const double cv = std::stod(c.out.substr(cr + std::string(key).size()));
    CHECK(std::isfinite(ev));
    CHECK(ev == Approx(cv).epsilon(1e-9));
  }
}

TEST_CASE("aggregated serving: bad flags get one line naming the flag and exit 2") {
  for (const char* bad : {"--concurrency 0", "--chunk-tokens 0", "--pd-split 8:8", "--prefix-hit 0.5", "--percentile 95 --tpot-ms 50",
                          "--concurrency 8 --tpot-ms 50", "--concurrency 8 --arrival-rate 2"}) {
    const CliResult r = run_podperf(std::string("estimate --system hgx-h200 --model llama3-70b --serving aggregated ") + bad);
    CAPTURE(bad);
    CAPTURE(r.err);
    CHECK(r.rc == 2);
    CHECK(r.err.find("--") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("aggregated: the offline steady state by hand, and the long simulation converges to it") {
  // KV cap 100, 1,000 in / 1,000 out, budget 2,048: 100 x (1 + 1) <= 2,048, so 100 run; a step
  // decodes 100 tokens and prefills 100 prompt tokens: 10 ms + 100 x 0.1 ms + 100 x 10 us = 21 ms.
  AggregatedSetup a = base(1, 1000, 1000);
  a.max_running = 100;
  const AggregatedResult f = offline_steady_state(a);
  CHECK(f.mean_step_s == Approx(21e-3));
  CHECK(f.output_tokens_per_s == Approx(100 / 21e-3));
  CHECK(f.tpot_s[2] == Approx(21e-3));
  // The budget binds when the replacements' prompts do not fit: 4,000-token prompts, 100-token
  // outputs: R (1 + 40) <= 2,048 gives R = 49.95 running, prompt tokens 1,998.05 a step.
  AggregatedSetup b = base(1, 4000, 100);
  b.max_running = 100;
  const AggregatedResult g = offline_steady_state(b);
  CHECK(g.mean_running == Approx(2048.0 / 41));
  CHECK(g.mean_step_s == Approx(10e-3 + 0.1e-3 * 2048.0 / 41 + 0.01e-3 * 2048.0 * 40 / 41));
  // A closed loop of twice the cap, simulated long, reaches the same rate.
  AggregatedSetup c = a;
  c.concurrency = 200;
  c.requests = 20000;
  CHECK(simulate_aggregated(c).output_tokens_per_s == Approx(f.output_tokens_per_s).epsilon(0.02));
}
