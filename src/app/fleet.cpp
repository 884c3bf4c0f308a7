#include "podperf/app/fleet.hpp"

#include <filesystem>

#include "podperf/io/suggest.hpp"
#include "podperf/io/toml_fields.hpp"

namespace fs = std::filesystem;

namespace podperf {

namespace {
std::vector<std::string> keys_of(const std::map<std::string, Record>& m) {
  std::vector<std::string> out;
  for (auto& [k, v] : m) out.push_back(k);
  return out;
}

Fleet read_fleet(const std::string& file, const std::string& configs_dir, const Hwdb& db, const SupplyDb& supply, int depth);

Fleet fleet_named(const std::string& name, const std::string& configs_dir, const Hwdb& db, const SupplyDb& supply, int depth) {
  const bool path = name.find('/') != std::string::npos || (name.size() > 5 && name.substr(name.size() - 5) == ".toml");
  if (path) return read_fleet(name, configs_dir, db, supply, depth);
  const fs::path dir = fs::path(configs_dir) / "fleets";
  const fs::path file = dir / (name + ".toml");
  if (!fs::is_regular_file(file)) {
    std::vector<std::string> ids;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".toml") ids.push_back(it->path().stem().string());
    throw InputError("unknown fleet '" + name + "' (" + dir.lexically_normal().string() + ")" + did_you_mean(name, ids));
  }
  return read_fleet(file.lexically_normal().string(), configs_dir, db, supply, depth);
}

Fleet read_fleet(const std::string& file, const std::string& configs_dir, const Hwdb& db, const SupplyDb& supply, int depth) {
  const toml::table root = io::parse_toml_file(file);
  io::StrictReader top{file, root, "", {"entry", "supply_set", "sources"}};
  const toml::table* srcs = root.get_as<toml::table>("sources");
  Fleet f;
  f.file = file;
  f.id = top.str("id");
  if (f.id != fs::path(file).stem().string())
    throw InputError(file, io::line_of(*root.get("id")), "id", "'" + f.id + "' does not match the file name");
  f.name = top.str("name");
  f.base = top.str("base", false);
  if (!f.base.empty()) {
    if (depth > 8) throw InputError(file, io::line_of(*root.get("base")), "base", "fleets based on each other too deeply (a cycle?)");
    Fleet b = fleet_named(f.base, configs_dir, db, supply, depth + 1);
    f.model = b.model;
    f.mode = b.mode;
    f.tpot_ms = b.tpot_ms;
    f.supply_set = b.supply_set;
    f.supply_set_where = b.supply_set_where;
    f.entries = b.entries;
  }
  if (const std::string m = top.str("model", false); !m.empty()) f.model = m;
  if (const std::string m = top.str("mode", false); !m.empty()) {
    if (m != "decode" && m != "prefill")
      throw InputError(file, io::line_of(*root.get("mode")), "mode", "unknown mode '" + m + "' (decode | prefill)");
    f.mode = m;
  }
  f.tpot_ms = top.number("tpot_ms", f.tpot_ms);
  top.done();
  if (const toml::node* s = root.get("supply_set")) {
    const toml::array* a = s->as_array();
    if (!a) throw InputError(file, io::line_of(*s), "supply_set", "must be a list of \"SUPPLY.SECTION.FIELD=VALUE\" strings");
    for (auto& x : *a) {
      if (!x.is_string()) throw InputError(file, io::line_of(x), "supply_set", "must be a list of \"SUPPLY.SECTION.FIELD=VALUE\" strings");
      const std::string v = x.as_string()->get();
      const std::string id = v.substr(0, v.find('.'));
      if (!supply.entries.count(id)) {
        std::vector<std::string> ids;
        for (auto& [k, e] : supply.entries) ids.push_back(k);
        throw InputError(file, io::line_of(x), "supply_set", "unknown supply id '" + id + "'" + did_you_mean(id, ids));
      }
      // Checked now, applied by fleet_supply().
      SupplyEntry probe = supply.entries.at(id);
      set_supply_value(probe, v.substr(std::min(v.size(), id.size() + 1)), file, io::line_of(x), "supply_set");
      f.supply_set.push_back(v);
      f.supply_set_where.push_back(file + ":" + std::to_string(io::line_of(x)));
    }
  }
  if (const toml::node* es = root.get("entry")) {
    const toml::array* a = es->as_array();
    if (!a) throw InputError(file, io::line_of(*es), "entry", "must be a list of tables [[entry]]");
    for (auto& n : *a) {
      const toml::table* t = n.as_table();
      if (!t) throw InputError(file, io::line_of(n), "entry", "must be a table [[entry]]");
      io::StrictReader r{file, *t, "entry", {}};
      FleetEntry e;
      e.file = file;
      e.line = io::line_of(n);
      e.system = r.str("system");
      bool known = db.systems.count(e.system) || db.clusters.count(e.system);
      if (!known) {  // NxSYSTEM and SYSTEM@STACK, as on the command line
        try {
          db.system(e.system);
          known = true;
        } catch (const InputError&) {
        }
      }
      if (!known) {
        std::vector<std::string> ids = keys_of(db.systems);
        for (auto& k : keys_of(db.clusters)) ids.push_back(k);
        throw InputError(file, io::line_of(*t->get("system")), "entry.system", "unknown system '" + e.system + "'" + did_you_mean(e.system, ids));
      }
      e.supply = r.str("supply", false);
      const toml::node* c = r.get("count");
      if (e.supply.empty() == !c)
        throw InputError(file, e.line, "entry.count", e.supply.empty() ? "missing: give count (systems) or supply (a supply id)"
                                                                       : "give count or supply, not both");
      if (!e.supply.empty()) {
        if (!supply.entries.count(e.supply)) {
          std::vector<std::string> ids;
          for (auto& [k, x] : supply.entries) ids.push_back(k);
          throw InputError(file, io::line_of(*t->get("supply")), "entry.supply", "unknown supply id '" + e.supply + "'" + did_you_mean(e.supply, ids));
        }
        const std::string chip = db.system(e.system).chip.id;
        if (supply.entries.at(e.supply).chip != chip)
          throw InputError(file, io::line_of(*t->get("supply")), "entry.supply",
                           "supply '" + e.supply + "' makes " + supply.entries.at(e.supply).chip + ", but " + e.system + " holds " + chip);
        if (const toml::node* fr = r.get("supply_frac")) {
          auto v = fr->value<double>();
          if (!v || !(*v > 0 && *v <= 1)) throw InputError(file, io::line_of(*fr), "entry.supply_frac", "must be in (0, 1]");
          e.supply_frac = *v;
        }
      } else {
        const io::FieldRule rule{"entry", "count", io::FieldType::nonneg, true, "systems", 1e9};
        e.count = io::read_number(*c, file, rule, srcs);
      }
      r.done();
      f.entries.push_back(e);
    }
  }
  if (f.entries.empty()) throw InputError(file, 1, "entry", "missing: at least one [[entry]] (here or in the base fleet)");
  return f;
}
}  // namespace

Fleet load_fleet(const std::string& name, const std::string& configs_dir, const Hwdb& db, const SupplyDb& supply) {
  return fleet_named(name, configs_dir, db, supply, 0);
}

SupplyDb fleet_supply(const Fleet& f, const SupplyDb& supply) {
  SupplyDb out = supply;
  for (std::size_t i = 0; i < f.supply_set.size(); ++i) {
    const std::string& v = f.supply_set[i];
    const std::string id = v.substr(0, v.find('.'));
    set_supply_value(out.entries.at(id), v.substr(std::min(v.size(), id.size() + 1)), f.supply_set_where[i], 0, "supply_set");
  }
  return out;
}

}  // namespace podperf
