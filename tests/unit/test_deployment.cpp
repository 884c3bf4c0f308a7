// Deployments: the integer prefill/decode split, the queueing approximation against a small
// discrete-event simulation of the same assumptions, prefix-cache savings, and the CLI.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "podperf/core/deployment.hpp"
#include "run_cli.hpp"

using namespace podperf;

namespace {

double quantile(std::vector<double> v, double pct) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(std::floor(pct / 100 * v.size())));
  return v[i];
}

// The chat input histogram (configs/mixes/chat.toml), as service tokens.
LengthDist chat_input() {
  LengthDist d;
  d.kind = LengthDist::histogram;
  d.tokens = {27, 107, 201, 398, 945, 1199, 3399, 4530, 14050};
  d.weight = {304, 238, 2059, 5042, 2195, 6825, 2301, 401, 1};
  return d;
}

// M/G/1 FCFS by Lindley's recursion W' = max(0, W + S - A): TTFT = W + S + fixed.
std::vector<double> simulate_prefill(const RequestMix& mix, double rate, double fixed, double lambda, int n,
                                     unsigned seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> x, p;
  mix.input.points(x, p);
  std::discrete_distribution<int> pick(p.begin(), p.end());
  std::exponential_distribution<double> gap(lambda);
  std::vector<double> ttft;
  ttft.reserve(n);
  double w = 0, s_prev = 0;
  for (int i = 0; i < n; ++i) {
    const double s = (1 - mix.prefix_hit) * x[pick(rng)] / rate;
    if (i > 0) w = std::max(0.0, w + s_prev - gap(rng));
    ttft.push_back(w + s + fixed);
    s_prev = s;
  }
  return ttft;
}

// Continuous-batching decode: arrivals join at the next step; every step all live sequences
// advance one token; a step takes a + b N + k (sum of contexts). A request's TPOT is the mean
// step time over its output tokens.
std::vector<double> simulate_decode(const RequestMix& mix, DecodeStep st, double lambda, int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> xi, pi, xo, po;
  mix.input.points(xi, pi);
  mix.output.points(xo, po);
  std::discrete_distribution<int> pin(pi.begin(), pi.end()), pout(po.begin(), po.end());
  std::exponential_distribution<double> gap(lambda);
  struct Seq {
    double ctx, left, sum, out;
  };
  std::vector<Seq> live;
  std::vector<double> tpot;
  double t = 0, next = gap(rng);
  int arrived = 0;
  const int warm = n / 10;
  while (static_cast<int>(tpot.size()) < n) {
    while (next <= t) {
      const double o = std::round(xo[pout(rng)]);
      live.push_back({xi[pin(rng)], o, 0, o});
      ++arrived;
      next += gap(rng);
    }
    if (live.empty()) {
      t = next;
      continue;
    }
    double csum = 0;
    for (const Seq& s : live) csum += s.ctx;
    const double tau = st.a_s + st.b_s * live.size() + st.k_s * csum;
    t += tau;
    for (Seq& s : live) {
      s.sum += tau;
      s.ctx += 1;
      s.left -= 1;
    }
    for (size_t i = 0; i < live.size();) {
      if (live[i].left <= 0) {
        if (arrived > warm) tpot.push_back(live[i].sum / live[i].out);
        live[i] = live.back();
        live.pop_back();
      } else {
        ++i;
      }
    }
  }
  return tpot;
}

}  // namespace

