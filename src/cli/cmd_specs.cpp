// podperf specs A B [...]: side-by-side system sheet with ratios of the first system to each other.
#include <functional>
#include <iostream>
#include <memory>

#include "context.hpp"
#include "podperf/io/json.hpp"
#include "podperf/core/system_specs.hpp"
#include "podperf/app/uncertainty.hpp"
#include "table.hpp"
#include "json_output.hpp"

namespace podperf::cli {

namespace {
struct Row {
  const char* key;    // JSON key
  const char* label;  // table label
  std::function<double(const System&, const SystemSpecs&)> get;
};

const std::vector<Row>& rows() {
  static const std::vector<Row> r = {
      {"chips", "accelerators", [](auto&, auto& s) { return s.chips; }},
      {"bf16_dense_pflops", "BF16 dense PFLOPS", [](auto&, auto& s) { return s.dense_pflops[3]; }},
      {"fp8_dense_pflops", "FP8 dense PFLOPS", [](auto&, auto& s) { return s.dense_pflops[1]; }},
      {"int8_dense_pops", "INT8 dense POPS", [](auto&, auto& s) { return s.dense_pflops[2]; }},
      {"fp4_dense_pflops", "FP4 dense PFLOPS", [](auto&, auto& s) { return s.dense_pflops[0]; }},
      {"hbm_tb", "HBM capacity TB", [](auto&, auto& s) { return s.hbm_tb; }},
      {"hbm_tb_s", "HBM bandwidth TB/s", [](auto&, auto& s) { return s.hbm_tb_s; }},
      {"scaleup_tb_s_per_dir", "scale-up TB/s per direction", [](auto&, auto& s) { return s.scaleup_tb_s_per_dir; }},
      {"scaleout_tb_s_per_dir", "scale-out TB/s per direction", [](auto&, auto& s) { return s.scaleout_tbit_s_per_dir / 8; }},
      {"racks", "racks", [](auto&, auto& s) { return s.racks; }},
      {"all_in_power_kw", "all-in IT power kW (peak, modelled)", [](auto&, auto& s) { return s.all_in_kw(); }},
      {"published_all_in_kw", "all-in power kW (published)", [](auto& sys, auto&) { return sys.published_all_in_kw; }},
  };
  return r;
}
}  // namespace

void add_specs_command(CLI::App& app, Context& ctx) {
  struct Opts {
    std::vector<std::string> ids;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("specs", "side-by-side system table with ratios to the first system");
  cmd->add_option("systems", o->ids, "system or cluster ids (or NxSYSTEM)")->required()->expected(1, -1);
  cmd->add_flag("--json", o->json, "machine-readable output");
  cmd->callback([&ctx, o] {
    const Hwdb& db = ctx.db();
    std::vector<System> sys;
    std::vector<SystemSpecs> spec;
    for (auto& id : o->ids) {
      sys.push_back(db.system(id));
      spec.push_back(system_specs(sys.back()));
    }
    if (o->json) {
      Json out = Json::object();
      Json list = Json::array();
      for (std::size_t i = 0; i < sys.size(); ++i) {
        Json j = Json::object();
        j["id"] = sys[i].id;
        j["name"] = sys[i].name;
        j["chip"] = sys[i].chip.id;
        for (auto& r : rows()) j[r.key] = r.get(sys[i], spec[i]);
        list.push(j);
      }
      out["systems"] = list;
      Json ratios = Json::array();
      for (std::size_t i = 1; i < sys.size(); ++i) {
        Json j = Json::object();
        j["numerator"] = sys[0].id;
        j["denominator"] = sys[i].id;
        for (auto& r : rows()) {
          const double a = r.get(sys[0], spec[0]), b = r.get(sys[i], spec[i]);
          j[r.key] = (a > 0 && b > 0) ? Json(a / b) : Json();
        }
        ratios.push(j);
      }
      out["ratios"] = ratios;
      if (!db.overlays.empty()) {
        Json f = Json::array();
        for (auto& s : db.overlays) f.push(s);
        out["figure_sets"] = f;
      }
      write_json(std::cout, out);
      return;
    }
    std::vector<std::string> header = {""};
    for (auto& s : sys) header.push_back(s.id);
    for (std::size_t i = 1; i < sys.size(); ++i) header.push_back(sys[0].id + " / " + sys[i].id);
    Table t(header);
    for (auto& r : rows()) {
      std::vector<std::string> cells = {r.label};
      for (std::size_t i = 0; i < sys.size(); ++i) {
        const double v = r.get(sys[i], spec[i]);
        cells.push_back(v > 0 ? num(v) : "-");
      }
      for (std::size_t i = 1; i < sys.size(); ++i)
        cells.push_back(ratio(r.get(sys[0], spec[0]), r.get(sys[i], spec[i])));
      t.row(cells);
    }
    t.print(std::cout);
    if (!db.overlays.empty()) {
      std::cout << "figure sets applied:";
      for (auto& s : db.overlays) std::cout << ' ' << s;
      std::cout << '\n';
    }
  });
}

void add_power_command(CLI::App& app, Context& ctx) {
  struct Opts {
    std::vector<std::string> ids;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("power", "all-in peak IT power term by term, bottom-up for every system, beside the published total");
  cmd->add_option("systems", o->ids, "system or cluster ids")->required()->expected(1, -1);
  cmd->add_flag("--json", o->json, "machine-readable output");
  cmd->callback([&ctx, o] {
    const Hwdb& db = ctx.db();
    struct Term {
      const char* key;
      const char* label;
      double PowerBreakdown::*w;
    };
    static const Term terms[] = {
        {"chips_kw", "accelerators at TDP", &PowerBreakdown::chips_w},
        {"cpus_kw", "host CPUs", &PowerBreakdown::cpus_w},
        {"node_overhead_kw", "node overhead (fans, DRAM, PSU)", &PowerBreakdown::node_overhead_w},
        {"spare_chips_kw", "hot-spare chips (idle)", &PowerBreakdown::spare_chips_w},
        {"scaleup_switch_kw", "scale-up switches", &PowerBreakdown::scaleup_switch_w},
        {"scaleup_optics_kw", "scale-up optics", &PowerBreakdown::scaleup_optics_w},
        {"scaleout_nic_kw", "scale-out NICs", &PowerBreakdown::scaleout_nic_w},
        {"scaleout_switch_kw", "scale-out switch share", &PowerBreakdown::scaleout_switch_w},
        {"scaleout_optics_kw", "scale-out optics", &PowerBreakdown::scaleout_optics_w},
    };
    std::vector<System> sys;
    for (auto& id : o->ids) sys.push_back(db.system(id));
    // Every system is built from its parts the same way; its 5-95 % range over the hwdb ranges of those
    // parts is set beside the published total, which is a validation reading and never an input.
    constexpr int kDraws = 2000;
    std::vector<Interval> band;
    for (auto& id : o->ids) {
      const std::vector<RangedInput> in = ranged_inputs(db, entities_of_system(db, id));
      band.push_back(monte_carlo(in, kDraws, 1, [&](const Pick& p) { return peak_power(db.system(id, p)).total_w() / 1000; }));
    }

    if (o->json) {
      Json out = Json::array();
      for (auto& s : sys) {
        const PowerBreakdown p = peak_power(s);
        Json j = Json::object();
        j["id"] = s.id;
        for (auto& t : terms) j[t.key] = p.*(t.w) / 1000;
        j["total_kw"] = p.total_w() / 1000;
        j["published_all_in_kw"] = s.published_all_in_kw > 0 ? Json(s.published_all_in_kw) : Json();
        const Interval& b = band[&s - &sys[0]];
        j["total_kw_low"] = b.low;
        j["total_kw_high"] = b.high;
        j["published_within_range"] = s.published_all_in_kw > 0 ? Json(s.published_all_in_kw >= b.low && s.published_all_in_kw <= b.high) : Json();
        out.push(j);
      }
      write_json(std::cout, out);
      return;
    }
    std::vector<std::string> header = {"kW"};
    for (auto& s : sys) header.push_back(s.id);
    Table t(header);
    for (auto& term : terms) {
      std::vector<std::string> row = {term.label};
      for (auto& s : sys) row.push_back(num(peak_power(s).*(term.w) / 1000));
      t.row(row);
    }
    std::vector<std::string> total = {"all-in IT power (bottom-up)"}, range = {"  5-95% over the parts' hwdb ranges"},
                             pub = {"published all-in (validation reading)"}, gap = {"bottom-up / published"},
                             inside = {"published inside the range"};
    for (std::size_t i = 0; i < sys.size(); ++i) {
      const System& s = sys[i];
      const double kw = peak_power(s).total_w() / 1000;
      total.push_back(num(kw));
      range.push_back(num(band[i].low) + " - " + num(band[i].high));
      // The published figure with its own range where sources disagree (hwdb: specs.published_all_in_kw).
      double plo = s.published_all_in_kw, phi = s.published_all_in_kw;
      if (const Record* r = db.find(o->ids[i]))
        if (auto n = r->numbers.find("specs.published_all_in_kw"); n != r->numbers.end() && n->second.has_range)
          plo = n->second.low, phi = n->second.high;
      pub.push_back(s.published_all_in_kw <= 0 ? "-"
                    : num(s.published_all_in_kw) + (phi > plo ? " (" + num(plo) + "-" + num(phi) + ")" : ""));
      gap.push_back(s.published_all_in_kw > 0 ? num(kw / s.published_all_in_kw, 3) + "x" : "-");
      inside.push_back(s.published_all_in_kw <= 0 ? "-"
                       : s.published_all_in_kw >= band[i].low && s.published_all_in_kw <= band[i].high ? "yes"
                       : plo <= band[i].high && phi >= band[i].low                                     ? "no; ranges overlap"
                                                                                                        : "no");
    }
    t.row(total);
    t.row(range);
    t.row(pub);
    t.row(gap);
    t.row(inside);
    t.print(std::cout);
    std::cout << "every total is built from the same terms; the published totals are checked against it, never used to "
                 "set a part (hwdb show ID: their sources)\n";
  });
}

}  // namespace podperf::cli
