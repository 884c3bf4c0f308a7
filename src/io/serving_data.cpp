#include "podperf/io/serving_data.hpp"

#include <cmath>
#include <filesystem>

#include "podperf/io/toml_fields.hpp"

namespace fs = std::filesystem;

namespace podperf {
using io::line_of;

namespace {
double as_number(const toml::node& n, bool& ok) {
  ok = true;
  if (auto d = n.value_exact<double>()) return *d;
  if (auto i = n.value_exact<int64_t>()) return static_cast<double>(*i);
  ok = false;
  return 0;
}

void need_source(const toml::table& t, const std::string& file, const std::string& section) {
  for (const char* k : {"kind", "source"}) {
    const toml::node* n = t.get(k);
    if (!n || !n->is_string() || n->as_string()->get().empty())
      throw InputError(file, line_of(n ? *n : static_cast<const toml::node&>(t)), section + "." + k,
                       "missing (every shipped distribution names its kind and source)");
  }
  const std::string kind = t.get(std::string("kind"))->as_string()->get();
  static const char* kinds[] = {"vendor", "analyst", "measured", "measured-fit", "derived", "assumption"};
  bool known = false;
  for (const char* k : kinds) known = known || kind == k;
  if (!known)
    throw InputError(file, line_of(*t.get("kind")), section + ".kind",
                     "unknown kind '" + kind + "' (vendor | analyst | measured | measured-fit | derived | assumption)");
}

LengthDist read_hist(const toml::table& t, const std::string& file, const std::string& section) {
  need_source(t, file, section);
  for (auto&& [k, v] : t) {
    const std::string key(k.str());
    if (key != "bins" && key != "kind" && key != "source" && key != "note")
      throw InputError(file, line_of(v), section + "." + key, "unknown field (bins | kind | source | note)");
  }
  const toml::node* bn = t.get("bins");
  if (!bn) throw InputError(file, line_of(t), section + ".bins", "missing (required)");
  const toml::array* bins = bn->as_array();
  if (!bins) throw InputError(file, line_of(*bn), section + ".bins", "must be an array of [tokens, count] pairs");
  LengthDist d;
  d.kind = LengthDist::histogram;
  double total = 0;
  int i = 0;
  for (const toml::node& e : *bins) {
    const std::string field = section + ".bins[" + std::to_string(i++) + "]";
    const toml::array* pair = e.as_array();
    if (!pair || pair->size() != 2) throw InputError(file, line_of(e), field, "must be a [tokens, count] pair");
    bool ok1, ok2;
    const double tok = as_number(*pair->get(0), ok1), cnt = as_number(*pair->get(1), ok2);
    if (!ok1 || !ok2) throw InputError(file, line_of(e), field, "tokens and count must be numbers");
    if (!std::isfinite(tok) || tok < 1 || tok > 1e7 || std::floor(tok) != tok)
      throw InputError(file, line_of(e), field, "tokens must be an integer in [1, 10000000] (got " + io::fmt_num(tok) + ")");
    if (!std::isfinite(cnt) || cnt < 0)
      throw InputError(file, line_of(e), field, "count must be >= 0 (got " + io::fmt_num(cnt) + ")");
    d.tokens.push_back(tok);
    d.weight.push_back(cnt);
    total += cnt;
  }
  if (!(total > 0)) throw InputError(file, line_of(*bn), section + ".bins", "empty (no bin has a positive count)");
  return d;
}
}  // namespace

void load_mix(const std::string& id_or_path, const std::string& configs_dir, RequestMix& mix) {
  std::string path = id_or_path;
  if (!fs::exists(path)) {
    const std::string shipped = configs_dir + "/mixes/" + id_or_path + ".toml";
    if (!fs::exists(shipped))
      throw InputError("flag --mix: no file '" + id_or_path + "' and no mix '" + id_or_path + "' in " + configs_dir + "/mixes");
    path = shipped;
  }
  const toml::table root = io::parse_toml_file(path);
  bool any = false;
  for (auto&& [k, v] : root) {
    const std::string key(k.str());
    if (key == "id" || key == "name" || key == "notes" || key == "sources") continue;
    if (key != "input" && key != "output")
      throw InputError(path, line_of(v), key, "unknown field (id | name | notes | sources | input | output)");
    const toml::table* t = v.as_table();
    if (!t) throw InputError(path, line_of(v), key, "must be a table [" + key + "]");
    (key == "input" ? mix.input : mix.output) = read_hist(*t, path, key);
    any = true;
  }
  if (!any) throw InputError(path, 1, "input", "missing: a mix needs an [input] or [output] histogram");
}

ServiceRule load_scenario(const std::string& scenario, const std::string& model_id, const std::string& configs_dir) {
  ServiceRule r;
  r.name = scenario;
  if (scenario == "offline") return r;  // throughput only, no latency bound (MLPerf Offline)
  const std::string path = configs_dir + "/scenarios/mlperf-inference.toml";
  const toml::table root = io::parse_toml_file(path);
  const toml::array* list = root.get_as<toml::array>("benchmark");
  if (!list) throw InputError(path, 1, "benchmark", "missing [[benchmark]] tables");
  int i = 0;
  for (const toml::node& n : *list) {
    const toml::table* b = n.as_table();
    const std::string field = "benchmark[" + std::to_string(i++) + "]";
    if (!b) throw InputError(path, line_of(n), field, "must be a table");
    io::StrictReader rd{path, *b, field, {}};
    const std::string name = rd.str("name");
    rd.str("source");
    rd.str("note", false);
    const toml::node* models = rd.get("models");
    const toml::node* server = rd.get("server");
    const toml::node* inter = rd.get("interactive");
    rd.done();
    if (!models || !models->as_array()) throw InputError(path, line_of(*b), field + ".models", "must be a list of model ids");
    bool match = false;
    for (const toml::node& mn : *models->as_array()) match = match || (mn.is_string() && mn.as_string()->get() == model_id);
    if (!match) continue;
    const toml::node* sc = scenario == "server" ? server : inter;
    if (!sc)
      throw InputError("flag --scenario: " + path + " gives no " + scenario + " bounds for benchmark '" + name + "'");
    const toml::table* st = sc->as_table();
    if (!st) throw InputError(path, line_of(*sc), field + "." + scenario, "must be a table");
    io::StrictReader sr{path, *st, field + "." + scenario, {}};
    r.offline = false;
    r.ttft_ms = sr.number("ttft_ms", 0, true);
    r.tpot_ms = sr.number("tpot_ms", 0, true);
    r.percentile = sr.number("percentile", 99, true);
    if (r.percentile >= 100)
      throw InputError(path, line_of(*st->get("percentile")), field + "." + scenario + ".percentile", "must be in (0, 100)");
    sr.done();
    r.name = scenario + " (MLPerf " + name + ")";
    return r;
  }
  throw InputError("flag --scenario: no MLPerf benchmark for model '" + model_id + "' in " + path);
}

}  // namespace podperf
