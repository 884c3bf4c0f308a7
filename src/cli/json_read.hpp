// Reading back the JSON that the commands write (for --csv and the HTML report): a small
// recursive-descent parser into a plain value tree. Keys keep their order.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace podperf::cli {

struct JsonMember;

struct JsonValue {
  enum class Type { null, number, string, boolean, array, object } type = Type::null;
  double number = 0;
  bool boolean = false;
  std::string text;
  std::vector<JsonValue> items;                            // array
  std::vector<JsonMember> members;                         // object, in order

  bool is_scalar() const { return type != Type::array && type != Type::object; }
  // Member `key` of an object, or a null value.
  const JsonValue& operator[](const std::string& key) const;
  // The value as text: numbers with up to 10 significant digits, null as "".
  std::string str() const;
  double num() const;  // NaN unless a number
};

// One member of an object (a struct, not std::pair: a pair cannot hold the incomplete JsonValue).
struct JsonMember {
  std::string key;
  JsonValue value;
};

// Throws std::runtime_error on malformed text.
JsonValue parse_json(const std::string& text);

// A table for spreadsheets (RFC 4180 quoting). The first array of objects in the document becomes
// the rows (its scalar members the columns); an object of scalar arrays becomes (key, value) pairs;
// anything else is flattened to (field, value) with dotted paths.
std::string csv_from_json(const std::string& json_text);

}  // namespace podperf::cli
