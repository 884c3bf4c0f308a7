#include "podperf/core/supply.hpp"

#include <algorithm>
#include <cmath>

#include "podperf/core/cost.hpp"

namespace podperf {

const std::vector<std::pair<std::string, double SupplyInputs::*>>& supply_fields() {
  static const std::vector<std::pair<std::string, double SupplyInputs::*>> f = {
      {"die.die_mm2", &SupplyInputs::die_mm2},
      {"die.wafer_mm", &SupplyInputs::wafer_mm},
      {"die.yield", &SupplyInputs::yield},
      {"die.defect_per_cm2", &SupplyInputs::defect_per_cm2},
      {"wafers.node_wafers_per_month", &SupplyInputs::node_wafers_per_month},
      {"wafers.foundry_share", &SupplyInputs::foundry_share},
      {"wafers.product_share", &SupplyInputs::product_share},
      {"wafers.die_bank_dies", &SupplyInputs::die_bank_dies},
      {"wafers.stock_years", &SupplyInputs::stock_years},
      {"hbm.stacks_per_chip", &SupplyInputs::hbm_stacks_per_chip},
      {"hbm.stockpile_stacks", &SupplyInputs::hbm_stockpile_stacks},
      {"hbm.domestic_stacks_per_year", &SupplyInputs::hbm_domestic_stacks_per_year},
      {"hbm.import_stacks_per_year", &SupplyInputs::hbm_import_stacks_per_year},
      {"packaging.chips_per_year", &SupplyInputs::packaging_chips_per_year},
      {"packaging.package_yield", &SupplyInputs::package_yield},
  };
  return f;
}

const char* to_string(SupplyBound b) {
  switch (b) {
    case SupplyBound::logic: return "logic dies (wafers x yield)";
    case SupplyBound::hbm: return "HBM stacks";
    case SupplyBound::packaging: return "packaging";
  }
  return "?";
}

double supply_die_yield(const SupplyInputs& in) {
  if (in.yield > 0) return in.yield;
  return in.yield_model == 1 ? poisson_yield(in.die_mm2, in.defect_per_cm2) : murphy_yield(in.die_mm2, in.defect_per_cm2);
}

SupplyYear supply_year(const SupplyInputs& in) {
  SupplyYear y;
  const double years = in.stock_years > 0 ? in.stock_years : 1;
  const double dies = std::max(1.0, in.dies_per_chip);
  y.dies_per_wafer = dies_per_wafer(in.die_mm2, in.wafer_mm);
  y.yield = supply_die_yield(in);
  y.good_dies_per_wafer = y.dies_per_wafer * y.yield;
  y.wafers_per_year = 12 * in.node_wafers_per_month * in.foundry_share * in.product_share;
  y.foundry_dies_per_year = y.wafers_per_year * y.good_dies_per_wafer;
  y.bank_dies_per_year = in.die_bank_dies / years;
  y.hbm_stacks_per_year = in.hbm_stockpile_stacks / years + in.hbm_domestic_stacks_per_year + in.hbm_import_stacks_per_year;
  y.chips_logic = (y.foundry_dies_per_year + y.bank_dies_per_year) / dies;
  y.chips_hbm = in.hbm_stacks_per_chip > 0 ? y.hbm_stacks_per_year / in.hbm_stacks_per_chip : HUGE_VAL;
  y.chips_packaging = in.packaging_chips_per_year;
  y.chips_started = std::min({y.chips_logic, y.chips_hbm, y.chips_packaging});
  y.bound = y.chips_started == y.chips_logic ? SupplyBound::logic
            : y.chips_started == y.chips_hbm ? SupplyBound::hbm
                                             : SupplyBound::packaging;
  y.good_chips = y.chips_started * in.package_yield;
  // The banked dies go first; the foundry makes the rest.
  const double foundry_dies = std::max(0.0, y.chips_started * dies - y.bank_dies_per_year);
  y.wafers_used = y.good_dies_per_wafer > 0 ? foundry_dies / y.good_dies_per_wafer : 0;
  y.hbm_stacks_used = y.chips_started * in.hbm_stacks_per_chip;
  return y;
}

SupplyRange supply_range(const SupplyInputs& central, const SupplyInputs& low, const SupplyInputs& high) {
  SupplyRange r;
  r.central = supply_year(central).good_chips;
  SupplyInputs lo = central, hi = central;
  for (auto& [name, field] : supply_fields()) {
    if (low.*field == high.*field) continue;
    SupplyInputs a = central, b = central;
    a.*field = low.*field;
    b.*field = high.*field;
    const SupplyYear ya = supply_year(a), yb = supply_year(b);
    r.swings.push_back({name, ya.good_chips, yb.good_chips});
    // Each input moves one constraint (or the package yield) and every constraint is monotone in
    // it, so the sign of the change in the constraints says which end lowers G, also for an input
    // that does not bind at the central values.
    auto finite = [](double v) { return std::isfinite(v) ? v : 0.0; };
    const double change = (yb.chips_logic - ya.chips_logic) + finite(yb.chips_hbm) - finite(ya.chips_hbm) +
                          (yb.chips_packaging - ya.chips_packaging) + (yb.good_chips - ya.good_chips);
    const bool rising = change >= 0;
    lo.*field = rising ? low.*field : high.*field;
    hi.*field = rising ? high.*field : low.*field;
  }
  r.low = std::min(r.central, supply_year(lo).good_chips);
  r.high = std::max(r.central, supply_year(hi).good_chips);
  std::stable_sort(r.swings.begin(), r.swings.end(), [](const SupplyRange::Swing& x, const SupplyRange::Swing& y) {
    return std::abs(x.at_high - x.at_low) > std::abs(y.at_high - y.at_low);
  });
  return r;
}

double systems_filled(double good_chips, double chips_per_system) {
  if (!(chips_per_system > 0) || !(good_chips > 0)) return 0;
  return std::floor(good_chips / chips_per_system);
}

}  // namespace podperf
