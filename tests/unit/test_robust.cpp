// Robustness of sweeps and loaders: the output protocol (the target is always absent, the old
// complete file or the new complete file), refused resumes that leave every file byte-identical,
// input fingerprints, non-regular files, hwdbs that pass `hwdb check` and then must never crash a
// command, and rows marked ok that carry only finite, non-negative numbers.
#include <doctest/doctest.h>

#include <H5Cpp.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "run_cli.hpp"

namespace fs = std::filesystem;

namespace {
const std::string kSrc = PODPERF_SOURCE_DIR;
const std::string kBin = PODPERF_BINARY;

std::string fresh_dir(const std::string& tag) {
  const fs::path p = fs::temp_directory_path() / ("podperf_robust_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

const char* kSpecA =
    "id = \"a\"\ndescription = \"robustness test A\"\n[axes]\nsystem = [\"gb200-nvl72\", \"cloudmatrix-384\"]\n"
    "model = [\"llama3-70b\"]\nbatch = { from = 1, to = 512, scale = \"log2\" }\n"
    "electricity_usd_kwh = { from = 0.02, to = 0.2, step = 0.02 }\n";
// B is big enough (about 0.5 s on one thread) that kills land mid-run.
const char* kSpecB =
    "id = \"b\"\ndescription = \"robustness test B\"\n[axes]\nsystem = [\"gb200-nvl72\", \"cloudmatrix-384\"]\n"
    "model = [\"llama3-70b\", \"deepseek-v3\"]\ntp = [1, 2, 4, 8]\nbatch = { from = 1, to = 256, scale = \"log2\" }\n"
    "seq_in = [1024, 2048, 4096, 8192]\nelectricity_usd_kwh = { from = 0.002, to = 0.3, step = 0.002 }\n";

std::string sweep_cmd(const std::string& spec, const std::string& out, const std::string& extra = "", int chunk = 2000) {
  return "SOURCE_DATE_EPOCH=1700000000 " + kBin + " sweep " + spec + " -o " + out + " --quiet --threads 1 --chunk " +
         std::to_string(chunk) + " " + extra;
}

pid_t spawn(const std::string& dir, const std::string& cmd) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::execl("/bin/sh", "sh", "-c", ("cd '" + dir + "' && exec env " + cmd + " >/dev/null 2>&1").c_str(), nullptr);
    ::_exit(127);
  }
  return pid;
}
int reap(pid_t pid) {
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}
}  // namespace

TEST_CASE("a second writer of the same output refuses at once and leaves the first's file alone") {
  const std::string d = fresh_dir("lock");
  put(d + "/a.toml", kSpecA);
  REQUIRE(sh(d, sweep_cmd("a.toml", "out.h5")).rc == 0);
  const std::string before = bytes_of(d + "/out.h5");
  // Hold the lock as a running sweep does.
  const int fd = ::open((d + "/out.h5.part").c_str(), O_RDWR | O_CREAT, 0644);
  REQUIRE(fd >= 0);
  struct flock lk {};
  lk.l_type = F_WRLCK;
  lk.l_whence = SEEK_SET;
  REQUIRE(::fcntl(fd, F_OFD_SETLK, &lk) == 0);
  for (const char* extra : {"", "--resume"}) {
    const CliResult r = sh(d, sweep_cmd("a.toml", "out.h5", extra));
    CHECK(r.rc == 2);
    CHECK(r.err == "out.h5: another podperf sweep is writing it (out.h5.part is locked); wait for it or choose another -o\n");
  }
  ::close(fd);
  CHECK(bytes_of(d + "/out.h5") == before);
  fs::remove_all(d);
}

