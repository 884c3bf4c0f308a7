#include "podperf/json.hpp"

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
void write_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
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

std::string Json::dump(int indent) const {
  std::string out;
  write(out, indent, 0);
  return out;
}

}  // namespace podperf
