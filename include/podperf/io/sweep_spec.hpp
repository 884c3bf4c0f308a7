// A sweep: the Cartesian product of axes (lists or ranges), optional constraints, which metrics to
// keep, and what to do with invalid points. Read from configs/sweeps/*.toml.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "podperf/io/limits.hpp"

namespace podperf {

// Axes a sweep may vary. Text axes hold ids; numeric axes hold values.
enum class AxisId {
  system, model, mode, site, weights, kv,                               // text
  tp, ep, pp, batch, seq_in, seq_out, context, tpot_ms, mtp, electricity_usd_kwh, overlap,  // numeric
  utilization, yield,  // numeric: the site's utilisation, the chip's die yield (cost from manufacturing)
  // Training plan (mode "train" only), as the estimate flags --micro-batch, --interleave, --zero,
  // --cp, --seq (numeric) and --recompute, --sp, --tp-overlap (text).
  micro_batch, interleave, zero, cp, seq, recompute, sp, tp_overlap,
  // Software stack (text): a stack id of hwdb/stacks, or "deployed" (each system's own); a serving
  // stack replaces the system's serving stack, a training stack its training stack.
  stack,
  count
};
inline constexpr int kAxes = static_cast<int>(AxisId::count);
const char* to_string(AxisId a);
bool axis_is_text(AxisId a);
const char* axis_unit(AxisId a);

struct Axis {
  AxisId id;
  std::vector<std::string> labels;  // text axes
  std::vector<double> values;       // numeric axes
  int line = 0;                     // where the spec gives it
  std::size_t size() const { return labels.empty() ? values.size() : labels.size(); }
};

// A constraint `lhs OP rhs` over numeric axes and `chips`, `chips_per_supernode`, compiled to
// reverse Polish notation (numbers, variables, + - * /).
struct Expr {
  static constexpr int kMaxDepth = 32;  // pending operands during evaluation (the parser checks)
  enum Op : std::uint8_t { num, var, add, sub, mul, div };
  struct Tok {
    Op op;
    double value;  // num: the number; var: the variable index
  };
  std::vector<Tok> rpn;
};
enum class Cmp { le, lt, ge, gt, eq, ne };
struct Constraint {
  std::string text;
  Expr lhs, rhs;
  Cmp cmp;
};
// Variables a constraint can name: numeric axes by AxisId, then these two.
inline constexpr int kVarChips = kAxes, kVarChipsPerSupernode = kAxes + 1, kVars = kAxes + 2;

// Metrics a sweep can write.
enum class MetricId {
  tokens_per_s_per_chip, tokens_per_s, tokens_per_s_per_user, tpot_ms, ttft_ms, step_time_s, mfu,
  memory_gb_per_chip, meets_target, usd_per_mtok, tokens_per_kwh, tokens_per_usd, avg_facility_kw,
  capex_usd, tco_usd_per_h, instance_chips, batch_per_instance,
  interruptions_per_day, mtbf_system_h, goodput, good_usd_per_mtok,  // after failures (reliability.hpp)
  count
};
inline constexpr int kMetrics = static_cast<int>(MetricId::count);
const char* to_string(MetricId m);
const char* metric_unit(MetricId m);

struct SweepSpec {
  std::string id, description, file, text;  // text: the whole file, stored in outputs
  std::vector<Axis> axes;                    // in file order; the last varies fastest
  std::vector<Constraint> constraints;
  std::vector<MetricId> metrics;
  bool keep_invalid = true;                  // invalid points: rows with a reason code, or skipped
  std::uint64_t points() const;
  const Axis* axis(AxisId id) const;
};

// Parses and validates a spec (file:line errors); `max_points` guards against runaway sweeps.
SweepSpec load_sweep_spec(const std::string& path);

double eval(const Expr& e, const double* vars);
bool holds(const Constraint& c, const double* vars);

}  // namespace podperf
