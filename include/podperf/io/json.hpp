// A small ordered JSON value for `--json` outputs (keys keep insertion order).
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

 private:
  enum class T { null, num, str, boolean, arr, obj } t_ = T::null;
  double n_ = 0;
  bool b_ = false;
  std::string s_;
  std::vector<Json> a_;
  std::vector<std::pair<std::string, Json>> o_;
  void write(std::string& out, int indent, int depth) const;
};

}  // namespace podperf