TEST_CASE("integer split: whole instances, hand-derived") {
  // 384 chips, prefill instances of 16 chips at 2 req/s, decode instances of 160 at 5 req/s.
  // n_p = 1..4 leave room for 2 decode instances (384 - 64 = 320): min(2 n_p, 10) peaks at 8 (n_p = 4);
  // n_p >= 5 leaves one decode instance: min(2 n_p, 5) = 5. Best: 4 prefill + 2 decode, 8 req/s.
  Split s = best_split(384, 0, 0, 16, 2.0, 160, 5.0);
  CHECK(s.n_prefill == 4);
  CHECK(s.n_decode == 2);
  CHECK(s.rps == doctest::Approx(8.0));
  // Decode at 10 req/s each: one decode instance carries 10 req/s, which 5 prefill instances feed
  // (n_p = 5: min(10, 10) = 10 with 240 chips; n_p = 4 with 2 decode: min(8, 20) = 8). 144 chips idle.
  s = best_split(384, 0, 0, 16, 2.0, 160, 10.0);
  CHECK(s.n_prefill == 5);
  CHECK(s.n_decode == 1);
  CHECK(s.rps == doctest::Approx(10.0));
  CHECK(384 - s.n_prefill * 16 - s.n_decode * 160 == 144);
  // A fixed split 96:288: 96 / 16 = 6 prefill, 288 / 160 = 1 decode; min(12, 5) = 5 req/s.
  s = best_split(384, 96, 288, 16, 2.0, 160, 5.0);
  CHECK(s.n_prefill == 6);
  CHECK(s.n_decode == 1);
  CHECK(s.rps == doctest::Approx(5.0));
  // With prefill headroom (no TTFT bound) the first case's 4 + 2 runs prefill at 8 of 8 req/s. Two
  // decode instances (10 req/s) need more than 5 prefill instances (n_p > 5), which leave 304 chips:
  // one decode instance. So one decode instance at 5 req/s, fed by the fewest prefill instances that
  // carry more than 5: 3 (6 req/s, utilisation 5/6), 208 chips in use.
  s = best_split(384, 0, 0, 16, 2.0, 160, 5.0, true);
  CHECK(s.n_prefill == 3);
  CHECK(s.n_decode == 1);
  CHECK(s.rps == doctest::Approx(5.0));
  CHECK(s.n_prefill * 2.0 > s.rps);
  // Decode at 1 req/s per instance: 2 decode instances (320 chips) leave 64 for 4 prefill instances
  // (8 req/s > 2): 2 req/s with 2 prefill instances (4 > 2); without headroom the same (decode binds).
  s = best_split(384, 0, 0, 16, 2.0, 160, 1.0, true);
  CHECK(s.n_decode == 2);
  CHECK(s.n_prefill == 2);
  CHECK(s.rps == doctest::Approx(2.0));
}

TEST_CASE("prefill queue: M/D/1 percentile by hand") {
  // S = 1000 tokens / 1000 tokens/s = 1 s; rho = 0.5 -> m = E[S^2] / (2 E[S] (1 - rho)) = 1 s;
  // P(W > x) = 0.5 exp(-x): the p99 wait is ln(0.5 / 0.01) = ln 50, TTFT p99 = 1 + ln 50 + fixed.
  RequestMix mix;
  mix.input = LengthDist::make_fixed(1000);
  const PrefillQueue q = make_prefill_queue(mix, 1000, 0.1);
  CHECK(ttft_percentile(q, 0.5, 99) == doctest::Approx(1.1 + std::log(50.0)).epsilon(1e-6));
  // p40 < 1 - rho: no wait at all.
  CHECK(ttft_percentile(q, 0.5, 40) == doctest::Approx(1.1).epsilon(1e-6));
  CHECK(std::isinf(ttft_percentile(q, 1.0, 50)));
}

TEST_CASE("prefix-cache hits: prefill work and capacity scale with 1 - hit") {
  // 10,000 prompt tokens/s per instance, 1,000-token prompts: 10 req/s with no hits; half the
  // tokens served from the cache leave 500 to compute, 20 req/s (hand: 10,000 / 500).
  RequestMix mix;
  mix.input = LengthDist::make_fixed(1000);
  ServiceRule offline;
  CHECK(prefill_capacity(make_prefill_queue(mix, 10000, 0), offline) == doctest::Approx(10.0));
  mix.prefix_hit = 0.5;
  const PrefillQueue q = make_prefill_queue(mix, 10000, 0.02);
  CHECK(prefill_capacity(q, offline) == doctest::Approx(20.0));
  // An idle server answers in S + fixed = 0.05 + 0.02 s.
  CHECK(ttft_percentile(q, 0, 50) == doctest::Approx(0.07).epsilon(1e-9));
}

