#include "podperf/io/json.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace podperf {

Json& Json::operator[](const std::string& key) {
  if (t_ == T::null) t_ = T::obj;
  for (auto& [k, v] : o_)
    if (k == key) return v;
  o_.emplace_back(key, Json());
  return o_.back().second;
}

Json& Json::push(Json v) {
  if (t_ == T::null) t_ = T::arr;
  a_.push_back(std::move(v));
  return a_.back();
}

namespace {
// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlongs, surrogates or code
// points above U+10FFFF), 0 when it is not one.
std::size_t utf8_length(const std::string& s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

// Always valid UTF-8: a byte that does not start a well-formed sequence (a file name in another
// encoding) becomes U+FFFD.
void write_string(std::string& out, const std::string& s) {
  out += '"';
  for (std::size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (const std::size_t n = utf8_length(s, i)) {
        out.append(s, i, n);
        i += n - 1;
      } else {
        out += "\ufffd";
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}
}  // namespace

void Json::write(std::string& out, int indent, int depth) const {
  auto newline = [&](int d) {
    if (indent <= 0) return;
    out += '\n';
    out.append(static_cast<std::size_t>(indent * d), ' ');
  };
  switch (t_) {
    case T::null: out += "null"; break;
    case T::boolean: out += b_ ? "true" : "false"; break;
    case T::str: write_string(out, s_); break;
    case T::num: {
      if (!std::isfinite(n_)) { out += "null"; break; }  // JSON has no NaN/inf
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.10g", n_);
      out += buf;
      break;
    }
    case T::arr:
      out += '[';
      for (std::size_t i = 0; i < a_.size(); ++i) {
        if (i) out += ',';
        newline(depth + 1);
        a_[i].write(out, indent, depth + 1);
      }
      if (!a_.empty()) newline(depth);
      out += ']';
      break;
    case T::obj:
      out += '{';
      for (std::size_t i = 0; i < o_.size(); ++i) {
        if (i) out += ',';
        newline(depth + 1);
        write_string(out, o_[i].first);
        out += indent > 0 ? ": " : ":";
        o_[i].second.write(out, indent, depth + 1);
      }
      if (!o_.empty()) newline(depth);
      out += '}';
      break;
  }
}

namespace {
std::string number_text(double v) {
  if (!std::isfinite(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string cell(const Json& v) {
  switch (v.kind()) {
    case Json::Kind::number: return number_text(v.number());
    case Json::Kind::text: return v.text();
    case Json::Kind::boolean: return v.boolean() ? "true" : "false";
    default: return "";
  }
}

std::string quoted(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

bool scalar(const Json& v) { return v.kind() != Json::Kind::array && v.kind() != Json::Kind::object; }

bool rows_of_objects(const Json& v) {
  return v.kind() == Json::Kind::array && !v.items().empty() && v.items()[0].kind() == Json::Kind::object;
}

void flatten(const Json& v, const std::string& path, std::string& out) {
  if (v.kind() == Json::Kind::object) {
    for (auto& m : v.members()) flatten(m.second, path.empty() ? m.first : path + "." + m.first, out);
  } else if (v.kind() == Json::Kind::array) {
    for (std::size_t j = 0; j < v.items().size(); ++j) flatten(v.items()[j], path + "." + std::to_string(j), out);
  } else {
    out += quoted(path) + "," + quoted(cell(v)) + "\n";
  }
}
}  // namespace

std::string Json::csv() const {
  const Json* rows = rows_of_objects(*this) ? this : nullptr;
  bool lists = t_ == T::obj && !o_.empty();
  for (auto& m : o_) {
    if (!rows && rows_of_objects(m.second)) rows = &m.second;
    if (m.second.t_ != T::arr) lists = false;
  }
  std::string out;
  if (rows) {
    std::vector<std::string> cols;
    for (auto& r : rows->a_)
      for (auto& m : r.o_)
        if (scalar(m.second) && std::find(cols.begin(), cols.end(), m.first) == cols.end()) cols.push_back(m.first);
    for (std::size_t c = 0; c < cols.size(); ++c) {
      if (c) out += ',';
      out += quoted(cols[c]);
    }
    out += '\n';
    for (auto& r : rows->a_) {
      for (std::size_t c = 0; c < cols.size(); ++c) {
        std::string v;
        for (auto& m : r.o_)
          if (m.first == cols[c]) {
            v = cell(m.second);
            break;
          }
        if (c) out += ',';
        out += quoted(v);
      }
      out += '\n';
    }
    return out;
  }
  if (lists) {
    out = "key,value\n";
    for (auto& m : o_)
      for (auto& x : m.second.a_) out += quoted(m.first) + "," + quoted(cell(x)) + "\n";
    return out;
  }
  out = "field,value\n";
  flatten(*this, "", out);
  return out;
}

std::string Json::dump(int indent) const {
  std::string out;
  write(out, indent, 0);
  return out;
}

}  // namespace podperf
