#include "economics_output.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "podperf/app/uncertainty.hpp"
#include "table.hpp"

namespace podperf::cli {

void add_economics_flags(CLI::App* cmd, EconomicsFlags& f) {
  cmd->add_option("--site", f.site, "site for cost (default: the system's home_site in the hwdb)");
  cmd->add_option("--samples", f.samples, "Monte Carlo draws over the hwdb ranges for the cost and reliability rows")
      ->check(CLI::Range(0, 100000))->capture_default_str();
  cmd->add_option("--seed", f.seed, "Monte Carlo seed")->capture_default_str();
}

namespace {
struct Line {
  const char* key;
  const char* label;
};
const std::vector<Line>& lines() {
  static const std::vector<Line> l = {
      {"utilization", "utilisation (fraction of hours under load)"},
      {"capex_usd", "capex USD"},
      {"chip_mfg_usd", "chip cost from manufacturing USD"},
      {"tco_usd_per_h", "TCO USD per hour"},
      {"avg_facility_kw", "average facility power kW"},
      {"usd_per_mtok", "TCO USD per million tokens"},
      {"tokens_per_kwh", "tokens per kWh"},
      {"mtbf_supernode_h", "MTBF of one supernode h"},
      {"mtbf_system_h", "MTBF of the system h"},
      {"interruptions_per_day", "interruptions per day"},
      {"checkpoint_interval_min", "checkpoint interval min (Young/Daly)"},
      {"goodput", "goodput (fraction left after failures)"},
      {"good_tokens_per_s", "tokens/s after failures"},
      {"good_tokens_per_kwh", "tokens per kWh after failures"},
      {"good_usd_per_mtok", "USD per million tokens after failures"},
  };
  return l;
}

std::vector<double> values(const Economics& e) {
  const double nan = std::nan("");
  const bool ok = e.est.fits();
  const bool rel = e.rel.stated;
  auto w = [&](double v) { return ok ? v : nan; };
  auto r = [&](double v) { return rel ? v : nan; };
  return {e.tco.utilization,
          e.tco.capex_usd,
          nan,  // filled by the caller (needs the chip)
          e.tco.per_h(),
          e.tco.facility_avg_w / 1000,
          w(e.usd_per_mtok),
          w(e.tokens_per_kwh),
          r(e.rel.mtbf_supernode_h),  // the hardware's, whether or not the workload fits
          r(e.rel.mtbf_system_h),
          r(e.est.mode == Mode::train ? w(e.rel.interruptions_per_day) : e.rel.interruptions_per_day),
          r(e.est.mode == Mode::train ? w(e.rel.checkpoint_interval_s / 60) : nan),
          r(w(e.rel.goodput)),
          r(w(e.good_tokens_per_s)),
          r(w(e.good_tokens_per_kwh)),
          r(w(e.good_usd_per_mtok))};
}
}  // namespace

void economics_output(std::ostream& os, Json* j, const Hwdb& db, const Evaluation& central,
                      const std::function<Economics(const Pick&)>& run, const EconomicsFlags& f) {
  const std::string& system_id = central.system_id;
  const std::string& site_id = central.site_id;
  auto eval = [&](const Pick& pick) {
    const Economics e = run(pick);
    std::vector<double> v = values(e);
    const ChipCost k = chip_cost(db.system(system_id, pick).chip);
    v[2] = k.stated ? k.total_usd : std::nan("");
    return v;
  };
  std::vector<std::string> ids = entities_of_system(db, system_id);
  ids.push_back(site_id);
  const std::vector<Interval> iv = monte_carlo(ranged_inputs(db, ids), f.samples, f.seed, eval);
  const System s = db.system(system_id);
  const ChipCost k = chip_cost(s.chip);
  if (j) {
    Json x = Json::object();
    x["site"] = site_id;
    x["samples"] = f.samples;
    for (std::size_t i = 0; i < lines().size(); ++i) {
      Json v = Json::object();
      v["value"] = iv[i].central;
      v["low"] = iv[i].low;
      v["high"] = iv[i].high;
      x[lines()[i].key] = v;
    }
    x["chip_price_usd"] = s.chip.price_usd > 0 ? Json(s.chip.price_usd) : s.cost.chip_usd > 0 ? Json(s.cost.chip_usd) : Json();
    (*j)["economics"] = x;
    return;
  }
  os << "cost and reliability at site " << site_id;
  if (f.samples > 0) os << " (5-95% over " << f.samples << " draws of the hwdb ranges, seed " << f.seed << ")";
  os << '\n';
  Table t({"", "value", f.samples > 0 ? "5-95%" : ""});
  for (std::size_t i = 0; i < lines().size(); ++i) {
    if (!std::isfinite(iv[i].central)) continue;
    std::string range;
    if (f.samples > 0 && iv[i].high > iv[i].low * (1 + 1e-9)) range = num(iv[i].low) + " - " + num(iv[i].high);
    t.row({lines()[i].label, num(iv[i].central), range});
  }
  t.print(os);
  if (k.stated) {
    const double given = s.chip.price_usd > 0 ? s.chip.price_usd : s.cost.chip_usd;
    os << "  chip from manufacturing: " << num(k.dies_per_wafer) << " dies per wafer, yield " << num(k.yield, 3)
       << ", good die " << num(k.good_die_usd) << " USD, HBM " << num(k.hbm_usd) << ", packaging " << num(k.packaging_usd)
       << ", test " << num(k.test_usd) << " -> " << num(k.total_usd) << " USD";
    if (given > 0) os << " (price used for capex: " << num(given) << " USD)";
    os << '\n';
  }
  const Economics& e = central.econ;
  if (e.rel.stated && e.est.fits())
    os << "  a failure stops " << num(e.rel.blast_chips) << " chips for " << num(e.rel.recovery_s / 60, 3) << " min"
       << (e.est.mode == Mode::train ? " and loses half a checkpoint interval of work" : "") << '\n';
}

}  // namespace podperf::cli
