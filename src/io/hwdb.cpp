// Loading the hwdb directory: one file per entity, validated against hwdb_schema, cross-checked
// (unique ids, references, topology shapes), optionally overridden by figure sets (overlays).
#include "podperf/io/hwdb.hpp"
#include "podperf/io/suggest.hpp"

#include <algorithm>
#include <sstream>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "hwdb_schema.hpp"
#include "podperf/core/topology.hpp"

namespace fs = std::filesystem;

namespace podperf {

namespace {
using io::FieldType;


bool is_kebab(const std::string& s) {
  static const std::regex re("^[a-z0-9]+(-[a-z0-9]+)*$");
  return std::regex_match(s, re);
}

std::string known_ids(const std::map<std::string, Record>& m) {
  std::string s;
  for (auto& [id, r] : m)
    if (r.str("alias_of").empty()) s += (s.empty() ? "" : ", ") + id;
  return s.empty() ? "none" : s;
}

// Cross-field checks that one field at a time cannot make. After a figure set changed the record
// (overlay: its path, overlay_line: the line of the first field it gave this entity), a failure is
// the figure set's: it names the figure set's line of the field when the set gave it, else overlay_line.
void check_shape(const Record& r, const std::string& overlay = "", int overlay_line = 0) {
  auto num = [&](const std::string& k) { return r.numbers.at(k).value; };
  auto fail = [&](const std::string& key, const std::string& shown, const std::string& msg) {
    if (!overlay.empty()) {
      if (r.numbers.count(key) && r.numbers.at(key).file == overlay) throw InputError(overlay, r.numbers.at(key).line, shown, msg);
      // A field of the base file failed against one the figure set gave: name the figure set's field
      // that the message names (idle_w from the base file above a tdp_w from the figure set).
      for (auto& [k, n] : r.numbers)
        if (n.file == overlay && msg.find(k.substr(k.find('.') + 1)) != std::string::npos)
          throw InputError(overlay, n.line, k, msg);
      throw InputError(overlay, overlay_line, shown, msg);
    }
    int line = r.numbers.count(key) ? r.numbers.at(key).line
               : r.text_line.count(key) ? r.text_line.at(key) : r.id_line;
    throw InputError(r.file, line, shown, msg);
  };
  if (r.entity == "chip" && r.has("specs.idle_w") && r.has("specs.tdp_w") && num("specs.idle_w") > num("specs.tdp_w"))
    fail("specs.idle_w", "specs.idle_w", "idle power (" + io::fmt_num(num("specs.idle_w")) + " W) exceeds tdp_w (" +
                                             io::fmt_num(num("specs.tdp_w")) + " W)");
  if (r.entity == "chip" && r.has("efficiency.gemm_eff_by_m") && r.has("efficiency.small_gemm_m"))
    fail("efficiency.small_gemm_m", "efficiency.small_gemm_m",
         "not used with efficiency.gemm_eff_by_m (the measured curve replaces the knee); remove it");
  if (r.entity == "chip" && r.has("efficiency.gemm_row_tile") && r.has("efficiency.small_gemm_m"))
    fail("efficiency.small_gemm_m", "efficiency.small_gemm_m",
         "not used with efficiency.gemm_row_tile (the tile model replaces the knee); remove it");
  if (r.entity == "chip" && r.has("efficiency.gemm_row_tile") && !r.has("efficiency.gemm_hbm_eff"))
    fail("efficiency.gemm_row_tile", "efficiency.gemm_hbm_eff", "missing (required with efficiency.gemm_row_tile)");
  if (r.entity == "chip" && !r.has("efficiency.gemm_eff_by_m") && !r.has("efficiency.small_gemm_m") &&
      !r.has("efficiency.gemm_row_tile"))
    fail(r.has("efficiency.gemm_eff") ? "efficiency.gemm_eff" : "id", "efficiency.small_gemm_m",
         "missing (required without efficiency.gemm_eff_by_m or efficiency.gemm_row_tile, in GEMM rows at half efficiency)");
  if (r.entity == "chip" && r.has("specs.fp4_dense_tflops") && !r.has("efficiency.fp4_gemm_eff_ratio"))
    fail("specs.fp4_dense_tflops", "efficiency.fp4_gemm_eff_ratio",
         "missing (required with specs.fp4_dense_tflops: the FP4 GEMM fraction of peak over the FP8 one)");
  if (r.entity == "stack" && r.str("overlap.scheme") == "two-stream" && !r.has("overlap.attention_stream_units"))
    fail("overlap.scheme", "overlap.attention_stream_units", "missing (required with scheme two-stream)");
  if (r.entity != "system") return;
  const double chips = num("specs.chips");
  if (std::fmod(chips, num("specs.nodes")) != 0)
    fail("specs.nodes", "nodes", "chips (" + io::fmt_num(chips) + ") must divide evenly into nodes");
  const std::string topo = r.str("scaleup.topology");
  if (topo == "clos2") {
    if (!r.has("scaleup.group_chips"))
      fail("scaleup.topology", "scaleup.group_chips", "missing (required by topology 'clos2')");
    if (std::fmod(chips, num("scaleup.group_chips")) != 0)
      fail("scaleup.group_chips", "scaleup.group_chips", "must divide chips (" + io::fmt_num(chips) + ")");
  }
  if (topo == "fullmesh" && !r.has("scaleup.mesh_dims"))
    fail("scaleup.topology", "scaleup.mesh_dims", "missing (required by topology 'fullmesh')");
  if (r.has("scaleup.mesh_share") && !r.has("scaleup.mesh_dims"))
    fail("scaleup.mesh_share", "scaleup.mesh_share", "given without scaleup.mesh_dims");
  // Any topology: the loader copies the dimensions into fixed arrays of kMaxMeshDims.
  if (r.has("scaleup.mesh_dims")) {
    const Number& d = r.numbers.at("scaleup.mesh_dims");
    if (d.list.size() > static_cast<std::size_t>(kMaxMeshDims))
      fail("scaleup.mesh_dims", "scaleup.mesh_dims", "at most " + std::to_string(kMaxMeshDims) + " dimensions");
    if (!r.has("scaleup.mesh_share") || r.numbers.at("scaleup.mesh_share").list.size() != d.list.size())
      fail("scaleup.mesh_dims", "scaleup.mesh_share", "must give one bandwidth share per mesh dimension");
    if (!r.has("scaleup.tier_ports") && d.value != chips)
      fail("scaleup.mesh_dims", "scaleup.mesh_dims", "product of dimensions (" + io::fmt_num(d.value) +
                                                        ") must equal chips (" + io::fmt_num(chips) + ")");
    if (r.has("scaleup.tier_ports") && std::fmod(chips, d.value) != 0)
      fail("scaleup.mesh_dims", "scaleup.mesh_dims", "product of dimensions (" + io::fmt_num(d.value) +
                                                        ", chips per rack) must divide chips (" + io::fmt_num(chips) + ")");
  }
  // A mesh with a switch tier: the parts are derived from the description, never given.
  static const char* kTier[] = {"scaleup.tier_ports", "scaleup.tier_port_gb_s_per_dir", "scaleup.lrs_per_rack_plane",
                                "scaleup.hrs_w"};
  bool any_tier = r.has("scaleup.spares_per_rack");
  for (auto k : kTier) any_tier = any_tier || r.has(k);
  if (any_tier) {
    for (auto k : kTier)
      if (!r.has(k)) fail(k, k, "missing (a switch tier needs tier_ports, tier_port_gb_s_per_dir, lrs_per_rack_plane, hrs_w)");
    if (topo != "fullmesh")
      fail("scaleup.tier_ports", "scaleup.tier_ports", "a switch tier joins the racks of topology 'fullmesh' only");
    for (auto k : {"scaleup.switch_chips", "scaleup.transceivers"})
      if (r.has(k))
        fail(k, k, "derived from mesh_dims and the switch tier (tier_ports, lrs_per_rack_plane, spares_per_rack); remove it");
    if (r.has("reliability.spare_every"))
      fail("reliability.spare_every", "reliability.spare_every", "derived from scaleup.spares_per_rack; remove it");
    const double racks = chips / r.numbers.at("scaleup.mesh_dims").value;
    if (racks > num("specs.racks"))
      fail("specs.racks", "specs.racks", "fewer than the " + io::fmt_num(racks) + " racks the mesh fills (chips / product of mesh_dims)");
    if (!r.has("specs.price_usd") && !r.has("cost.hrs_usd"))
      fail("specs.chips", "cost.hrs_usd", "missing (required without specs.price_usd: capex is built from parts)");
    double share = 0;
    for (double v : r.numbers.at("scaleup.mesh_share").list) share += v;
    const double tier = num("scaleup.tier_ports") * num("scaleup.tier_port_gb_s_per_dir");
    if (share * num("scaleup.gb_s_per_dir") + tier > num("scaleup.gb_s_per_dir") * (1 + 1e-9))
      fail("scaleup.tier_ports", "scaleup.tier_ports", "mesh shares (" + io::fmt_num(share) + " x " +
               io::fmt_num(num("scaleup.gb_s_per_dir")) + " GB/s) plus the tier (" + io::fmt_num(tier) +
               " GB/s) exceed gb_s_per_dir");
  } else {
    for (auto k : {"scaleup.switch_chips", "scaleup.transceivers"})
      if (!r.has(k)) fail("scaleup.topology", k, "missing (required without a switch tier)");
  }
  // In-network reduction: both terms or neither, and only on a switch (the switch does the reduction).
  if (r.has("scaleup.in_network_gb_s") != r.has("scaleup.in_network_latency_us"))
    fail(r.has("scaleup.in_network_gb_s") ? "scaleup.in_network_gb_s" : "scaleup.in_network_latency_us",
         r.has("scaleup.in_network_gb_s") ? "scaleup.in_network_latency_us" : "scaleup.in_network_gb_s",
         "missing (in-network reduction needs both in_network_gb_s and in_network_latency_us)");
  if (r.has("scaleup.in_network_gb_s") && topo != "switch")
    fail("scaleup.in_network_gb_s", "scaleup.in_network_gb_s", "in-network reduction needs topology 'switch' (got '" + topo + "')");
  // A full mesh times its all-to-all from routed link loads; a fitted kernel curve does not apply.
  if (topo == "fullmesh")
    for (auto k : {"scaleup.a2a_gb_s", "scaleup.a2a_per_peer_us"})
      if (r.has(k)) fail(k, k, "not used on topology 'fullmesh' (its all-to-all follows the routed link loads)");
  if (!r.has("specs.price_usd"))
    for (auto k : {"chip_usd", "node_usd", "switch_usd", "scaleup_transceiver_usd", "rack_usd"})
      if (!r.has(std::string("cost.") + k))
        fail("specs.chips", std::string("cost.") + k, "missing (required without specs.price_usd: capex is built from parts)");
  if (r.str("scaleup.medium") == "copper" && r.has("scaleup.transceivers") && num("scaleup.transceivers") > 0)
    fail("scaleup.transceivers", "scaleup.transceivers", "a copper scale-up fabric has no transceivers");
}

// A chip's measured GEMM curve and its knee replace each other: a figure set or --set giving one drops
// the other.
void drop_replaced(Record& r, const std::string& path) {
  if (path == "efficiency.gemm_eff_by_m") r.numbers.erase("efficiency.small_gemm_m");
  if (path == "efficiency.small_gemm_m") r.numbers.erase("efficiency.gemm_eff_by_m");
}

void apply_overlay(Hwdb& db, const std::string& path) {
  const toml::table root = io::parse_toml_file(path);
  const toml::node* idn = root.get("id");
  if (!idn) throw InputError(path, 1, "id", "missing: a figure set names itself (id = \"" + fs::path(path).stem().string() + "\", its file name)");
  const std::string stem = fs::path(path).stem().string();
  if (!idn->is_string() || idn->as_string()->get() != stem)
    throw InputError(path, io::line_of(*idn), "id", "must match the file name '" + fs::path(path).filename().string() + "'");
  const toml::table* sources = root.get_as<toml::table>("sources");
  for (auto&& [k, v] : root) {
    const std::string folder(k.str());
    if (folder == "id" || folder == "description" || folder == "sources") continue;
    const io::EntityKind* kind = nullptr;
    for (auto& ek : io::entity_kinds())
      if (ek.folder == folder) kind = &ek;
    if (!kind || !v.is_table())
      throw InputError(path, io::line_of(v), folder, "unknown section (chips | systems | clusters | sites | stacks)");
    for (auto&& [idk, entity] : *v.as_table()) {
      const std::string id(idk.str());
      auto& records = const_cast<std::map<std::string, Record>&>(db.of_kind(kind->schema.entity));
      auto it = records.find(id);
      if (it == records.end())
        throw InputError(path, io::line_of(entity), folder + "." + id,
                         "unknown " + kind->schema.entity + " id (known: " + known_ids(records) + ")");
      if (!entity.is_table()) throw InputError(path, io::line_of(entity), id, "must be a table");
      int first_line = 0;  // the first field this figure set gives the entity
      for (auto&& [seck, sec] : *entity.as_table()) {
        const std::string section(seck.str());
        if (!sec.is_table()) io::unknown_key(path, io::line_of(sec), kind->schema, "", section, true);
        for (auto&& [fk, fv] : *sec.as_table()) {
          const io::FieldRule* rule = kind->schema.find(section, std::string(fk.str()));
          if (!rule || !rule->is_number())
            io::unknown_key(path, io::line_of(fv), kind->schema, section, std::string(fk.str()), false);
          it->second.numbers[rule->path()] = io::read_number(fv, path, *rule, sources);
          if (first_line == 0) first_line = io::line_of(fv);
          drop_replaced(it->second, rule->path());
          auto& order = it->second.order;
          if (std::find(order.begin(), order.end(), rule->path()) == order.end()) order.push_back(rule->path());
        }
      }
      check_shape(it->second, path, first_line > 0 ? first_line : io::line_of(entity));
    }
  }
}

const Record& need(const std::map<std::string, Record>& m, const std::string& id, const char* what) {
  auto it = m.find(id);
  if (it == m.end()) {
    std::vector<std::string> ids;
    for (auto& [k, r] : m) ids.push_back(k);
    const std::string hint = closest(id, ids);
    throw InputError("unknown " + std::string(what) + " '" + id + "'" + (hint.empty() ? "" : ": did you mean '" + hint + "'?") +
                     " (known: " + known_ids(m) + ")");
  }
  return it->second;
}

// Chips of a cluster of supernodes, bounded before the int product can wrap.
constexpr double kMaxSystemChips = 1e8;
void check_chip_total(const std::string& id, int chips, long supernodes) {
  if (double(chips) * double(supernodes) > kMaxSystemChips)
    throw InputError("system '" + id + "': " + std::to_string(supernodes) + " supernodes of " + std::to_string(chips) +
                     " chips exceed " + io::fmt_num(kMaxSystemChips) + " chips");
}

Fabric build_scaleout(const Record& r, const Pick& p) {
  Fabric f;
  f.topology = Topology::clos;
  f.optical = true;
  f.gb_s_per_dir = p.get(r, "scaleout.gb_s_per_dir");
  f.latency_us = p.get(r, "scaleout.latency_us");
  f.a2a_latency_us = p.get(r, "scaleout.a2a_latency_us");
  f.a2a_per_peer_us = p.get(r, "scaleout.a2a_per_peer_us");
  f.a2a_gb_s = p.get(r, "scaleout.a2a_gb_s");
  f.coll_eff = p.get(r, "scaleout.coll_eff");
  f.oversubscription = p.get(r, "scaleout.oversubscription");
  f.tiers = static_cast<int>(p.get(r, "scaleout.tiers"));
  f.nic_w = p.get(r, "scaleout.nic_w");
  f.switch_ports = p.get(r, "scaleout.switch_ports");
  f.switch_w = p.get(r, "scaleout.switch_w");
  f.transceivers = p.get(r, "scaleout.transceivers_per_port");
  f.transceiver_w = p.get(r, "scaleout.transceiver_w");
  return f;
}
}  // namespace

double Pick::get(const Record& r, const std::string& key) const {
  auto it = r.numbers.find(key);
  if (it == r.numbers.end()) return 0;
  Mode m = all;
  if (!per_value.empty())
    if (auto v = per_value.find(r.id + ":" + key); v != per_value.end()) return v->second;
  if (!per_field.empty())
    if (auto o = per_field.find(r.id + ":" + key); o != per_field.end()) m = o->second;
  const Number& n = it->second;
  return m == low ? n.low : m == high ? n.high : n.value;
}

const std::map<std::string, Record>& Hwdb::of_kind(const std::string& kind) const {
  if (kind == "chip" || kind == "chips") return chips;
  if (kind == "system" || kind == "systems") return systems;
  if (kind == "cluster" || kind == "clusters") return clusters;
  if (kind == "site" || kind == "sites") return sites;
  if (kind == "stack" || kind == "stacks") return stacks;
  if (kind == "schedule" || kind == "schedules") return schedules;
  throw InputError("unknown kind '" + kind + "' (chips | systems | clusters | sites | stacks)");
}

const Record* Hwdb::find(const std::string& id) const {
  for (auto* m : {&chips, &systems, &clusters, &sites, &stacks, &schedules})
    if (auto it = m->find(id); it != m->end()) return &it->second;
  return nullptr;
}

Chip Hwdb::chip(const std::string& id, const Pick& p) const {
  const Record& r = need(chips, id, "chip");
  Chip c;
  c.id = r.id;
  c.name = r.str("name");
  c.vendor = r.str("vendor");
  c.dies = static_cast<int>(p.get(r, "specs.dies"));
  c.dense_tflops[static_cast<int>(Precision::fp4)] = p.get(r, "specs.fp4_dense_tflops");
  c.dense_tflops[static_cast<int>(Precision::fp8)] = p.get(r, "specs.fp8_dense_tflops");
  c.dense_tflops[static_cast<int>(Precision::int8)] = p.get(r, "specs.int8_dense_tops");
  c.dense_tflops[static_cast<int>(Precision::bf16)] = p.get(r, "specs.bf16_dense_tflops");
  c.dense_tflops[static_cast<int>(Precision::fp32)] = p.get(r, "specs.fp32_dense_tflops");
  c.hbm_gb = p.get(r, "specs.hbm_gb");
  c.hbm_tb_s = p.get(r, "specs.hbm_tb_s");
  c.tdp_w = p.get(r, "specs.tdp_w");
  c.idle_w = p.get(r, "specs.idle_w");
  c.scaleup_gb_s_per_dir = p.get(r, "specs.scaleup_gb_s_per_dir");
  c.price_usd = p.get(r, "specs.price_usd");
  c.gemm_eff = p.get(r, "efficiency.gemm_eff");
  c.hbm_eff = p.get(r, "efficiency.hbm_eff");
  c.attn_prefill_eff = p.get(r, "efficiency.attn_prefill_eff");
  c.attn_decode_eff = p.get(r, "efficiency.attn_decode_eff");
  c.sfu_texp_s = p.get(r, "efficiency.sfu_texp_s");
  if (r.has("efficiency.fp4_gemm_eff_ratio")) c.fp4_gemm_eff_ratio = p.get(r, "efficiency.fp4_gemm_eff_ratio");
  c.small_gemm_m = p.get(r, "efficiency.small_gemm_m");
  c.gemm_row_tile = p.get(r, "efficiency.gemm_row_tile");  // 0 when absent
  c.gemm_hbm_eff = p.get(r, "efficiency.gemm_hbm_eff");
  if (auto g = r.numbers.find("efficiency.gemm_eff_by_m"); g != r.numbers.end()) {
    c.gemm_curve.n = static_cast<int>(g->second.list.size());  // 2..kMaxGemmCurvePoints (read_number)
    for (int i = 0; i < c.gemm_curve.n; ++i) {
      c.gemm_curve.m[i] = g->second.curve_x[i];
      c.gemm_curve.eff[i] = g->second.list[i];
    }
  }
  c.fit = p.get(r, "reliability.accelerator_fit");
  c.hbm_fit = p.get(r, "reliability.hbm_fit");
  c.mfg.die_mm2 = p.get(r, "manufacturing.die_mm2");
  c.mfg.wafer_usd = p.get(r, "manufacturing.wafer_usd");
  c.mfg.defect_per_cm2 = p.get(r, "manufacturing.defect_per_cm2");
  c.mfg.yield = p.get(r, "manufacturing.yield");
  c.mfg.yield_model = r.str("manufacturing.yield_model") == "poisson" ? 1 : 0;
  c.mfg.hbm_stacks = p.get(r, "manufacturing.hbm_stacks");
  c.mfg.hbm_stack_usd = p.get(r, "manufacturing.hbm_stack_usd");
  c.mfg.packaging_usd = p.get(r, "manufacturing.packaging_usd");
  c.mfg.test_usd = p.get(r, "manufacturing.test_usd");
  c.mfg.package_yield = r.has("manufacturing.package_yield") ? p.get(r, "manufacturing.package_yield") : 1;
  return c;
}

System Hwdb::system(const std::string& id, const Pick& p) const {
  // "SYSTEM@STACK": the system running STACK in place of its default of that role.
  if (const auto at = id.rfind('@'); at != std::string::npos) {
    if (id.find('@') != at)
      throw InputError("system '" + id + "': one software stack per system (SYSTEM@STACK), not '" + id.substr(id.find('@')) + "'");
    System s = with_stack(system(id.substr(0, at), p), stack(id.substr(at + 1), p));
    s.id = id;
    return s;
  }
  // "NxSYSTEM[:os=R]": N supernodes of SYSTEM over its scale-out Clos.
  static const std::regex multi("^([0-9]+)x([a-z0-9-]+)(:os=([^:]*))?$");
  std::smatch m;
  if (std::regex_match(id, m, multi) && !systems.count(id)) {
    const long n = std::strtol(m[1].str().c_str(), nullptr, 10);
    if (m[1].length() > 6 || n < 1 || n > 100000) throw InputError("system '" + id + "': supernode count must be 1..100000");
    System s = system(m[2].str(), p);
    check_chip_total(id, s.chips, n);
    if (s.supernodes != 1) throw InputError("system '" + id + "': '" + m[2].str() + "' is already a cluster");
    if (m[4].matched) {
      const std::string text = m[4].str();
      char* end = nullptr;
      const double os = std::strtod(text.c_str(), &end);
      if (end != text.c_str() + text.size() || !(os >= 1 && os <= 64))
        throw InputError("system '" + id + "': oversubscription must be a number in [1, 64] (got '" + text + "')");
      s.scaleout.oversubscription = os;
    }
    s.id = id;
    s.name = std::to_string(n) + " x " + s.name;
    s.supernodes = static_cast<int>(n);
    s.chips *= s.supernodes;
    s.nodes *= s.supernodes;
    s.cpus *= s.supernodes;
    s.spare_chips *= s.supernodes;
    s.racks *= s.supernodes;
    s.price_usd *= s.supernodes;
    s.host_memory_tb *= s.supernodes;
    s.published_all_in_kw = 0;
    return s;
  }
  if (auto c = clusters.find(id); c != clusters.end()) {
    const Record& r = c->second;
    System s = system(r.str("system"), p);
    s.id = r.id;
    s.name = r.str("name");
    s.supernodes = static_cast<int>(p.get(r, "specs.supernodes"));
    check_chip_total(id, s.chips, s.supernodes);
    s.chips *= s.supernodes;
    s.nodes *= s.supernodes;
    s.cpus *= s.supernodes;
    s.spare_chips *= s.supernodes;
    s.racks *= s.supernodes;
    s.host_memory_tb *= s.supernodes;
    s.price_usd = r.has("specs.price_usd") ? p.get(r, "specs.price_usd") : s.price_usd * s.supernodes;
    s.published_all_in_kw = 0;
    s.scaleout = build_scaleout(r, p);
    return s;
  }
  const Record& r = need(systems, id, "system");
  System s;
  s.id = r.id;
  s.name = r.str("name");
  s.vendor = r.str("vendor");
  s.home_site = r.str("home_site");
  s.chip = chip(r.str("chip"), p);
  s.stack = stack(r.str("stack"), p);
  s.train_stack = stack(r.str("training_stack"), p);
  s.chips = static_cast<int>(p.get(r, "specs.chips"));
  s.chips_per_supernode = s.chips;
  s.nodes = static_cast<int>(p.get(r, "specs.nodes"));
  s.cpus = static_cast<int>(p.get(r, "specs.cpus"));
  s.cpu_w = p.get(r, "specs.cpu_w");
  s.racks = p.get(r, "specs.racks");
  s.price_usd = p.get(r, "specs.price_usd");
  s.published_all_in_kw = p.get(r, "specs.published_all_in_kw");
  s.host_memory_tb = p.get(r, "specs.host_memory_tb");
  s.overhead_frac = p.get(r, "power.overhead_frac");
  s.cost.scaleout_port_usd = p.get(r, "cost.scaleout_port_usd");
  s.cost.scaleout_transceiver_usd = p.get(r, "cost.scaleout_transceiver_usd");
  s.cost.chip_usd = p.get(r, "cost.chip_usd");
  s.cost.node_usd = p.get(r, "cost.node_usd");
  s.cost.switch_usd = p.get(r, "cost.switch_usd");
  s.cost.scaleup_transceiver_usd = p.get(r, "cost.scaleup_transceiver_usd");
  s.cost.rack_usd = p.get(r, "cost.rack_usd");
  Fabric& u = s.scaleup;
  const std::string topo = r.str("scaleup.topology");
  u.topology = topo == "switch" ? Topology::switch1 : topo == "clos2" ? Topology::clos2 : Topology::fullmesh;
  u.optical = r.str("scaleup.medium") == "optical";
  u.gb_s_per_dir = p.get(r, "scaleup.gb_s_per_dir");
  u.latency_us = p.get(r, "scaleup.latency_us");
  u.a2a_latency_us = p.get(r, "scaleup.a2a_latency_us");
  u.a2a_per_peer_us = p.get(r, "scaleup.a2a_per_peer_us");
  u.a2a_gb_s = p.get(r, "scaleup.a2a_gb_s");
  u.coll_eff = p.get(r, "scaleup.coll_eff");
  u.in_network_latency_us = p.get(r, "scaleup.in_network_latency_us");
  u.in_network_gb_s = p.get(r, "scaleup.in_network_gb_s");
  u.group_chips = static_cast<int>(p.get(r, "scaleup.group_chips"));
  if (r.has("scaleup.mesh_dims")) {
    const auto& dims = r.numbers.at("scaleup.mesh_dims").list;
    u.mesh_ndims = static_cast<int>(dims.size());
    const auto& share = r.numbers.at("scaleup.mesh_share").list;
    if (dims.size() > static_cast<std::size_t>(kMaxMeshDims) || share.size() != dims.size())
      throw InputError(r.file, r.numbers.at("scaleup.mesh_dims").line, "scaleup.mesh_dims",
                       "must give at most " + std::to_string(kMaxMeshDims) + " dimensions, one mesh_share each");
    for (std::size_t i = 0; i < dims.size(); ++i) {
      u.mesh_dims[i] = static_cast<int>(dims[i]);
      u.mesh_share[i] = share[i];
    }
  }
  u.switch_chips = p.get(r, "scaleup.switch_chips");
  u.switch_w = p.get(r, "scaleup.switch_w");
  u.transceivers = p.get(r, "scaleup.transceivers");
  u.transceiver_w = p.get(r, "scaleup.transceiver_w");
  if (r.has("scaleup.tier_ports")) {
    // UB-Mesh as built: the racks' mesh and the switch tier give both the routed network and the
    // parts priced and powered (topo::mesh_parts).
    u.rack_chips = static_cast<int>(r.numbers.at("scaleup.mesh_dims").value);
    u.tier_ports = static_cast<int>(p.get(r, "scaleup.tier_ports"));
    u.tier_port_gb_s_per_dir = p.get(r, "scaleup.tier_port_gb_s_per_dir");
    u.lrs_per_rack_plane = static_cast<int>(p.get(r, "scaleup.lrs_per_rack_plane"));
    u.spares_per_rack = static_cast<int>(p.get(r, "scaleup.spares_per_rack"));
    u.hrs_w = p.get(r, "scaleup.hrs_w");
    s.cost.hrs_usd = p.get(r, "cost.hrs_usd");
    const topo::MeshParts parts = topo::mesh_parts(u, s.chips);
    u.switch_chips = parts.lrs;
    u.hrs_chips = parts.hrs;
    u.transceivers = parts.transceivers;
    s.spare_chips = parts.spare_chips;
  }
  s.scaleout = build_scaleout(r, p);
  PartFailures& f = s.fail;
  f.node_fit = p.get(r, "reliability.node_fit");
  f.switch_fit = p.get(r, "reliability.switch_fit");
  f.transceiver_fit = p.get(r, "reliability.transceiver_fit");
  f.nic_fit = p.get(r, "reliability.nic_fit");
  f.software_fit = p.get(r, "reliability.software_fit");
  f.restart_s = p.get(r, "reliability.restart_s");
  f.checkpoint_s = p.get(r, "reliability.checkpoint_s");
  f.spare_every = u.spares_per_rack > 0 ? double(u.rack_chips) / u.spares_per_rack : p.get(r, "reliability.spare_every");
  f.spare_switch_s = p.get(r, "reliability.spare_switch_s");
  return s;
}

Stack Hwdb::stack(const std::string& id, const Pick& p) const {
  const Record& r = need(stacks, id, "stack");
  Stack st;
  st.id = r.id;
  st.name = r.str("name");
  st.role = r.str("role") == "training" ? StackRole::training : StackRole::serving;
  const std::string scheme = r.str("overlap.scheme");
  st.scheme = scheme == "two-micro-batch" ? OverlapScheme::two_micro_batch
              : scheme == "two-stream"    ? OverlapScheme::two_stream
                                          : OverlapScheme::streams;
  st.attention_stream_units = p.get(r, "overlap.attention_stream_units");  // 0 when absent
  st.hidden_frac = p.get(r, "overlap.hidden_frac");
  st.comm_units_prefill = p.get(r, "overlap.comm_units_prefill");
  st.comm_units_decode = p.get(r, "overlap.comm_units_decode");
  st.step_overhead_ms = p.get(r, "host.step_overhead_ms");
  st.launch_us = p.get(r, "host.launch_us");
  if (const double g = p.get(r, "compute.train_gemm_scale"); g > 0) st.train_gemm_scale = g;  // 1 when absent
  st.graph_launch_us = p.get(r, "host.graph_launch_us");  // 0 when absent
  st.graph_max_batch = p.get(r, "host.graph_max_batch");
  st.per_seq_us = p.get(r, "host.per_seq_us");
  st.aggregated = r.str("serving.mode") == "aggregated";
  if (r.has("serving.token_budget")) st.token_budget = p.get(r, "serving.token_budget");
  st.eplb_imbalance = p.get(r, "moe.eplb_imbalance");
  st.reserve_frac = p.get(r, "memory.reserve_frac");
  st.pp_chunk_tokens = p.get(r, "pipeline.pp_chunk_tokens");  // 0 when absent
  std::istringstream ids(r.str("pipeline.schedules"));
  for (std::string sid; ids >> sid;) {
    if (st.n_schedules >= kMaxSchedules)
      throw InputError(r.file, r.text_line.at("pipeline.schedules"), "pipeline.schedules",
                       "at most " + std::to_string(kMaxSchedules) + " schedules");
    st.schedules[static_cast<std::size_t>(st.n_schedules++)] = schedule(sid);
  }
  return st;
}

PipeSchedule Hwdb::schedule(const std::string& id) const {
  const Record& r = need(schedules, id, "schedule");
  PipeSchedule s;
  s.id = {};
  for (std::size_t i = 0; i < id.size() && i + 1 < s.id.size(); ++i) s.id[i] = id[i];
  const Pick p;
  auto on = [&](const char* key) { return p.get(r, key) > 0.5; };
  s.stages_per_pp = p.get(r, "bubble.stages_per_pp");
  s.stages_offset = -p.get(r, "bubble.stages_less");
  s.interleaved = on("bubble.interleaved");
  s.f = p.get(r, "bubble.forward");
  s.b = p.get(r, "bubble.backward");
  s.w = -p.get(r, "bubble.weight_grad_saved");
  s.fb = p.get(r, "bubble.overlapped_fb");
  s.param_copies = p.get(r, "memory.param_copies");
  s.act_per_pp = p.get(r, "memory.act_per_pp");
  s.act_offset = p.get(r, "memory.act_offset");
  s.act_interleave = p.get(r, "memory.act_interleave");
  s.micro_multiple_pp = on("constraints.micro_multiple_of_pp");
  s.min_micro_per_pp = p.get(r, "constraints.min_micro_per_pp");
  s.micro_even = on("constraints.micro_even");
  s.pp_even = on("constraints.pp_even");
  s.layers_divide = on("constraints.layers_divide");
  s.layer_pad = static_cast<int>(p.get(r, "constraints.layer_pad"));
  s.max_interleave = static_cast<int>(p.get(r, "constraints.max_interleave"));
  return s;
}

System with_stack(System s, const Stack& st) {
  (st.role == StackRole::training ? s.train_stack : s.stack) = st;
  return s;
}

Site Hwdb::site(const std::string& id, const Pick& p) const {
  const Record& r = need(sites, id, "site");
  Site s;
  s.id = r.id;
  s.name = r.str("name");
  s.electricity_usd_kwh = p.get(r, "specs.electricity_usd_kwh");
  s.pue = p.get(r, "specs.pue");
  s.facility_capex_usd_w = p.get(r, "specs.facility_capex_usd_w");
  s.amortization_years = p.get(r, "specs.amortization_years");
  s.cost_of_capital = p.get(r, "specs.cost_of_capital");
  s.maintenance_frac = p.get(r, "specs.maintenance_frac");
  s.facility_years = p.get(r, "specs.facility_years");
  s.utilization = r.has("specs.utilization") ? p.get(r, "specs.utilization") : 1;
  return s;
}

Hwdb load_hwdb(const std::string& dir, const std::vector<std::string>& overlays) {
  if (!fs::is_directory(dir)) throw InputError(dir + ": not a hwdb directory");
  Hwdb db;
  db.dir = dir;
  for (auto& kind : io::entity_kinds()) {
    const fs::path folder = fs::path(dir) / kind.folder;
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) continue;
    std::vector<fs::path> files;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".toml") files.push_back(it->path());
    if (ec) throw InputError(folder.lexically_normal().string() + ": cannot read directory (" + ec.message() + ")");
    std::sort(files.begin(), files.end());
    for (auto& path : files) {
      const std::string file = path.lexically_normal().string();
      Record r = io::read_record(io::parse_toml_file(file), file, kind.schema);
      if (!is_kebab(r.id)) throw InputError(file, r.id_line, "id", "must be kebab-case (got '" + r.id + "')");
      if (r.id != path.stem().string())
        throw InputError(file, r.id_line, "id", "'" + r.id + "' does not match the file name '" +
                                                     path.filename().string() + "'");
      if (const Record* other = db.find(r.id))
        throw InputError(file, r.id_line, "id", "duplicate id '" + r.id + "' (also in " + other->file + ")");
      check_shape(r);
      const_cast<std::map<std::string, Record>&>(db.of_kind(kind.folder)).emplace(r.id, std::move(r));
    }
  }
  for (auto& [id, r] : db.stacks) {
    std::istringstream ids(r.str("pipeline.schedules"));
    for (std::string sid; ids >> sid;)
      if (!db.schedules.count(sid))
        throw InputError(r.file, r.text_line.at("pipeline.schedules"), "pipeline.schedules",
                         "unknown schedule '" + sid + "' (known: " + known_ids(db.schedules) + ")");
  }
  if (db.chips.empty() && db.systems.empty() && db.clusters.empty() && db.sites.empty() && db.stacks.empty())
    throw InputError(dir + ": empty hwdb (no chips/, systems/, clusters/, sites/ or stacks/ entries)");
  // References: system -> chip, cluster -> system.
  auto check_ref = [&](const std::map<std::string, Record>& from, const char* key,
                       const std::map<std::string, Record>& to, const char* what) {
    for (auto& [id, r] : from) {
      const std::string& ref = r.str(key);
      if (!to.count(ref))
        throw InputError(r.file, r.text_line.at(key), key,
                         "unknown " + std::string(what) + " '" + ref + "' (known: " + known_ids(to) + ")");
    }
  };
  check_ref(db.systems, "chip", db.chips, "chip");
  check_ref(db.systems, "stack", db.stacks, "stack");
  check_ref(db.systems, "training_stack", db.stacks, "stack");
  for (auto& [id, r] : db.systems)  // optional: the serving stack for dense models
    if (const std::string& d = r.str("stack_dense"); !d.empty() && (!db.stacks.count(d) || db.stacks.at(d).str("role") != "serving"))
      throw InputError(r.file, r.text_line.at("stack_dense"), "stack_dense",
                       db.stacks.count(d) ? "stack '" + d + "' is not a serving stack"
                                          : "unknown stack '" + d + "' (known: " + known_ids(db.stacks) + ")");
  if (!db.sites.empty()) check_ref(db.systems, "home_site", db.sites, "site");
  // A system's default stacks serve their own role.
  for (auto& [id, r] : db.systems)
    for (auto [key, role] : {std::pair{"stack", "serving"}, std::pair{"training_stack", "training"}})
      if (db.stacks.at(r.str(key)).str("role") != role)
        throw InputError(r.file, r.text_line.at(key), key, "stack '" + r.str(key) + "' is not a " + role + " stack");
  check_ref(db.clusters, "system", db.systems, "system");
  for (auto& name : overlays) {
    // A name from hwdb/overlays, or a path to a figure set anywhere (contains '/' or ends in .toml).
    const bool is_path = name.find('/') != std::string::npos ||
                         (name.size() > 5 && name.compare(name.size() - 5, 5, ".toml") == 0);
    if (is_path && !fs::is_regular_file(name))
      throw InputError("flag --figures: cannot open figure set '" + name + "' (" +
                       (fs::exists(name) ? "not a regular file" : "no such file") + ")");
    const fs::path path = is_path ? fs::path(name) : fs::path(dir) / "overlays" / (name + ".toml");
    if (!fs::exists(path)) {
      std::string known;
      if (fs::is_directory(fs::path(dir) / "overlays"))
        for (auto& e : fs::directory_iterator(fs::path(dir) / "overlays"))
          known += (known.empty() ? "" : ", ") + e.path().stem().string();
      throw InputError("unknown figure set '" + name + "' (known: " + (known.empty() ? "none" : known) + ")");
    }
    apply_overlay(db, path.lexically_normal().string());
    db.overlays.push_back(name);
  }
  // A renamed system answers to its former ids ("aliases", comma-separated): the record is reachable
  // under each, keeps its own id, and is listed once.
  std::vector<std::pair<std::string, std::string>> aliases;
  for (auto& [id, r] : db.systems)
    for (const std::string& a : split_list(r.str("aliases"))) aliases.emplace_back(a, id);
  for (auto& [alias, id] : aliases) {
    if (db.find(alias))
      throw InputError(db.systems.at(id).file, db.systems.at(id).text_line.at("aliases"), "aliases",
                       "alias '" + alias + "' is already an id");
    Record copy = db.systems.at(id);
    copy.text["alias_of"] = id;
    db.systems.emplace(alias, std::move(copy));
  }
  return db;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    const auto b = cur.find_first_not_of(' '), e = cur.find_last_not_of(' ');
    if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
    cur.clear();
  };
  for (char c : s) {
    if (c == ',') flush();
    else cur += c;
  }
  flush();
  return out;
}

