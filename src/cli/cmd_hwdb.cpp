// podperf hwdb list | show ID | check [DIR]
#include <filesystem>
#include <iostream>
#include <memory>

#include "context.hpp"
#include "podperf/io/supply_db.hpp"
#include "podperf/io/error.hpp"
#include "podperf/io/json.hpp"
#include "podperf/core/power.hpp"
#include "podperf/io/sources.hpp"
#include "podperf/io/suggest.hpp"
#include "podperf/core/system_specs.hpp"
#include "table.hpp"
#include "json_output.hpp"

namespace podperf::cli {

namespace {
const char* kKinds[] = {"chips", "systems", "clusters", "sites", "stacks", "schedules"};

Json number_json(const Number& n, const std::string& unit) {
  Json j = Json::object();
  if (!n.curve_x.empty()) {
    Json m = Json::array(), e = Json::array();
    for (double x : n.curve_x) m.push(x);
    for (double x : n.list) e.push(x);
    j["m"] = m;
    j["eff"] = e;
  } else if (n.list.empty()) {
    j["value"] = n.value;
  } else {
    Json a = Json::array();
    for (double x : n.list) a.push(x);
    j["value"] = a;
  }
  j["unit"] = unit;
  if (n.has_range) {
    Json r = Json::array();
    r.push(n.low);
    r.push(n.high);
    j["range"] = r;
  }
  j["kind"] = to_string(n.kind);
  j["source"] = n.source;
  if (!n.note.empty()) j["note"] = n.note;
  j["file"] = n.file;
  j["line"] = n.line;
  return j;
}

std::string value_text(const Number& n) {
  if (!n.curve_x.empty()) {
    std::string s;
    for (std::size_t i = 0; i < n.list.size(); ++i) s += (i ? "; " : "") + num(n.curve_x[i], 6) + ": " + num(n.list[i], 6);
    return "{" + s + "}";
  }
  if (n.list.empty()) return num(n.value, 6);
  std::string s = "[";
  for (std::size_t i = 0; i < n.list.size(); ++i) s += (i ? "; " : "") + num(n.list[i], 6);
  return s + "]";
}

// Where a system or chip is sold (its available_in list); a system without one answers for its chip.
std::vector<std::string> markets(const Hwdb& db, const Record& r) {
  std::vector<std::string> m = split_list(r.str("available_in"));
  if (m.empty() && r.entity == "system")
    if (const Record* c = db.find(r.str("chip"))) m = split_list(c->str("available_in"));
  return m;
}

void list(Context& ctx, const std::string& kind, const std::string& market, bool json) {
  const Hwdb& db = ctx.db();
  Json out = Json::object();
  std::vector<std::string> header = {"id", "kind", "name"};
  if (!market.empty()) header.push_back("available in");
  Table t(header);
  t.left_align_all();
  for (const char* k : kKinds) {
    if (!kind.empty() && kind != k) continue;
    if (!market.empty() && std::string(k) != "chips" && std::string(k) != "systems") continue;
    Json ids = Json::array();
    for (auto& [id, r] : db.of_kind(k)) {
      if (!r.str("alias_of").empty()) continue;  // a former id of a renamed system
      std::string where;
      if (!market.empty()) {
        const std::vector<std::string> m = markets(db, r);
        if (std::find(m.begin(), m.end(), market) == m.end()) continue;
        for (auto& x : m) where += (where.empty() ? "" : ", ") + x;
      }
      ids.push(id);
      std::vector<std::string> row = {id, r.entity, r.str("name")};
      if (!market.empty()) row.push_back(where);
      t.row(row);
    }
    out[k] = ids;
  }
  if (json) write_json(std::cout, out);
  else t.print(std::cout);
}

void show(Context& ctx, const std::string& id, bool json) {
  const Hwdb& db = ctx.db();
  const Record* r = db.find(id);
  if (!r) {
    std::string known;
    std::vector<std::string> ids;
    for (const char* k : kKinds)
      for (auto& [i, rec] : db.of_kind(k)) {
        known += (known.empty() ? "" : ", ") + i;
        ids.push_back(i);
      }
    const std::string hint = closest(id, ids);
    throw InputError("unknown id '" + id + "'" + (hint.empty() ? "" : ": did you mean '" + hint + "'?") + " (known: " +
                     known + ")");
  }
  if (json) {
    Json out = Json::object();
    out["id"] = r->id;
    out["kind"] = r->entity;
    out["file"] = r->file;
    for (auto& key : r->order) {
      if (auto t = r->text.find(key); t != r->text.end()) out[key] = t->second;
      else if (auto n = r->numbers.find(key); n != r->numbers.end()) out[key] = number_json(n->second, unit_of(r->entity, key));
    }
    write_json(std::cout, out);
    return;
  }
  std::cout << r->entity << " " << r->id << " (" << r->file << ")\n";
  for (auto& key : r->order)
    if (auto t = r->text.find(key); t != r->text.end()) std::cout << "  " << key << ": " << t->second << '\n';
  Table t({"field", "value", "unit", "range", "kind", "source"});
  t.left_align_all();
  for (auto& key : r->order) {
    auto it = r->numbers.find(key);
    if (it == r->numbers.end()) continue;
    const Number& n = it->second;
    std::string src = n.source;
    if (n.file != r->file) src += " [figure set " + n.file + "]";
    t.row({key, value_text(n), unit_of(r->entity, key),
           n.has_range ? num(n.low, 6) + " - " + num(n.high, 6) : "", to_string(n.kind), src});
  }
  t.print(std::cout);
}

void check(Context& ctx, const std::string& dir_arg, bool json, bool sources) {
  const std::string dir = dir_arg.empty() ? ctx.hwdb_dir : dir_arg;
  Hwdb db = load_hwdb(dir);
  // Every figure set must apply cleanly on its own.
  std::vector<std::string> sets;
  namespace fs = std::filesystem;
  if (fs::is_directory(fs::path(dir) / "overlays"))
    for (auto& e : fs::directory_iterator(fs::path(dir) / "overlays"))
      if (e.path().extension() == ".toml") sets.push_back(e.path().stem().string());
  for (auto& s : sets) load_hwdb(dir, {s});
  // Every system and cluster must build into the structs the model reads (with each figure set).
  auto build_all = [](const Hwdb& h) {
    for (const char* k : {"systems", "clusters"})
      for (auto& [id, r] : h.of_kind(k)) {
        try {
          const System sys = h.system(id);
          (void)system_specs(sys);
          (void)peak_power(sys);
        } catch (const InputError& e) {
          throw InputError(r.file, r.id_line, "", e.what());
        }
      }
  };
  build_all(db);
  for (auto& s : sets) build_all(load_hwdb(dir, {s}));
  load_supply(dir, db);  // hwdb/supply (docs/supply.md)
  std::size_t numbers = 0, aliases = 0;
  for (const char* k : kKinds)
    for (auto& [id, r] : db.of_kind(k)) {
      if (!r.str("alias_of").empty()) {
        ++aliases;  // a renamed system's former id: its numbers are counted once, under its own id
        continue;
      }
      numbers += r.numbers.size();
    }
  if (sources) {
    // Every web domain the numbers cite; one on the deny-list (source-denylist.toml) fails the check.
    const std::vector<std::string> deny = load_denylist(dir);
    const auto hosts = source_hosts(db);
    std::string bad;
    for (auto& [h, u] : hosts)
      if (denied(h, deny)) bad += (bad.empty() ? "" : "; ") + h + " (" + u.where.front() + ")";
    if (json) {
      Json j = Json::object();
      Json list = Json::array();
      for (auto& [h, u] : hosts) {
        Json x = Json::object();
        x["domain"] = h;
        x["numbers"] = u.numbers;
        x["denied"] = denied(h, deny);
        list.push(x);
      }
      j["domains"] = list;
      j["denylist"] = static_cast<int>(deny.size());
      j["ok"] = bad.empty();
      write_json(std::cout, j);
    } else {
      Table t({"domain", "numbers", "e.g."});
      t.left_align_all();
      for (auto& [h, u] : hosts) t.row({h, std::to_string(u.numbers), u.where.front()});
      t.print(std::cout);
      std::cout << hosts.size() << " domains cited; " << deny.size() << " on the deny-list (" << dir
                << "/source-denylist.toml)\n";
    }
    if (!bad.empty()) throw InputError("hwdb check --sources: numbers cite denied domains: " + bad);
    return;
  }
  if (json) {
    Json j = Json::object();
    j["ok"] = true;
    j["dir"] = dir;
    j["chips"] = static_cast<int>(db.chips.size());
    j["systems"] = static_cast<int>(db.systems.size() - aliases);
    j["clusters"] = static_cast<int>(db.clusters.size());
    j["sites"] = static_cast<int>(db.sites.size());
    j["stacks"] = static_cast<int>(db.stacks.size());
    j["schedules"] = static_cast<int>(db.schedules.size());
    j["numbers"] = static_cast<double>(numbers);
    j["figure_sets"] = static_cast<int>(sets.size());
    write_json(std::cout, j);
    return;
  }
  std::cout << "hwdb OK: " << db.chips.size() << " chips, " << db.systems.size() - aliases << " systems, "
            << db.clusters.size() << " clusters, " << db.sites.size() << " sites, " << db.stacks.size() << " stacks, " << db.schedules.size() << " schedules, " << numbers
            << " sourced numbers, " << sets.size() << " figure sets (" << dir << ")\n";
}
}  // namespace

void add_hwdb_commands(CLI::App& app, Context& ctx) {
  struct Opts {
    std::string kind, id, dir, market;
    bool json = false, sources = false;
  };
  auto o = std::make_shared<Opts>();
  auto* hwdb = app.add_subcommand("hwdb", "inspect and validate the hardware database");
  hwdb->require_subcommand(1);

  auto* l = hwdb->add_subcommand("list", "list ids by kind");
  l->add_option("--kind", o->kind, "chips | systems | clusters | sites | stacks | schedules")
      ->check(CLI::IsMember({"chips", "systems", "clusters", "sites", "stacks", "schedules"}));
  l->add_option("--available-in", o->market, "only chips and systems sold in this market (their available_in field), e.g. china");
  l->add_flag("--json", o->json, "machine-readable output");
  l->callback([&ctx, o] { list(ctx, o->kind, o->market, o->json); });

  auto* s = hwdb->add_subcommand("show", "every field of one entry: value, unit, range, kind, source");
  s->add_option("id", o->id, "chip, system, cluster or site id")->required();
  s->add_flag("--json", o->json, "machine-readable output");
  s->callback([&ctx, o] { show(ctx, o->id, o->json); });

  auto* c = hwdb->add_subcommand("check", "validate a whole hwdb directory and its figure sets (exit 0 when valid)");
  c->add_option("dir", o->dir, "hwdb directory (default: --hwdb)");
  c->add_flag("--sources", o->sources, "list the web domains the numbers cite; fail on one in source-denylist.toml");
  c->add_flag("--json", o->json, "machine-readable output");
  c->callback([&ctx, o] { check(ctx, o->dir, o->json, o->sources); });
}

}  // namespace podperf::cli