TEST_CASE("a refused --resume leaves every file byte-identical and names what changed") {
  const std::string d = fresh_dir("resume");
  put(d + "/a.toml", kSpecA);
  put(d + "/b.toml", kSpecB);
  REQUIRE(sh(d, sweep_cmd("a.toml", "out.h5")).rc == 0);
  const std::string done = bytes_of(d + "/out.h5");
  // A complete file: nothing to resume, and it stays as it was.
  CliResult r = sh(d, sweep_cmd("a.toml", "out.h5", "--resume"));
  CHECK(r.rc == 2);
  CHECK(r.err == "out.h5: nothing to resume (no out.h5.part; a finished sweep file is never reopened)\n");
  r = sh(d, sweep_cmd("b.toml", "out.h5", "--resume"));
  CHECK(r.rc == 2);
  CHECK(bytes_of(d + "/out.h5") == done);
  CHECK(!fs::exists(d + "/out.h5.part"));
  // An incomplete OUT.part: a file-size limit stops spec B part-way.
  r = sh(d, "prlimit --fsize=1400000 env " + sweep_cmd("b.toml", "out.h5", "", 500));
  REQUIRE(r.rc == 2);
  CHECK(r.err.find("stopped before the disk fills") != std::string::npos);
  REQUIRE(fs::exists(d + "/out.h5.part"));
  CHECK(bytes_of(d + "/out.h5") == done);
  const std::string part = bytes_of(d + "/out.h5.part");
  // Another spec, another figure set, another hwdb, other model configs: refused, nothing touched.
  r = sh(d, sweep_cmd("a.toml", "out.h5", "--resume"));
  CHECK(r.rc == 2);
  CHECK(r.err == "out.h5.part: --resume refused: written by another sweep spec; --resume needs the same spec file\n");
  r = sh(d, kBin + " --figures semianalysis sweep b.toml -o out.h5 --quiet --chunk 500 --resume");
  CHECK(r.rc == 2);
  CHECK(r.err.find("out.h5.part: --resume refused: the figure sets (--figures) changed (file: none, now: semianalysis)") == 0);
  fs::copy(kSrc + "/hwdb", d + "/hwdb", fs::copy_options::recursive);
  put(d + "/hwdb/sites/us.toml", bytes_of(kSrc + "/hwdb/sites/us.toml") + "\n# edited\n");
  r = sh(d, sweep_cmd("b.toml", "out.h5", "--resume", 500).insert(0, "PODPERF_HWDB=hwdb "));
  CHECK(r.rc == 2);
  CHECK(r.err.find("out.h5.part: --resume refused: the hwdb contents (--hwdb) changed") == 0);
  fs::copy(kSrc + "/configs", d + "/configs", fs::copy_options::recursive);
  put(d + "/configs/models/llama3-70b.toml", bytes_of(kSrc + "/configs/models/llama3-70b.toml") + "\n# edited\n");
  r = sh(d, kBin + " --configs configs sweep b.toml -o out.h5 --quiet --chunk 500 --resume");
  CHECK(r.rc == 2);
  CHECK(r.err.find("out.h5.part: --resume refused: the model configs (--configs) changed") == 0);
  CHECK(bytes_of(d + "/out.h5") == done);
  CHECK(bytes_of(d + "/out.h5.part") == part);
  // The same inputs: the resume completes, and only then replaces out.h5.
  r = sh(d, sweep_cmd("b.toml", "out.h5", "--resume", 500));
  CHECK(r.rc == 0);
  CHECK(!fs::exists(d + "/out.h5.part"));
  CHECK(sh(d, "h5ls out.h5/metrics").rc == 0);
  fs::remove_all(d);
}

