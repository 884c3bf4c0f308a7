// The hwdb schema: every field each entity kind may carry, its type, unit and plausibility limit.
// Units live in key names; bandwidths are per direction unless the key says otherwise.
#include "hwdb_schema.hpp"

namespace podperf::io {

namespace {
using T = FieldType;
const std::vector<std::string> kTopologyUp = {"switch", "clos2", "fullmesh"};
const std::vector<std::string> kTopologyOut = {"clos"};
const std::vector<std::string> kMedium = {"copper", "optical"};
const std::vector<std::string> kYieldModel = {"murphy", "poisson"};
const std::vector<std::string> kOverlapScheme = {"two-micro-batch", "two-stream", "streams"};
const std::vector<std::string> kServing = {"aggregated", "disaggregated"};
const std::vector<std::string> kStackRole = {"serving", "training"};

// Scale-out fabric fields, shared by systems (per supernode) and clusters (between supernodes).
std::vector<FieldRule> scaleout_fields() {
  return {
      {"scaleout", "topology", T::choice, true, "", 0, kTopologyOut},
      {"scaleout", "gb_s_per_dir", T::positive, true, "GB/s per chip per direction", 2000},
      {"scaleout", "latency_us", T::positive, true, "us per hop", 1000},
      {"scaleout", "a2a_latency_us", T::positive, true, "us per all-to-all kernel", 10000},
      {"scaleout", "a2a_per_peer_us", T::nonneg, false, "us per remote peer of an all-to-all kernel", 1000},
      {"scaleout", "a2a_gb_s", T::positive, false, "GB/s achieved by an all-to-all kernel on the bytes leaving a chip", 2000},
      {"scaleout", "coll_eff", T::fraction, true, "fraction of link bandwidth"},
      {"scaleout", "oversubscription", T::at_least_one, true, "ratio", 64},
      {"scaleout", "tiers", T::count, true, "switch tiers", 4},
      {"scaleout", "nic_w", T::nonneg, true, "W per chip", 500},
      {"scaleout", "switch_ports", T::count, true, "ports per switch", 4096},
      {"scaleout", "switch_w", T::nonneg, true, "W per switch", 100000},
      {"scaleout", "transceivers_per_port", T::nonneg, true, "modules per switch port", 4},
      {"scaleout", "transceiver_w", T::nonneg, true, "W per module", 100},
  };
}

FileSchema chip_schema() {
  return {"chip",
          {
              {"", "id", T::text, true, ""},
              {"", "name", T::text, true, ""},
              {"", "vendor", T::text, true, ""},
              {"", "process", T::text, false, ""},
              {"", "available_in", T::text, false, ""},
              {"", "notes", T::text, false, ""},
              {"specs", "dies", T::count, true, "dies per package", 16},
              {"specs", "bf16_dense_tflops", T::positive, true, "TFLOPS", 100000},
              {"specs", "fp32_dense_tflops", T::positive, false, "TFLOPS", 100000},
              {"specs", "fp8_dense_tflops", T::positive, false, "TFLOPS", 200000},
              {"specs", "int8_dense_tops", T::positive, false, "TOPS", 200000},
              {"specs", "fp4_dense_tflops", T::positive, false, "TFLOPS", 400000},
              {"specs", "hbm_gb", T::positive, true, "GB", 4096},
              {"specs", "hbm_tb_s", T::positive, true, "TB/s", 100},
              {"specs", "tdp_w", T::positive, true, "W", 10000},
              {"specs", "idle_w", T::positive, true, "W", 10000},
              {"specs", "scaleup_gb_s_per_dir", T::positive, false, "GB/s per direction", 20000},
              {"specs", "price_usd", T::positive, false, "USD", 1e6},
              {"efficiency", "gemm_eff", T::fraction, true, "fraction of peak"},
              {"efficiency", "hbm_eff", T::fraction, true, "fraction of peak"},
              {"efficiency", "attn_prefill_eff", T::fraction, true, "fraction of peak in attention prefill kernels"},
              {"efficiency", "attn_decode_eff", T::fraction, true, "fraction of peak in attention decode kernels"},
              {"efficiency", "sfu_texp_s", T::positive, false, "10^12 softmax exponentials per second (SFU)", 1000},
              // Required with specs.fp4_dense_tflops (check_shape).
              {"efficiency", "fp4_gemm_eff_ratio", T::fraction, false,
               "FP4 GEMM fraction of the FP4 peak over the FP8 GEMM fraction of the FP8 peak (same kernels and shapes)"},
              // One of the two (check_shape): the measured curve by rows, else the knee.
              {"efficiency", "small_gemm_m", T::positive, false, "GEMM rows at half efficiency", 1e5},
              {"efficiency", "gemm_eff_by_m", T::curve, false, "fraction of peak by GEMM rows m", 1e7},
              {"efficiency", "gemm_row_tile", T::positive, false, "token rows per tensor-unit tile of small GEMMs", 1024},
              {"efficiency", "gemm_hbm_eff", T::fraction, false, "fraction of HBM bandwidth a skinny GEMM streams its weights at"},
              {"reliability", "accelerator_fit", T::nonneg, false, "failures per 1e9 chip-hours (logic, SRAM, links)", 1e7},
              {"reliability", "hbm_fit", T::nonneg, false, "failures per 1e9 chip-hours (all HBM stacks of one chip)", 1e7},
              {"manufacturing", "die_mm2", T::positive, false, "mm^2 per logic die", 2000},
              {"manufacturing", "wafer_usd", T::positive, false, "USD per processed 300 mm wafer", 1e6},
              {"manufacturing", "defect_per_cm2", T::nonneg, false, "defects per cm^2 (D0)", 10},
              {"manufacturing", "yield", T::fraction, false, "fraction of good dies (given; else from D0)"},
              {"manufacturing", "yield_model", T::choice, false, "", 0, kYieldModel},
              {"manufacturing", "hbm_stacks", T::nonneg, false, "HBM stacks per package", 64},
              {"manufacturing", "hbm_stack_usd", T::nonneg, false, "USD per HBM stack", 1e5},
              {"manufacturing", "packaging_usd", T::nonneg, false, "USD per package (2.5D integration)", 1e5},
              {"manufacturing", "test_usd", T::nonneg, false, "USD per package (test, assembly, substrate)", 1e5},
              {"manufacturing", "package_yield", T::fraction, false, "fraction of good packages"},
          }};
}

FileSchema system_schema() {
  FileSchema s{
      "system",
      {
          {"", "id", T::text, true, ""},
          {"", "name", T::text, true, ""},
          {"", "vendor", T::text, true, ""},
          {"", "home_site", T::text, true, ""},
          {"", "aliases", T::text, false, ""},
          {"", "available_in", T::text, false, ""},
          {"", "chip", T::ref, true, "", 0, {}, "chip"},
          {"", "stack", T::ref, true, "", 0, {}, "stack"},
          {"", "training_stack", T::ref, true, "", 0, {}, "stack"},
          {"", "stack_dense", T::ref, false, "", 0, {}, "stack"},
          {"", "notes", T::text, false, ""},
          {"specs", "chips", T::count, true, "accelerators", 1e6},
          {"specs", "nodes", T::count, true, "servers", 1e6},
          {"specs", "cpus", T::nonneg_count, true, "host CPUs", 1e6},
          {"specs", "cpu_w", T::nonneg, true, "W per CPU", 2000},
          {"specs", "racks", T::positive, true, "racks", 1e5},
          {"specs", "price_usd", T::positive, false, "USD", 1e11},
          {"specs", "published_all_in_kw", T::positive, false, "kW", 1e6},
          {"specs", "host_memory_tb", T::positive, false, "TB of CPU-attached memory (LPDDR, DDR)", 1e5},
          {"power", "overhead_frac", T::nonneg_frac, true, "fraction of chip + CPU power"},
          {"cost", "scaleout_port_usd", T::nonneg, true, "USD per scale-out switch port", 1e5},
          {"cost", "scaleout_transceiver_usd", T::nonneg, true, "USD per scale-out module", 1e5},
          {"cost", "chip_usd", T::positive, false, "USD per accelerator", 1e6},
          {"cost", "node_usd", T::nonneg, false, "USD per server without accelerators", 1e7},
          {"cost", "switch_usd", T::nonneg, false, "USD per scale-up switch ASIC", 1e6},
          {"cost", "scaleup_transceiver_usd", T::nonneg, false, "USD per scale-up module", 1e5},
          {"cost", "rack_usd", T::nonneg, false, "USD per rack (frame, power shelves, cooling)", 1e7},
          {"cost", "hrs_usd", T::nonneg, false, "USD per high-radix switch of a mesh's switch tier", 1e6},
          {"scaleup", "topology", T::choice, true, "", 0, kTopologyUp},
          {"scaleup", "medium", T::choice, true, "", 0, kMedium},
          {"scaleup", "gb_s_per_dir", T::positive, true, "GB/s per chip per direction", 20000},
          {"scaleup", "latency_us", T::positive, true, "us per hop", 1000},
          {"scaleup", "a2a_latency_us", T::positive, true, "us per all-to-all kernel", 10000},
          {"scaleup", "a2a_per_peer_us", T::nonneg, false, "us per peer of an all-to-all kernel", 1000},
          {"scaleup", "a2a_gb_s", T::positive, false, "GB/s achieved by an all-to-all kernel on the bytes leaving a chip", 20000},
          {"scaleup", "in_network_latency_us", T::positive, false, "us per all-reduce reduced in the switch (NVLink SHARP)", 10000},
          {"scaleup", "in_network_gb_s", T::positive, false, "GB/s per chip of an all-reduce reduced in the switch (S each way)", 20000},
          {"scaleup", "coll_eff", T::fraction, true, "fraction of link bandwidth"},
          {"scaleup", "group_chips", T::count, false, "chips per L1 group", 1e5},
          {"scaleup", "mesh_dims", T::int_list, false, "chips per dimension", 1e6},
          {"scaleup", "mesh_share", T::frac_list, false, "share of gb_s_per_dir per dimension"},
          {"scaleup", "tier_ports", T::count, false, "switch-tier links per chip (planes)", 64},
          {"scaleup", "tier_port_gb_s_per_dir", T::positive, false, "GB/s per switch-tier link per direction", 2000},
          {"scaleup", "lrs_per_rack_plane", T::count, false, "low-radix switches per rack and plane", 64},
          {"scaleup", "spares_per_rack", T::nonneg_count, false, "hot-spare chips per rack", 64},
          {"scaleup", "hrs_w", T::nonneg, false, "W per high-radix switch", 20000},
          {"scaleup", "switch_chips", T::nonneg_count, false, "switch ASICs (derived with a switch tier)", 1e6},
          {"scaleup", "switch_w", T::nonneg, true, "W per switch ASIC (LRS with a switch tier)", 10000},
          {"scaleup", "transceivers", T::nonneg_count, false, "optical modules (derived with a switch tier)", 1e7},
          {"scaleup", "transceiver_w", T::nonneg, true, "W per module", 100},
          {"reliability", "node_fit", T::nonneg, false, "failures per 1e9 server-hours (CPU, DRAM, SSD, PSU, board)", 1e8},
          {"reliability", "switch_fit", T::nonneg, false, "failures per 1e9 switch-ASIC-hours", 1e8},
          {"reliability", "transceiver_fit", T::nonneg, false, "failures per 1e9 module-hours (module or cable end)", 1e7},
          {"reliability", "nic_fit", T::nonneg, false, "failures per 1e9 NIC-hours", 1e7},
          {"reliability", "software_fit", T::nonneg, false, "job-stopping software faults per 1e9 chip-hours", 1e7},
          {"reliability", "restart_s", T::positive, false, "s to detect a failure and restart", 1e6},
          {"reliability", "checkpoint_s", T::nonneg, false, "s of blocking checkpoint write", 1e5},
          {"reliability", "spare_every", T::nonneg, false, "chips per hot spare (0 = none)", 1e6},
          {"reliability", "spare_switch_s", T::nonneg, false, "s for a hot spare to take over", 1e6},
      }};
  for (auto& f : scaleout_fields()) s.fields.push_back(f);
  return s;
}

FileSchema cluster_schema() {
  FileSchema s{"cluster",
               {
                   {"", "id", T::text, true, ""},
                   {"", "name", T::text, true, ""},
                   {"", "vendor", T::text, true, ""},
                   {"", "system", T::ref, true, "", 0, {}, "system"},
                   {"", "notes", T::text, false, ""},
                   {"specs", "supernodes", T::count, true, "systems", 1e5},
                   {"specs", "price_usd", T::positive, false, "USD", 1e12},
               }};
  for (auto& f : scaleout_fields()) s.fields.push_back(f);
  return s;
}

// A software stack: what the serving or training software decides (spec.hpp: Stack).
FileSchema stack_schema() {
  return {"stack",
          {
              {"", "id", T::text, true, ""},
              {"", "name", T::text, true, ""},
              {"", "role", T::choice, true, "", 0, kStackRole},
              {"", "notes", T::text, false, ""},
              {"overlap", "scheme", T::choice, true, "", 0, kOverlapScheme},
              {"overlap", "hidden_frac", T::nonneg_frac, true, "fraction of communication hidden (scheme streams)"},
              {"overlap", "attention_stream_units", T::fraction, false, "fraction of compute units of the attention stream (scheme two-stream)"},
              {"overlap", "comm_units_prefill", T::nonneg_frac, true, "fraction of compute units held by communication kernels in prefill (training stacks: beside the forward and backward passes)"},
              {"overlap", "comm_units_decode", T::nonneg_frac, true, "fraction of compute units held by communication kernels in decode"},
              {"host", "step_overhead_ms", T::nonneg, true, "ms of host and framework time per forward pass", 100},
              {"host", "launch_us", T::nonneg, true, "us per operator", 1000},
              {"compute", "train_gemm_scale", T::fraction, false, "training GEMMs' share of the chip's measured GEMM efficiency (1 when absent)"},
              {"host", "graph_launch_us", T::nonneg, false, "us per operator inside a captured graph (CUDA/ACL graphs)", 1000},
              {"host", "graph_max_batch", T::nonneg, false, "largest decode batch per data-parallel rank run as a captured graph", 1e6},
              {"host", "per_seq_us", T::nonneg, false, "us of host time per sequence per pass (scheduler, sampling)", 1e4},
              {"moe", "eplb_imbalance", T::at_least_one, true, "busiest chip's expert load / mean, default EPLB", 8},
              {"memory", "reserve_frac", T::nonneg_frac, true, "fraction of HBM kept free"},
              {"serving", "mode", T::choice, false, "", 0, kServing},
              {"serving", "token_budget", T::positive, false, "tokens per engine step (decode tokens plus prefill chunks)", 1e7},
              {"pipeline", "pp_chunk_tokens", T::positive, false, "tokens per chunk of a prompt in chunked pipeline-parallel prefill", 1e7},
              {"pipeline", "schedules", T::text, false, "training pipeline schedules the stack runs (hwdb/schedules ids, space-separated)"},
          }};
}

// A pipeline schedule (spec.hpp: PipeSchedule): bubble and memory in closed form, and the constraints
// its implementation asserts. Flags are 0 or 1.
FileSchema schedule_schema() {
  return {"schedule",
          {
              {"", "id", T::text, true, ""},
              {"", "name", T::text, true, ""},
              {"", "notes", T::text, false, ""},
              {"bubble", "stages_per_pp", T::nonneg, true, "idle stage-slots per pipeline stage", 4},
              {"bubble", "stages_less", T::nonneg, true, "idle stage-slots subtracted", 4},
              {"bubble", "interleaved", T::nonneg, true, "1: divided by the model chunks per device v", 1},
              {"bubble", "forward", T::nonneg, true, "F per idle slot", 4},
              {"bubble", "backward", T::nonneg, true, "B (full backward) per idle slot", 4},
              {"bubble", "weight_grad_saved", T::nonneg, true, "W (weight-gradient) filled into each idle slot", 4},
              {"bubble", "overlapped_fb", T::nonneg, true, "F&B (overlapped forward and backward) per idle slot", 4},
              {"memory", "param_copies", T::positive, true, "copies of the stage's parameters per device", 4},
              {"memory", "act_per_pp", T::nonneg, true, "micro-batches of activations in flight per pipeline stage", 4},
              {"memory", "act_offset", T::nonneg, true, "micro-batches of activations in flight added", 8},
              {"memory", "act_interleave", T::nonneg, true, "x (pp - 1) / v micro-batches added", 4},
              {"constraints", "micro_multiple_of_pp", T::nonneg, true, "1: micro-batches per pipeline a multiple of pp", 1},
              {"constraints", "min_micro_per_pp", T::nonneg, true, "micro-batches per pipeline at least this x pp", 8},
              {"constraints", "micro_even", T::nonneg, true, "1: an even number of micro-batches", 1},
              {"constraints", "pp_even", T::nonneg, true, "1: an even number of stages", 1},
              {"constraints", "layers_divide", T::nonneg, true, "1: layers + layer_pad divisible by pp x v", 1},
              {"constraints", "layer_pad", T::nonneg, true, "layers the first and last stages run fewer", 8},
              {"constraints", "max_interleave", T::count, true, "largest v (1: not interleaved)", 64},
          }};
}

FileSchema site_schema() {
  return {"site",
          {
              {"", "id", T::text, true, ""},
              {"", "name", T::text, true, ""},
              {"", "notes", T::text, false, ""},
              {"specs", "electricity_usd_kwh", T::positive, true, "USD/kWh", 5},
              {"specs", "pue", T::at_least_one, true, "ratio", 5},
              {"specs", "facility_capex_usd_w", T::nonneg, true, "USD/W", 100},
              {"specs", "amortization_years", T::positive, true, "years (IT equipment)", 50},
              {"specs", "facility_years", T::positive, true, "years (building, power, cooling)", 100},
              {"specs", "cost_of_capital", T::nonneg_frac, true, "per year"},
              {"specs", "maintenance_frac", T::nonneg_frac, true, "of capex per year"},
              {"specs", "utilization", T::fraction, false, "fraction of hours under load (1 when absent)"},
          }};
}
}  // namespace

const std::vector<EntityKind>& entity_kinds() {
  static const std::vector<EntityKind> kinds = {
      {"chips", chip_schema()},
      {"systems", system_schema()},
      {"clusters", cluster_schema()},
      {"sites", site_schema()},
      {"stacks", stack_schema()},
      {"schedules", schedule_schema()},
  };
  return kinds;
}

const FileSchema& schema_of(const std::string& entity) {
  for (auto& k : entity_kinds())
    if (k.schema.entity == entity) return k.schema;
  throw InputError("unknown entity kind '" + entity + "'");
}

}  // namespace podperf::io
