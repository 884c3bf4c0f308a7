// libFuzzer target for sweeps: the first byte picks what is fuzzed, the rest is the input.
//   0: one constraint (the text between the quotes of `constraints = ['''...''']`), then evaluated
//      over variables from the input's bytes;
//   1: a whole sweep spec, evaluated when small;
//   2: the resume path: two specs separated by a NUL byte. The first writes a partial sweep file,
//      the second (with stamps taken from the input) reopens it: reopen may refuse with
//      InputError, and must never crash, write past the spec's points or change a refused file.
// Anything but InputError (a crash, another exception, a sanitizer report) is a bug.
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "podperf/io/error.hpp"
#include "podperf/app/h5_output.hpp"
#include "podperf/io/hwdb.hpp"
#include "podperf/io/models.hpp"
#include "podperf/app/sweep.hpp"

namespace fs = std::filesystem;
using namespace podperf;

namespace {
const fs::path& root() {
  static const fs::path r = [] {
    fs::path p = fs::temp_directory_path() / ("podperf_fuzz_sweep_" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p;
  }();
  return r;
}
void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }
std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
const char* kHead = "id = \"f\"\ndescription = \"fuzz\"\n";
const char* kAxesToml = "[axes]\nsystem = [\"gb200-nvl72\"]\nmodel = [\"llama3-70b\"]\ntp = [1, 2]\nbatch = [1, 8]\n";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  static const ModelDb models = load_models(std::string(PODPERF_SOURCE_DIR) + "/configs");
  const std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const fs::path dir = root();
  try {
    switch (data[0] % 3) {
      case 0: {
        if (in.find("'''") != std::string::npos) return 0;  // keep it one TOML literal string
        write(dir / "c.toml", std::string(kHead) + "constraints = ['''" + in + "''']\n" + kAxesToml);
        const SweepSpec s = load_sweep_spec((dir / "c.toml").string());
        double vars[kVars];
        for (int v = 0; v < kVars; ++v) vars[v] = v < static_cast<int>(in.size()) ? double(static_cast<unsigned char>(in[v])) : 1.0;
        for (auto& c : s.constraints) (void)holds(c, vars);
        break;
      }
      case 1: {
        write(dir / "s.toml", in);
        const SweepSpec s = load_sweep_spec((dir / "s.toml").string());
        if (s.points() <= 2000) {
          const SweepContext c = prepare_sweep(s, db, models);
          ChunkBuffers b;
          evaluate_chunk(c, 0, s.points(), b);
          for (std::size_t r = 0; r < b.rows; ++r)
            if (b.reason[r] == 0)
              for (auto& m : b.metric)
                if (!(std::isfinite(m[r]) && m[r] >= 0)) __builtin_trap();  // ok rows: finite, >= 0
        }
        break;
      }
      default: {
        const auto nul = in.find('\0');
        if (nul == std::string::npos) return 0;
        write(dir / "a.toml", in.substr(0, nul));
        write(dir / "b.toml", in.substr(nul + 1));
        const SweepSpec a = load_sweep_spec((dir / "a.toml").string());
        if (a.points() > 500) return 0;
        const SweepContext ca = prepare_sweep(a, db, models);
        std::vector<SweepStamp> stamps = {{"hwdb_hash", "hwdb", "h"}, {"models_hash", "models", "m"}};
        const fs::path part = dir / "out.h5.part";
        fs::remove(part);
        const std::uint64_t half = a.points() / 2;
        {
          SweepFile f = SweepFile::create(part.string(), a, stamps, "2026-01-01T00:00:00Z", 64);
          ChunkBuffers b;
          evaluate_chunk(ca, 0, half, b);
          f.append(b);
          f.checkpoint(half, false);
          f.close();
        }
        const std::string before = bytes_of(part);
        if (size > 2 && data[1] % 2) stamps[0].value = "other";
        SweepSpec b;
        try {
          b = load_sweep_spec((dir / "b.toml").string());
        } catch (const InputError&) {
          return 0;
        }
        try {
          SweepFile f = SweepFile::reopen(part.string(), b, stamps);
          if (f.points_done() > b.points()) __builtin_trap();
          const SweepContext cb = prepare_sweep(b, db, models);
          ChunkBuffers rest;
          evaluate_chunk(cb, f.points_done(), b.points() - f.points_done(), rest);
          f.append(rest);
          f.checkpoint(b.points(), true);
          f.close();
        } catch (const InputError&) {
          if (bytes_of(part) != before) __builtin_trap();  // a refused resume leaves the file as it was
        }
        break;
      }
    }
  } catch (const InputError&) {
  }
  return 0;
}