TEST_CASE("-o must be a regular file or a new path; a device is never replaced") {
  const std::string d = fresh_dir("dev");
  put(d + "/a.toml", kSpecA);
  REQUIRE(::mknod((d + "/full").c_str(), S_IFCHR | 0666, makedev(1, 7)) == 0);
  const CliResult r = sh(d, sweep_cmd("a.toml", "full"));
  CHECK(r.rc == 2);
  CHECK(r.err == "full: exists and is not a regular file; -o must name a regular file or a new path\n");
  struct stat st;
  REQUIRE(::stat((d + "/full").c_str(), &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  CHECK(!fs::exists(d + "/full.part"));
  fs::remove_all(d);
}

TEST_CASE("killed, concurrent and refused sweeps: the target is absent, the old or the new complete file") {
  const std::string d = fresh_dir("prop");
  put(d + "/a.toml", kSpecA);
  put(d + "/b.toml", kSpecB);
  REQUIRE(sh(d, sweep_cmd("a.toml", "ref_a.h5")).rc == 0);
  REQUIRE(sh(d, sweep_cmd("b.toml", "ref_b.h5")).rc == 0);
  const std::string ref_a = bytes_of(d + "/ref_a.h5"), ref_b = bytes_of(d + "/ref_b.h5");
  REQUIRE(ref_a != ref_b);
  std::mt19937 rng(20261124);
  int outcomes[4] = {0, 0, 0, 0};  // finished, killed, refused second writer, second finished
  for (int trial = 0; trial < 10; ++trial) {
    CAPTURE(trial);
    // Start from: no target, or the old complete file A.
    fs::remove(d + "/t.h5");
    fs::remove(d + "/t.h5.part");
    const bool had_old = rng() % 3 != 0;
    if (had_old) fs::copy_file(d + "/ref_a.h5", d + "/t.h5");
    const pid_t first = spawn(d, sweep_cmd("b.toml", "t.h5"));
    ::usleep(static_cast<useconds_t>(rng() % 400000));
    const int action = static_cast<int>(rng() % 3);
    int rc_second = -100;
    if (action == 0) ::kill(first, rng() % 2 ? SIGKILL : SIGTERM);
    if (action == 1) rc_second = sh(d, sweep_cmd(rng() % 2 ? "a.toml" : "b.toml", "t.h5")).rc;
    if (action == 2) rc_second = sh(d, sweep_cmd("b.toml", "t.h5", "--resume")).rc;
    const int rc_first = reap(first);
    if (rc_first == 0) ++outcomes[0];
    else ++outcomes[1];
    if (rc_second == 2) ++outcomes[2];
    if (rc_second == 0) ++outcomes[3];
    // Whatever happened: absent, old complete, or a new complete file (of A or B).
    const bool exists = fs::exists(d + "/t.h5");
    if (!exists) {
      CHECK(!had_old);
      CHECK(rc_first != 0);
    } else {
      const std::string now = bytes_of(d + "/t.h5");
      const bool ok = now == ref_b || now == ref_a;
      CHECK(ok);
      if (now == ref_a) CHECK((had_old || rc_second == 0));
    }
  }
  MESSAGE("finished " << outcomes[0] << ", stopped " << outcomes[1] << ", second refused " << outcomes[2]
                      << ", second finished " << outcomes[3]);
  fs::remove_all(d);
}

TEST_CASE("a sweep refuses non-regular inputs at once: FIFO spec, hwdb file linked to /dev/zero") {
  const std::string d = fresh_dir("fifo");
  REQUIRE(::mkfifo((d + "/x.toml").c_str(), 0644) == 0);
  CliResult r = sh(d, "timeout 10 " + kBin + " sweep x.toml -o out.h5");
  CHECK(r.rc == 2);
  CHECK(r.err == "x.toml: not a regular file\n");
  fs::create_directories(d + "/hwdb/chips");
  fs::create_symlink("/dev/zero", d + "/hwdb/chips/z.toml");
  r = sh(d, "timeout 10 " + kBin + " --hwdb hwdb hwdb check");
  CHECK(r.rc == 2);
  CHECK(r.err == "hwdb/chips/z.toml: not a regular file\n");
  fs::remove_all(d);
}

TEST_CASE("TP x PP past 2^31 is a plan-shape row, not a crash") {
  const std::string d = fresh_dir("tppp");
  put(d + "/s.toml",
      "id = \"s\"\ndescription = \"d\"\n[axes]\nsystem = [\"gb200-nvl72\"]\nmodel = [\"llama3-70b\"]\n"
      "mode = [\"decode\", \"train\"]\ntp = [65536, 100000000]\npp = [65536, 100000000]\n");
  const CliResult r = sh(d, kBin + " sweep s.toml -o out.h5 --quiet");
  CHECK(r.rc == 0);
  CHECK(r.out.find("8 points (8 rows") != std::string::npos);
  H5::H5File f(d + "/out.h5", H5F_ACC_RDONLY);
  std::vector<std::int8_t> reason(8);
  f.openDataSet("/reason").read(reason.data(), H5::PredType::NATIVE_INT8);
  for (auto x : reason) CHECK(int(x) == 61);
  fs::remove_all(d);
}

namespace {
// Every row with reason 0 holds finite, non-negative metrics.
int bad_ok_rows(const std::string& file) {
  H5::H5File f(file, H5F_ACC_RDONLY);
  hsize_t n = 0;
  H5::DataSet rs = f.openDataSet("/reason");
  rs.getSpace().getSimpleExtentDims(&n);
  std::vector<std::int8_t> reason(n);
  if (n) rs.read(reason.data(), H5::PredType::NATIVE_INT8);
  int bad = 0;
  H5::Group g = f.openGroup("/metrics");
  for (hsize_t i = 0; i < g.getNumObjs(); ++i) {
    std::vector<double> v(n);
    if (n) g.openDataSet(g.getObjnameByIdx(i)).read(v.data(), H5::PredType::NATIVE_DOUBLE);
    for (hsize_t k = 0; k < n; ++k)
      if (reason[k] == 0 && !(std::isfinite(v[k]) && v[k] >= 0)) ++bad;
  }
  return bad;
}
}  // namespace

TEST_CASE("no row marked ok holds a non-finite or negative metric: shipped sweeps and specs at the limits") {
  const std::string d = fresh_dir("finite");
  const std::string all_metrics =
      "\n[output]\nmetrics = [\"tokens_per_s_per_chip\", \"tokens_per_s\", \"tokens_per_s_per_user\", \"tpot_ms\", "
      "\"ttft_ms\", \"step_time_s\", \"mfu\", \"memory_gb_per_chip\", \"meets_target\", \"usd_per_mtok\", "
      "\"tokens_per_kwh\", \"tokens_per_usd\", \"avg_facility_kw\", \"capex_usd\", \"tco_usd_per_h\", "
      "\"instance_chips\", \"batch_per_instance\"]\n";
  std::vector<std::string> specs = {kSrc + "/configs/sweeps/training-4608.toml", kSrc + "/tests/sweeps/small.toml"};
  // Mutated specs: every numeric axis at its limits, every metric written.
  put(d + "/edge.toml",
      "id = \"edge\"\ndescription = \"d\"\n[axes]\nsystem = [\"gb200-nvl72\", \"cloudmatrix-384\", \"2xgb200-nvl72\"]\n"
      "model = [\"llama3-70b\", \"deepseek-v3\"]\nmode = [\"prefill\", \"decode\", \"serve\", \"train\"]\n"
      "tp = [1, 4, 100000000]\nbatch = [1, 100000000]\nseq_in = [1, 100000000]\nseq_out = [1, 100000000]\n"
      "mtp = [0, 64]\ntpot_ms = [1, 100000000]\nelectricity_usd_kwh = [0.001, 5]\noverlap = [0, 1]\n" +
          all_metrics);
  specs.push_back(d + "/edge.toml");
  // The training plan axes at their limits.
  put(d + "/edge-train.toml",
      "id = \"edge-train\"\ndescription = \"d\"\n[axes]\nsystem = [\"gb200-nvl72\", \"12xcloudmatrix-384\"]\n"
      "model = [\"llama3-405b\", \"deepseek-v3\"]\nmode = [\"train\"]\ntp = [1, 100000000]\npp = [1, 100000000]\n"
      "cp = [1, 2, 100000000]\nmicro_batch = [1, 100000000]\ninterleave = [1, 100000000]\nzero = [0, 3]\n"
      "seq = [1, 100000000]\nbatch = [1, 100000000]\nrecompute = [\"none\", \"full\"]\nsp = [\"on\", \"off\"]\n"
      "tp_overlap = [\"none\", \"pipelined\"]\n" +
          all_metrics);
  specs.push_back(d + "/edge-train.toml");
  int i = 0;
  for (auto& s : specs) {
    CAPTURE(s);
    const std::string out = d + "/o" + std::to_string(i++) + ".h5";
    const CliResult r = sh(d, kBin + " sweep " + s + " -o " + out + " --quiet --force");
    REQUIRE(r.rc == 0);
    CHECK(bad_ok_rows(out) == 0);
  }
  fs::remove_all(d);
}

TEST_CASE("an hwdb that passes hwdb check never crashes specs or estimate (mutated copies of the shipped hwdb)") {
  const std::string d = fresh_dir("mutate");
  struct Mutation {
    const char* file;
    const char* find;
    const char* replace;
  };
  // Each mutation edits one line of a shipped file; `check` either refuses it or every command works.
  const std::vector<Mutation> muts = {
      {"systems/gb200-nvl72.toml", "topology = \"switch\"", "topology = \"switch\"\nmesh_dims = { value = [1, 1, 1, 1, 1, 72], kind = \"assumption\", source = \"t\" }\nmesh_share = { value = [0.1, 0.1, 0.1, 0.1, 0.1, 0.5], kind = \"assumption\", source = \"t\" }"},
      {"systems/gb200-nvl72.toml", "topology = \"switch\"", "topology = \"switch\"\nmesh_dims = { value = [8, 9], kind = \"assumption\", source = \"t\" }"},
      {"systems/gb200-nvl72.toml", "topology = \"switch\"", "topology = \"switch\"\nmesh_dims = { value = [8, 9], kind = \"assumption\", source = \"t\" }\nmesh_share = { value = [0.5, 0.5], kind = \"assumption\", source = \"t\" }"},
      {"systems/atlas-950-superpod.toml", "mesh_share = { value = [", "mesh_share = { value = [0.1, "},
      {"chips/b200.toml", "idle_w = { value = 150, range = [100, 250]", "idle_w = { value = 1500, range = [100, 2500]"},
      {"systems/gb200-nvl72.toml", "chips = { value = 72", "chips = { value = 72000"},
      {"clusters/atlas-950-supercluster.toml", "supernodes = { value = ", "supernodes = { value = 999"},
      {"sites/us.toml", "value = 0.08, range = [0.06, 0.13]", "value = 4.9, range = [0.06, 4.95]"},
  };
  int passed = 0;
  for (std::size_t m = 0; m < muts.size(); ++m) {
    CAPTURE(m);
    const std::string h = d + "/h" + std::to_string(m);
    fs::copy(kSrc + "/hwdb", h, fs::copy_options::recursive);
    const std::string path = h + "/" + muts[m].file;
    std::string text = bytes_of(path);
    const auto at = text.find(muts[m].find);
    REQUIRE(at != std::string::npos);
    text.replace(at, std::string(muts[m].find).size(), muts[m].replace);
    put(path, text);
    const CliResult c = sh(d, kBin + " --hwdb " + h + " hwdb check");
    CHECK((c.rc == 0 || c.rc == 2));
    if (c.rc != 0) {
      MESSAGE(c.err);
      CHECK(c.err.find('\n') == c.err.size() - 1);
      continue;
    }
    ++passed;
    // Every system and cluster id: the quoted strings of `hwdb list --json` after the kind's key.
    std::vector<std::string> ids;
    for (const char* kind : {"systems", "clusters"}) {
      const CliResult list = sh(d, kBin + " --hwdb " + h + " hwdb list --kind " + kind + " --json");
      REQUIRE(list.rc == 0);
      std::size_t p = list.out.find('[');
      for (std::size_t q = list.out.find('"', p); q != std::string::npos; q = list.out.find('"', q + 1)) {
        const auto e = list.out.find('"', q + 1);
        ids.push_back(list.out.substr(q + 1, e - q - 1));
        q = e;
      }
    }
    REQUIRE(ids.size() >= 2);
    std::string all;
    for (auto& id : ids) all += " " + id;
    CHECK(sh(d, kBin + " --hwdb " + h + " specs" + all).rc == 0);
    for (auto& id : ids) {
      CAPTURE(id);
      const int rc = sh(d, kBin + " --hwdb " + h + " estimate --system " + id + " --model llama3-70b").rc;
      CHECK((rc == 0 || rc == 2));
    }
  }
  CHECK(passed >= 2);
  fs::remove_all(d);
}

TEST_CASE("a sweep started without room refuses before writing anything") {
  const std::string d = fresh_dir("room");
  put(d + "/a.toml", kSpecA);
  const CliResult r = sh(d, "prlimit --fsize=100000 " + kBin + " sweep a.toml -o out.h5 --chunk 2000");
  CHECK(r.rc == 2);
  CHECK(r.err == "out.h5: not enough room to write (100000 bytes left, a chunk needs up to 1210576)\n");
  CHECK(!fs::exists(d + "/out.h5"));
  CHECK(!fs::exists(d + "/out.h5.part"));
  fs::remove_all(d);
}
