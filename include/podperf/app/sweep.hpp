// Evaluating a sweep: points are numbered in the Cartesian product (the last axis fastest) and
// evaluated in chunks, in parallel with OpenMP, into columnar buffers; the order of rows never
// depends on the thread count. Invalid points carry a reason code (or are skipped and counted).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#pragma once
#include "podperf/io/hwdb.hpp"
#include "podperf/io/models.hpp"
#include "podperf/io/sweep_spec.hpp"
#include "podperf/core/workload.hpp"

namespace podperf {

// Reason codes written per row: 0 ok, the workload's Reason values, and these.
inline constexpr std::int8_t kReasonConstraint = 60;  // a spec constraint excludes the point
inline constexpr std::int8_t kReasonPlanShape = 61;   // TP x PP does not divide the instance
inline constexpr std::int8_t kReasonNumeric = 62;     // a metric came out non-finite or negative
const char* sweep_reason_text(std::int8_t code);
std::vector<std::int8_t> sweep_reason_codes();

// Specs resolved once per sweep: ids to structs, so that points allocate nothing.
struct SweepContext {
  const SweepSpec* spec = nullptr;
  std::vector<System> systems;      // per system label x stack label (stack fastest)
  int stacks = 1;                   // labels of the stack axis (1 without one)
  std::vector<Model> models;
  std::vector<Site> sites;          // the site axis, or one default site per system
  std::vector<int> default_site;    // per entry of systems: index into sites (no site axis)
  // Per system entry x model (model fastest), filled by the scenario layer (empty: the chip's
  // narrowest 8-bit format, 16 sequences per DP replica, 4,096 tokens): the formats `estimate`
  // resolves, the default training global batch in tokens and the training sequence.
  std::vector<InferenceSetup> formats;
  // Per system entry x model (model fastest), filled by the scenario layer (empty: `systems`): the
  // system as the scenario runs the model (a dense model on its system's dense-model stack).
  std::vector<System> model_systems;
  std::vector<double> train_batch_tokens;
  std::vector<int> train_seq;
  std::vector<Mode> modes;                     // per label of the mode axis
  std::vector<Precision> weights, kv;          // per label of the weights and kv axes
  std::vector<int> recompute, sp, tp_overlap;  // per label of these axes: Recompute, 1 = on, TpOverlap
  std::array<int, kAxes> axis_pos{};  // position of each axis in spec->axes, -1 if absent
  std::array<std::uint64_t, kAxes> stride{};
  // Performance key: sum of index x key_stride over the axes that change an estimate (0 for the
  // cost axes: site, electricity price, TPOT target, utilisation, yield).
  std::array<std::uint64_t, kAxes> key_stride{};
};

SweepContext prepare_sweep(const SweepSpec& spec, const Hwdb& db, const ModelDb& models);

// What the per-point pass reads of a slot's estimate (a quarter of an Estimate's bytes).
struct SlotResult {
  std::int8_t reason = 0;  // the estimate's Reason, or the sweep's plan-shape code
  Mode mode = Mode::decode;
  int chips = 0, instance_chips = 0, batch = 0;  // chips: the plan's (train) or the instance's
  double tokens_per_s = 0, tokens_per_s_per_chip = 0, tokens_per_s_per_user = 0;
  double tpot_s = 0, ttft_s = 0, step_time_s = 0, mfu = 0, memory_gb = 0, activity = 0;
  SlotResult() = default;
  explicit SlotResult(const Estimate& e)
      : reason(static_cast<std::int8_t>(e.reason)), mode(e.mode), chips(e.mode == Mode::train ? e.par.chips() : e.instance_chips),
        instance_chips(e.instance_chips), batch(e.batch), tokens_per_s(e.tokens_per_s),
        tokens_per_s_per_chip(e.tokens_per_s_per_chip), tokens_per_s_per_user(e.tokens_per_s_per_user),
        tpot_s(e.tpot_s), ttft_s(e.ttft_s), step_time_s(e.step_time_s), mfu(e.mfu), memory_gb(e.mem.used()),
        activity(e.activity) {}
  bool fits() const { return reason == 0; }
};

struct ChunkBuffers {
  std::uint64_t first = 0, count = 0;   // points [first, first + count)
  std::vector<std::uint64_t> point;     // global point index per kept row
  std::vector<std::vector<double>> axis;    // per spec axis: value, or label index for text axes
  std::vector<std::vector<double>> metric;  // per spec metric
  std::vector<std::int8_t> reason;
  std::vector<std::uint8_t> kept;       // per point in the chunk
  std::size_t rows = 0;
  std::array<std::uint64_t, 128> skipped{};  // by reason code, when invalid points are skipped
  std::uint64_t evaluations = 0;        // performance-model runs for this chunk (distinct keys)
  // Scratch of the evaluation passes, reused between chunks.
  std::vector<std::uint64_t> perf_key;  // per point: index over the axes an estimate depends on
  std::vector<int> slot;                // per point: its estimate, -1 where none is needed
  std::vector<int> slot_point;          // per slot: the first point with that key
  // Open-addressing table of the chunk's keys (key, slot, and the chunk that filled the entry, so
  // that no chunk clears it): a power-of-two size of at least twice the points of a chunk.
  std::vector<std::uint64_t> table_key;
  std::vector<int> table_slot;
  std::vector<std::uint32_t> table_gen;
  std::uint32_t gen = 0;
  std::vector<SlotResult> est;          // per slot
  void reserve(const SweepSpec& s, std::size_t n);
};

// Evaluates points [first, first + count) into `out` (whose buffers are reused between chunks).
void evaluate_chunk(const SweepContext& ctx, std::uint64_t first, std::uint64_t count, ChunkBuffers& out);

// FNV-1a over the hwdb's files (sorted paths and contents): identifies the data a sweep used.
std::string hwdb_content_hash(const std::string& dir);

// One input a sweep file depends on, stored as a root attribute: `--resume` refuses a file whose
// stamp differs from the current run's, naming `what` changed.
struct SweepStamp {
  std::string attr, what, value;
};
// The stamps of a run: podperf version and build, hwdb contents (symbolic links followed), figure
// sets and the contents of each figure-set file, model configs, and each flag that changes results
// (`flags`: flag name and its value, empty when not given).
std::vector<SweepStamp> sweep_stamps(const std::string& hwdb_dir, const std::vector<std::string>& figures,
                                     const std::string& configs_dir,
                                     const std::vector<std::pair<std::string, std::string>>& flags = {});

}  // namespace podperf
