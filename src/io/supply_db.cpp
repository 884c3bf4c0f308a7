#include "podperf/io/supply_db.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "podperf/io/suggest.hpp"
#include "podperf/io/toml_fields.hpp"

namespace fs = std::filesystem;

namespace podperf {

namespace {
using io::FieldRule;
using io::FieldType;

const io::FileSchema& schema() {
  static const io::FileSchema s{
      "supply",
      {
          {"", "id", FieldType::text, true, ""},
          {"", "name", FieldType::text, true, ""},
          {"", "chip", FieldType::text, true, ""},
          {"", "foundry", FieldType::text, true, ""},
          {"", "node", FieldType::text, true, ""},
          {"die", "die_mm2", FieldType::positive, true, "mm^2", 900},
          {"die", "wafer_mm", FieldType::positive, true, "mm", 450},
          {"die", "yield", FieldType::fraction, false, ""},
          {"die", "defect_per_cm2", FieldType::positive, false, "defects per cm^2", 10},
          {"die", "yield_model", FieldType::choice, false, "", HUGE_VAL, {"murphy", "poisson"}},
          {"wafers", "node_wafers_per_month", FieldType::nonneg, true, "wafers per month", 1e7},
          {"wafers", "foundry_share", FieldType::fraction, true, ""},
          {"wafers", "product_share", FieldType::fraction, true, ""},
          {"wafers", "die_bank_dies", FieldType::nonneg, false, "dies", 1e9},
          {"wafers", "stock_years", FieldType::positive, false, "years", 20},
          {"hbm", "stacks_per_chip", FieldType::count, true, "stacks", 64},
          {"hbm", "stockpile_stacks", FieldType::nonneg, false, "stacks", 1e10},
          {"hbm", "domestic_stacks_per_year", FieldType::nonneg, false, "stacks", 1e10},
          {"hbm", "import_stacks_per_year", FieldType::nonneg, false, "stacks", 1e10},
          {"packaging", "chips_per_year", FieldType::nonneg, true, "chips", 1e10},
          {"packaging", "package_yield", FieldType::fraction, true, ""},
      }};
  return s;
}

bool is_kebab(const std::string& s) {
  if (s.empty() || s.front() == '-' || s.back() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}
}  // namespace

SupplyEntry load_supply_file(const std::string& file, const Hwdb& db) {
  const toml::table root = io::parse_toml_file(file);
  SupplyEntry e;
  e.file = file;
  e.rec = io::read_record(root, file, schema());
  const Record& r = e.rec;
  e.id = r.id;
  if (!is_kebab(e.id)) throw InputError(file, r.id_line, "id", "must be kebab-case (got '" + e.id + "')");
  if (e.id != fs::path(file).stem().string())
    throw InputError(file, r.id_line, "id", "'" + e.id + "' does not match the file name '" + fs::path(file).filename().string() + "'");
  e.name = r.str("name");
  e.chip = r.str("chip");
  e.foundry = r.str("foundry");
  e.node = r.str("node");
  if (!db.chips.count(e.chip)) {
    std::vector<std::string> ids;
    for (auto& [id, c] : db.chips) ids.push_back(id);
    throw InputError(file, r.text_line.at("chip"), "chip", "unknown chip '" + e.chip + "'" + did_you_mean(e.chip, ids));
  }
  const bool has_yield = r.has("die.yield"), has_d0 = r.has("die.defect_per_cm2");
  if (has_yield == has_d0)
    throw InputError(file, has_yield ? r.numbers.at("die.defect_per_cm2").line : 1, has_yield ? "die.defect_per_cm2" : "die.yield",
                     has_yield ? "give either die.yield or die.defect_per_cm2, not both"
                               : "missing: give die.yield (reported) or die.defect_per_cm2 (with die.yield_model)");
  e.central.dies_per_chip = e.low.dies_per_chip = e.high.dies_per_chip = std::max(1, db.chip(e.chip).dies);
  const int model = r.str("die.yield_model") == "poisson" ? 1 : 0;
  e.central.yield_model = e.low.yield_model = e.high.yield_model = model;
  for (auto& [key, field] : supply_fields()) {
    if (!r.has(key)) continue;
    const Number& n = r.numbers.at(key);
    e.central.*field = n.value;
    e.low.*field = n.low;
    e.high.*field = n.high;
  }
  return e;
}

SupplyDb load_supply(const std::string& hwdb_dir, const Hwdb& db) {
  SupplyDb s;
  s.dir = (fs::path(hwdb_dir) / "supply").string();
  if (!fs::is_directory(s.dir)) return s;
  std::vector<fs::path> files;
  for (auto& f : fs::directory_iterator(s.dir))
    if (f.path().extension() == ".toml") files.push_back(f.path());
  std::sort(files.begin(), files.end());
  for (auto& f : files) {
    SupplyEntry e = load_supply_file(f.lexically_normal().string(), db);
    s.entries.emplace(e.id, std::move(e));
  }
  return s;
}

const SupplyEntry& SupplyDb::get(const std::string& id) const {
  auto it = entries.find(id);
  if (it != entries.end()) return it->second;
  std::vector<std::string> ids;
  for (auto& [k, v] : entries) ids.push_back(k);
  throw InputError("unknown supply id '" + id + "' (" + dir + ")" + did_you_mean(id, ids));
}

SupplyEntry supply_by_name(const std::string& name, const std::string& hwdb_dir, const Hwdb& db) {
  if (name.find('/') != std::string::npos || (name.size() > 5 && name.substr(name.size() - 5) == ".toml"))
    return load_supply_file(name, db);
  return load_supply(hwdb_dir, db).get(name);
}

void set_supply_value(SupplyEntry& e, const std::string& assignment, const std::string& file, int line,
                      const std::string& field) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos) throw InputError(file, line, field, "expected SECTION.FIELD=VALUE (got '" + assignment + "')");
  const std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  std::vector<std::string> keys;
  double SupplyInputs::*member = nullptr;
  for (auto& [k, m] : supply_fields()) {
    keys.push_back(k);
    if (k == key) member = m;
  }
  if (!member) throw InputError(file, line, field, "unknown supply field '" + key + "'" + did_you_mean(key, keys));
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v) || v < 0)
    throw InputError(file, line, field, "'" + key + "' must be a number >= 0 (got '" + text + "')");
  const bool frac = key == "die.yield" || key.find("share") != std::string::npos || key == "packaging.package_yield";
  if (frac && !(v > 0 && v <= 1)) throw InputError(file, line, field, "'" + key + "' must be in (0, 1] (got " + io::fmt_num(v) + ")");
  // A reported yield replaces the defect density's, and a defect density the reported yield.
  if (key == "die.yield") e.central.defect_per_cm2 = e.low.defect_per_cm2 = e.high.defect_per_cm2 = 0;
  if (key == "die.defect_per_cm2") e.central.yield = e.low.yield = e.high.yield = 0;
  e.central.*member = e.low.*member = e.high.*member = v;
}

}  // namespace podperf