TEST_CASE("decode live-context moments by hand") {
  // Prompts 100 tokens, outputs fixed 3: contexts 101, 102, 103 -> mean 102, mean square
  // (101^2 + 102^2 + 103^2) / 3 = 10404.667.
  RequestMix mix;
  mix.input = LengthDist::make_fixed(100);
  mix.output = LengthDist::make_fixed(3);
  const DecodeQueue q = make_decode_queue(mix, DecodeStep{0.01, 0, 0}, 100);
  CHECK(q.live_ctx == doctest::Approx(102.0));
  CHECK(q.live_ctx2 == doctest::Approx((101.0 * 101 + 102 * 102 + 103 * 103) / 3));
  // Little's law with tau = a: N = lambda E[O] a = 10 x 3 x 0.01.
  CHECK(decode_mean_live(q, 10) == doctest::Approx(0.3));
}

TEST_CASE("TTFT percentiles: approximation within 10 % of a discrete-event simulation") {
  RequestMix mix;
  mix.input = chat_input();
  const double rate = 20000, fixed = 0.03;  // prompt tokens/s of the instance; half a pass + KV
  const PrefillQueue q = make_prefill_queue(mix, rate, fixed);
  const double es = mix.input.mean() / rate;
  for (double rho : {0.3, 0.5, 0.7, 0.85}) {
    const double lambda = rho / es;
    const auto sim = simulate_prefill(mix, rate, fixed, lambda, 400000, 7);
    for (double pct : {50.0, 90.0, 99.0}) {
      CAPTURE(rho);
      CAPTURE(pct);
      const double a = ttft_percentile(q, lambda, pct), s = quantile(sim, pct);
      CHECK(std::abs(a / s - 1) < 0.10);
    }
  }
}

TEST_CASE("TPOT percentiles: approximation within 10 % of a discrete-event simulation") {
  RequestMix mix;
  mix.input = chat_input();
  mix.output = LengthDist::make_uniform(50, 350);
  // A decode step of 20 ms plus 0.1 ms per sequence and 10 ns per context token (the shape of a
  // wide-EP decode instance: weights and dispatch fixed, KV reads per token of context).
  const DecodeStep st{0.020, 1e-4, 1e-8};
  const DecodeQueue q = make_decode_queue(mix, st, 1e9);
  for (double n_target : {10.0, 40.0, 120.0, 300.0}) {
    // lambda giving mean live n: n = lambda E[O] (a + n beta)  ->  lambda = n / (E[O] (a + n beta)).
    const double beta = st.b_s + st.k_s * q.live_ctx;
    const double lambda = n_target / (q.mean_out * (st.a_s + n_target * beta));
    const auto sim = simulate_decode(mix, st, lambda, 60000, 11);
    for (double pct : {50.0, 90.0, 99.0}) {
      CAPTURE(n_target);
      CAPTURE(pct);
      const double a = tpot_percentile(q, lambda, pct), s = quantile(sim, pct);
      CHECK(std::abs(a / s - 1) < 0.10);
    }
  }
}

TEST_CASE("normal quantile") {
  CHECK(normal_quantile(0.5) == doctest::Approx(0.0));
  CHECK(normal_quantile(0.99) == doctest::Approx(2.326348).epsilon(1e-6));
  CHECK(normal_quantile(0.9) == doctest::Approx(1.281552).epsilon(1e-6));
}

namespace {
double json_number(const std::string& j, const std::string& key) {
  const auto p = j.find("\"" + key + "\":");
  REQUIRE(p != std::string::npos);
  return std::stod(j.substr(p + key.size() + 3));
}
}  // namespace

TEST_CASE("CLI: CloudMatrix 384 at 96:288 runs whole instances, no chip counted twice") {
  const CliResult r = run_podperf(
      "estimate --system cloudmatrix-384 --model deepseek-v3 --mode serve --pd-split 96:288 --seq-in 1024 "
      "--seq-out 1024 --tpot-ms 50 --ttft-ms 1000 --json");
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("\"fits\": true") != std::string::npos);
  const double pre = json_number(r.out, "prefill_chips"), dec = json_number(r.out, "decode_chips");
  const double idle = json_number(r.out, "idle_chips");
  CHECK(pre <= 96);
  CHECK(dec <= 288);
  CHECK(pre + dec + idle == 384);
  CHECK(json_number(r.out, "tokens_per_s") == doctest::Approx(json_number(r.out, "tokens_per_s_per_chip") * 384));
}

