// All-in IT power of a system, term by term (chips, CPUs, node overhead, scale-up switches and
// optics, scale-out NICs, switches and optics). Facility power = IT power x the site's PUE.
#pragma once
#include "podperf/core/spec.hpp"

namespace podperf {

struct PowerBreakdown {
  double chips_w = 0;
  double cpus_w = 0;
  double node_overhead_w = 0;   // fans, DRAM, PSU losses
  double spare_chips_w = 0;     // hot-spare chips at idle
  double scaleup_switch_w = 0;
  double scaleup_optics_w = 0;
  double scaleout_nic_w = 0;
  double scaleout_switch_w = 0;
  double scaleout_optics_w = 0;
  double total_w() const {
    return chips_w + cpus_w + node_overhead_w + spare_chips_w + scaleup_switch_w + scaleup_optics_w + scaleout_nic_w +
           scaleout_switch_w + scaleout_optics_w;
  }
};

// Scale-out switch ports used per chip in a `tiers`-level folded Clos: one leaf port, plus one
// down and one up port per higher tier, thinned by the oversubscription ratio:
//   ports = 1 + 2 (tiers - 1) / oversubscription.
double scaleout_ports_per_chip(const Fabric& f);

// IT power with every chip drawing `chip_w` (tdp_w at peak; from utilisation in workloads).
PowerBreakdown it_power(const System& s, double chip_w);
inline PowerBreakdown peak_power(const System& s) { return it_power(s, s.chip.tdp_w); }

// A chip's power when its units are busy a fraction `activity` of the time (0..1): linear between
// the idle floor and TDP. Hosts, switches and optics stay on whatever the load.
inline double chip_power_w(const Chip& c, double activity) { return c.idle_w + (c.tdp_w - c.idle_w) * activity; }

}  // namespace podperf
