#include "podperf/io/sources.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <regex>
#include <set>

#include "podperf/io/error.hpp"
#include "podperf/io/toml_fields.hpp"

namespace podperf {

std::vector<std::string> hosts_in(const std::string& text) {
  // A dotted name ending in a web top-level domain; file names (.toml, .py, .md) end otherwise.
  static const std::regex host(
      R"(([a-z0-9][a-z0-9-]*\.)+(com|net|org|io|ai|dev|xyz|top|cc|me|tech|info|digital|college|media|global|co|uk|kr|br|jp|de|cn|gov|edu|app|news|site|online|ru|it|fr|tw|hk|in|eu|us|ca|au)(?![a-z0-9-]))");
  std::string low = text;
  std::transform(low.begin(), low.end(), low.begin(), [](unsigned char c) { return std::tolower(c); });
  std::vector<std::string> out;
  for (std::sregex_iterator it(low.begin(), low.end(), host), end; it != end; ++it) {
    std::string h = it->str();
    if (h.rfind("www.", 0) == 0) h = h.substr(4);
    out.push_back(h);
  }
  return out;
}

std::vector<std::string> load_denylist(const std::string& hwdb_dir) {
  const std::filesystem::path path = std::filesystem::path(hwdb_dir) / "source-denylist.toml";
  std::vector<std::string> out;
  if (!std::filesystem::exists(path)) return out;
  const toml::table t = io::parse_toml_file(path.string());
  const toml::array* a = t["domains"].as_array();
  if (!a) throw InputError(path.string(), 1, "domains", "missing (a list of domains)");
  for (auto& v : *a) {
    const auto s = v.value<std::string>();
    if (!s || s->empty()) throw InputError(path.string(), io::line_of(v), "domains", "every entry must be a domain string");
    out.push_back(*s);
  }
  return out;
}

bool denied(const std::string& host, const std::vector<std::string>& denylist) {
  for (auto& d : denylist)
    if (host == d || (host.size() > d.size() && host.compare(host.size() - d.size(), d.size(), d) == 0 &&
                      host[host.size() - d.size() - 1] == '.'))
      return true;
  return false;
}

std::map<std::string, SourceUse> source_hosts(const Hwdb& db) {
  std::map<std::string, SourceUse> out;
  for (auto* m : {&db.chips, &db.systems, &db.clusters, &db.sites, &db.stacks})
    for (auto& [id, r] : *m) {
      if (!r.str("alias_of").empty()) continue;
      for (auto& [key, n] : r.numbers) {
        std::set<std::string> seen;
        for (auto& h : hosts_in(n.source + " " + n.note)) seen.insert(h);
        for (auto& h : seen) {
          SourceUse& u = out[h];
          ++u.numbers;
          if (u.where.size() < 3) u.where.push_back(n.file + ": " + key);
        }
      }
    }
  return out;
}

}  // namespace podperf
