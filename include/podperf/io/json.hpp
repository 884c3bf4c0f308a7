// A small ordered JSON value for `--json` outputs (keys keep insertion order). The commands build
// one tree; its renderers are dump() (JSON text), csv() (a table) and, in the Python module, Python
// objects read through the accessors: nothing parses the text back.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace podperf {

class Json {
 public:
  Json() = default;  // null
  Json(double v) : t_(T::num), n_(v) {}
  Json(int v) : t_(T::num), n_(v) {}
  Json(long v) : t_(T::num), n_(static_cast<double>(v)) {}
  Json(unsigned long v) : t_(T::num), n_(static_cast<double>(v)) {}
  Json(bool v) : t_(T::boolean), b_(v) {}
  Json(const char* v) : t_(T::str), s_(v) {}
  Json(std::string v) : t_(T::str), s_(std::move(v)) {}
  static Json object() { Json j; j.t_ = T::obj; return j; }
  static Json array() { Json j; j.t_ = T::arr; return j; }

  Json& operator[](const std::string& key);  // adds the key if absent
  Json& push(Json v);                          // appends to an array
  std::string dump(int indent = 2) const;
  // A table for spreadsheets (RFC 4180 quoting): the first array of objects in the document gives
  // the rows (its scalar members the columns); an object of arrays of scalars gives (key, value)
  // pairs; anything else is flattened to (field, value) with dotted paths. Numbers as dump() writes
  // them, null and non-finite as an empty cell.
  std::string csv() const;

  enum class Kind { null, number, text, boolean, array, object };
  Kind kind() const { return static_cast<Kind>(t_); }
  double number() const { return n_; }
  bool boolean() const { return b_; }
  const std::string& text() const { return s_; }
  const std::vector<Json>& items() const { return a_; }
  const std::vector<std::pair<std::string, Json>>& members() const { return o_; }

 private:
  enum class T { null, num, str, boolean, arr, obj } t_ = T::null;  // in Kind's order
  double n_ = 0;
  bool b_ = false;
  std::string s_;
  std::vector<Json> a_;
  std::vector<std::pair<std::string, Json>> o_;
  void write(std::string& out, int indent, int depth) const;
};

}  // namespace podperf
