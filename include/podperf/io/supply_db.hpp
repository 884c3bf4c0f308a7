// Supply files (hwdb/supply/<id>.toml, docs/supply.md): per chip, the die, the wafers available to
// it, its HBM and its packaging, every number sourced with a kind and a range. Loading checks each
// field and names file, line and field on bad input.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "podperf/io/hwdb.hpp"
#include "podperf/io/record.hpp"
#include "podperf/core/supply.hpp"

namespace podperf {

struct SupplyEntry {
  std::string id, name, chip, foundry, node, file;
  Record rec;                        // every number with its source, kind and range
  SupplyInputs central, low, high;   // the inputs at central values and at each range's ends
};

struct SupplyDb {
  std::string dir;
  std::map<std::string, SupplyEntry> entries;
  const SupplyEntry& get(const std::string& id) const;  // InputError for an unknown id
};

// One supply file; `db` resolves the chip it names (its dies per package).
SupplyEntry load_supply_file(const std::string& file, const Hwdb& db);
// Every file of `hwdb_dir`/supply (an empty db when the directory is absent).
SupplyDb load_supply(const std::string& hwdb_dir, const Hwdb& db);
// An id in the db, or a path to a supply file.
SupplyEntry supply_by_name(const std::string& name, const std::string& hwdb_dir, const Hwdb& db);

// "section.field=value" (a key of supply_fields()): sets the value and collapses its range to it.
// `where` names the flag or file:line for errors.
void set_supply_value(SupplyEntry& e, const std::string& assignment, const std::string& file, int line,
                      const std::string& field);

}  // namespace podperf
