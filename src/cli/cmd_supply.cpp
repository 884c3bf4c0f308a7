// podperf supply ID: good chips per year of one chip's supply chain, the binding constraint, the
// systems they fill and every input with its source. podperf fleet ID [ID ...]: compute, power,
// capex, TCO and tokens/s of fleets and scenarios side by side, each system evaluated as `estimate`
// evaluates it.
#include "cmd_supply.hpp"
#include "json_output.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>

#include "estimate_output.hpp"
#include "podperf/core/cost.hpp"
#include "podperf/core/economics.hpp"
#include "podperf/app/scenario.hpp"
#include "podperf/app/fleet.hpp"
#include "podperf/io/json.hpp"
#include "podperf/io/supply_db.hpp"
#include "table.hpp"

namespace podperf::cli {

SystemEval evaluate_system(Context& ctx, const std::string& system_id, const Model& m, const std::string& mode, double tpot_ms) {
  // The scenario `estimate --system ID --mode MODE [--tpot-ms T]` evaluates, at the system's home site.
  const Hwdb& db = ctx.db();
  const System sys = db.system(with_model_stack(db, system_id, m.moe()));
  Scenario sc;
  sc.system = system_id;
  sc.model = m.id;
  sc.w.mode = mode;
  sc.w.tpot_ms = mode == "decode" || mode == "serve" ? tpot_ms : 0;
  const Evaluation ev = evaluate_on(ctx.scenario_data(), sys, db.site(sys.home_site), m, sc);
  const Estimate& e = ev.econ.est;
  SystemEval r;
  r.id = system_id;
  r.chips = sys.chips;
  r.fits = e.fits();
  r.tokens_per_s = e.fits() ? e.tokens_per_s : 0;
  r.capex_usd = ev.econ.tco.capex_usd;
  r.tco_usd_per_h = ev.econ.tco.per_h();
  r.it_peak_w = ev.econ.tco.it_peak_w;
  r.facility_avg_w = ev.econ.tco.facility_avg_w;
  for (int p = 0; p < kPrecisions; ++p) r.dense_tflops_per_chip[p] = sys.chip.peak(static_cast<Precision>(p));
  return r;
}

namespace {
// The binding constraint as a JSON value.
const char* bound_key(SupplyBound b) { return b == SupplyBound::logic ? "logic" : b == SupplyBound::hbm ? "hbm" : "packaging"; }

std::string count_text(double v) { return group_digits(num(std::round(v), 12)); }

// The systems in the hwdb that hold a chip, by id.
std::vector<std::pair<std::string, int>> systems_of_chip(const Hwdb& db, const std::string& chip) {
  std::vector<std::pair<std::string, int>> out;
  for (auto& [id, rec] : db.systems) {
    const System s = db.system(id);
    if (s.chip.id == chip) out.push_back({id, s.chips});
  }
  return out;
}

std::string range_text(const Number& n) {
  if (!n.has_range) return "-";
  return group_digits(num(n.low)) + " - " + group_digits(num(n.high));
}

void print_supply(std::ostream& os, const SupplyEntry& e, const Hwdb& db) {
  const SupplyYear y = supply_year(e.central);
  const SupplyRange r = supply_range(e.central, e.low, e.high);
  os << e.name << " (" << e.id << "): " << e.chip << " at " << e.foundry << " " << e.node << "\n";
  os << "good chips per year: " << count_text(y.good_chips) << " (range " << count_text(r.low) << " - " << count_text(r.high)
     << " over the inputs' ranges)\n";
  os << "binding constraint: " << to_string(y.bound) << "\n";
  Table t({"constraint", "chips per year", "over the binding one"});
  const std::pair<SupplyBound, double> cs[] = {
      {SupplyBound::logic, y.chips_logic}, {SupplyBound::hbm, y.chips_hbm}, {SupplyBound::packaging, y.chips_packaging}};
  for (auto& [b, v] : cs)
    t.row({to_string(b), std::isfinite(v) ? count_text(v) : "unlimited", b == y.bound ? "binds" : ratio(v, y.chips_started)});
  t.print(os);
  os << "  logic: " << num(y.dies_per_wafer) << " dies per " << num(e.central.wafer_mm) << " mm wafer (" << num(e.central.die_mm2)
     << " mm^2), yield " << num(y.yield) << " -> " << num(y.good_dies_per_wafer) << " good dies per wafer; "
     << count_text(y.wafers_per_year) << " wafers per year; " << count_text(y.bank_dies_per_year) << " banked dies per year; "
     << num(e.central.dies_per_chip) << " dies per chip\n";
  os << "  HBM: " << count_text(y.hbm_stacks_per_year) << " stacks per year at " << num(e.central.hbm_stacks_per_chip)
     << " per chip; packaging yield " << num(e.central.package_yield) << "; started " << count_text(y.chips_started)
     << " chips on " << count_text(y.wafers_used) << " wafers\n";
  const auto sys = systems_of_chip(db, e.chip);
  if (!sys.empty()) {
    os << "systems filled per year:";
    for (auto& [id, chips] : sys)
      os << " " << id << " " << count_text(systems_filled(y.good_chips, chips)) << " (" << count_text(systems_filled(r.low, chips))
         << " - " << count_text(systems_filled(r.high, chips)) << ");";
    os << "\n";
  }
  os << "inputs\n";
  Table in({"field", "value", "range", "kind", "source"});
  in.left_align_all();
  for (auto& key : e.rec.order) {
    if (!e.rec.numbers.count(key)) continue;
    const Number& n = e.rec.numbers.at(key);
    in.row({key, num(n.value, 6), range_text(n), to_string(n.kind), n.source + (n.note.empty() ? "" : " (" + n.note + ")")});
  }
  in.print(os);
  os << "largest swings in good chips per year (input at its low end, at its high end)\n";
  for (auto& s : r.swings)
    if (s.at_low != s.at_high) os << "  " << s.field << ": " << count_text(s.at_low) << " .. " << count_text(s.at_high) << "\n";
}

Json supply_json(const SupplyEntry& e, const Hwdb& db) {
  const SupplyYear y = supply_year(e.central);
  const SupplyRange r = supply_range(e.central, e.low, e.high);
  Json j = Json::object();
  j["id"] = e.id;
  j["name"] = e.name;
  j["chip"] = e.chip;
  j["foundry"] = e.foundry;
  j["node"] = e.node;
  Json g = Json::object();
  g["value"] = y.good_chips;
  g["low"] = r.low;
  g["high"] = r.high;
  j["good_chips_per_year"] = g;
  j["binding_constraint"] = bound_key(y.bound);
  j["chips_logic"] = y.chips_logic;
  j["chips_hbm"] = std::isfinite(y.chips_hbm) ? Json(y.chips_hbm) : Json();
  j["chips_packaging"] = y.chips_packaging;
  j["chips_started"] = y.chips_started;
  j["dies_per_wafer"] = y.dies_per_wafer;
  j["yield"] = y.yield;
  j["wafers_per_year"] = y.wafers_per_year;
  j["wafers_used"] = y.wafers_used;
  j["hbm_stacks_per_year"] = y.hbm_stacks_per_year;
  Json sys = Json::object();
  for (auto& [id, chips] : systems_of_chip(db, e.chip)) sys[id] = systems_filled(y.good_chips, chips);
  j["systems_filled_per_year"] = sys;
  Json in = Json::object();
  for (auto& key : e.rec.order) {
    if (!e.rec.numbers.count(key)) continue;
    const Number& n = e.rec.numbers.at(key);
    Json x = Json::object();
    x["value"] = n.value;
    x["low"] = n.low;
    x["high"] = n.high;
    x["kind"] = to_string(n.kind);
    x["source"] = n.source;
    in[key] = x;
  }
  j["inputs"] = in;
  return j;
}

// ---- fleets ----

struct EntryResult {
  std::string system, supply;
  std::string count_source;  // a stated count: its kind and source
  double count = 0, count_low = 0, count_high = 0;  // systems (range: from the supply's range)
  SystemEval eval;
};
struct FleetResult {
  Fleet fleet;
  std::vector<EntryResult> entries;
  std::map<std::string, SupplyYear> supply;  // supplies the fleet draws on, after its supply_set
  double chips = 0, tokens_per_s = 0, tokens_low = 0, tokens_high = 0, capex_usd = 0, tco_usd_per_year = 0;
  double it_mw = 0, facility_mw = 0;
  double pflops[kPrecisions] = {};
};

FleetResult evaluate_fleet(Context& ctx, const Fleet& f, const SupplyDb& base_supply,
                           std::map<std::string, SystemEval>& cache) {
  FleetResult r;
  r.fleet = f;
  const SupplyDb sdb = fleet_supply(f, base_supply);
  const Model m = ctx.models().model(f.model);
  for (auto& e : f.entries) {
    EntryResult x;
    x.system = e.system;
    x.supply = e.supply;
    const std::string key = e.system + "|" + f.model + "|" + f.mode + "|" + std::to_string(f.tpot_ms);
    if (!cache.count(key)) cache[key] = evaluate_system(ctx, e.system, m, f.mode, f.tpot_ms);
    x.eval = cache.at(key);
    if (!e.supply.empty()) {
      const SupplyEntry& s = sdb.get(e.supply);
      const SupplyYear y = supply_year(s.central);
      const SupplyRange sr = supply_range(s.central, s.low, s.high);
      r.supply[e.supply] = y;
      x.count = systems_filled(y.good_chips * e.supply_frac, x.eval.chips);
      x.count_low = systems_filled(sr.low * e.supply_frac, x.eval.chips);
      x.count_high = systems_filled(sr.high * e.supply_frac, x.eval.chips);
    } else {
      x.count = e.count.value;
      x.count_source = std::string(to_string(e.count.kind)) + ": " + e.count.source + (e.count.note.empty() ? "" : "; " + e.count.note);
      x.count_low = e.count.low;
      x.count_high = e.count.high;
    }
    r.chips += x.count * x.eval.chips;
    r.tokens_per_s += x.count * x.eval.tokens_per_s;
    r.tokens_low += x.count_low * x.eval.tokens_per_s;
    r.tokens_high += x.count_high * x.eval.tokens_per_s;
    r.capex_usd += x.count * x.eval.capex_usd;
    r.tco_usd_per_year += x.count * x.eval.tco_usd_per_h * 8760;
    r.it_mw += x.count * x.eval.it_peak_w / 1e6;
    r.facility_mw += x.count * x.eval.facility_avg_w / 1e6;
    for (int p = 0; p < kPrecisions; ++p) r.pflops[p] += x.count * x.eval.chips * x.eval.dense_tflops_per_chip[p] / 1000;
    r.entries.push_back(x);
  }
  return r;
}

const Precision kShown[] = {Precision::bf16, Precision::fp8, Precision::int8, Precision::fp4};

Json fleet_json(const FleetResult& r) {
  Json j = Json::object();
  j["id"] = r.fleet.id;
  j["name"] = r.fleet.name;
  j["model"] = r.fleet.model;
  j["mode"] = r.fleet.mode;
  j["tpot_ms"] = r.fleet.tpot_ms;
  Json es = Json::array();
  for (auto& e : r.entries) {
    Json x = Json::object();
    x["system"] = e.system;
    x["supply"] = e.supply.empty() ? Json() : Json(e.supply);
    x["systems"] = e.count;
    x["systems_low"] = e.count_low;
    x["systems_high"] = e.count_high;
    x["count_source"] = e.count_source.empty() ? Json() : Json(e.count_source);
    x["chips"] = e.count * e.eval.chips;
    x["fits"] = e.eval.fits;
    x["tokens_per_s_per_system"] = e.eval.tokens_per_s;
    x["capex_usd_per_system"] = e.eval.capex_usd;
    x["tco_usd_per_h_per_system"] = e.eval.tco_usd_per_h;
    x["it_peak_w_per_system"] = e.eval.it_peak_w;
    x["tokens_per_s"] = e.count * e.eval.tokens_per_s;
    es.push(x);
  }
  j["entries"] = es;
  Json s = Json::object();
  for (auto& [id, y] : r.supply) {
    Json x = Json::object();
    x["good_chips_per_year"] = y.good_chips;
    x["binding_constraint"] = bound_key(y.bound);
    s[id] = x;
  }
  j["supply"] = s;
  Json t = Json::object();
  t["chips"] = r.chips;
  t["tokens_per_s"] = r.tokens_per_s;
  t["tokens_per_s_low"] = r.tokens_low;
  t["tokens_per_s_high"] = r.tokens_high;
  t["capex_usd"] = r.capex_usd;
  t["tco_usd_per_year"] = r.tco_usd_per_year;
  t["it_peak_mw"] = r.it_mw;
  t["facility_avg_mw"] = r.facility_mw;
  Json pf = Json::object();
  for (Precision p : kShown) pf[to_string(p)] = r.pflops[static_cast<int>(p)];
  t["dense_pflops"] = pf;
  j["totals"] = t;
  return j;
}

void print_fleets(std::ostream& os, const std::vector<FleetResult>& rs) {
  for (auto& r : rs) {
    os << r.fleet.id << ": " << r.fleet.name << "\n";
    for (auto& e : r.entries)
      os << "  " << e.system << " x " << count_text(e.count)
         << (e.supply.empty() ? " (" + count_text(e.count_low) + " - " + count_text(e.count_high) + ")"
                              : " (from supply " + e.supply + ": " + count_text(e.count_low) + " - " + count_text(e.count_high) + ")")
         << ", " << group_digits(num(e.eval.tokens_per_s)) << " tokens/s each" << (e.eval.fits ? "" : " (the model does not fit)") << "\n"
         << (e.count_source.empty() ? std::string() : "    count " + e.count_source + "\n");
    for (auto& [id, y] : r.supply)
      os << "  supply " << id << ": " << count_text(y.good_chips) << " good chips per year, bound by " << to_string(y.bound) << "\n";
    for (auto& s : r.fleet.supply_set) os << "  scenario: " << s << "\n";
  }
  std::vector<std::string> head = {"per year of fleet"};
  for (auto& r : rs) head.push_back(r.fleet.id);
  if (rs.size() == 2) head.push_back("A/B");
  Table t(head);
  auto row = [&](const std::string& label, auto get) {
    std::vector<std::string> cells = {label};
    for (auto& r : rs) cells.push_back(group_digits(num(get(r))));
    if (rs.size() == 2) cells.push_back(ratio(get(rs[0]), get(rs[1])));
    t.row(cells);
  };
  row("accelerators", [](const FleetResult& r) { return r.chips; });
  for (Precision p : kShown)
    row(std::string(to_string(p)) + " dense PFLOPS (native)", [p](const FleetResult& r) { return r.pflops[static_cast<int>(p)]; });
  row("IT power MW (peak, all-in)", [](const FleetResult& r) { return r.it_mw; });
  row("facility power MW (average)", [](const FleetResult& r) { return r.facility_mw; });
  row("capex M USD", [](const FleetResult& r) { return r.capex_usd / 1e6; });
  row("TCO M USD per year", [](const FleetResult& r) { return r.tco_usd_per_year / 1e6; });
  row("tokens/s (" + rs.front().fleet.model + ", " + rs.front().fleet.mode + ")", [](const FleetResult& r) { return r.tokens_per_s; });
  row("  low (count and supply ranges)", [](const FleetResult& r) { return r.tokens_low; });
  row("  high (count and supply ranges)", [](const FleetResult& r) { return r.tokens_high; });
  row("tokens/s per MW (facility)", [](const FleetResult& r) { return r.facility_mw > 0 ? r.tokens_per_s / r.facility_mw : 0; });
  t.print(os);
  os << "  each system as `estimate --system ID --model " << rs.front().fleet.model << " --mode " << rs.front().fleet.mode
     << (rs.front().fleet.mode == "decode" ? " --tpot-ms " + num(rs.front().fleet.tpot_ms) : std::string()) << "` at its home site, times its count\n";
}
}  // namespace

void add_supply_commands(CLI::App& app, Context& ctx) {
  {
    struct Opts {
      std::string id;
      std::vector<std::string> with;
      bool json = false;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand("supply", "good chips per year from wafers, yield, HBM and packaging, with the binding constraint");
    cmd->add_option("id", o->id, "supply id (hwdb/supply) or a supply file")->required();
    cmd->add_option("--with", o->with, "SECTION.FIELD=VALUE: one supply input for this run (e.g. die.yield=0.6); repeatable");
    cmd->add_flag("--json", o->json, "machine-readable output");
    cmd->callback([&ctx, o] {
      SupplyEntry e = supply_by_name(o->id, ctx.hwdb_dir, ctx.db());
      for (auto& w : o->with) set_supply_value(e, w, "flag --with", 0, "");
      if (o->json) write_json(std::cout, supply_json(e, ctx.db()));
      else print_supply(std::cout, e, ctx.db());
    });
  }
  {
    struct Opts {
      std::vector<std::string> ids, vs;
      bool json = false;
    };
    auto o = std::make_shared<Opts>();
    auto* cmd = app.add_subcommand("fleet", "compute, power, capex, TCO and tokens/s of fleets and scenarios (configs/fleets), side by side");
    cmd->add_option("ids", o->ids, "fleet ids (configs/fleets) or fleet files")->required();
    cmd->add_option("--vs", o->vs, "fleets to compare against (as more ids)");
    cmd->add_flag("--json", o->json, "machine-readable output");
    cmd->callback([&ctx, o] {
      const SupplyDb sdb = load_supply(ctx.hwdb_dir, ctx.db());
      std::vector<std::string> all = o->ids;
      all.insert(all.end(), o->vs.begin(), o->vs.end());
      std::vector<Fleet> fleets;
      for (auto& id : all) fleets.push_back(load_fleet(id, ctx.configs_dir, ctx.db(), sdb));
      std::map<std::string, SystemEval> cache;
      std::vector<FleetResult> rs;
      for (auto& f : fleets) rs.push_back(evaluate_fleet(ctx, f, sdb, cache));
      if (o->json) {
        Json j = Json::object();
        Json a = Json::array();
        for (auto& r : rs) a.push(fleet_json(r));
        j["fleets"] = a;
        write_json(std::cout, j);
      } else {
        print_fleets(std::cout, rs);
      }
    });
  }
}

}  // namespace podperf::cli

// ---- the supply sweep ----

#include "podperf/app/supply_sweep.hpp"
#include "podperf/app/sweep.hpp"
#include "podperf/io/table_h5.hpp"

namespace podperf::cli {

bool is_supply_sweep(const std::string& spec_path) { return is_supply_sweep_spec(spec_path); }

void run_supply_sweep(Context& ctx, const std::string& spec_path, const std::string& out, bool json) {
  const Hwdb& db = ctx.db();
  const SupplyDb sdb = load_supply(ctx.hwdb_dir, db);
  const SupplySweepSpec s = load_supply_sweep_spec(spec_path, db, sdb);
  const Model m = ctx.models().model(s.model);
  // Each system evaluated once, as `estimate` evaluates it; the points scale them.
  const SystemEval asc = evaluate_system(ctx, s.system, m, s.mode, s.tpot_ms);
  const SystemEval imp = evaluate_system(ctx, s.import_system, m, s.mode, s.tpot_ms);
  const SystemEval nv = evaluate_system(ctx, s.nvidia_system, m, s.mode, s.tpot_ms);
  const SupplyEntry& base = sdb.get(s.supply);
  const SupplyYear nvy = supply_year(sdb.get(s.nvidia_supply).central);
  const double nv_chips_per_wafer = nvy.good_dies_per_wafer / std::max(1.0, sdb.get(s.nvidia_supply).central.dies_per_chip) *
                                    sdb.get(s.nvidia_supply).central.package_yield;
  const std::uint64_t n = s.points();
  H5Table t;
  t.reason.assign(n, 0);
  t.reason_codes = "0: ok";
  for (auto& a : s.axes) t.axes.push_back({a.name, a.name == "import_chips" ? "chips" : "", std::vector<double>(n), {}});
  const char* names[][2] = {{"good_chips_per_year", "chips"},
                            {"binding_constraint", "0 logic, 1 hbm, 2 packaging"},
                            {"wafers_per_year", "wafers"},
                            {"ascend_systems", "systems"},
                            {"ascend_tokens_per_s", "tokens/s"},
                            {"ascend_facility_mw", "MW"},
                            {"import_systems", "systems"},
                            {"import_tokens_per_s", "tokens/s"},
                            {"fleet_tokens_per_s", "tokens/s"},
                            {"fleet_facility_mw", "MW"},
                            {"nvidia_tokens_per_s_equal_power", "tokens/s"},
                            {"nvidia_tokens_per_s_equal_wafers", "tokens/s"},
                            {"nvidia_chips_equal_wafers", "chips"}};
  for (auto& [name, units] : names) t.metrics.push_back({name, units, std::vector<double>(n), {}});
  for (std::uint64_t i = 0; i < n; ++i) {
    SupplyInputs in = base.central;
    double import_chips = 0;
    std::uint64_t rest = i;
    for (std::size_t k = s.axes.size(); k-- > 0;) {
      const SupplySweepAxis& a = s.axes[k];
      const double v = a.values[rest % a.values.size()];
      rest /= a.values.size();
      t.axes[k].values[i] = v;
      if (a.field.empty()) {
        import_chips = v;
        continue;
      }
      for (auto& [key, member] : supply_fields())
        if (key == a.field) in.*member = v;
      if (a.field == "die.yield") in.defect_per_cm2 = 0;
    }
    const SupplyYear y = supply_year(in);
    const double systems = systems_filled(y.good_chips, asc.chips);
    const double imports = systems_filled(import_chips, imp.chips);
    // The wafer budget: every die of the started chips at the foundry's yield (banked dies counted as
    // the wafers they would take).
    const double wafers = y.good_dies_per_wafer > 0 ? y.chips_started * in.dies_per_chip / y.good_dies_per_wafer : 0;
    const double asc_mw = systems * asc.facility_avg_w / 1e6;
    const double nv_systems_power = nv.facility_avg_w > 0 ? asc_mw * 1e6 / nv.facility_avg_w : 0;
    const double nv_chips_wafers = wafers * nv_chips_per_wafer;
    const double v[] = {y.good_chips,
                        double(static_cast<int>(y.bound)),
                        wafers,
                        systems,
                        systems * asc.tokens_per_s,
                        asc_mw,
                        imports,
                        imports * imp.tokens_per_s,
                        systems * asc.tokens_per_s + imports * imp.tokens_per_s,
                        asc_mw + imports * imp.facility_avg_w / 1e6,
                        nv_systems_power * nv.tokens_per_s,
                        nv_chips_wafers / nv.chips * nv.tokens_per_s,
                        nv_chips_wafers};
    for (std::size_t k = 0; k < t.metrics.size(); ++k) t.metrics[k].values[i] = v[k];
  }
  const char* epoch = std::getenv("SOURCE_DATE_EPOCH");
  char when[32] = "unknown";
  {
    std::time_t now = epoch ? static_cast<std::time_t>(std::strtoll(epoch, nullptr, 10)) : std::time(nullptr);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  }
  t.text_attrs = {{"podperf_version", PODPERF_VERSION}, {"git_revision", PODPERF_GIT_REV},
                  {"hwdb_hash", hwdb_content_hash(ctx.hwdb_dir)}, {"figure_sets", "none"},
                  {"sweep_kind", "supply"}, {"sweep_id", s.id}, {"sweep_description", s.description},
                  {"sweep_spec", s.text}, {"created_utc", when}, {"invalid_points", "keep"},
                  {"supply", s.supply}, {"system", s.system}, {"import_system", s.import_system},
                  {"nvidia_system", s.nvidia_system}, {"nvidia_supply", s.nvidia_supply}, {"model", s.model}};
  t.num_attrs = {{"points_total", double(n)}, {"points_done", double(n)}, {"rows_written", double(n)}, {"complete", 1},
                 {"tokens_per_s_per_system", asc.tokens_per_s}, {"import_tokens_per_s_per_system", imp.tokens_per_s},
                 {"nvidia_tokens_per_s_per_system", nv.tokens_per_s}};
  write_h5_table(out, t);
  if (json) {
    Json j = Json::object();
    j["output"] = out;
    j["points"] = static_cast<unsigned long>(n);
    j["kind"] = "supply";
    write_json(std::cout, j);
  } else {
    std::cout << "supply sweep " << s.id << ": " << n << " points to " << out << " (" << s.system << " from " << s.supply
              << ", imports " << s.import_system << ", against " << s.nvidia_system << " at equal power and equal wafers)\n";
  }
}

}  // namespace podperf::cli
