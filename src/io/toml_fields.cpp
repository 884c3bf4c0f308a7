#include "podperf/io/toml_fields.hpp"
#include "podperf/io/limits.hpp"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace podperf {

const char* to_string(SourceKind k) {
  switch (k) {
    case SourceKind::vendor: return "vendor";
    case SourceKind::analyst: return "analyst";
    case SourceKind::measured: return "measured";
    case SourceKind::measured_fit: return "measured-fit";
    case SourceKind::derived: return "derived";
    case SourceKind::assumption: return "assumption";
  }
  return "?";
}

const std::string& Record::str(const std::string& key) const {
  static const std::string empty;
  auto it = text.find(key);
  return it == text.end() ? empty : it->second;
}

}  // namespace podperf

namespace podperf::io {

namespace {
constexpr std::size_t kMaxFileBytes = 1 << 20;  // hand-written specs are a few KiB

bool parse_kind(const std::string& s, SourceKind& k) {
  static const std::pair<const char*, SourceKind> kinds[] = {
      {"vendor", SourceKind::vendor},         {"analyst", SourceKind::analyst},
      {"measured", SourceKind::measured},     {"measured-fit", SourceKind::measured_fit},
      {"derived", SourceKind::derived},       {"assumption", SourceKind::assumption}};
  for (auto& [name, kind] : kinds)
    if (s == name) { k = kind; return true; }
  return false;
}

// Checks x against the rule's constraint; returns "" when fine, else the complaint.
std::string violates(const FieldRule& r, double x) {
  if (const std::string p = number_problem(x); !p.empty()) return p + " (got " + fmt_num(x) + ")";
  if (r.key == "utilization" && x < kMinUtilization)
    return "must be in [" + fmt_num(kMinUtilization) + ", 1] (got " + fmt_num(x) + ")";
  const bool integral = std::floor(x) == x;
  switch (r.type) {
    case FieldType::positive:
      if (x <= 0) return "must be > 0 (got " + fmt_num(x) + ")";
      break;
    case FieldType::nonneg:
      if (x < 0) return "must be >= 0 (got " + fmt_num(x) + ")";
      break;
    case FieldType::fraction:
    case FieldType::frac_list:
      if (x <= 0 || x > 1) return "must be in (0, 1] (got " + fmt_num(x) + ")";
      break;
    case FieldType::nonneg_frac:
      if (x < 0 || x >= 1) return "must be in [0, 1) (got " + fmt_num(x) + ")";
      break;
    case FieldType::at_least_one:
      if (x < 1) return "must be >= 1 (got " + fmt_num(x) + ")";
      break;
    case FieldType::count:
    case FieldType::int_list:
      if (!integral || x < 1) return "must be an integer >= 1 (got " + fmt_num(x) + ")";
      break;
    case FieldType::nonneg_count:
      if (!integral || x < 0) return "must be an integer >= 0 (got " + fmt_num(x) + ")";
      break;
    default: break;
  }
  if (x > r.absurd_max)
    return "implausible value " + fmt_num(x) + " (above " + fmt_num(r.absurd_max) + " " + r.unit +
           "); check the unit";
  return "";
}

std::string type_name(const toml::node& v) {
  switch (v.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "a list";
    case toml::node_type::table: return "a table";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: return "a date";
    default: return "a number";
  }
}

std::vector<std::string> split_tokens(const std::string& key) {
  std::vector<std::string> out;
  std::stringstream ss(key);
  for (std::string t; std::getline(ss, t, '_');) out.push_back(t);
  return out;
}

// The part of a key before its unit: "hbm_tb_s" -> "hbm", "bf16_dense_tflops" -> "bf16_dense".
std::string stem(const std::string& key) {
  static const char* units[] = {"tb", "gb", "mb", "kb", "b", "s", "w", "kw", "mw", "tflops",
                                "pflops", "tops", "usd", "kwh", "us", "ns", "ms", "gbit", "tbit",
                                "per", "dir", "frac", "years", "chips"};
  std::string out;
  for (auto& t : split_tokens(key)) {
    if (std::find_if(std::begin(units), std::end(units), [&](const char* u) { return t == u; }) !=
        std::end(units))
      break;
    out += (out.empty() ? "" : "_") + t;
  }
  return out;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string fmt_num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

const FieldRule* FileSchema::find(const std::string& section, const std::string& key) const {
  for (auto& f : fields)
    if (f.section == section && f.key == key) return &f;
  return nullptr;
}

bool FileSchema::has_section(const std::string& section) const {
  return std::any_of(fields.begin(), fields.end(), [&](auto& f) { return f.section == section; });
}

const toml::table& required_table(const toml::table& root, const std::string& file, const char* name) {
  const toml::table* t = root.get_as<toml::table>(name);
  if (!t) throw InputError(file, 1, name, "missing table [" + std::string(name) + "]");
  return *t;
}

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

std::string read_input_file(const std::string& path) {
  // Only regular files: a FIFO would block on open, a device (or a link to /dev/zero) never ends.
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw InputError(path, 0, "", std::string("cannot open file (") + std::strerror(errno) + ")");
  if (!S_ISREG(st.st_mode)) throw InputError(path, 0, "", "not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", std::string("cannot open file (") + std::strerror(errno) + ")");
  if (static_cast<std::uint64_t>(st.st_size) > kMaxFileBytes)
    throw InputError(path, 0, "", "file too large (" + std::to_string(st.st_size) + " bytes; limit " +
                                      std::to_string(kMaxFileBytes) + ")");
  std::string bytes(kMaxFileBytes + 1, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  return bytes;
}

toml::table parse_toml_file(const std::string& path) {
  const std::string bytes = read_input_file(path);
  if (bytes.size() > kMaxFileBytes)
    throw InputError(path, 0, "", "file too large (" + std::to_string(bytes.size()) +
                                      " bytes; limit " + std::to_string(kMaxFileBytes) + ")");
  if (bytes.find_first_not_of(" \t\r\n") == std::string::npos)
    throw InputError(path, 0, "", "empty file");
  try {
    return toml::parse(bytes, path);
  } catch (const toml::parse_error& e) {
    std::string what(e.description());
    throw InputError(path, static_cast<int>(e.source().begin.line), "", "malformed TOML: " + what);
  }
}

Number read_number(const toml::node& node, const std::string& file, const FieldRule& rule,
                   const toml::table* sources) {
  const int line = line_of(node);
  const std::string field = rule.shown();
  const auto* t = node.as_table();
  if (!t)
    throw InputError(file, line, field,
                     "expected a sourced number { value = ..., kind = \"...\", source = \"...\" }");
  Number n;
  n.file = file;
  n.line = line;
  const bool is_curve = rule.type == FieldType::curve;
  for (auto&& [k, v] : *t) {
    const std::string key(k.str());
    if (is_curve ? key != "m" && key != "eff" && key != "kind" && key != "source" && key != "note"
                 : key != "value" && key != "kind" && key != "source" && key != "range" && key != "note")
      throw InputError(file, line, field, "unknown key '" + key + (is_curve ? "' (allowed: m, eff, kind, source, note)"
                                                                            : "' (allowed: value, kind, source, range, note)"));
  }
  auto as_double = [&](const toml::node& v, const char* what) {
    if (auto d = v.value_exact<double>()) return *d;
    if (auto i = v.value_exact<int64_t>()) return static_cast<double>(*i);
    throw InputError(file, line, field, std::string(what) + " must be a number (got " +
                                            type_name(v) + ")");
  };
  const toml::node* value = is_curve ? nullptr : t->get("value");
  if (!is_curve && !value) throw InputError(file, line, field, "missing 'value'");
  const bool is_list = rule.type == FieldType::int_list || rule.type == FieldType::frac_list;
  if (is_curve) {
    // A measured curve: GEMM rows m (strictly increasing) and the efficiency at each.
    auto list_of = [&](const char* key) {
      const toml::node* v = t->get(key);
      if (!v) throw InputError(file, line, field, std::string("missing '") + key + "'");
      const auto* arr = v->as_array();
      if (!arr) throw InputError(file, line, field, std::string("'") + key + "' must be a list of numbers");
      std::vector<double> out;
      for (auto& e : *arr) out.push_back(as_double(e, (std::string("each '") + key + "' entry").c_str()));
      return out;
    };
    n.curve_x = list_of("m");
    n.list = list_of("eff");
    if (n.curve_x.size() != n.list.size())
      throw InputError(file, line, field, "m and eff differ in length (" + std::to_string(n.curve_x.size()) +
                                              " and " + std::to_string(n.list.size()) + " points)");
    if (n.list.size() < 2 || n.list.size() > static_cast<std::size_t>(kMaxGemmCurvePoints))
      throw InputError(file, line, field, "a curve needs 2 to " + std::to_string(kMaxGemmCurvePoints) +
                                              " points (got " + std::to_string(n.list.size()) + ")");
    for (std::size_t i = 0; i < n.list.size(); ++i) {
      const double m = n.curve_x[i], e = n.list[i];
      if (!std::isfinite(m) || m <= 0) throw InputError(file, line, field, "m must be > 0 (got " + fmt_num(m) + ")");
      if (m > rule.absurd_max)
        throw InputError(file, line, field, "implausible m " + fmt_num(m) + " (above " + fmt_num(rule.absurd_max) + ")");
      if (i > 0 && m <= n.curve_x[i - 1])
        throw InputError(file, line, field, "points out of order: m must be strictly increasing (" + fmt_num(m) +
                                                " after " + fmt_num(n.curve_x[i - 1]) + ")");
      if (!std::isfinite(e) || e <= 0 || e > 1)
        throw InputError(file, line, field, "eff must be in (0, 1] (got " + fmt_num(e) + " at m = " + fmt_num(m) + ")");
    }
    n.value = n.list.back();
  } else if (is_list) {
    const auto* arr = value->as_array();
    if (!arr || arr->empty()) throw InputError(file, line, field, "'value' must be a list of numbers");
    // int_list: value = product (e.g. chips in a mesh); frac_list: value = sum of shares.
    n.value = rule.type == FieldType::int_list ? 1 : 0;
    for (auto& e : *arr) {
      double x = as_double(e, "each list entry");
      if (auto bad = violates(rule, x); !bad.empty()) throw InputError(file, line, field, bad);
      n.list.push_back(x);
      n.value = rule.type == FieldType::int_list ? n.value * x : n.value + x;
    }
    if (rule.type == FieldType::frac_list && n.value > 1 + 1e-9)
      throw InputError(file, line, field, "shares must sum to at most 1 (got " + fmt_num(n.value) + ")");
  } else {
    n.value = as_double(*value, "'value'");
    if (auto bad = violates(rule, n.value); !bad.empty()) throw InputError(file, line, field, bad);
  }
  n.low = n.high = n.value;

  auto kind = t->get("kind");
  if (!kind || !kind->is_string())
    throw InputError(file, line, field,
                     "missing 'kind' (vendor | analyst | measured | measured-fit | derived | assumption)");
  if (!parse_kind(kind->as_string()->get(), n.kind))
    throw InputError(file, line, field, "unknown kind '" + kind->as_string()->get() +
                     "' (vendor | analyst | measured | measured-fit | derived | assumption)");

  auto src = t->get("source");
  if (!src || !src->is_string() || src->as_string()->get().empty())
    throw InputError(file, line, field, "missing 'source' (a URL, or paper + table)");
  n.source = src->as_string()->get();
  if (n.source[0] == '@') {
    const std::string name = n.source.substr(1);
    const toml::node* s = sources ? sources->get(name) : nullptr;
    if (!s || !s->is_string())
      throw InputError(file, line, field, "source '@" + name + "' is not defined in [sources]");
    n.source = s->as_string()->get();
  }
  if (auto note = t->get("note")) {
    if (!note->is_string()) throw InputError(file, line, field, "'note' must be a string");
    n.note = note->as_string()->get();
  }
  if (auto range = t->get("range")) {
    const auto* arr = range->as_array();
    if (!arr || arr->size() != 2 || is_list || is_curve)
      throw InputError(file, line, field, "'range' must be [low, high]");
    n.low = as_double(*arr->get(0), "range low");
    n.high = as_double(*arr->get(1), "range high");
    for (double x : {n.low, n.high})
      if (auto bad = violates(rule, x); !bad.empty()) throw InputError(file, line, field, "range " + bad);
    if (n.low > n.high)
      throw InputError(file, line, field, "range low > high (" + fmt_num(n.low) + " > " +
                                              fmt_num(n.high) + ")");
    if (n.value < n.low || n.value > n.high)
      throw InputError(file, line, field, "value " + fmt_num(n.value) + " outside its range [" +
                                              fmt_num(n.low) + ", " + fmt_num(n.high) + "]");
    n.has_range = true;
  }
  return n;
}

void unknown_key(const std::string& file, int line, const FileSchema& schema,
                 const std::string& section, const std::string& key, bool is_table) {
  const std::string shown = section.empty() || section == "specs" ? key : section + "." + key;
  // Candidates: section names for a table at top level, else the section's field keys.
  std::vector<std::pair<std::string, std::string>> known;  // key, unit
  for (auto& f : schema.fields) {
    if (is_table && section.empty()) {
      if (!f.section.empty() && (known.empty() || known.back().first != f.section))
        known.emplace_back(f.section, "");
    } else if (f.section == section) {
      known.emplace_back(f.key, f.unit);
    }
  }
  // A known key with the same stem but another unit: say so, naming the closest such key.
  const std::pair<std::string, std::string>* same_stem = nullptr;
  const std::pair<std::string, std::string>* nearest = nullptr;
  std::size_t best_stem = SIZE_MAX, best = 4;  // suggest only close matches
  for (auto& k : known) {
    const std::size_t d = edit_distance(k.first, key);
    if (!is_table && !stem(key).empty() && stem(k.first) == stem(key) && d < best_stem)
      best_stem = d, same_stem = &k;
    if (d < best) best = d, nearest = &k;
  }
  if (same_stem)
    throw InputError(file, line, shown, "unit mismatch: a " + schema.entity + " gives '" +
                                            same_stem->first + "' (" + same_stem->second + ")");
  std::string msg = is_table && section.empty() ? "unknown section" : "unknown field";
  if (nearest) msg += " (did you mean '" + nearest->first + "'?)";
  throw InputError(file, line, shown, msg);
}

Record read_record(const toml::table& root, const std::string& file, const FileSchema& schema) {
  Record r;
  r.entity = schema.entity;
  r.file = file;
  const toml::table* sources = root.get_as<toml::table>("sources");
  if (root.contains("sources") && !sources)
    throw InputError(file, line_of(*root.get("sources")), "sources", "must be a table of strings");
  if (sources)
    for (auto&& [k, v] : *sources)
      if (!v.is_string())
        throw InputError(file, line_of(v), "sources." + std::string(k.str()), "must be a string");

  auto read_field = [&](const FieldRule& rule, const toml::node& v) {
    const std::string path = rule.path();
    if (rule.is_number()) {
      r.numbers[path] = read_number(v, file, rule, sources);
    } else {
      if (!v.is_string())
        throw InputError(file, line_of(v), rule.shown(), "must be a string");
      const std::string s = v.as_string()->get();
      if (s.empty()) throw InputError(file, line_of(v), rule.shown(), "must not be empty");
      if (rule.type == FieldType::choice &&
          std::find(rule.choices.begin(), rule.choices.end(), s) == rule.choices.end()) {
        std::string all;
        for (auto& c : rule.choices) all += (all.empty() ? "" : " | ") + c;
        throw InputError(file, line_of(v), rule.shown(), "unknown value '" + s + "' (" + all + ")");
      }
      r.text[path] = s;
      r.text_line[path] = line_of(v);
    }
    r.order.push_back(path);
  };

  for (auto&& [k, v] : root) {
    const std::string key(k.str());
    if (key == "sources") continue;
    if (const FieldRule* rule = schema.find("", key)) {
      read_field(*rule, v);
    } else if (schema.has_section(key)) {
      const auto* sec = v.as_table();
      if (!sec) throw InputError(file, line_of(v), key, "must be a table [" + key + "]");
      for (auto&& [fk, fv] : *sec) {
        const std::string fkey(fk.str());
        const FieldRule* rule = schema.find(key, fkey);
        if (!rule) unknown_key(file, line_of(fv), schema, key, fkey, false);
        read_field(*rule, fv);
      }
    } else {
      unknown_key(file, line_of(v), schema, "", key, v.is_table());
    }
  }
  for (auto& rule : schema.fields) {
    if (!rule.required || r.numbers.count(rule.path()) || r.text.count(rule.path())) continue;
    int line = 1;
    if (!rule.section.empty())
      if (auto sec = root.get(rule.section)) line = line_of(*sec);
    throw InputError(file, line, rule.shown(), "missing (required" +
                                                   (rule.unit.empty() ? "" : ", in " + rule.unit) + ")");
  }
  r.id = r.str("id");
  r.id_line = r.text_line.count("id") ? r.text_line.at("id") : 1;
  return r;
}

}  // namespace podperf::io
