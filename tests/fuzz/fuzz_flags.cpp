// libFuzzer target for the command line's values: bytes choose a command (estimate in one of its
// modes, or compare), then flags, `--set` assignments and global overrides, each with a value from a
// list of adversarial texts (NaN, +-inf, denormals, empty, INT_MAX and past it, negative, huge) or
// with text taken from the input. The whole command runs in-process through run_cli with --json.
// Exit 2 must come with exactly one line on stderr; exit 0 must print JSON whose every number is
// finite and bounded (|x| < 1e30: no figure over a zero or vanishing denominator); anything else
// (exit 1, a crash, a sanitizer report) is a bug.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "command_line.hpp"

namespace {
struct Bytes {
  const uint8_t* p;
  size_t n, i = 0;
  bool more() const { return i < n; }
  unsigned next() { return i < n ? p[i++] : 0; }
  // A value text: mostly one of the adversarial ones, sometimes raw bytes from the input.
  std::string text(size_t max) {
    std::string s;
    const unsigned len = next() % (max + 1);
    for (unsigned k = 0; k < len && more(); ++k)
      if (const char c = static_cast<char>(next()); c != '\0') s.push_back(c);  // argv holds no NUL
    return s;
  }
};

const char* const kValues[] = {
    "nan", "NaN", "-nan", "inf", "-inf", "infinity", "1e309", "-1e309", "4.9e-324", "2.2250738585072014e-308",
    "1e-310", "", " ", "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967296",
    "9223372036854775807", "18446744073709551616", "-1", "0", "-0", "1e308", "1e30", "1e-300", "1e-9", "0x10",
    "1e5", "0.5", "1", "2", "3", "7", "64", "0.999999", "1.000001", "+5", "5abc", "1,2", "8:8", "0:8", "1:0",
};

// Flags of estimate and compare that take a number (or a pair of numbers).
const char* const kFlags[] = {
    "--tp", "--dp", "--ep", "--pp", "--cp", "--prefill-tp", "--prefill-dp", "--prefill-ep", "--prefill-pp",
    "--batch", "--global-batch-tokens", "--seq-in", "--seq-out", "--seq", "--context", "--tpot-ms", "--ttft-ms",
    "--mtp", "--mtp-accept", "--overlap", "--redundant-experts", "--imbalance", "--micro-batch", "--interleave",
    "--zero", "--tokens", "--percentile", "--prefix-hit", "--arrival-rate", "--hbm-reserve", "--seq-in-range",
    "--seq-out-range", "--pd-split", "--concurrency", "--chunk-tokens",
    // global overrides
    "--pue", "--electricity-usd-kwh", "--utilization",
};

// hwdb numbers for `--set ENTITY.FIELD=VALUE`.
const char* const kSets[] = {
    "gb200-gpu.hbm_tb_s", "gb200-gpu.hbm_gb", "gb200-gpu.price_usd", "gb200-gpu.tdp_w", "gb200-gpu.bf16_dense_tflops",
    "gb200-gpu.fp8_dense_tflops", "gb200-gpu.gemm_eff", "ascend-910c.hbm_tb_s", "ascend-910c.tdp_w",
    "ascend-910c.price_usd", "gb200-nvl72.gb_s_per_dir", "gb200-nvl72.latency_us", "cloudmatrix-384.gb_s_per_dir",
    "cloudmatrix-384.price_usd", "us.electricity_usd_kwh", "us.pue", "china.electricity_usd_kwh", "china.pue",
};

const char* const kSystems[] = {"gb200-nvl72", "cloudmatrix-384", "h100-sxm", "2xgb200-nvl72"};
const char* const kModels[] = {"llama3-70b", "deepseek-v3", "llama3.1-8b", "qwen3-235b-a22b"};
const char* const kModes[] = {"decode", "prefill", "serve", "train"};

template <class T, size_t N>
const T& pick(const T (&a)[N], Bytes& b) {
  return a[b.next() % N];
}

// Every number of a JSON text, checked: finite and bounded. A bare word other than true, false and
// null (nan, inf) is not JSON and fails too.
bool numbers_ok(const std::string& j, std::string& bad) {
  for (size_t i = 0; i < j.size();) {
    const char c = j[i];
    if (c == '"') {
      for (++i; i < j.size() && j[i] != '"'; ++i)
        if (j[i] == '\\') ++i;
      ++i;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      char* end = nullptr;
      const double v = std::strtod(j.c_str() + i, &end);
      const size_t len = static_cast<size_t>(end - (j.c_str() + i));
      if (len == 0 || !std::isfinite(v) || std::fabs(v) >= 1e30) {
        bad = j.substr(i, std::max<size_t>(len, 1));
        return false;
      }
      i += len;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      size_t e = i;
      while (e < j.size() && ((j[e] >= 'a' && j[e] <= 'z') || (j[e] >= 'A' && j[e] <= 'Z'))) ++e;
      const std::string w = j.substr(i, e - i);
      if (w != "true" && w != "false" && w != "null") {
        bad = w;
        return false;
      }
      i = e;
    } else {
      ++i;
    }
  }
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes b{data, size};
  const std::string src = PODPERF_SOURCE_DIR;
  std::vector<std::string> args = {"podperf", "--hwdb", src + "/hwdb", "--configs", src + "/configs"};
  const bool compare = b.next() % 4 == 0;
  if (compare) {
    args.insert(args.end(), {"compare", pick(kSystems, b), pick(kSystems, b), "--model", pick(kModels, b),
                             "--samples", std::to_string(b.next() % 3)});
  } else {
    args.insert(args.end(), {"estimate", "--system", pick(kSystems, b), "--model", pick(kModels, b), "--mode",
                             pick(kModes, b)});
  }
  args.push_back("--json");
  const unsigned n = 1 + b.next() % 3;
  for (unsigned k = 0; k < n && b.more(); ++k) {
    const unsigned kind = b.next() % 8;
    const bool raw = b.next() % 8 == 0;
    std::string value = raw ? b.text(24) : std::string(pick(kValues, b));
    if (kind == 0) {
      args.push_back("--set");
      args.push_back(std::string(pick(kSets, b)) + "=" + value);
    } else {
      args.push_back(pick(kFlags, b));
      args.push_back(value);
    }
  }
  std::ostringstream out, err;
  const int rc = podperf::cli::run_cli(args, out, err);
  std::string cmd;
  for (auto& a : args) cmd += " '" + a + "'";
  if (rc == 2) {
    const std::string e = err.str();
    if (e.empty() || e.find('\n') != e.size() - 1) {
      std::fprintf(stderr, "fuzz_flags: exit 2 without exactly one line:%s\n%s", cmd.c_str(), e.c_str());
      std::abort();
    }
    return 0;
  }
  // Exit 3 is "no result" (the model does not fit, no plan meets the target): the output is complete and is
  // checked like a success's.
  if (rc != 0 && rc != 3) {
    std::fprintf(stderr, "fuzz_flags: exit %d:%s\n%s", rc, cmd.c_str(), err.str().c_str());
    std::abort();
  }
  std::string bad;
  if (!numbers_ok(out.str(), bad)) {
    std::fprintf(stderr, "fuzz_flags: exit 0 with the figure '%s':%s\n", bad.c_str(), cmd.c_str());
    std::abort();
  }
  return 0;
}
