// Reading sourced numbers out of TOML with file:line errors. Shared by the hwdb loader and the
// config loaders (models, workloads, sweeps, validation cases).
#pragma once
#include <cmath>
#include <optional>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "podperf/io/error.hpp"
#include "podperf/io/record.hpp"
#include "podperf/core/spec.hpp"

namespace podperf::io {

enum class FieldType {
  positive,      // > 0
  nonneg,        // >= 0
  fraction,      // 0 < x <= 1
  nonneg_frac,   // 0 <= x < 1
  at_least_one,  // >= 1 (PUE, oversubscription)
  count,         // integer >= 1
  nonneg_count,  // integer >= 0
  int_list,      // list of integers >= 1
  frac_list,     // list of fractions in (0, 1] summing to at most 1
  curve,         // { m = [..], eff = [..] }: m > 0 strictly increasing (absurd_max bounds m), eff in (0, 1],
                 // same length, 2..kMaxGemmCurvePoints points; no value, no range
  text,          // free string
  choice,        // one of `choices`
  ref,           // id of an entity of kind `ref_kind`
};

struct FieldRule {
  std::string section;  // "" = top level
  std::string key;
  FieldType type;
  bool required;
  std::string unit;
  double absurd_max = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices = {};
  std::string ref_kind = {};

  bool is_number() const { return type != FieldType::text && type != FieldType::choice && type != FieldType::ref; }
  std::string path() const { return section.empty() ? key : section + "." + key; }
  // How the field is named in messages: the bare key in [specs] and at top level.
  std::string shown() const { return section.empty() || section == "specs" ? key : path(); }
};

struct FileSchema {
  std::string entity;
  std::vector<FieldRule> fields;
  const FieldRule* find(const std::string& section, const std::string& key) const;
  bool has_section(const std::string& section) const;
};

// Reads and parses a TOML file: size limits, UTF-8 and syntax errors become InputError.
toml::table parse_toml_file(const std::string& path);
// The bytes of a regular file of at most 1 MiB (anything else is an InputError naming the file).
std::string read_input_file(const std::string& path);

int line_of(const toml::node& n);

// Reads a whole file against a schema into a Record (text fields, sourced numbers, the [sources]
// table), checking types, constraints, ranges, unknown keys and required fields.
Record read_record(const toml::table& root, const std::string& file, const FileSchema& schema);

// One sourced number `{ value = .., kind = "..", source = "..", range = [lo, hi], note = ".." }`.
// `sources` resolves "@name" references. Checks the rule's constraint on value and range.
Number read_number(const toml::node& node, const std::string& file, const FieldRule& rule,
                   const toml::table* sources);

// The error for a key the schema does not know: a unit mismatch when a known key shares its
// stem (hbm_gb_s vs hbm_tb_s), else a suggestion of the nearest known key.
[[noreturn]] void unknown_key(const std::string& file, int line, const FileSchema& schema,
                              const std::string& section, const std::string& key, bool is_table);

std::string fmt_num(double v);

// Strict reading of a hand-written table (validation cases, claims): every key must be asked for,
// every type right, errors with file:line. `done()` rejects the keys nobody asked for.
struct StrictReader {
  const std::string& file;
  const toml::table& t;
  std::string section;
  std::set<std::string> allowed;

  std::string field(const std::string& k) const { return section.empty() ? k : section + "." + k; }
  const toml::node* get(const std::string& k) {
    allowed.insert(k);
    return t.get(k);
  }
  std::string str(const std::string& k, bool required = true) {
    const toml::node* n = get(k);
    if (!n) {
      if (required) throw InputError(file, line_of(t), field(k), "missing (required)");
      return "";
    }
    if (!n->is_string() || n->as_string()->get().empty())
      throw InputError(file, line_of(*n), field(k), "must be a non-empty string");
    return n->as_string()->get();
  }
  double number(const std::string& k, double fallback, bool required = false, bool integer = false) {
    const toml::node* n = get(k);
    if (!n) {
      if (required) throw InputError(file, line_of(t), field(k), "missing (required)");
      return fallback;
    }
    double v;
    if (auto d = n->value_exact<double>()) v = *d;
    else if (auto i = n->value_exact<int64_t>()) v = static_cast<double>(*i);
    else throw InputError(file, line_of(*n), field(k), "must be a number");
    if (!std::isfinite(v) || v <= 0) throw InputError(file, line_of(*n), field(k), "must be > 0 (got " + fmt_num(v) + ")");
    if (integer && std::floor(v) != v) throw InputError(file, line_of(*n), field(k), "must be an integer (got " + fmt_num(v) + ")");
    return v;
  }
  // Integers stay within the estimate flags' limit (1e8), far from where an int wraps.
  int integer(const std::string& k, int fallback, double max = 1e8) {
    const double v = number(k, fallback, false, true);
    if (v > max) throw InputError(file, line_of(*t.get(k)), field(k), "must be <= " + fmt_num(max) + " (got " + fmt_num(v) + ")");
    return static_cast<int>(v);
  }
  int integer0(const std::string& k, int fallback, double max = 1e8) {  // allows 0
    const toml::node* n = get(k);
    if (!n) return fallback;
    auto i = n->value_exact<int64_t>();
    if (!i || *i < 0) throw InputError(file, line_of(*n), field(k), "must be an integer >= 0");
    if (double(*i) > max) throw InputError(file, line_of(*n), field(k), "must be <= " + fmt_num(max) + " (got " + std::to_string(*i) + ")");
    return static_cast<int>(*i);
  }
  Precision prec(const std::string& k, Precision fallback) {
    const std::string s = str(k, false);
    if (s.empty()) return fallback;
    Precision p;
    if (!parse_precision(s, p))
      throw InputError(file, line_of(*t.get(k)), field(k), "unknown precision '" + s + "' (fp4 | fp8 | int8 | bf16 | fp32)");
    return p;
  }
  // A number format (precision or block-scaled: mxfp4, nvfp4, mxfp8, hif8); empty when absent.
  std::optional<Format> format(const std::string& k) {
    const std::string s = str(k, false);
    if (s.empty()) return std::nullopt;
    Format f;
    if (!parse_format(s, f))
      throw InputError(file, line_of(*t.get(k)), field(k),
                       "unknown format '" + s + "' (fp4 | nvfp4 | mxfp4 | fp8 | mxfp8 | hif8 | int8 | bf16 | fp32)");
    return f;
  }
  void done() {
    for (auto&& [k, v] : t)
      if (!allowed.count(std::string(k.str())))
        throw InputError(file, line_of(v), field(std::string(k.str())), "unknown field");
  }
};

const toml::table& required_table(const toml::table& root, const std::string& file, const char* name);

}  // namespace podperf::io
