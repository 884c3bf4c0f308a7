// Fleets (configs/fleets/<id>.toml, docs/supply.md): systems by kind and count, either stated (a
// sourced number) or filled from a supply file (whole systems of the chips a year's supply makes),
// and the workload they serve. A scenario is a fleet file that names a `base` fleet, changes supply
// inputs (`supply_set`) and adds entries (an import allowed).
#pragma once
#include <string>
#include <vector>

#include "podperf/io/hwdb.hpp"
#include "podperf/io/record.hpp"
#include "podperf/io/supply_db.hpp"

namespace podperf {

struct FleetEntry {
  std::string system;        // hwdb system id
  std::string supply;        // supply id: the count is the systems its good chips fill
  double supply_frac = 1;    // share of that supply going to this system
  Number count;              // systems, when no supply is named
  std::string file;
  int line = 0;
};

struct Fleet {
  std::string id, name, file, base;
  std::string model = "deepseek-v3", mode = "decode";
  double tpot_ms = 50;
  std::vector<std::string> supply_set;  // "SUPPLY.SECTION.FIELD=VALUE", applied in order
  std::vector<std::string> supply_set_where;  // file:line of each, for messages
  std::vector<FleetEntry> entries;
};

// A fleet id in `configs_dir`/fleets, or a path to a fleet file. Systems and supply ids are checked
// against `db` and `supply` (file:line:field on an unknown one).
Fleet load_fleet(const std::string& name, const std::string& configs_dir, const Hwdb& db, const SupplyDb& supply);

// The supply entries a fleet's `supply_set` changes, applied to a copy of `supply`.
SupplyDb fleet_supply(const Fleet& f, const SupplyDb& supply);

}  // namespace podperf
