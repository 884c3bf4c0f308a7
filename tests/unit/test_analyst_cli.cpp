// The command line as a new user meets it: "did you mean", fractional targets, models list|show,
// --csv, --json on every command, the version line, units and separators, and "does not fit" only
// for memory.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "run_cli.hpp"

namespace {
// Splits one CSV line (RFC 4180 quotes).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> v;
  std::size_t at = 0;
  for (std::size_t nl; (nl = s.find('\n', at)) != std::string::npos; at = nl + 1) v.push_back(s.substr(at, nl - at));
  return v;
}
}  // namespace

TEST_CASE("a misspelt command, system or model gets a suggestion and exit code 2") {
  const CliResult c = run_podperf("estimat --system gb200-nvl72 --model deepseek-v3");
  CHECK(c.rc == 2);
  CHECK(c.err.find("unknown command 'estimat': did you mean 'estimate'?") != std::string::npos);
  CHECK(lines(c.err).size() == 1);
  const CliResult h = run_podperf("hwdb lst");
  CHECK(h.rc == 2);
  CHECK(h.err.find("unknown command 'hwdb lst': did you mean 'list'?") != std::string::npos);
  const CliResult s = run_podperf("compare cloudmatrix384 gb200-nvl72 --samples 0");
  CHECK(s.rc == 2);
  CHECK(s.err.find("unknown system 'cloudmatrix384': did you mean 'cloudmatrix-384'?") == 0);
  const CliResult g = run_podperf("estimate --system gb200 --model deepseek-v3");
  CHECK(g.err.find("did you mean 'gb200-nvl72'?") != std::string::npos);
  const CliResult m = run_podperf("estimate --system gb200-nvl72 --model deepseek-r1");
  CHECK(m.rc == 2);
  CHECK(m.err.find("unknown model 'deepseek-r1': did you mean 'deepseek-v3'?") == 0);
  // Far from every id: no suggestion, the list of known ids as before.
  const CliResult far = run_podperf("estimate --system zzzzzzzz --model deepseek-v3");
  CHECK(far.err.find("did you mean") == std::string::npos);
}

TEST_CASE("swapped letters and misspelt flags get a suggestion; usage lines name the program") {
  const CliResult c = run_podperf("comapre cloudmatrix-384 gb200-nvl72");
  CHECK(c.rc == 2);
  CHECK(c.err.find("unknown command 'comapre': did you mean 'compare'?") != std::string::npos);
  const CliResult id = run_podperf("hwdb show ascend-91oc");
  CHECK(id.rc == 2);
  CHECK(id.err.find("unknown id 'ascend-91oc': did you mean 'ascend-910c'?") == 0);
  // A flag that is the start of a longer one is taken for it, not for a shorter flag it contains.
  const CliResult f = run_podperf("estimate --system gb200-nvl72 --model llama3-70b --tpot 50");
  CHECK(f.rc == 2);
  CHECK(f.err == "podperf: estimate: unknown flag '--tpot': did you mean '--tpot-ms'? (see --help)\n");
  const CliResult g = run_podperf("--pue 1.2 specs gb200-nvl72 --pu 1.3");
  CHECK(g.rc == 2);
  CHECK(g.err.find("unknown flag '--pu': did you mean '--pue'?") != std::string::npos);
  // Global options are known after the command too.
  CHECK(run_podperf("specs gb200-nvl72 --pue 1.2").rc == 0);
  const CliResult h = run_podperf("hwdb list --help");
  CHECK(h.out.find("Usage: podperf hwdb list [OPTIONS]") != std::string::npos);
}

TEST_CASE("fractional latency targets are accepted and met") {
  const CliResult r = run_podperf("estimate --system gb200-nvl72 --model llama3-70b --mode decode --tpot-ms 25.5 --json");
  REQUIRE(r.rc == 0);
  const auto at = r.out.find("\"tpot_ms\": ");
  REQUIRE(at != std::string::npos);
  const double tpot = std::stod(r.out.substr(at + 11));
  CHECK(tpot <= 25.5);
  CHECK(tpot > 25.5 / 2);  // the largest batch under the target, not a trivial one
}

TEST_CASE("podperf models list shows every shipped model; models show gives sources") {
  const CliResult r = run_podperf("models list");
  REQUIRE(r.rc == 0);
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(std::string(PODPERF_TEST_DIR) + "/../configs/models"))
    if (e.path().extension() == ".toml") {
      ++files;
      CHECK(r.out.find(e.path().stem().string()) != std::string::npos);
    }
  CHECK(files >= 6);
  CHECK(static_cast<int>(lines(r.out).size()) == files + 2);  // header, rule, one line per model
  const CliResult s = run_podperf("models show deepseek-v3 --json");
  CHECK(s.rc == 0);
  CHECK(s.out.find("\"source\"") != std::string::npos);
}

TEST_CASE("--csv tables the --json content") {
  const CliResult r = run_podperf("compare cloudmatrix-384 gb200-nvl72 --samples 10 --csv");
  REQUIRE(r.rc == 0);
  const auto ls = lines(r.out);
  REQUIRE(ls.size() > 20);
  const auto header = csv_fields(ls[0]);
  CHECK(header[0] == "key");
  CHECK(std::find(header.begin(), header.end(), "ratio_low") != header.end());
  for (auto& l : ls) CHECK(csv_fields(l).size() == header.size());
  CHECK(ls[1].rfind("chips,accelerators,384,72,", 0) == 0);  // 384 Ascend 910C against 72 B200
  for (const char* cmd : {"estimate --system gb200-nvl72 --model llama3-70b --mode decode --csv", "validate --csv",
                          "hwdb list --csv", "claims --samples 0 --csv", "models list --csv"}) {
    const CliResult c = run_podperf(cmd);
    CHECK_MESSAGE(c.rc == 0, cmd);
    const auto cl = lines(c.out);
    REQUIRE(cl.size() > 1);
    const std::size_t n = csv_fields(cl[0]).size();
    for (auto& l : cl) CHECK_MESSAGE(csv_fields(l).size() == n, cmd);
  }
  const CliResult bad = run_podperf("specs cloudmatrix-384 --csv");
  CHECK(bad.rc == 2);
}

