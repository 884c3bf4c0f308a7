// libFuzzer target for every TOML loader: the first byte picks the loader (hwdb chip, system,
// cluster, site or figure set; model; sweep spec; validation case; claim), the rest is the file.
// A loader may reject the input with InputError; anything else (a crash, another exception, a
// sanitizer report) is a bug.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "podperf/app/claims.hpp"
#include "podperf/io/error.hpp"
#include "podperf/io/hwdb.hpp"
#include "podperf/io/models.hpp"
#include "podperf/app/sweep.hpp"
#include "podperf/app/validation.hpp"

namespace fs = std::filesystem;
using namespace podperf;

namespace {
const fs::path& root() {
  static const fs::path r = [] {
    fs::path p = fs::temp_directory_path() / ("podperf_fuzz_" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p;
  }();
  return r;
}

void write(const fs::path& p, const uint8_t* data, size_t n) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int which = data[0] % 9;
  const fs::path dir = root();
  // A copy of the shipped hwdb made once; each input replaces only the fuzzed file.
  static const bool copied = [&] {
    fs::copy(std::string(PODPERF_SOURCE_DIR) + "/hwdb", dir / "hwdb", fs::copy_options::recursive);
    return true;
  }();
  (void)copied;
  for (const char* sub : {"hwdb/chips", "hwdb/systems", "hwdb/clusters", "hwdb/sites", "hwdb/overlays"})
    fs::remove(dir / sub / "fuzz.toml");
  for (const char* sub : {"models", "cases", "claims"}) fs::remove_all(dir / sub);
  static const Hwdb shipped = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  static const ModelDb models = load_models(std::string(PODPERF_SOURCE_DIR) + "/configs");
  try {
    switch (which) {
      case 0: case 1: case 2: case 3: {
        static const char* kinds[] = {"chips", "systems", "clusters", "sites"};
        // The shipped hwdb plus the fuzzed file, so that references can resolve.
        write(dir / "hwdb" / kinds[which] / "fuzz.toml", data + 1, size - 1);
        const Hwdb db = load_hwdb((dir / "hwdb").string());
        if (db.chips.count("fuzz")) db.chip("fuzz");
        if (db.systems.count("fuzz") || db.clusters.count("fuzz")) db.system("fuzz");
        if (db.sites.count("fuzz")) db.site("fuzz");
        break;
      }
      case 4: {
        write(dir / "hwdb" / "overlays" / "fuzz.toml", data + 1, size - 1);
        load_hwdb((dir / "hwdb").string(), {"fuzz"});
        break;
      }
      case 5: {
        write(dir / "models" / "fuzz.toml", data + 1, size - 1);
        const ModelDb m = load_models(dir.string());
        if (m.records.count("fuzz")) m.model("fuzz");
        break;
      }
      case 6: {
        write(dir / "spec.toml", data + 1, size - 1);
        const SweepSpec s = load_sweep_spec((dir / "spec.toml").string());
        if (s.points() <= 2000) {
          const SweepContext c = prepare_sweep(s, shipped, models);
          ChunkBuffers b;
          evaluate_chunk(c, 0, s.points(), b);
        }
        break;
      }
      case 7: {
        write(dir / "cases" / "fuzz.toml", data + 1, size - 1);
        for (auto& c : load_cases((dir / "cases").string())) evaluate(shipped, models, c, Pick{});
        break;
      }
      default: {
        write(dir / "claims" / "fuzz.toml", data + 1, size - 1);
        for (auto& c : load_claims((dir / "claims").string()))
          evaluate_claim(c, [&](const std::string&) -> const Hwdb& { return shipped; }, ScenarioData{&shipped, &models, nullptr, ""}, Pick{}, 0, 1);
        break;
      }
    }
  } catch (const InputError&) {
  }
  return 0;
}
