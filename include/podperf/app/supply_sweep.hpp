// A supply sweep spec (`kind = "supply"`, docs/supply.md): the Cartesian product of supply inputs
// (die yield, wafer share, HBM stockpile, ...) and an import quota, for one Ascend supply and the
// system it fills, against an NVIDIA system at equal power and at equal wafers.
#pragma once
#include <string>
#include <vector>

#include "podperf/io/hwdb.hpp"
#include "podperf/io/supply_db.hpp"

namespace podperf {

struct SupplySweepAxis {
  std::string name;     // the field's leaf name (yield, foundry_share, ...) or import_chips
  std::string field;    // "section.field" of supply_fields(), empty for import_chips
  std::vector<double> values;
};

struct SupplySweepSpec {
  std::string file, text, id, description;
  std::string supply, system, import_system, nvidia_system, nvidia_supply;
  std::string model = "deepseek-v3", mode = "decode";
  double tpot_ms = 50;
  std::vector<SupplySweepAxis> axes;
  std::uint64_t points() const;
};

// True when the TOML file at `path` says kind = "supply" (any other file: false, no error).
bool is_supply_sweep_spec(const std::string& path);
SupplySweepSpec load_supply_sweep_spec(const std::string& path, const Hwdb& db, const SupplyDb& supply);

}  // namespace podperf
