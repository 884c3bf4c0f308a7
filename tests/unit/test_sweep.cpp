// Sweeps: spec parsing and errors, determinism across threads, skipped points, interrupt and resume.
#include <doctest/doctest.h>

#include <H5Cpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <string>

#include "podperf/io/error.hpp"
#include "podperf/app/sweep.hpp"
#include "run_cli.hpp"

using namespace podperf;
namespace fs = std::filesystem;

namespace {
const std::string kSrc = PODPERF_SOURCE_DIR;
std::string tmpdir() {
  const fs::path p = fs::temp_directory_path() / ("podperf_sweep_test_" + std::to_string(::getpid()));
  fs::create_directories(p);
  return p.string();
}
std::uint64_t attr_u64(const std::string& file, const char* name) {
  H5::H5File f(file, H5F_ACC_RDONLY);
  std::uint64_t v = 0;
  f.openGroup("/").openAttribute(name).read(H5::PredType::NATIVE_UINT64, &v);
  return v;
}
// Runs a shell command and returns its wall time in seconds (the signal tests time their signals
// against it, so that they land mid-sweep on a slow or sanitized build as on a fast one).
double timed_system(const std::string& cmd, int* rc = nullptr) {
  const auto t0 = std::chrono::steady_clock::now();
  const int r = std::system(cmd.c_str());
  if (rc) *rc = r;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
std::string seconds_str(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}
std::string write_spec(const std::string& dir, const std::string& text) {
  const std::string p = dir + "/spec.toml";
  std::FILE* f = std::fopen(p.c_str(), "w");
  std::fputs(text.c_str(), f);
  std::fclose(f);
  return p;
}
}  // namespace

TEST_CASE("sweep spec: axes in file order, ranges, constraints") {
  const SweepSpec s = load_sweep_spec(kSrc + "/tests/sweeps/small.toml");
  REQUIRE(s.axes.size() == 7);
  CHECK(s.axes[0].id == AxisId::system);
  CHECK(s.axes[6].id == AxisId::electricity_usd_kwh);
  CHECK(s.axis(AxisId::batch)->values == std::vector<double>{1, 2, 4, 8, 16, 32, 64});
  CHECK(s.axis(AxisId::electricity_usd_kwh)->values.size() == 5);
  CHECK(s.points() == 2 * 1 * 2 * 7 * 2 * 2 * 5);
  REQUIRE(s.constraints.size() == 1);
  double vars[kVars] = {};
  vars[static_cast<int>(AxisId::batch)] = 64;
  CHECK_FALSE(holds(s.constraints[0], vars));
  vars[static_cast<int>(AxisId::batch)] = 8;
  CHECK(holds(s.constraints[0], vars));
  // Precedence and parentheses: 2 + 3 * 4 = 14, (2 + 3) * 4 = 20.
  Constraint c;
  const std::string dir = tmpdir();
  const SweepSpec e = load_sweep_spec(write_spec(dir, R"(id = "e"
description = "d"
constraints = ["2 + 3 * tp == 14", "(2 + 3) * tp == 20", "chips / chips_per_supernode >= 1"]
[axes]
system = ["gb200-nvl72"]
model = ["llama3-70b"]
tp = [4]
)"));
  vars[static_cast<int>(AxisId::tp)] = 4;
  vars[kVarChips] = 72;
  vars[kVarChipsPerSupernode] = 72;
  for (auto& k : e.constraints) CHECK_MESSAGE(holds(k, vars), k.text);
}

TEST_CASE("sweep spec errors name file, line and field") {
  const std::string dir = tmpdir();
  auto err = [&](const std::string& text) {
    try {
      load_sweep_spec(write_spec(dir, text));
    } catch (const InputError& x) {
      return std::string(x.what()).substr(dir.size() + 1);
    }
    return std::string("no error");
  };
  const std::string head = "id = \"e\"\ndescription = \"d\"\n";
  CHECK(err(head + "[axes]\nsystem = [\"a\"]\nmodel = [\"b\"]\nbatchsize = [1]\n") ==
        "spec.toml:6: field 'axes.batchsize': unknown axis (system, model, mode, site, weights, kv, tp, ep, pp, batch, "
        "seq_in, seq_out, context, tpot_ms, mtp, electricity_usd_kwh, overlap, utilization, yield, micro_batch, "
        "interleave, zero, cp, seq, recompute, sp, tp_overlap, stack)");
  CHECK(err(head + "[axes]\nsystem = [\"a\"]\nmodel = [\"b\"]\nbatch = { from = 8, to = 1, scale = \"log2\" }\n") ==
        "spec.toml:6: field 'axes.batch': range from > to (8 > 1)");
  CHECK(err(head + "constraints = [\"tp * foo <= 4\"]\n[axes]\nsystem = [\"a\"]\nmodel = [\"b\"]\n") ==
        "spec.toml:3: field 'constraints': unknown variable 'foo' (numeric axes, chips, chips_per_supernode) in 'tp * foo '");
  CHECK(err(head + "[axes]\nsystem = [\"a\"]\nmodel = [\"b\"]\n[output]\nmetrics = [\"speed\"]\n") ==
        "spec.toml:7: field 'output.metrics': unknown metric 'speed'");
  CHECK(err(head + "[axes]\nsystem = [\"a\"]\nmodel = [\"b\"]\nbatch = [1, nan]\n") ==
        "spec.toml:6: field 'axes.batch': values must be finite and >= 0 (got nan)");
  // Unknown ids are found when the sweep is prepared.
  const CliResult r = run_podperf("sweep " + write_spec(dir, head + "[axes]\nsystem = [\"nvl999\"]\nmodel = [\"deepseek-v3\"]\n") +
                                  " -o " + dir + "/x.h5");
  CHECK(r.rc == 2);
  CHECK(r.err.find("field 'axes.system': unknown system 'nvl999'") != std::string::npos);
}

TEST_CASE("sweep output is the same whatever the thread count, and skipped points are counted") {
  const std::string dir = tmpdir();
  ::setenv("SOURCE_DATE_EPOCH", "1700000000", 1);  // the same creation time: identical bytes
  const std::string spec = kSrc + "/tests/sweeps/small.toml";
  const CliResult a = run_podperf("sweep " + spec + " -o " + dir + "/a.h5 --threads 1 --chunk 100", dir);
  const CliResult b = run_podperf("sweep " + spec + " -o " + dir + "/b.h5 --threads 2 --chunk 100", dir);
  REQUIRE(a.rc == 0);
  REQUIRE(b.rc == 0);
  // 2 systems x 2 weights x 7 batches x 2 TPOT targets x 2 sites x 5 prices; a TPOT target changes
  // the estimate (it checks the batch, as `estimate --batch B --tpot-ms T` does), so 2 x 2 x 7 x 2 =
  // 56 performance keys, of which the 8 with batch 64 are excluded by the constraint. A point whose
  // batch misses its target is skipped with that reason.
  CHECK(a.out.find("560 points (") != std::string::npos);
  CHECK(a.out.find(", 48 distinct evaluations, ") != std::string::npos);
  CHECK(a.out.find("no batch meets the TPOT target") != std::string::npos);
  // batch 64 fails the constraint: 2 x 2 x 1 x 2 x 2 x 5 = 80 points skipped and counted by reason.
  CHECK(a.out.find("80 excluded by a constraint") != std::string::npos);
  const bool same = std::system(("h5diff -q " + dir + "/a.h5 " + dir + "/b.h5").c_str()) == 0;
  CHECK(same);
  CHECK(slurp(dir + "/a.h5") == slurp(dir + "/b.h5"));  // byte for byte
  CHECK(attr_u64(dir + "/a.h5", "complete") == 1);
  CHECK(attr_u64(dir + "/a.h5", "points_done") == 560);
  CHECK(!fs::exists(dir + "/a.h5.part"));
  ::unsetenv("SOURCE_DATE_EPOCH");
}

TEST_CASE("an interrupted sweep leaves its journal in OUT.part, and --resume finishes it identically") {
  ::setenv("SOURCE_DATE_EPOCH", "1700000000", 1);  // the same creation time: identical bytes
  const std::string dir = tmpdir();
  const std::string spec = kSrc + "/configs/sweeps/cm384-vs-nvl72-deepseek.toml";
  const std::string bin = PODPERF_BINARY;
  const std::string ref = dir + "/ref.h5", out = dir + "/int.h5";
  int ref_rc = 0;
  const double ref_s = timed_system(bin + " sweep " + spec + " -o " + ref + " --quiet --threads 1 --chunk 2000 > /dev/null", &ref_rc);
  REQUIRE(ref_rc == 0);
  // The signal comes at a fraction of the reference run's wall time: start-up and the sweep's own
  // speed differ by build and machine, and the fractions keep it between the first row and the last.
  // The later fractions are tried only while no trial has been resumed.
  const double fractions[] = {0.35, 0.55, 0.75, 0.45, 0.65, 0.85};
  int resumed = 0;
  for (int trial = 0; trial < 6 && (trial < 3 || resumed == 0); ++trial) {
    fs::remove(out);
    fs::remove(out + ".part");
    const std::string delay = seconds_str(fractions[trial] * ref_s);
    const std::string cmd = "(" + bin + " sweep " + spec + " -o " + out + " --quiet --threads 1 --chunk 2000 > /dev/null & pid=$!; sleep " +
                            delay + "; kill -" + (trial % 2 == 1 ? "TERM" : "INT") + " $pid; wait $pid) 2>/dev/null";
    const int rc = std::system(cmd.c_str());
    CAPTURE(trial);
    CAPTURE(delay);
    if (WEXITSTATUS(rc) == 0) {  // finished before the signal: nothing to resume
      CHECK(fs::exists(out));
      continue;
    }
    // The target is never an incomplete file: the rows so far stay in OUT.part (none where the
    // signal came before the sweep began).
    CHECK(!fs::exists(out));
    if (!fs::exists(out + ".part")) continue;
    ++resumed;
    CHECK(!H5::H5File::isHdf5(out + ".part"));  // the journal: the HDF5 file is built once complete
    REQUIRE(std::system((bin + " sweep " + spec + " -o " + out + " --quiet --chunk 2000 --resume > /dev/null").c_str()) == 0);
    CHECK(attr_u64(out, "complete") == 1);
    CHECK(!fs::exists(out + ".part"));
    CHECK(slurp(out) == slurp(ref));  // byte for byte
  }
  CHECK(resumed >= 1);
  // Resuming a complete file, or with another spec, is refused.
  CHECK(run_podperf("sweep " + spec + " -o " + ref + " --resume").rc == 2);
  CHECK(run_podperf("sweep " + kSrc + "/tests/sweeps/small.toml -o " + out + " --resume").rc == 2);
  ::unsetenv("SOURCE_DATE_EPOCH");
  fs::remove_all(dir);
}

TEST_CASE("SIGKILL at random moments leaves a journal that --resume completes into the uninterrupted run's file") {
  ::setenv("SOURCE_DATE_EPOCH", "1700000000", 1);  // the same creation time: identical bytes
  const std::string dir = tmpdir() + "/kill";
  fs::create_directories(dir);
  const std::string spec = kSrc + "/configs/sweeps/cm384-vs-nvl72-deepseek.toml";
  const std::string bin = PODPERF_BINARY;
  const std::string ref = dir + "/ref.h5", out = dir + "/k.h5";
  int ref_rc = 0;
  const double ref_s = timed_system(bin + " sweep " + spec + " -o " + ref + " --quiet --threads 1 --chunk 1000 > /dev/null", &ref_rc);
  REQUIRE(ref_rc == 0);
  // The delays are fractions of the reference run's wall time, so they span start-up, the sweep and
  // its end on any machine (tests/scripts/kill_loop.sh draws hundreds of instants).
  const double fractions[] = {0.02, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85};
  int killed = 0;
  for (const double fr : fractions) {
    const std::string d = seconds_str(fr * ref_s);
    CAPTURE(d);
    fs::remove(out);
    fs::remove(out + ".part");
    std::system(("(" + bin + " sweep " + spec + " -o " + out + " --quiet --threads 1 --chunk 1000 > /dev/null & pid=$!; sleep " +
                 d + "; kill -9 $pid; wait $pid) 2>/dev/null").c_str());
    if (!fs::exists(out + ".part")) continue;  // finished before the kill, or killed before it began
    ++killed;
    const std::string before = slurp(out + ".part");
    const int rc = WEXITSTATUS(std::system((bin + " sweep " + spec + " -o " + out + " --quiet --chunk 1000 --resume > /dev/null 2> " +
                                            dir + "/resume.err").c_str()));
    CHECK((rc == 0 || rc == 2));
    if (rc == 2) {
      // Killed before its header record was durable: refused, the journal as it was; start over.
      const std::string err = slurp(dir + "/resume.err");
      CHECK(err.find("killed before its first checkpoint") != std::string::npos);
      CHECK(slurp(out + ".part") == before);
      REQUIRE(std::system((bin + " sweep " + spec + " -o " + out + " --quiet --chunk 1000 > /dev/null").c_str()) == 0);
    }
    CHECK(slurp(out) == slurp(ref));
  }
  CHECK(killed >= 1);
  ::unsetenv("SOURCE_DATE_EPOCH");
  fs::remove_all(dir);
}

TEST_CASE("a full disk stops the sweep with a clear error and a journal that --resume finishes") {
  const std::string dir = tmpdir() + "/full";
  fs::create_directories(dir);
  const std::string spec = kSrc + "/configs/sweeps/cm384-vs-nvl72-deepseek.toml";
  const std::string bin = PODPERF_BINARY;
  const std::string out = dir + "/f.h5";
  // A 2 MB file-size limit plays the full disk (free space is checked the same way).
  const int rc = std::system(("prlimit --fsize=2000000 " + bin + " sweep " + spec + " -o " + out + " --quiet --chunk 4096 > " +
                              dir + "/out.txt 2> " + dir + "/err.txt").c_str());
  CHECK(WEXITSTATUS(rc) == 2);
  const std::string err = slurp(dir + "/err.txt");
  CHECK(err.find("stopped before the disk fills") != std::string::npos);
  CHECK(err.find("continue with --resume") != std::string::npos);
  CHECK(!fs::exists(out));
  CHECK(fs::file_size(out + ".part") > 0);
  // With room again, --resume finishes it.
  CHECK(std::system((bin + " sweep " + spec + " -o " + out + " --quiet --chunk 4096 --resume > /dev/null").c_str()) == 0);
  CHECK(attr_u64(out, "complete") == 1);
  fs::remove_all(dir);
}

TEST_CASE("a sweep above the point limit needs --force") {
  const CliResult r = run_podperf("sweep " + kSrc + "/configs/sweeps/cm384-vs-nvl72-deepseek.toml -o /tmp/never.h5 --max-points 1000");
  CHECK(r.rc == 2);
  CHECK(r.err.find("points exceed --max-points 1000 (use --force to run it)") != std::string::npos);
  CHECK(!fs::exists("/tmp/never.h5.part"));
}

namespace {
std::vector<double> read_f64(const std::string& file, const std::string& dataset) {
  H5::H5File f(file, H5F_ACC_RDONLY);
  H5::DataSet d = f.openDataSet(dataset);
  hsize_t n = 0;
  d.getSpace().getSimpleExtentDims(&n);
  std::vector<double> v(n);
  d.read(v.data(), H5::PredType::NATIVE_DOUBLE);
  return v;
}
std::vector<std::int8_t> read_i8(const std::string& file, const std::string& dataset) {
  H5::H5File f(file, H5F_ACC_RDONLY);
  H5::DataSet d = f.openDataSet(dataset);
  hsize_t n = 0;
  d.getSpace().getSimpleExtentDims(&n);
  std::vector<std::int8_t> v(n);
  d.read(v.data(), H5::PredType::NATIVE_INT8);
  return v;
}
double json_value(const std::string& j, const std::string& key) {
  const auto p = j.find("\"" + key + "\":");
  REQUIRE(p != std::string::npos);
  return std::strtod(j.c_str() + p + key.size() + 3, nullptr);
}
}  // namespace

TEST_CASE("a training spec with micro_batch, recompute, zero and tp_overlap axes runs, as estimate does") {
  ::setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
  const std::string dir = tmpdir();
  const std::string spec = kSrc + "/tests/sweeps/train-plan.toml";
  const CliResult a = run_podperf("sweep " + spec + " -o " + dir + "/t1.h5 --threads 1 --chunk 10", dir);
  const CliResult b = run_podperf("sweep " + spec + " -o " + dir + "/t2.h5 --threads 2 --chunk 10", dir);
  REQUIRE(a.rc == 0);
  REQUIRE(b.rc == 0);
  // 3 micro-batches x 2 recompute x 2 ZeRO x 2 TP overlap x 2 prices = 48 points; the price does not
  // change an estimate: 24 performance keys of two consecutive points each, evaluated once each
  // (chunks of 10 points never split a pair; the last chunk holds 8).
  CHECK(a.out.find("48 points (48 rows, 24 distinct evaluations, 0 skipped)") != std::string::npos);
  CHECK(slurp(dir + "/t1.h5") == slurp(dir + "/t2.h5"));
  const std::string f = dir + "/t1.h5";
  const auto tok = read_f64(f, "/metrics/tokens_per_s"), step = read_f64(f, "/metrics/step_time_s"),
             mem = read_f64(f, "/metrics/memory_gb_per_chip"), usd = read_f64(f, "/metrics/usd_per_mtok"),
             mb = read_f64(f, "/axes/micro_batch"), zero = read_f64(f, "/axes/zero");
  const auto reason = read_i8(f, "/reason");
  REQUIRE(tok.size() == 48);
  for (std::size_t i = 0; i < 48; ++i) {
    CAPTURE(i);
    // Point order, last axis fastest: micro-batch, recompute, ZeRO, TP overlap, price.
    CHECK(mb[i] == (i < 16 ? 1 : i < 32 ? 2 : 3));
    CHECK(zero[i] == ((i / 4) % 2 ? 3 : 1));
    // 4 sequences per replica do not split into micro-batches of 3.
    CHECK(reason[i] == (mb[i] == 3 ? static_cast<std::int8_t>(Reason::batch_divides) : 0));
    if (mb[i] == 3) CHECK(std::isnan(tok[i]));
  }
  // Point 23: micro-batch 2, selective recompute, ZeRO-3, pipelined TP overlap, 0.10 USD/kWh; the
  // same plan through the estimate command's flags (DP = 4,608 / 64, global batch 4 x 72).
  const CliResult e = run_podperf("estimate --system 64xgb200-nvl72 --model llama3-405b --mode train --tp 8 --pp 8 --dp 72 "
                                  "--batch 288 --micro-batch 2 --recompute selective --zero 3 --tp-overlap pipelined "
                                  "--seq 8192 --json");
  REQUIRE(e.rc == 0);
  CHECK(tok[23] == doctest::Approx(json_value(e.out, "tokens_per_s")).epsilon(1e-9));
  CHECK(step[23] == doctest::Approx(json_value(e.out, "step_time_s")).epsilon(1e-9));
  // The price changes the cost, not the plan: tokens/s equal, and the cost rises with the price.
  CHECK(tok[22] == tok[23]);
  CHECK(usd[23] > usd[22]);
  // ZeRO-3 shards the weights, gradients and optimizer state: less memory per chip than ZeRO-1.
  CHECK(mem[20] < mem[16]);
  ::unsetenv("SOURCE_DATE_EPOCH");
  fs::remove_all(dir);
}

TEST_CASE("a chunk the threads deflate is the chunk HDF5's own filter pipeline writes") {
  // The sweep writes whole chunks pre-filtered (H5Dwrite_chunk); the library, given the same rows
  // and the same filters (shuffle, deflate 1), must store the same bytes.
  const std::string dir = tmpdir();
  const CliResult r = run_podperf("sweep " + kSrc + "/tests/sweeps/train-plan.toml -o " + dir + "/s.h5 --chunk 16", dir);
  REQUIRE(r.rc == 0);
  const std::vector<double> tok = read_f64(dir + "/s.h5", "/metrics/tokens_per_s");
  H5::H5File ref(dir + "/ref.h5", H5F_ACC_TRUNC);
  const hsize_t n = tok.size(), chunk = 16;
  H5::DSetCreatPropList plist;
  plist.setChunk(1, &chunk);
  plist.setShuffle();
  plist.setDeflate(1);
  H5::DataSet d = ref.createDataSet("x", H5::PredType::IEEE_F64LE, H5::DataSpace(1, &n), plist);
  d.write(tok.data(), H5::PredType::NATIVE_DOUBLE);
  ref.flush(H5F_SCOPE_GLOBAL);
  H5::H5File ours(dir + "/s.h5", H5F_ACC_RDONLY);
  H5::DataSet o = ours.openDataSet("/metrics/tokens_per_s");
  for (hsize_t at = 0; at < n; at += chunk) {  // 48 rows: three whole chunks
    CAPTURE(at);
    hsize_t size_a = 0, size_b = 0;
    REQUIRE(H5Dget_chunk_storage_size(o.getId(), &at, &size_a) >= 0);
    REQUIRE(H5Dget_chunk_storage_size(d.getId(), &at, &size_b) >= 0);
    REQUIRE(size_a == size_b);
    std::vector<unsigned char> x(size_a), y(size_b);
    std::uint32_t fa = 1, fb = 1;
    REQUIRE(H5Dread_chunk(o.getId(), H5P_DEFAULT, &at, &fa, x.data()) >= 0);
    REQUIRE(H5Dread_chunk(d.getId(), H5P_DEFAULT, &at, &fb, y.data()) >= 0);
    CHECK(fa == 0);
    CHECK(fb == 0);
    CHECK(x == y);
  }
  fs::remove_all(dir);
}

TEST_CASE("a stack axis runs each system with its own stack and with the named one, as estimate --stack does") {
  const std::string dir = tmpdir();
  const CliResult a = run_podperf("sweep " + kSrc + "/tests/sweeps/stack-axis.toml -o " + dir + "/s.h5", dir);
  REQUIRE(a.rc == 0);
  const auto tok = read_f64(dir + "/s.h5", "/metrics/tokens_per_s_per_chip");
  REQUIRE(tok.size() == 4);
  // Point order, last axis fastest: (deployed, 16), (deployed, 64), (sglang-hopper, 16), (sglang-hopper, 64).
  int i = 0;
  for (const char* stack : {"", " --stack sglang-hopper"})
    for (int batch : {16, 64}) {
      CAPTURE(i);
      // The sweep's instance: every chip of the supernode, TP1, EP and DP over all 384.
      const CliResult e = run_podperf(std::string("estimate --system cloudmatrix-384 --model deepseek-v3 --mode decode ") +
                                      "--tp 1 --dp 384 --ep 384 --batch " + std::to_string(batch * 384) + stack + " --json");
      REQUIRE(e.rc == 0);
      CHECK(tok[static_cast<std::size_t>(i)] == doctest::Approx(json_value(e.out, "tokens_per_s_per_chip")).epsilon(1e-9));
      ++i;
    }
  CHECK(tok[0] != tok[2]);  // the stack changes the estimate
  // A training stack in a serving spec acts on nothing: refused, naming the axis.
  std::string text = slurp(kSrc + "/tests/sweeps/stack-axis.toml");
  text.replace(text.find("\"sglang-hopper\"]"), 16, "\"megatron\"]");
  const CliResult bad = run_podperf("sweep " + write_spec(dir, text) + " -o " + dir + "/b.h5", dir);
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("spec.toml:12: field 'axes.stack': stack 'megatron' is a training stack") != std::string::npos);
  fs::remove_all(dir);
}
