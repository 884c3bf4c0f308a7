// How many good accelerators a year the supply chain can make (docs/supply.md), for one chip:
//
//   dies per wafer      DPW = pi (d/2)^2 / A - pi d / sqrt(2 A)      (d wafer diameter, A die area;
//                       Hennessy and Patterson, "Computer Architecture: A Quantitative Approach",
//                       sec. 1.6, "Cost of an integrated circuit"; the same function prices a chip)
//   die yield           Y = reported, else Murphy ((1 - e^{-A D0}) / (A D0))^2 or Poisson e^{-A D0}
//   wafers per year     W = 12 x node wafers per month x foundry share x product share
//   logic-bound chips   C_logic = (W x DPW x Y + die bank / stock years) / dies per chip
//   HBM-bound chips     C_hbm   = (HBM stockpile / stock years + domestic + imported stacks per year)
//                                 / stacks per chip
//   packaging-bound     C_pkg   = packages per year
//   good chips per year G = min(C_logic, C_hbm, C_pkg) x package yield
//
// The binding constraint is the smallest of the three. Every input is a plain number; the range of
// G follows from each input's [low, high] (G is monotone in every input, so the ends are exact).
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace podperf {

struct SupplyInputs {
  // die
  double die_mm2 = 0, wafer_mm = 300, dies_per_chip = 1;
  double yield = 0;                   // reported die yield; <= 0: from the defect density
  double defect_per_cm2 = 0;
  int yield_model = 0;                // 0 Murphy, 1 Poisson
  // wafers
  double node_wafers_per_month = 0;   // the foundry node's wafer starts per month
  double foundry_share = 0;           // share of the node going to the chip's designer
  double product_share = 0;           // share of the designer's wafers going to this chip
  double die_bank_dies = 0;           // one-off stock of good dies made elsewhere
  double stock_years = 1;             // years over which the one-off stocks are spent
  // HBM
  double hbm_stacks_per_chip = 0;
  double hbm_stockpile_stacks = 0;    // one-off stock
  double hbm_domestic_stacks_per_year = 0, hbm_import_stacks_per_year = 0;
  // packaging
  double packaging_chips_per_year = 0;
  double package_yield = 1;
};

// The numeric inputs by name (the keys of a supply file, "section.field"), for ranges, overrides
// and sweeps.
const std::vector<std::pair<std::string, double SupplyInputs::*>>& supply_fields();

enum class SupplyBound { logic, hbm, packaging };
const char* to_string(SupplyBound b);

struct SupplyYear {
  double dies_per_wafer = 0, yield = 0, good_dies_per_wafer = 0;
  double wafers_per_year = 0;
  double foundry_dies_per_year = 0, bank_dies_per_year = 0;
  double hbm_stacks_per_year = 0;
  double chips_logic = 0, chips_hbm = 0, chips_packaging = 0;  // chips each constraint allows
  double chips_started = 0;                                    // the smallest of the three
  double good_chips = 0;                                       // after package yield
  double wafers_used = 0;        // foundry wafers the started chips consume (<= wafers_per_year)
  double hbm_stacks_used = 0;
  SupplyBound bound = SupplyBound::logic;
};

double supply_die_yield(const SupplyInputs& in);
SupplyYear supply_year(const SupplyInputs& in);

// Good chips per year at the inputs' ends: `low` and `high` hold each input's range ends (equal to
// the central value where it has none). Each input moves to the end that lowers (raises) G.
struct SupplyRange {
  double low = 0, central = 0, high = 0;
  // One input at a time: G with the input at its low end and at its high end.
  struct Swing {
    std::string field;
    double at_low = 0, at_high = 0;
  };
  std::vector<Swing> swings;  // inputs with a range, largest swing first
};
SupplyRange supply_range(const SupplyInputs& central, const SupplyInputs& low, const SupplyInputs& high);

// Whole systems of `chips_per_system` that `good_chips` fill.
double systems_filled(double good_chips, double chips_per_system);

}  // namespace podperf
