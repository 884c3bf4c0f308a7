// The output protocol of every writer (output_file.hpp) and the sweep's resume fingerprint. Each
// writing command meets an existing regular file, a device node, a FIFO, a symbolic link, another
// writer's locked temporary and a full disk (a file-size limit, RLIMIT_FSIZE): the target and the
// other writer's files end byte-identical or replaced by a complete output, and no temporary is left.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "run_cli.hpp"

namespace fs = std::filesystem;

namespace {
const std::string kBin = PODPERF_BINARY;
const std::string kSrc = PODPERF_SOURCE_DIR;

std::string scratch(const std::string& tag) {
  const fs::path p = fs::temp_directory_path() / ("podperf_writers_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}
int temporaries(const std::string& dir) {
  int n = 0;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) ++n;
  return n;
}

const char* kSpec =
    "id = \"w\"\ndescription = \"writers\"\n[axes]\nsystem = [\"gb200-nvl72\", \"cloudmatrix-384\"]\n"
    "model = [\"llama3-70b\"]\nbatch = { from = 1, to = 64, scale = \"log2\" }\n";

struct Writer {
  std::string name, cmd;  // cmd: "%" stands for the target
  bool (*complete)(const std::string& bytes);
};
std::string with_target(std::string cmd, const std::string& target) {
  const auto at = cmd.find('%');
  return cmd.replace(at, 1, target);
}
bool is_html(const std::string& b) { return b.rfind("<!DOCTYPE html>", 0) == 0 && b.find("</html>") != std::string::npos; }
bool is_hdf5(const std::string& b) { return b.rfind("\x89HDF\r\n\x1a\n", 0) == 0; }
bool is_man(const std::string& b) { return b.find(".TH") != std::string::npos && b.size() > 1000; }
}  // namespace

TEST_CASE("every writer against a regular file, a device, a FIFO, a link, another writer's temporary and a full disk") {
  const std::string d = scratch("targets");
  put(d + "/w.toml", kSpec);
  const std::vector<Writer> writers = {
      {"sweep", "SOURCE_DATE_EPOCH=1700000000 " + kBin + " sweep w.toml -o % --quiet", is_hdf5},
      {"report", kBin + " report gb200-nvl72 cloudmatrix-384 -o %", is_html},
      {"docs", kBin + " docs man -o %", is_man},
  };
  for (const Writer& w : writers) {
    CAPTURE(w.name);
    // An existing regular file: replaced by a complete output.
    put(d + "/t", "old contents\n");
    CliResult r = sh(d, with_target(w.cmd, "t"));
    CHECK(r.rc == 0);
    CHECK(w.complete(bytes_of(d + "/t")));
    // A device node, a FIFO, a symbolic link: refused in one line, left as they are.
    REQUIRE(::mknod((d + "/dev").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
    REQUIRE(::mkfifo((d + "/fifo").c_str(), 0644) == 0);
    put(d + "/linked", "the link's target\n");
    fs::create_symlink("linked", d + "/link");
    for (const char* t : {"dev", "fifo", "link"}) {
      CAPTURE(t);
      r = sh(d, with_target(w.cmd, t));
      CHECK(r.rc == 2);
      CHECK(r.err.find(std::string(t) + ": exists and is not a regular file;") == 0);
      CHECK(r.err.find('\n') == r.err.size() - 1);
    }
    struct stat st;
    CHECK((::stat((d + "/dev").c_str(), &st) == 0 && S_ISCHR(st.st_mode)));
    CHECK((::lstat((d + "/fifo").c_str(), &st) == 0 && S_ISFIFO(st.st_mode)));
    CHECK((::lstat((d + "/link").c_str(), &st) == 0 && S_ISLNK(st.st_mode)));
    CHECK(bytes_of(d + "/linked") == "the link's target\n");
    fs::remove(d + "/dev");
    fs::remove(d + "/fifo");
    fs::remove(d + "/link");
    // Another writer's temporary (held under its lock) as the target: refused, untouched.
    const std::string other = d + "/t.tmp-1-0123456789abcdef";
    put(other, "another writer's bytes");
    const int fd = ::open(other.c_str(), O_RDWR);
    struct flock lk {};
    lk.l_type = F_WRLCK;
    lk.l_whence = SEEK_SET;
    REQUIRE(::fcntl(fd, F_OFD_SETLK, &lk) == 0);
    r = sh(d, with_target(w.cmd, "t.tmp-1-0123456789abcdef"));
    CHECK(r.rc == 2);
    CHECK(bytes_of(other) == "another writer's bytes");
    // ... and a writer of t leaves the other's temporary alone.
    const std::string before = bytes_of(d + "/t");
    r = sh(d, with_target(w.cmd, "t"));
    CHECK(r.rc == 0);
    CHECK(bytes_of(other) == "another writer's bytes");
    ::close(fd);
    fs::remove(other);
    // A full disk (a file-size limit of 8 KiB): the old file stays as it was, no temporary is left.
    r = sh(d, "prlimit --fsize=8192 env " + with_target(w.cmd, "t"));
    CHECK(r.rc == 2);
    CHECK(r.err.find('\n') == r.err.size() - 1);
    CHECK(bytes_of(d + "/t") == before);
    CHECK(temporaries(d) == 0);
    fs::remove(d + "/t");
    fs::remove(d + "/t.part");
  }
  fs::remove_all(d);
}

TEST_CASE("calibrate --write replaces every stack file or none") {
  const std::string d = scratch("calibrate");
  fs::copy(kSrc + "/hwdb", d + "/hwdb", fs::copy_options::recursive);
  std::vector<std::pair<std::string, std::string>> before;
  for (auto& e : fs::directory_iterator(d + "/hwdb/stacks")) before.emplace_back(e.path().string(), bytes_of(e.path().string()));
  // A file-size limit below the smallest stack file: the first temporary fails, nothing is replaced.
  const CliResult r = sh(d, "(prlimit --fsize=2000 env " + kBin + " --hwdb hwdb calibrate --write --cases " + kSrc +
                                "/validation/cases >/dev/null 2>&1; echo $? > rc)");
  CHECK(bytes_of(d + "/rc") == "2\n");
  for (const auto& entry : before) {
    const std::string& path = entry.first;  // named outside the binding: CAPTURE takes it by reference
    CAPTURE(path);
    CHECK(bytes_of(path) == entry.second);
  }
  CHECK(temporaries(d + "/hwdb/stacks") == 0);
  fs::remove_all(d);
}

TEST_CASE("--resume after a change of any input is refused with one line naming it, the journal untouched") {
  const std::string d = scratch("resume");
  put(d + "/b.toml",
      "id = \"b\"\ndescription = \"resume\"\n[axes]\nsystem = [\"gb200-nvl72\", \"cloudmatrix-384\"]\n"
      "model = [\"llama3-70b\", \"deepseek-v3\"]\ntp = [1, 2, 4, 8]\nbatch = { from = 1, to = 256, scale = \"log2\" }\n"
      "seq_in = [1024, 2048, 4096, 8192]\nelectricity_usd_kwh = { from = 0.002, to = 0.3, step = 0.002 }\n");
  fs::copy(kSrc + "/hwdb", d + "/hwdb", fs::copy_options::recursive);
  fs::create_directories(d + "/linked");
  fs::copy(kSrc + "/hwdb", d + "/linked/hwdb", fs::copy_options::recursive);
  fs::create_symlink("linked/hwdb", d + "/hwlink");
  put(d + "/semianalysis.toml", bytes_of(kSrc + "/hwdb/overlays/semianalysis.toml"));
  const std::string base = kBin + " --figures ./semianalysis.toml --pue 1.3 --electricity-usd-kwh 0.1 --utilization 0.8 --set b200.price_usd=40000 ";
  const std::string sweep = " sweep b.toml -o out.h5 --quiet --threads 1 --chunk 500";
  // A file-size limit stops it part-way: a journal with some records.
  CliResult r = sh(d, "prlimit --fsize=1400000 env PODPERF_HWDB=hwdb " + base + sweep);
  REQUIRE(r.rc == 2);
  REQUIRE(fs::exists(d + "/out.h5.part"));
  const std::string part = bytes_of(d + "/out.h5.part");
  struct Change {
    std::string cmd, names;
  };
  const std::vector<Change> changes = {
      {"PODPERF_HWDB=hwdb " + kBin + " --figures ./semianalysis.toml --pue 1.3 --electricity-usd-kwh 0.1 --utilization 0.8 --set b200.price_usd=41000" + sweep, "value of --set"},
      {"PODPERF_HWDB=hwdb " + kBin + " --figures ./semianalysis.toml --pue 1.5 --electricity-usd-kwh 0.1 --utilization 0.8 --set b200.price_usd=40000" + sweep, "value of --pue"},
      {"PODPERF_HWDB=hwdb " + kBin + " --figures ./semianalysis.toml --pue 1.3 --electricity-usd-kwh 0.2 --utilization 0.8 --set b200.price_usd=40000" + sweep, "value of --electricity-usd-kwh"},
      {"PODPERF_HWDB=hwdb " + kBin + " --figures ./semianalysis.toml --pue 1.3 --electricity-usd-kwh 0.1 --utilization 0.7 --set b200.price_usd=40000" + sweep, "value of --utilization"},
      {"PODPERF_HWDB=hwdb " + kBin + " --figures ./semianalysis.toml --pue 1.3 --electricity-usd-kwh 0.1 --set b200.price_usd=40000" + sweep, "value of --utilization"},
  };
  for (auto& c : changes) {
    CAPTURE(c.cmd);
    r = sh(d, c.cmd + " --resume");
    CHECK(r.rc == 2);
    CHECK(r.err.find("out.h5.part: --resume refused: the " + c.names + " changed") == 0);
    CHECK(r.err.find('\n') == r.err.size() - 1);
    CHECK(bytes_of(d + "/out.h5.part") == part);
  }
  // The contents of the figure-set file, then of a chip file.
  put(d + "/semianalysis.toml", part.empty() ? "" : bytes_of(d + "/semianalysis.toml") + "\n# edited\n");
  r = sh(d, "PODPERF_HWDB=hwdb " + base + sweep + " --resume");
  CHECK(r.rc == 2);
  CHECK(r.err.find("out.h5.part: --resume refused: the figure-set file contents (--figures) changed") == 0);
  put(d + "/semianalysis.toml", bytes_of(kSrc + "/hwdb/overlays/semianalysis.toml"));
  put(d + "/hwdb/chips/b200.toml", bytes_of(kSrc + "/hwdb/chips/b200.toml") + "\n# edited\n");
  r = sh(d, "PODPERF_HWDB=hwdb " + base + sweep + " --resume");
  CHECK(r.rc == 2);
  CHECK(r.err.find("out.h5.part: --resume refused: the hwdb contents (--hwdb) changed") == 0);
  CHECK(bytes_of(d + "/out.h5.part") == part);
  put(d + "/hwdb/chips/b200.toml", bytes_of(kSrc + "/hwdb/chips/b200.toml"));
  // The same inputs: the resume finishes the file.
  r = sh(d, "PODPERF_HWDB=hwdb " + base + sweep + " --resume");
  CHECK(r.rc == 0);
  CHECK(!fs::exists(d + "/out.h5.part"));
  CHECK(is_hdf5(bytes_of(d + "/out.h5")));
  // An hwdb reached through a symbolic link: a chip file edited behind it is seen.
  fs::remove(d + "/out.h5");
  r = sh(d, "prlimit --fsize=1400000 env PODPERF_HWDB=hwlink " + base + sweep);
  REQUIRE(r.rc == 2);
  put(d + "/linked/hwdb/chips/b200.toml", bytes_of(kSrc + "/hwdb/chips/b200.toml") + "\n# edited\n");
  r = sh(d, "PODPERF_HWDB=hwlink " + base + sweep + " --resume");
  CHECK(r.rc == 2);
  CHECK(r.err.find("out.h5.part: --resume refused: the hwdb contents (--hwdb) changed") == 0);
  fs::remove_all(d);
}

TEST_CASE("a journal killed before its first record is refused untouched") {
  const std::string d = scratch("complete");
  put(d + "/w.toml", kSpec);
  const std::string sweep = "SOURCE_DATE_EPOCH=1700000000 " + kBin + " sweep w.toml --quiet --threads 1 --chunk 7 -o ";
  // A torn first record: refused, and the file stays as it was.
  put(d + "/out.h5.part", "podperf");
  CliResult r = sh(d, sweep + "out.h5 --resume");
  CHECK(r.rc == 2);
  CHECK(r.err == "out.h5.part: --resume refused: not a podperf sweep journal (killed before its first checkpoint?); run without --resume to start over\n");
  CHECK(bytes_of(d + "/out.h5.part") == "podperf");
  fs::remove_all(d);
}

TEST_CASE("plot against a regular file, a device, a FIFO, a link, another writer's temporary and a full disk") {
  const std::string d = scratch("plot");
  put(d + "/w.toml", kSpec);
  REQUIRE(sh(d, "SOURCE_DATE_EPOCH=1700000000 " + kBin + " sweep w.toml -o s.h5 --quiet").rc == 0);
  fs::create_directories(d + "/p");
  const std::string plot = kBin + " plot s.h5 --outdir p";
  CliResult r = sh(d, plot + " --json");
  if (r.rc != 0 && r.err.find("python3-matplotlib") != std::string::npos) {
    MESSAGE("plot skipped: " << r.err);
    fs::remove_all(d);
    return;
  }
  REQUIRE(r.rc == 0);
  const std::string png = "p/frontier.png";  // the serving frontier, the one plot of this sweep
  REQUIRE(r.out.find(png) != std::string::npos);
  auto is_png = [](const std::string& b) { return b.rfind("\x89PNG\r\n\x1a\n", 0) == 0 && b.find("IEND") != std::string::npos; };
  // An existing regular file: replaced by a complete PNG.
  put(d + "/" + png, "old contents\n");
  r = sh(d, plot);
  CHECK(r.rc == 0);
  CHECK(is_png(bytes_of(d + "/" + png)));
  const std::string before = bytes_of(d + "/" + png);
  // A device node, a FIFO, a symbolic link in its place: refused in one line, left as they are.
  put(d + "/linked", "the link's target\n");
  for (const char* kind : {"dev", "fifo", "link"}) {
    CAPTURE(kind);
    fs::remove(d + "/" + png);
    const std::string t = d + "/" + png;
    if (std::string(kind) == "dev") REQUIRE(::mknod(t.c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
    if (std::string(kind) == "fifo") REQUIRE(::mkfifo(t.c_str(), 0644) == 0);
    if (std::string(kind) == "link") fs::create_symlink("../linked", t);
    r = sh(d, plot);
    CHECK(r.rc == 2);
    CHECK(r.err == png + ": exists and is not a regular file; --outdir must hold regular files or new paths\n");
    struct stat st;
    REQUIRE(::lstat(t.c_str(), &st) == 0);
    CHECK((std::string(kind) != "dev" || S_ISCHR(st.st_mode)));
    CHECK((std::string(kind) != "fifo" || S_ISFIFO(st.st_mode)));
    CHECK((std::string(kind) != "link" || S_ISLNK(st.st_mode)));
  }
  CHECK(bytes_of(d + "/linked") == "the link's target\n");
  fs::remove(d + "/" + png);
  put(d + "/" + png, before);
  // Another writer's temporary beside the target, held under its lock: left alone.
  const std::string other = d + "/" + png + ".tmp-1-0123456789abcdef";
  put(other, "another writer's bytes");
  const int fd = ::open(other.c_str(), O_RDWR);
  struct flock lk {};
  lk.l_type = F_WRLCK;
  lk.l_whence = SEEK_SET;
  REQUIRE(::fcntl(fd, F_OFD_SETLK, &lk) == 0);
  r = sh(d, plot);
  CHECK(r.rc == 0);
  CHECK(is_png(bytes_of(d + "/" + png)));
  CHECK(bytes_of(other) == "another writer's bytes");
  ::close(fd);
  fs::remove(other);
  // A full disk (a file-size limit of 8 KiB): one line naming the file, the old file as it was, no temporary.
  const std::string complete = bytes_of(d + "/" + png);
  r = sh(d, "prlimit --fsize=8192 env " + plot);
  CHECK(r.rc == 2);
  CHECK(r.err == png + ": writing failed (File too large); the target is left as it was\n");
  CHECK(bytes_of(d + "/" + png) == complete);
  CHECK(temporaries(d + "/p") == 0);
  fs::remove_all(d);
}
