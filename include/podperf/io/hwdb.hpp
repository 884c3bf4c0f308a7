// The hardware database: loads hwdb/{chips,systems,clusters,sites,stacks}/*.toml (and optional figure
// sets from hwdb/overlays/), validates every field, and builds spec structs from the records.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "podperf/io/record.hpp"
#include "podperf/core/spec.hpp"

namespace podperf {

// Which value of each sourced number to use: the central value, or the low or high end of its
// range (numbers without a range use their value). `per_field` overrides one number, keyed
// "<entity id>:<section.field>", e.g. "ascend-910c:specs.tdp_w" (used by sensitivity analysis).
struct Pick {
  enum Mode { central, low, high };
  Mode all = central;
  std::map<std::string, Mode> per_field;
  std::map<std::string, double> per_value;  // explicit values (Monte Carlo draws), same keys
  double get(const Record& r, const std::string& key) const;
};

struct Hwdb {
  std::string dir;
  std::vector<std::string> overlays;  // figure sets applied, in order
  std::map<std::string, Record> chips, systems, clusters, sites, stacks, schedules;

  // Any entity by id, or nullptr.
  const Record* find(const std::string& id) const;
  const std::map<std::string, Record>& of_kind(const std::string& kind) const;

  Chip chip(const std::string& id, const Pick& pick = {}) const;
  // A system id, a cluster id, or "NxSYSTEM" / "NxSYSTEM:os=R": N supernodes of SYSTEM over
  // its own scale-out Clos with oversubscription R (default: the system's); any of them followed by
  // "@STACK" runs that software stack instead of the default of its role.
  System system(const std::string& id, const Pick& pick = {}) const;
  Site site(const std::string& id, const Pick& pick = {}) const;
  // A software stack (hwdb/stacks/); with_stack puts it on a system in place of the default of its role.
  Stack stack(const std::string& id, const Pick& pick = {}) const;
  // A pipeline schedule (hwdb/schedules/).
  PipeSchedule schedule(const std::string& id) const;
};

// "a, b, c" -> {"a", "b", "c"} (hwdb list fields: aliases, available_in).
std::vector<std::string> split_list(const std::string& s);

// The system running `st` instead of its default stack of the same role (serving or training).
System with_stack(System s, const Stack& st);

// Loads and validates a hwdb directory; throws InputError naming file, line and field.
Hwdb load_hwdb(const std::string& dir, const std::vector<std::string>& overlays = {});

// Sets one number for this run: "ENTITY.FIELD=VALUE" (FIELD = KEY or SECTION.KEY), validated like
// the hwdb (type, constraint, plausibility, cross-field shape); errors name `flag`, field and reason.
// `shown`: how the flag's argument appears in messages (default: the assignment).
void apply_set(Hwdb& db, const std::string& assignment, const std::string& flag = "--set", const std::string& shown = "");

// The shipped hwdb: $PODPERF_HWDB, else ../hwdb or ../share/podperf/hwdb next to the binary,
// else the source tree's hwdb.
std::string default_hwdb_dir(const char* argv0);

// The schema's unit for a number key ("specs.hbm_tb_s" -> "TB/s"), for display.
std::string unit_of(const std::string& entity, const std::string& key);

}  // namespace podperf
