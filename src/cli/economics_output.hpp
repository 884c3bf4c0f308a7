// The estimate's cost and reliability block: TCO, cost per token at the site's utilisation, and the
// throughput, energy and cost per token left after failures, with 5-95% ranges over the hwdb.
#pragma once
#include <functional>
#include <ostream>

#include "context.hpp"
#include "estimate_output.hpp"
#include "podperf/core/economics.hpp"

namespace podperf::cli {

struct EconomicsFlags {
  std::string site;   // empty: the system's home_site from the hwdb
  int samples = 0;    // Monte Carlo draws over the hwdb ranges (0 = central values only)
  unsigned long seed = 1;
};
void add_economics_flags(CLI::App* cmd, EconomicsFlags& f);
// Prints (or adds to `j` when non-null) the cost and reliability of the estimate.
// `central` is the scenario evaluated at the hwdb's central values; `run` evaluates it at a draw.
void economics_output(std::ostream& os, Json* j, const Hwdb& db, const Evaluation& central,
                      const std::function<Economics(const Pick&)>& run, const EconomicsFlags& f);

}  // namespace podperf::cli
