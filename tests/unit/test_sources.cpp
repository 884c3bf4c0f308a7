// Where the hwdb's numbers come from: web domains in sources, the deny-list of aggregator pages, the
// renamed-system alias and the export-control market filter.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <fstream>
#include <regex>
#include <string>
#include <unistd.h>

#include "podperf/io/hwdb.hpp"
#include "podperf/io/sources.hpp"
#include "run_cli.hpp"

using namespace podperf;
namespace fs = std::filesystem;

namespace {
const std::string kHwdb = std::string(PODPERF_SOURCE_DIR) + "/hwdb";
}

TEST_CASE("hosts are read from source text, file names and paper numbers are not") {
  const auto h = hosts_in("via www.Mirrorfrog.com/en/blog; NVIDIA (nvidia.com/en-us/data-center/h100); "
                          "hwdb/chips/b200.toml; arXiv 2506.12708, sec. 3; v2-pseo-ai.pages.dev/tools");
  REQUIRE(h.size() == 3);
  CHECK(h[0] == "mirrorfrog.com");
  CHECK(h[1] == "nvidia.com");
  CHECK(h[2] == "v2-pseo-ai.pages.dev");
  const std::vector<std::string> deny = {"mirrorfrog.com", "pages.dev"};
  CHECK(denied("mirrorfrog.com", deny));
  CHECK(denied("lynx-cortex.pages.dev", deny));
  CHECK_FALSE(denied("notmirrorfrog.com", deny));
  CHECK_FALSE(denied("nvidia.com", deny));
}

TEST_CASE("the shipped hwdb cites no denied domain") {
  const std::vector<std::string> deny = load_denylist(kHwdb);
  CHECK(deny.size() >= 5);
  for (const char* d : {"v2-pseo-ai.pages.dev", "chinainvestors.xyz", "partofstyle.com", "mirrorfrog.com", "megaobzor.com"})
    CHECK(std::find(deny.begin(), deny.end(), d) != deny.end());
  for (const auto& entry : source_hosts(load_hwdb(kHwdb))) {
    const std::string& host = entry.first;
    CAPTURE(host);
    CHECK_FALSE(denied(host, deny));
  }
  const CliResult r = run_podperf("hwdb check --sources");
  CHECK(r.rc == 0);
  CHECK(r.out.find("nvidia.com") != std::string::npos);
}

TEST_CASE("a number citing a denied domain fails hwdb check --sources") {
  const fs::path dir = fs::temp_directory_path() / ("podperf_sources_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::copy(kHwdb, dir, fs::copy_options::recursive);
  {
    std::ofstream f(dir / "sites" / "us.toml", std::ios::app);
    f << "utilization = { value = 0.9, range = [0.8, 1.0], kind = \"analyst\", source = \"megaobzor.com/ai-racks\" }\n";
  }
  const CliResult r = run_podperf("--hwdb '" + dir.string() + "' hwdb check --sources");
  CHECK(r.rc == 2);
  CHECK(r.err.find("megaobzor.com") != std::string::npos);
  CHECK(r.err.find('\n') == r.err.size() - 1);
  fs::remove_all(dir);
}

TEST_CASE("Vera Rubin NVL72 answers to its GTC 2025 id, and is listed once") {
  const Hwdb db = load_hwdb(kHwdb);
  CHECK(db.system("vera-rubin-nvl144").id == "vera-rubin-nvl72");
  CHECK(db.system("vera-rubin-nvl144").chips == 72);
  const CliResult r = run_podperf("hwdb list --kind systems");
  CHECK(r.rc == 0);
  CHECK(r.out.find("vera-rubin-nvl72") != std::string::npos);
  CHECK(r.out.find("vera-rubin-nvl144") == std::string::npos);
  for (const char* id : {"vera-rubin-nvl72", "vera-rubin-nvl144", "vera-rubin-ultra-nvl576", "hgx-b30a"}) {
    CAPTURE(id);
    CHECK(run_podperf(std::string("specs ") + id).rc == 0);
  }
}

TEST_CASE("hwdb list --available-in china: the export-control menu, from data") {
  const CliResult r = run_podperf("hwdb list --available-in china");
  CHECK(r.rc == 0);
  for (const char* id : {"hgx-h20", "hgx-h200", "hgx-b30a", "cloudmatrix-384", "h20", "b30a"}) {
    CAPTURE(id);
    CHECK(r.out.find(std::string(id) + " ") != std::string::npos);
  }
  for (const char* id : {"gb200-nvl72", "vera-rubin-nvl72", "hgx-h100"}) {
    CAPTURE(id);
    CHECK(r.out.find(std::string(id) + " ") == std::string::npos);
  }
}

TEST_CASE("compare marks an unvalidated side and widens its band by the model's largest out-of-sample error") {
  // The largest out-of-sample |predicted / published - 1| over the serving cases of calibrate's
  // record: each case's leave-one-out and leave-one-stack-out residuals, an open case's at the fit.
  const std::string rec = slurp(std::string(PODPERF_SOURCE_DIR) + "/validation/residuals.toml");
  double worst = 0;
  int n = 0;
  const std::regex item("mode = \"serving\"\n[^\\[]*?error = (-?[0-9.e+-]+)\nloo_error = (-?[0-9.e+-]+)\n(loso_error = (-?[0-9.e+-]+)\n)?");
  for (std::sregex_iterator it(rec.begin(), rec.end(), item), end; it != end; ++it) {
    worst = std::max({worst, std::abs(std::stod((*it)[1])), std::abs(std::stod((*it)[2]))});
    if ((*it)[4].matched) worst = std::max(worst, std::abs(std::stod((*it)[4])));
    ++n;
  }
  REQUIRE(n >= 20);
  const CliResult c = run_podperf("compare atlas-950-superpod vera-rubin-nvl72 --samples 200");
  REQUIRE(c.rc == 0);
  CHECK(c.out.find("model error A atlas-950-superpod") != std::string::npos);
  CHECK(c.out.find("(unvalidated: no serving case of its own and none in its class") != std::string::npos);
  const CliResult j = run_podperf("compare atlas-950-superpod vera-rubin-nvl72 --samples 200 --json");
  const std::regex frac("\"model_error_b\":\\s*\\{\\s*\"frac\":\\s*([0-9.e+-]+),\\s*\"validated\":\\s*false");
  std::smatch m;
  REQUIRE(std::regex_search(j.out, m, frac));
  CHECK(std::stod(m[1]) == doctest::Approx(worst));
  // The model error widens the cost band: with it, the band holds the band of the hwdb ranges alone.
  CHECK(c.out.find("the hwdb ranges alone") != std::string::npos);
  CHECK(c.out.find("the model error alone") != std::string::npos);
  // CloudMatrix 384 has serving cases of its own on CloudMatrix-Infer: validated.
  const CliResult h = run_podperf("compare cloudmatrix-384 gb200-nvl72 --samples 200");
  CHECK(h.out.find("model error A cloudmatrix-384: throughput x/") != std::string::npos);
  CHECK(h.out.find("(validated: ") != std::string::npos);
}