TEST_CASE("every command answers --json") {
  for (const char* cmd : {"hwdb check --json", "hwdb list --json", "hwdb show ascend-910c --json", "models list --json",
                          "specs cloudmatrix-384 --json", "power gb200-nvl72 --json",
                          "roofline --chip ascend-910c --flops 2T --bytes 1GB --json",
                          "collective --system gb200-nvl72 --op all-reduce --ranks 8 --bytes 1MiB --json",
                          "breakeven cloudmatrix-384 gb200-nvl72 --samples 0 --json"}) {
    const CliResult r = run_podperf(cmd);
    CHECK_MESSAGE(r.rc == 0, cmd);
    CHECK_MESSAGE((r.out.rfind("{", 0) == 0 || r.out.rfind("[", 0) == 0), cmd);
  }
}

TEST_CASE("podperf --version names the program, version and revision") {
  const CliResult r = run_podperf("--version");
  CHECK(r.rc == 0);
  CHECK(r.out.rfind("podperf " PODPERF_VERSION " (", 0) == 0);
}

TEST_CASE("units: TOPS for integer formats, TB/s for both fabrics, thousands separators") {
  const CliResult r = run_podperf("roofline --chip ascend-910c --flops 2T --bytes 1GB --precision int8");
  CHECK(r.out.find(" TOPS dense") != std::string::npos);
  CHECK(r.out.find("TFLOPS") == std::string::npos);
  const CliResult c = run_podperf("compare cloudmatrix-384 gb200-nvl72 --samples 0");
  REQUIRE(c.rc == 0);
  CHECK(c.out.find("Tb/s") == std::string::npos);
  // 384 x 400 Gb/s = 153.6 Tb/s = 19.2 TB/s per direction; 72 x 400 Gb/s = 3.6 TB/s.
  const auto so = c.out.find("scale-out TB/s per direction");
  REQUIRE(so != std::string::npos);
  const std::string so_line = c.out.substr(so, c.out.find('\n', so) - so);
  CHECK(so_line.find(" 19.2 ") != std::string::npos);
  CHECK(so_line.find(" 3.6 ") != std::string::npos);
  const auto row = c.out.find("tokens/s per system");
  REQUIRE(row != std::string::npos);
  const std::string line = c.out.substr(row, c.out.find('\n', row) - row);
  CHECK(line.find(',') != std::string::npos);  // hundreds of thousands of tokens/s, grouped
}

TEST_CASE("'does not fit' only for memory, naming the side") {
  const CliResult c = run_podperf("compare cloudmatrix-384 gb200-nvl72 --samples 0");
  REQUIRE(c.rc == 0);
  CHECK(c.out.find("does not fit") == std::string::npos);  // serving: no training cost row failure
  const CliResult t = run_podperf("compare cloudmatrix-384 gb200-nvl72 --samples 0 --tpot-ms 0.5");
  REQUIRE(t.rc == 0);
  CHECK(t.out.find("does not fit") == std::string::npos);
  CHECK(t.out.find("misses TPOT") != std::string::npos);
  CHECK(t.out.find("  A cloudmatrix-384: ") != std::string::npos);
  const CliResult b = run_podperf("breakeven cloudmatrix-384 gb200-nvl72 --samples 0 --tpot-ms 0.5");
  CHECK(b.out.find("no break-even: A (cloudmatrix-384)") != std::string::npos);
}

TEST_CASE("the man page and the bash completion come from the command definitions") {
  const CliResult m = run_podperf("docs man");
  CHECK(m.rc == 0);
  CHECK(m.out.rfind(".TH PODPERF 1", 0) == 0);
  for (const char* w : {"podperf estimate", "podperf models list", "podperf report", "\\-\\-tpot\\-ms"})
    CHECK_MESSAGE(m.out.find(w) != std::string::npos, w);
  const CliResult b = run_podperf("docs bash-completion");
  CHECK(b.out.find("complete -F _podperf podperf") != std::string::npos);
  CHECK(b.out.find("\"hwdb list\") words=\"--help --kind --available-in --json --csv\"") != std::string::npos);
}

TEST_CASE("the bash completion offers system, model and hwdb ids") {
  const std::string script = "/tmp/podperf_completion_" + std::to_string(::getpid());
  {
    std::ofstream f(script);
    f << run_podperf("docs bash-completion").out
      << "comp() { COMP_WORDS=(\"$@\"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _podperf; echo \"${COMPREPLY[*]}\"; }\n";
  }
  const auto complete = [&](const std::string& words) {
    const std::string out = script + ".txt";
    const std::string cmd = "bash -c 'source " + script + " && comp " + std::string(PODPERF_BINARY) + " " + words +
                            "' > " + out + " 2>/dev/null";
    CHECK(std::system(cmd.c_str()) == 0);
    std::string s = slurp(out);
    std::remove(out.c_str());
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  };
  CHECK(complete("estimate --system cloudm") == "cloudmatrix-384");
  CHECK(complete("estimate --model llama3-7") == "llama3-70b");
  CHECK(complete("compare gb200-n") == "gb200-nvl72");
  CHECK(complete("hwdb show ascend-910").find("ascend-910c") != std::string::npos);
  CHECK(complete("estimate --tpot") == "--tpot-ms");
  std::remove(script.c_str());
}
