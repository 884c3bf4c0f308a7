#include "json_read.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace podperf::cli {

namespace {
struct Parser {
  const std::string& s;
  std::size_t i = 0;

  [[noreturn]] void fail(const char* what) const {
    throw std::runtime_error(std::string("JSON: ") + what + " at offset " + std::to_string(i));
  }
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  }
  bool eat(const char* word) {
    const std::string w(word);
    if (s.compare(i, w.size(), w) != 0) return false;
    i += w.size();
    return true;
  }
  static void utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  std::string string() {
    if (i >= s.size() || s[i] != '"') fail("expected a string");
    ++i;
    std::string out;
    while (i < s.size() && s[i] != '"') {
      char c = s[i++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i >= s.size()) fail("bad escape");
      c = s[i++];
      switch (c) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          if (i + 4 > s.size()) fail("bad \\u escape");
          utf8(out, static_cast<unsigned>(std::strtoul(s.substr(i, 4).c_str(), nullptr, 16)));
          i += 4;
          break;
        }
        default: out += c;
      }
    }
    if (i >= s.size()) fail("unterminated string");
    ++i;
    return out;
  }
  JsonValue value() {
    ws();
    if (i >= s.size()) fail("unexpected end");
    JsonValue v;
    const char c = s[i];
    if (c == '{') {
      ++i;
      v.type = JsonValue::Type::object;
      ws();
      if (i < s.size() && s[i] == '}') {
        ++i;
        return v;
      }
      for (;;) {
        ws();
        std::string k = string();
        ws();
        if (i >= s.size() || s[i] != ':') fail("expected ':'");
        ++i;
        v.members.push_back(JsonMember{std::move(k), value()});
        ws();
        if (i < s.size() && s[i] == ',') {
          ++i;
          continue;
        }
        if (i < s.size() && s[i] == '}') {
          ++i;
          return v;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      ++i;
      v.type = JsonValue::Type::array;
      ws();
      if (i < s.size() && s[i] == ']') {
        ++i;
        return v;
      }
      for (;;) {
        v.items.push_back(value());
        ws();
        if (i < s.size() && s[i] == ',') {
          ++i;
          continue;
        }
        if (i < s.size() && s[i] == ']') {
          ++i;
          return v;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      v.type = JsonValue::Type::string;
      v.text = string();
      return v;
    }
    if (eat("true")) {
      v.type = JsonValue::Type::boolean;
      v.boolean = true;
      return v;
    }
    if (eat("false")) {
      v.type = JsonValue::Type::boolean;
      return v;
    }
    if (eat("null")) return v;
    char* end = nullptr;
    v.number = std::strtod(s.c_str() + i, &end);
    if (end == s.c_str() + i) fail("unexpected character");
    v.type = JsonValue::Type::number;
    i = static_cast<std::size_t>(end - s.c_str());
    return v;
  }
};

std::string quote(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

void flatten(const JsonValue& v, const std::string& path, std::vector<std::pair<std::string, std::string>>& out) {
  if (v.type == JsonValue::Type::object) {
    for (auto& [k, x] : v.members) flatten(x, path.empty() ? k : path + "." + k, out);
  } else if (v.type == JsonValue::Type::array) {
    for (std::size_t j = 0; j < v.items.size(); ++j) flatten(v.items[j], path + "." + std::to_string(j), out);
  } else {
    out.emplace_back(path, v.str());
  }
}

bool array_of_objects(const JsonValue& v) {
  return v.type == JsonValue::Type::array && !v.items.empty() && v.items[0].type == JsonValue::Type::object;
}
}  // namespace

const JsonValue& JsonValue::operator[](const std::string& key) const {
  static const JsonValue none;
  for (auto& [k, v] : members)
    if (k == key) return v;
  return none;
}

std::string JsonValue::str() const {
  switch (type) {
    case Type::null: return "";
    case Type::boolean: return boolean ? "true" : "false";
    case Type::string: return text;
    case Type::number: {
      if (!std::isfinite(number)) return "";
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.10g", number);
      return buf;
    }
    default: return "";
  }
}

double JsonValue::num() const { return type == Type::number ? number : std::nan(""); }

JsonValue parse_json(const std::string& text) {
  Parser p{text};
  JsonValue v = p.value();
  p.ws();
  if (p.i != text.size()) p.fail("trailing text");
  return v;
}

std::string csv_from_json(const std::string& json_text) {
  const JsonValue doc = parse_json(json_text);
  const JsonValue* rows = array_of_objects(doc) ? &doc : nullptr;
  bool scalar_lists = doc.type == JsonValue::Type::object && !doc.members.empty();
  if (doc.type == JsonValue::Type::object)
    for (auto& [k, v] : doc.members) {
      if (!rows && array_of_objects(v)) rows = &v;
      if (v.type != JsonValue::Type::array) scalar_lists = false;
    }
  std::string out;
  if (rows) {
    std::vector<std::string> cols;
    for (auto& r : rows->items)
      for (auto& [k, v] : r.members)
        if (v.is_scalar() && std::find(cols.begin(), cols.end(), k) == cols.end()) cols.push_back(k);
    for (std::size_t c = 0; c < cols.size(); ++c) {
      if (c) out += ',';
      out += quote(cols[c]);
    }
    out += '\n';
    for (auto& r : rows->items) {
      for (std::size_t c = 0; c < cols.size(); ++c) {
        if (c) out += ',';
        out += quote(r[cols[c]].str());
      }
      out += '\n';
    }
    return out;
  }
  if (scalar_lists) {
    out = "key,value\n";
    for (auto& [k, v] : doc.members)
      for (auto& x : v.items) out += quote(k) + "," + quote(x.str()) + "\n";
    return out;
  }
  std::vector<std::pair<std::string, std::string>> flat;
  flatten(doc, "", flat);
  out = "field,value\n";
  for (auto& [k, v] : flat) out += quote(k) + "," + quote(v) + "\n";
  return out;
}

}  // namespace podperf::cli
