// Where the hwdb's numbers come from, by web domain, against a deny-list of pages an analyst cannot
// cite (aggregators, SEO pages, machine-written re-writes): hwdb/source-denylist.toml.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "podperf/io/hwdb.hpp"

namespace podperf {

// Web hosts named in a text ("nvidia.com/en-us/...", "semianalysis.com"), lower case, in order.
std::vector<std::string> hosts_in(const std::string& text);

// The denied domains of DIR/source-denylist.toml ("domains = [...]"); none when the file is absent.
std::vector<std::string> load_denylist(const std::string& hwdb_dir);

// A host is denied when it is a denied domain or a subdomain of one.
bool denied(const std::string& host, const std::vector<std::string>& denylist);

struct SourceUse {
  int numbers = 0;                    // numbers whose source or note names the host
  std::vector<std::string> where;     // "file: field", first few
};

// Every host cited by a number (its source and its note), over all entities.
std::map<std::string, SourceUse> source_hosts(const Hwdb& db);

}  // namespace podperf
