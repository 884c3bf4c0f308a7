#include "podperf/core/reliability.hpp"

#include <algorithm>
#include <cmath>

#include "podperf/core/power.hpp"

namespace podperf {

namespace {
constexpr double kFit = 1e-9;  // FIT -> failures per hour
}

PartCount supernode_parts(const System& s) {
  PartCount p;
  const double n = s.chips_per_supernode > 0 ? s.chips_per_supernode : s.chips;
  const double per_sn = s.supernodes > 0 ? 1.0 / s.supernodes : 1.0;
  const double ports = scaleout_ports_per_chip(s.scaleout);
  p.chips = n;
  p.nodes = s.nodes * per_sn;
  p.nics = n;
  // Scale-up switches and modules are counted per supernode in the hwdb; the scale-out network per
  // chip (its switch ports and one module per link end, as in power.hpp).
  p.switches = s.scaleup.switch_chips + s.scaleup.hrs_chips + (s.scaleout.switch_ports > 0 ? n * ports / s.scaleout.switch_ports : 0);
  p.transceivers = s.scaleup.transceivers + n * (ports + 1) * s.scaleout.transceivers;
  return p;
}

double optimal_checkpoint_interval(double delta, double m) {
  if (!(m > 0)) return 0;
  if (delta >= m / 2) return m;
  return std::sqrt(2 * delta * m) - delta;
}

Reliability reliability(const System& s, Mode mode, double job_chips) {
  Reliability r;
  const PartFailures& f = s.fail;
  const Chip& c = s.chip;
  r.stated = f.restart_s > 0 && (c.fit > 0 || c.hbm_fit > 0);
  if (!r.stated) return r;
  const PartCount p = supernode_parts(s);
  const double chip_rate = (c.fit + c.hbm_fit) * kFit;  // what a hot spare covers
  const double per_chip = chip_rate + (f.software_fit + f.nic_fit) * kFit;
  const double other = (p.nodes * f.node_fit + p.switches * f.switch_fit + p.transceivers * f.transceiver_fit) * kFit;
  r.supernode_per_h = p.chips * per_chip + other;
  r.system_per_h = r.supernode_per_h * s.supernodes;
  r.mtbf_supernode_h = 1 / r.supernode_per_h;
  r.mtbf_system_h = 1 / r.system_per_h;
  const double chips = std::max(1.0, static_cast<double>(s.chips));
  const double share = std::clamp(job_chips / chips, 0.0, 1.0);
  // Recovery: chip and HBM failures go to a hot spare where there is one.
  const double covered = f.spare_every > 0 && f.spare_switch_s > 0 ? chip_rate * chips / r.system_per_h : 0;
  r.recovery_s = covered * f.spare_switch_s + (1 - covered) * f.restart_s;
  if (mode == Mode::train) {
    r.job_per_h = r.system_per_h * share;
    r.blast_chips = job_chips;
    const double m_s = 3600 / r.job_per_h;
    const double delta = f.checkpoint_s;
    const double tau = optimal_checkpoint_interval(delta, m_s);
    r.checkpoint_interval_s = tau;
    const double lost_per_h = r.job_per_h * (r.recovery_s + (tau + delta) / 2) / 3600;
    r.goodput = tau > 0 ? tau / (tau + delta) * (1 - lost_per_h) : 1 - lost_per_h;
  } else {
    // Every failure stops the instance it sits in; all instances together use the whole system.
    r.job_per_h = r.system_per_h;
    r.blast_chips = job_chips;
    r.goodput = 1 - r.system_per_h * r.recovery_s / 3600 * share;
  }
  r.interruptions_per_day = 24 * r.job_per_h;
  r.goodput = std::clamp(r.goodput, 0.0, 1.0);
  return r;
}

}  // namespace podperf