std::string default_hwdb_dir(const char* argv0) {
  if (const char* env = std::getenv("PODPERF_HWDB"); env && *env) return env;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec && argv0) exe = fs::absolute(argv0, ec);
  for (const char* rel : {"../hwdb", "../share/podperf/hwdb", "hwdb"}) {
    fs::path p = (exe.parent_path() / rel).lexically_normal();
    if (fs::is_directory(p / "chips")) return p.string();
  }
  return std::string(PODPERF_SOURCE_DIR) + "/hwdb";
}

std::string unit_of(const std::string& entity, const std::string& key) {
  const auto& schema = io::schema_of(entity);
  const auto dot = key.find('.');
  const auto* rule = dot == std::string::npos ? schema.find("", key)
                                              : schema.find(key.substr(0, dot), key.substr(dot + 1));
  return rule ? rule->unit : "";
}

}  // namespace podperf

namespace podperf {

void apply_set(Hwdb& db, const std::string& assignment, const std::string& flag, const std::string& shown) {
  const std::string where = "flag " + flag + " " + (shown.empty() ? assignment : shown);
  auto fail = [&](const std::string& msg) -> void { throw InputError(where + ": " + msg); };
  const auto eq = assignment.find('=');
  if (eq == std::string::npos) fail("expected ENTITY.FIELD=VALUE, e.g. ascend-910c.price_usd=20000");
  const std::string lhs = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  const auto dot = lhs.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == lhs.size())
    fail("expected ENTITY.FIELD=VALUE, e.g. ascend-910c.price_usd=20000");
  const std::string id = lhs.substr(0, dot), field = lhs.substr(dot + 1);
  const Record* found = db.find(id);
  if (!found) fail("unknown entity '" + id + "' (not a chip, system, cluster or site id; see podperf hwdb list)");
  Record& r = const_cast<Record&>(*found);
  const io::FileSchema& schema = io::schema_of(r.entity);
  // FIELD is SECTION.KEY, or a KEY that only one section has.
  const io::FieldRule* rule = nullptr;
  if (const auto d = field.find('.'); d != std::string::npos) {
    rule = schema.find(field.substr(0, d), field.substr(d + 1));
  } else {
    std::vector<const io::FieldRule*> matches;
    for (auto& f : schema.fields)
      if (f.key == field && f.is_number()) matches.push_back(&f);
    if (matches.size() == 1) rule = matches[0];
    if (matches.size() > 1) {
      std::string all;
      for (auto* m : matches) all += (all.empty() ? "" : ", ") + id + "." + m->path();
      fail("field '" + field + "' is ambiguous for " + r.entity + " '" + id + "' (give one of: " + all + ")");
    }
  }
  if (!rule || !rule->is_number()) fail("unknown " + r.entity + " field '" + field + "' (see podperf hwdb show " + id + ")");
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size())
    fail("field '" + rule->shown() + "': value '" + text + "' is not a number");
  toml::table t{{"value", v}, {"kind", "assumption"}, {"source", where}};
  try {
    r.numbers[rule->path()] = io::read_number(t, "", *rule, nullptr);
  } catch (const InputError& e) {
    throw InputError(where + ": " + e.what());
  }
  drop_replaced(r, rule->path());
  Number& n = r.numbers[rule->path()];
  if (std::find(r.order.begin(), r.order.end(), rule->path()) == r.order.end()) r.order.push_back(rule->path());
  n.file = where;
  n.note = "set for this run";
  try {
    check_shape(r);
  } catch (const InputError& e) {
    throw InputError(where + ": " + e.what());
  }
}

}  // namespace podperf