// The pools of a serve case and the deployment planner's --pd-split are two routes to the same
// number: the case divides the slower pool's output over P + D chips; the planner runs whole
// instances at the highest offline arrival rate (M/G/1 prefill queue, decode live-set model).
TEST_CASE("CLI: a serve case with fixed pools agrees with estimate --pd-split") {
  const CliResult v = run_podperf("validate --case gb300-sglang-serve-128k-max --json");
  const CliResult d = run_podperf(
      "estimate --system gb300-nvl72 --model deepseek-v3 --mode serve --dp 8 --ep 8 --redundant-experts 32 "
      "--eplb default --batch 256 --prefill-tp 1 --prefill-dp 1 --prefill-ep 1 --prefill-pp 4 --pd-split 12:8 "
      "--seq-in 128000 --seq-out 8000 --weights nvfp4 --w-attn fp8 --w-head bf16 --kv fp8 --attn fp8 --json");
  REQUIRE(v.rc == 0);
  REQUIRE(d.rc == 0);
  // 12 + 8 GPUs; 8,000 output tokens per request.
  CHECK(json_number(v.out, "predicted") * 20 == doctest::Approx(json_number(d.out, "requests_per_s") * 8000).epsilon(0.01));
}

TEST_CASE("CLI: MLPerf server scenario gives fewer tokens/s than offline and reports p99") {
  const std::string base = "estimate --system gb200-nvl72 --model deepseek-v3 --mode serve --mix reasoning --json";
  const CliResult off = run_podperf(base + " --scenario offline");
  const CliResult srv = run_podperf(base + " --scenario server");
  REQUIRE(off.rc == 0);
  REQUIRE(srv.rc == 0);
  CHECK(json_number(srv.out, "tokens_per_s") < json_number(off.out, "tokens_per_s"));
  const auto p99 = srv.out.find("\"p99\":", srv.out.find("\"tpot_ms\""));
  REQUIRE(p99 != std::string::npos);
  CHECK(std::stod(srv.out.substr(p99 + 6)) <= 80.0 + 1e-6);
  // A fractional target is accepted (not bad input): a result, or none under it (exit 3).
  const CliResult frac = run_podperf(base + " --tpot-ms 12.5");
  CHECK((frac.rc == 0 || frac.rc == 3));
  CHECK(frac.out.find("\"fits\": ") != std::string::npos);
}

TEST_CASE("CLI: Atlas 950 SuperPoD decodes with instances of at most 512 chips") {
  const CliResult r = run_podperf("estimate --system atlas-950-superpod --model deepseek-v3 --mode decode --tpot-ms 50 --json");
  REQUIRE(r.rc == 0);
  CHECK(json_number(r.out, "instance_chips") <= 512);
}

TEST_CASE("CLI: prefill on another system prices the KV transfer over the fabric joining them") {
  const CliResult r = run_podperf(
      "estimate --system cloudmatrix-384 --prefill-system 4xatlas-800t-a2 --model deepseek-v3 --mode serve --json");
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("\"fits\": true") != std::string::npos);
  CHECK(r.out.find("scale-out RDMA between the systems") != std::string::npos);
  // 2,048 prompt tokens x 61 layers x 576 latent elements x 1 byte (INT8) = 71.96 MB per request.
  CHECK(json_number(r.out, "kv_transfer_bytes") == doctest::Approx(2048.0 * 61 * 576));
  CHECK(json_number(r.out, "kv_transfer_ms") > 0);
  CHECK(json_number(r.out, "chips") == 384 + 32);
}

