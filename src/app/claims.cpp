#include "podperf/app/claims.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <utility>

#include "podperf/core/precision_choice.hpp"
#include "podperf/core/economics.hpp"
#include "podperf/core/plan.hpp"
#include "podperf/io/supply_db.hpp"
#include "podperf/core/system_specs.hpp"
#include "podperf/io/toml_fields.hpp"

namespace fs = std::filesystem;

namespace podperf {

namespace {
Relation parse_relation(const std::string& s, const std::string& file, int line, const std::string& field) {
  if (s == "about") return Relation::about;
  if (s == "at_least") return Relation::at_least;
  if (s == "at_most") return Relation::at_most;
  throw InputError(file, line, field, "unknown relation '" + s + "' (about | at_least | at_most)");
}

const std::set<std::string>& metrics() {
  static const std::set<std::string> m = {"chip_hbm_gb", "chip_hbm_tb_s", "chips", "dies", "hbm_tb", "memory_tb",
                                          "hbm_tb_s", "scaleup_tb_s_bidir", "power_kw", "tokens_per_s_per_chip",
                                          "breakeven_electricity", "energy_cost_ratio", "energy_per_token_ratio", "chip_mfg_usd",
                                          "usd_per_mtok", "usd_per_mtok_ratio", "tco_usd_per_day",
                                          "supply_good_chips", "supply_good_chips_ratio", "supply_wafer_share",
                                          "supply_hbm_over_logic"};
  return m;
}

bool known_metric(const std::string& m) {
  if (metrics().count(m)) return true;
  for (const char* p : {"chip_dense_tflops:", "dense_pflops:", "w_per_tflops:"})
    if (m.rfind(p, 0) == 0) {
      Precision x;
      return parse_precision(m.substr(std::string(p).size()), x);
    }
  return false;
}

// Metrics that run a workload on A and B (or A alone: usd_per_mtok, tco_usd_per_day, in USD).
bool is_workload(const std::string& m) {
  return m == "tokens_per_s_per_chip" || m == "breakeven_electricity" || m == "energy_cost_ratio" || m == "energy_per_token_ratio" ||
         m == "usd_per_mtok" || m == "usd_per_mtok_ratio" || m == "tco_usd_per_day";
}
bool in_usd(const std::string& m) { return m == "usd_per_mtok" || m == "tco_usd_per_day" || m == "chip_mfg_usd"; }
bool is_supply(const std::string& m) { return m.rfind("supply_", 0) == 0; }

// A supply reading: good chips per year of A (hwdb/supply), or a ratio, share or balance of A and
// B with each reading's supply inputs applied (docs/supply.md). `range` gets the spread of A's good
// chips over its inputs' ranges for supply_good_chips.
double supply_quantity(const Hwdb& db, const Claim& c, const ClaimReading& r, Interval* range) {
  const SupplyDb sdb = load_supply(db.dir, db);
  SupplyEntry a = sdb.get(r.a.empty() ? c.a : r.a), b = sdb.get(r.b.empty() ? c.b : r.b);
  for (auto& s : r.supply_set_a) set_supply_value(a, s, c.file, 0, "reading.supply_set_a");
  for (auto& s : r.supply_set_b) set_supply_value(b, s, c.file, 0, "reading.supply_set_b");
  const SupplyYear ya = supply_year(a.central);
  const std::string& m = r.metric;
  double v = 0;
  if (m == "supply_good_chips") v = ya.good_chips;
  else if (m == "supply_wafer_share") v = ya.wafers_used / (12 * a.central.node_wafers_per_month);
  else if (m == "supply_hbm_over_logic") v = ya.chips_hbm / ya.chips_logic;
  else v = ya.good_chips / (supply_year(b.central).good_chips * r.b_factor);
  range->central = range->low = range->high = v;
  if (m == "supply_good_chips") {
    const SupplyRange sr = supply_range(a.central, a.low, a.high);
    range->low = sr.low;
    range->high = sr.high;
  }
  return v;
}

// The unit a reading's figure is shown in.
std::string unit_of(const std::string& m) {
  if (m == "breakeven_electricity") return " USD/kWh";
  if (m == "supply_good_chips") return " chips per year";
  if (m == "supply_wafer_share") return " of the node's wafers";
  if (in_usd(m) && m != "chip_mfg_usd") return " USD";
  return "x";
}

Precision prec_of(const std::string& metric) {
  Precision p = Precision::bf16;
  parse_precision(metric.substr(metric.find(':') + 1), p);
  return p;
}


// The workload of a reading on one system: podperf's default plan (as `estimate` would choose it),
// the chip's native 8-bit format unless the reading names a precision.
// A workload reading as a scenario on one system (A when `a`): the inputs the reading names, every
// other default the scenario layer's.
Scenario scenario_for(const ClaimReading& r, const RecipeDb* recipes, bool a) {
  Scenario sc;
  sc.w.mode = r.mode;
  sc.w.recipes = recipes;
  const std::string& weights = a ? r.weights_a : r.weights_b;
  if (r.mode == "train") {
    sc.w.seq = r.seq;
    if (!weights.empty()) sc.w.precision = weights;
  } else {
    if (!weights.empty()) sc.w.weights = weights;
    sc.w.seq_in = r.seq_in;
    sc.w.seq_out = r.seq_out;
    sc.w.tpot_ms = r.tpot_ms;
  }
  return sc;
}

std::string site_of(const System& s, const std::string& given) {
  return !given.empty() ? given : s.home_site;
}

// The reading's quantity at one pick.
// Workload readings record the figures of A and B in `sides` (may be null).
double quantity(const Hwdb& db, const ScenarioData& base, const Claim& c, const ClaimReading& r, const Pick& pick,
                ReadingResult* sides) {
  const std::string& ida = r.a.empty() ? c.a : r.a;
  const std::string& idb = r.b.empty() ? c.b : r.b;
  const std::string& m = r.metric;
  const double nan = std::nan("");
  if (m.rfind("chip_", 0) == 0) {
    Chip a = db.chip(ida, pick), b = db.chip(idb, pick);
    if (r.yield_a > 0) a.mfg.yield = r.yield_a;
    if (r.yield_b > 0) b.mfg.yield = r.yield_b;
    auto get = [&](const Chip& x) {
      if (m == "chip_mfg_usd") return chip_cost(x).total_usd;
      if (m == "chip_hbm_gb") return x.hbm_gb;
      if (m == "chip_hbm_tb_s") return x.hbm_tb_s;
      return x.peak(prec_of(m));  // native units only: a chip without the precision scores 0
    };
    return get(a) / (get(b) * r.b_factor);
  }
  if (is_workload(m)) {
    ScenarioData data = base;
    data.db = &db;  // the figure set's hwdb
    const Model model = base.models->model(r.model);
    // Each system on the stack `estimate` runs this model on (its dense-model stack for a dense one).
    const System a = db.system(with_model_stack(db, ida, model.moe()), pick),
                 b = db.system(with_model_stack(db, idb, model.moe()), pick);
    Site sa = db.site(site_of(a, r.site_a), pick), sb = db.site(site_of(b, r.site_b), pick);
    if (r.utilization_a > 0) sa.utilization = r.utilization_a;
    if (r.utilization_b > 0) sb.utilization = r.utilization_b;
    auto econ = [&](const System& x, const Site& site, bool is_a) {
      const Evaluation ev = evaluate_on(data, x, site, model, scenario_for(r, base.recipes, is_a));
      if (sides) (is_a ? sides->has_a : sides->has_b) = true, (is_a ? sides->a : sides->b) = ev.result;
      return ev.econ;
    };
    const Economics ea = econ(a, sa, true);
    if (m == "usd_per_mtok") return ea.est.fits() ? ea.usd_per_mtok : nan;  // A alone, in USD
    if (m == "tco_usd_per_day") return ea.tco.per_h() * 24;
    const Economics eb = econ(b, sb, false);
    if (!ea.est.fits() || !eb.est.fits()) return nan;
    if (m == "usd_per_mtok_ratio") return ea.usd_per_mtok / (eb.usd_per_mtok * r.b_factor);
    // Per chip over the chips as bought.
    if (m == "tokens_per_s_per_chip") return (ea.est.tokens_per_s / a.chips) / (eb.est.tokens_per_s / b.chips * r.b_factor);
    if (m == "breakeven_electricity") return breakeven_electricity(ea, eb.usd_per_mtok);
    // Facility energy per generated token, A over B, whatever the price of a kWh.
    if (m == "energy_per_token_ratio") return eb.tokens_per_kwh / (ea.tokens_per_kwh * r.b_factor);
    const double energy_a = ea.tco.energy_per_h / ea.est.tokens_per_s, energy_b = eb.tco.energy_per_h / eb.est.tokens_per_s;
    return energy_a / energy_b;
  }
  const System a = db.system(ida, pick), b = db.system(idb, pick);
  auto get = [&](const System& x) {
    const SystemSpecs sp = system_specs(x);
    if (m == "chips") return double(x.chips);
    if (m == "dies") return double(x.chips) * x.chip.dies;
    if (m == "hbm_tb") return sp.hbm_tb;
    if (m == "memory_tb") return sp.hbm_tb + x.host_memory_tb;
    if (m == "hbm_tb_s") return sp.hbm_tb_s;
    if (m == "scaleup_tb_s_bidir") return 2 * sp.scaleup_tb_s_per_dir;
    if (m == "power_kw") return sp.all_in_kw();
    const double pf = x.chips * peak_tflops(x.chip, prec_of(m)) / 1000;  // the next wider unit where absent
    if (m.rfind("dense_pflops:", 0) == 0) return pf;
    return sp.all_in_kw() * 1000 / (pf * 1000);  // w_per_tflops
  };
  return get(a) / (get(b) * r.b_factor);
}

bool satisfies(double v, Relation rel, double claimed, double tol) {
  if (!std::isfinite(v)) return false;
  switch (rel) {
    case Relation::about: return std::abs(v / claimed - 1) <= tol;
    case Relation::at_least: return v >= claimed * (1 - tol);
    case Relation::at_most: return v <= claimed * (1 + tol);
  }
  return false;
}

const char* relation_text(Relation r) {
  return r == Relation::about ? "about" : r == Relation::at_least ? "at least" : "at most";
}
}  // namespace

std::vector<Claim> load_claims(const std::string& dir) {
  if (!fs::is_directory(dir)) throw InputError(dir + ": not a claims directory");
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".toml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<Claim> out;
  for (auto& path : files) {
    const std::string file = path.lexically_normal().string();
    const toml::table root = io::parse_toml_file(file);
    Claim c;
    c.file = file;
    io::StrictReader top{file, root, "", {"reading"}};
    c.id = top.str("id");
    if (c.id != path.stem().string()) throw InputError(file, io::line_of(*root.get("id")), "id", "'" + c.id + "' does not match the file name");
    c.sentence = top.str("sentence");
    c.source = top.str("source");
    c.quantity = top.str("quantity");
    c.a = top.str("a");
    c.b = top.str("b");
    c.claimed = top.number("claimed", 1, true);
    c.relation = parse_relation(top.str("relation"), file, io::line_of(*root.get("relation")), "relation");
    if (root.get("tolerance")) {
      const toml::node* t = root.get("tolerance");
      auto v = t->value<double>();
      if (!v || *v < 0 || *v >= 1) throw InputError(file, io::line_of(*t), "tolerance", "must be in [0, 1)");
      c.tolerance = *v;
    }
    top.allowed.insert("tolerance");
    top.done();
    const toml::array* rs = root.get_as<toml::array>("reading");
    if (!rs || rs->empty()) throw InputError(file, 1, "reading", "missing: at least one [[reading]]");
    for (auto& n : *rs) {
      const toml::table* t = n.as_table();
      if (!t) throw InputError(file, io::line_of(n), "reading", "must be a table [[reading]]");
      io::StrictReader r{file, *t, "reading", {}};
      ClaimReading x;
      x.label = r.str("label");
      x.metric = r.str("metric");
      if (!known_metric(x.metric)) throw InputError(file, io::line_of(*t->get("metric")), "reading.metric", "unknown metric '" + x.metric + "'");
      x.a = r.str("a", false);
      x.b = r.str("b", false);
      x.figures = r.str("figures", false);
      x.b_factor = r.number("b_factor", 1);
      x.model = r.str("model", false);
      const std::string mode = r.str("mode", false);
      if (!mode.empty()) x.mode = mode;
      if (x.mode != "decode" && x.mode != "prefill" && x.mode != "serve" && x.mode != "train")
        throw InputError(file, io::line_of(*t->get("mode")), "reading.mode", "unknown mode '" + x.mode + "'");
      const bool workload = is_workload(x.metric);
      if (workload && x.model.empty()) throw InputError(file, io::line_of(n), "reading.model", "missing (required by metric '" + x.metric + "')");
      x.weights_a = r.str("weights_a", false);
      x.weights_b = r.str("weights_b", false);
      x.tpot_ms = r.number("tpot_ms", 0);
      x.seq_in = r.integer("seq_in", defaults::seq_in);
      x.seq_out = r.integer("seq_out", defaults::seq_out);
      x.seq = r.integer("seq", 0);  // 0: the model's training length, as estimate takes it
      x.site_a = r.str("site_a", false);
      x.site_b = r.str("site_b", false);
      const std::pair<const char*, double*> points[] = {{"utilization_a", &x.utilization_a}, {"utilization_b", &x.utilization_b},
                                                        {"yield_a", &x.yield_a}, {"yield_b", &x.yield_b}};
      for (auto& [key, dst] : points) {
        *dst = r.number(key, 0);
        if (*dst > 1) throw InputError(file, io::line_of(*t->get(key)), std::string("reading.") + key, "must be in (0, 1] (got " + io::fmt_num(*dst) + ")");
      }
      for (auto [key, dst] : {std::pair<const char*, std::vector<std::string>*>{"supply_set_a", &x.supply_set_a},
                              std::pair<const char*, std::vector<std::string>*>{"supply_set_b", &x.supply_set_b}}) {
        const toml::node* n = r.get(key);
        if (!n) continue;
        const toml::array* a = n->as_array();
        if (!a) throw InputError(file, io::line_of(*n), std::string("reading.") + key, "must be a list of \"SECTION.FIELD=VALUE\" strings");
        for (auto& e : *a) {
          if (!e.is_string()) throw InputError(file, io::line_of(e), std::string("reading.") + key, "must be a list of \"SECTION.FIELD=VALUE\" strings");
          dst->push_back(e.as_string()->get());
        }
      }
      if ((!x.supply_set_a.empty() || !x.supply_set_b.empty()) && !is_supply(x.metric))
        throw InputError(file, io::line_of(n), "reading.supply_set_a", "only with a supply_* metric");
      r.done();
      c.readings.push_back(x);
    }
    out.push_back(std::move(c));
  }
  return out;
}

ClaimResult evaluate_claim(const Claim& c, const std::function<const Hwdb&(const std::string&)>& hwdb_for,
                           const ScenarioData& data, const Pick& pick, int samples, unsigned long seed) {
  ClaimResult res;
  std::vector<std::string> held, all;
  for (auto& r : c.readings) {
    const Hwdb& db = hwdb_for(r.figures);
    ReadingResult out;
    out.label = r.label;
    const bool price = r.metric == "breakeven_electricity";
    // A break-even price is judged against the electricity price at A's site: the power differential
    // is offset when A is no dearer per token at the price it actually pays.
    const std::string& ida = r.a.empty() ? c.a : r.a;
    const double site_price = price ? db.site(site_of(db.system(ida), r.site_a), pick).electricity_usd_kwh : 0;
    auto f = [&](const Pick& p) {
      Pick merged = p;
      for (auto& [k, v] : pick.per_value) merged.per_value[k] = v;
      return quantity(db, data, c, r, merged, nullptr);
    };
    // A supply figure's range comes from the supply file's ranges, not from the hwdb's.
    const bool supply = is_supply(r.metric);
    Pick central;  // the hwdb's values with the caller's overrides
    central.per_value = pick.per_value;
    out.value = supply ? supply_quantity(db, c, r, &out.range) : quantity(db, data, c, r, central, &out);
    if (supply) {
      // range set above
    } else if (samples > 0) {
      std::vector<std::string> ids;
      for (const std::string* id : {&ida, r.b.empty() ? &c.b : &r.b}) {
        if (db.chips.count(*id)) ids.push_back(*id);
        else
          for (auto& e : entities_of_system(db, *id)) ids.push_back(e);
      }
      out.range = monte_carlo(ranged_inputs(db, ids), samples, seed, f);
    } else {
      out.range.central = out.range.low = out.range.high = out.value;
    }
    out.holds = price ? std::isfinite(out.value) && out.value >= site_price
                      : satisfies(out.value, c.relation, c.claimed, c.tolerance);
    if (!std::isfinite(out.value)) out.note = "a system does not fit this workload";
    (out.holds ? held : all).push_back(r.label);
    res.readings.push_back(out);
  }
  if (all.empty()) {
    res.verdict = "holds";
  } else if (held.empty()) {
    res.verdict = "does not hold";
  } else {
    res.verdict = "holds only under ";
    for (std::size_t i = 0; i < held.size(); ++i) res.verdict += (i ? ", " : "") + held[i];
  }
  // One line: every reading's figure against the claim.
  auto fmt = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.3g", v);
    return std::string(b);
  };
  for (std::size_t i = 0; i < res.readings.size(); ++i) {
    const ReadingResult& r = res.readings[i];
    res.reason += (i ? "; " : "") + r.label + ": " +
                  (!std::isfinite(r.value) ? std::string("no value") : fmt(r.value) + unit_of(c.readings[i].metric));
  }
  if (c.readings.front().metric != "breakeven_electricity")
    res.reason += std::string(" (claimed ") + relation_text(c.relation) + " " + fmt(c.claimed) + unit_of(c.readings.front().metric) +
                  (c.relation == Relation::about ? " within " + fmt(100 * c.tolerance) + "%" : "") + ")";
  return res;
}

}  // namespace podperf
