#include "podperf/core/power.hpp"

namespace podperf {

double scaleout_ports_per_chip(const Fabric& f) {
  return 1.0 + 2.0 * (f.tiers - 1) / f.oversubscription;
}

PowerBreakdown it_power(const System& s, double chip_w) {
  PowerBreakdown p;
  p.chips_w = s.chips * chip_w;
  p.cpus_w = s.cpus * s.cpu_w;
  p.node_overhead_w = s.overhead_frac * (p.chips_w + p.cpus_w);
  // Hot spares (UB-Mesh 64+1) stay powered at idle whatever the load; they add no compute.
  p.spare_chips_w = s.spare_chips * s.chip.idle_w;
  // Scale-up parts are counted per supernode (with a switch tier: LRS + HRS, topo::mesh_parts).
  p.scaleup_switch_w = s.supernodes * (s.scaleup.switch_chips * s.scaleup.switch_w + s.scaleup.hrs_chips * s.scaleup.hrs_w);
  p.scaleup_optics_w = s.supernodes * s.scaleup.transceivers * s.scaleup.transceiver_w;
  // Scale-out: per chip a NIC, its share of switch ports, and one module per link end
  // (ports + the NIC's own end) times the modules per port.
  const Fabric& o = s.scaleout;
  const double ports = scaleout_ports_per_chip(o);
  p.scaleout_nic_w = s.chips * o.nic_w;
  p.scaleout_switch_w = s.chips * ports / o.switch_ports * o.switch_w;
  p.scaleout_optics_w = s.chips * (ports + 1) * o.transceivers * o.transceiver_w;
  return p;
}

}  // namespace podperf