TEST_CASE("CLI: prefix-cache hits raise the prefill capacity of the same instance by 1 / (1 - hit)") {
  const std::string base =
      "estimate --system gb200-nvl72 --model deepseek-v3 --mode serve --prefill-tp 1 --prefill-dp 8 --prefill-ep 8 "
      "--tp 1 --dp 64 --ep 64 --json";
  const CliResult a = run_podperf(base), b = run_podperf(base + " --prefix-hit 0.5");
  REQUIRE(a.rc == 0);
  REQUIRE(b.rc == 0);
  auto prefill_capacity = [](const std::string& j) {
    const auto p = j.find("\"prefill\":");
    return json_number(j.substr(p), "capacity_requests_per_s");
  };
  CHECK(prefill_capacity(b.out) == doctest::Approx(2 * prefill_capacity(a.out)).epsilon(1e-6));
}

TEST_CASE("CLI: 950PR prefill pod beside the Atlas 950 SuperPoD's 950DT decode") {
  const CliResult r = run_podperf(
      "estimate --system atlas-950-superpod --prefill-system atlas-950pr-pod --model deepseek-v3 --mode serve --json");
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("\"fits\": true") != std::string::npos);
  CHECK(r.out.find("\"prefill_system\": \"atlas-950pr-pod\"") != std::string::npos);
  CHECK(json_number(r.out, "kv_transfer_ms") > 0);
  CHECK(json_number(r.out, "chips") == 8192 + 1024);
}

// LMSYS's GB300 NVL72 long-context runs (2026-02-19): 226.2 against 147.9 TPS/GPU at peak, 1.53x, from
// the larger HBM (a bigger batch at 128K) and the doubled SFU exponential rate. Same plan and precisions
// on both racks; the batch is each rack's largest that fits.
TEST_CASE("CLI: DeepSeek-R1 decode at 128K context gives GB300 NVL72 at least 1.3x GB200 NVL72 per GPU") {
  const std::string flags = " --model deepseek-v3 --mode decode --dp 8 --ep 8 --redundant-experts 32 --eplb default "
                            "--seq-in 128000 --context 132000 --weights nvfp4 --w-attn fp8 --w-head bf16 --kv fp8 --attn fp8 "
                            "--tpot-ms 1000 --json";
  const CliResult b = run_podperf("estimate --system gb200-nvl72" + flags);
  const CliResult u = run_podperf("estimate --system gb300-nvl72" + flags);
  REQUIRE(b.rc == 0);
  REQUIRE(u.rc == 0);
  CHECK(json_number(u.out, "batch") > json_number(b.out, "batch"));
  CHECK(json_number(u.out, "tokens_per_s_per_chip") >= 1.3 * json_number(b.out, "tokens_per_s_per_chip"));
}

// Batch-1 decode of Llama 3 70B in FP8 over TP8 reads each GPU's eighth of the weights every step:
// 70.6e9 parameters less the 128,256 x 8,192 input embedding (looked up, not read) = 69.55e9 bytes,
// 8.69 GB per GPU. The weights stream through GEMMs at the skinny-GEMM fraction of HBM bandwidth
// (0.713 of 4.8 TB/s on H200 and of 7.7 TB/s on B200), 2.54 ms against 1.58 ms; on the same software
// stack every other term is shared, so the batch-1 TPOT floors differ by about 0.96 ms.
TEST_CASE("CLI: batch-1 TPOT floors differ by the weight bytes over each chip's HBM bandwidth (by hand)") {
  const std::string flags = " --stack sglang-hopper --model llama3-70b --mode decode --tp 8 --batch 1 --seq-in 128 "
                            "--context 128 --weights fp8 --kv fp8 --json";
  const CliResult h = run_podperf("estimate --system hgx-h200" + flags);
  const CliResult b = run_podperf("estimate --system hgx-b200" + flags);
  REQUIRE(h.rc == 0);
  REQUIRE(b.rc == 0);
  const double bytes = (70.6e9 - 128256.0 * 8192) / 8;
  const double by_hand_ms = (bytes / (0.713 * 4.8e12) - bytes / (0.713 * 7.7e12)) * 1e3;
  CHECK(json_number(h.out, "tpot_ms") - json_number(b.out, "tpot_ms") == doctest::Approx(by_hand_ms).epsilon(0.05));
}
