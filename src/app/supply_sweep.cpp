#include "podperf/app/supply_sweep.hpp"

#include <cmath>

#include "podperf/io/suggest.hpp"
#include "podperf/io/toml_fields.hpp"

namespace podperf {

std::uint64_t SupplySweepSpec::points() const {
  std::uint64_t n = 1;
  for (auto& a : axes) n *= a.values.size();
  return n;
}

bool is_supply_sweep_spec(const std::string& path) {
  try {
    const toml::table t = io::parse_toml_file(path);
    const toml::node* k = t.get("kind");
    return k && k->is_string() && k->as_string()->get() == "supply";
  } catch (const std::exception&) {
    return false;
  }
}

SupplySweepSpec load_supply_sweep_spec(const std::string& path, const Hwdb& db, const SupplyDb& supply) {
  SupplySweepSpec s;
  s.file = path;
  s.text = io::read_input_file(path);
  const toml::table root = io::parse_toml_file(path);
  io::StrictReader r{path, root, "", {"axes", "kind"}};
  s.id = r.str("id");
  s.description = r.str("description");
  auto ref = [&](const char* key, bool is_supply) {
    const std::string v = r.str(key);
    std::vector<std::string> ids;
    if (is_supply)
      for (auto& [k, e] : supply.entries) ids.push_back(k);
    else
      for (auto& [k, e] : db.systems) ids.push_back(k);
    bool known = std::find(ids.begin(), ids.end(), v) != ids.end();
    if (!known && !is_supply) {  // NxSYSTEM and SYSTEM@STACK, as on the command line
      try {
        db.system(v);
        known = true;
      } catch (const InputError&) {
      }
    }
    if (!known)
      throw InputError(path, io::line_of(*root.get(key)), key,
                       std::string("unknown ") + (is_supply ? "supply id" : "system") + " '" + v + "'" + did_you_mean(v, ids));
    return v;
  };
  s.supply = ref("supply", true);
  s.system = ref("system", false);
  s.import_system = ref("import_system", false);
  s.nvidia_system = ref("nvidia_system", false);
  s.nvidia_supply = ref("nvidia_supply", true);
  if (supply.get(s.supply).chip != db.system(s.system).chip.id)
    throw InputError(path, io::line_of(*root.get("system")), "system", "'" + s.system + "' does not hold the chip of supply '" + s.supply + "'");
  if (supply.get(s.nvidia_supply).chip != db.system(s.nvidia_system).chip.id)
    throw InputError(path, io::line_of(*root.get("nvidia_system")), "nvidia_system",
                     "'" + s.nvidia_system + "' does not hold the chip of supply '" + s.nvidia_supply + "'");
  if (const std::string m = r.str("model", false); !m.empty()) s.model = m;
  if (const std::string m = r.str("mode", false); !m.empty()) {
    if (m != "decode" && m != "prefill") throw InputError(path, io::line_of(*root.get("mode")), "mode", "unknown mode '" + m + "' (decode | prefill)");
    s.mode = m;
  }
  s.tpot_ms = r.number("tpot_ms", s.tpot_ms);
  r.done();
  const toml::table* axes = root.get_as<toml::table>("axes");
  if (!axes) throw InputError(path, 1, "axes", "missing: a table [axes] of lists");
  for (auto&& [k, v] : *axes) {
    SupplySweepAxis a;
    a.name = std::string(k.str());
    const std::string field = "axes." + a.name;
    std::vector<std::string> names = {"import_chips"};
    for (auto& [key, m] : supply_fields()) {
      const std::string leaf = key.substr(key.find('.') + 1);
      names.push_back(leaf);
      if (leaf == a.name) a.field = key;
    }
    if (a.field.empty() && a.name != "import_chips")
      throw InputError(path, io::line_of(v), field, "unknown axis" + did_you_mean(a.name, names));
    const toml::array* list = v.as_array();
    if (!list || list->empty()) throw InputError(path, io::line_of(v), field, "must be a non-empty list of numbers");
    const bool frac = a.name == "yield" || a.name.find("share") != std::string::npos || a.name == "package_yield";
    for (auto& x : *list) {
      double d;
      if (auto f = x.value_exact<double>()) d = *f;
      else if (auto i = x.value_exact<int64_t>()) d = double(*i);
      else throw InputError(path, io::line_of(x), field, "must be a list of numbers");
      if (!std::isfinite(d) || d < 0) throw InputError(path, io::line_of(x), field, "must be >= 0 (got " + io::fmt_num(d) + ")");
      if (frac && !(d > 0 && d <= 1)) throw InputError(path, io::line_of(x), field, "must be in (0, 1] (got " + io::fmt_num(d) + ")");
      a.values.push_back(d);
    }
    s.axes.push_back(a);
  }
  if (s.axes.empty()) throw InputError(path, io::line_of(*root.get("axes")), "axes", "needs at least one axis");
  if (s.points() > 10'000'000) throw InputError(path, io::line_of(*root.get("axes")), "axes", "more than 10,000,000 points");
  return s;
}

}  // namespace podperf
