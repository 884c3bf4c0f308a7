// A hwdb entity as loaded: every number with its value, optional [low, high] range, the kind of
// its source (vendor claim, analyst estimate, measurement, labelled assumption, ...) and the
// source itself, plus where it was read (file:line). Spec structs are built from records
// (hwdb.hpp), choosing the central value or an end of each range.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace podperf {

enum class SourceKind { vendor, analyst, measured, measured_fit, derived, assumption };
const char* to_string(SourceKind k);

struct Number {
  double value = 0;
  double low = 0, high = 0;   // equal to value when no range is given
  bool has_range = false;
  std::vector<double> list;   // list-valued fields (e.g. mesh dimensions); value = product
  std::vector<double> curve_x;  // curve fields: the abscissae (GEMM rows m); list = the ordinates (eff),
                                // value = the last ordinate
  SourceKind kind = SourceKind::assumption;
  std::string source;
  std::string note;
  std::string file;           // where it was read (a figure set may override a base file)
  int line = 0;
};

struct Record {
  std::string entity;  // "chip", "system", "cluster", "site"
  std::string id;
  std::string file;
  int id_line = 0;
  std::map<std::string, std::string> text;  // key -> string value ("name", "scaleup.topology")
  std::map<std::string, int> text_line;
  std::map<std::string, Number> numbers;    // key "section.field", e.g. "specs.hbm_tb_s"
  std::vector<std::string> order;           // number and text keys in file order

  bool has(const std::string& key) const { return numbers.count(key) > 0; }
  const std::string& str(const std::string& key) const;  // "" when absent
};

}  // namespace podperf
