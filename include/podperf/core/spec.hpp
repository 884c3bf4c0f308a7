// Plain spec structs: what the model computes on. Built from hwdb records by hwdb.hpp; the core
// model never reads files. Units are in member names; bandwidths are per direction.
#pragma once
#include <array>
#include <string>

namespace podperf {

enum class Precision { fp4 = 0, fp8 = 1, int8 = 2, bf16 = 3, fp32 = 4 };
inline constexpr int kPrecisions = 5;
const char* to_string(Precision p);
bool parse_precision(const std::string& s, Precision& out);
double bytes_per_element(Precision p);

// What a chip costs to make: dies from wafers at a yield, HBM stacks, packaging and test.
struct ChipMfg {
  double die_mm2 = 0;          // area of one logic die (0 = no manufacturing data)
  double wafer_usd = 0;        // processed 300 mm wafer
  double defect_per_cm2 = 0;   // defect density D0 (used when yield is not given)
  double yield = 0;            // die yield given directly (0 = from D0 and the yield model)
  int yield_model = 0;         // 0 Murphy, 1 Poisson
  double hbm_stacks = 0, hbm_stack_usd = 0;
  double packaging_usd = 0, test_usd = 0;
  double package_yield = 1;    // assembly yield of the finished package
};

// Block scaling of a low-precision tensor: elements share one scale per block, so a tensor stores
// element bytes + scale bytes / block.
//   mx:  one 8-bit E8M0 scale per 32 elements (OCP Microscaling Formats (MX) Specification v1.0,
//        2023, sec. 5.2: MXFP8, MXFP6, MXFP4 with k = 32) -> MXFP4 = 4.25 bits per element;
//   nv:  one 8-bit E4M3 scale per 16 elements, plus one FP32 per tensor (negligible) (NVIDIA,
//        "Introducing NVFP4 for Efficient and Accurate Low-Precision Inference", developer blog,
//        June 2025) -> NVFP4 = 4.5 bits per element;
//   hif: HiFloat8 (Luo et al., arXiv 2409.16626): tapered 8-bit float with no block scale, run on
//        the FP8 units of chips that have it (Ascend 950).
enum class Scaling { none, mx, nv, hif };

// A tensor's number format: the element precision (which picks the tensor-unit rate) and its
// scaling. Converts implicitly from a Precision (plain format, no scales).
struct Format {
  Precision p = Precision::bf16;
  Scaling scaling = Scaling::none;
  constexpr Format() = default;
  constexpr Format(Precision prec, Scaling s = Scaling::none) : p(prec), scaling(s) {}  // NOLINT: implicit
  double bytes() const;  // per element, scales included
  bool operator==(const Format& o) const = default;
};
std::string to_string(const Format& f);
// bf16 | fp16 | fp32 | fp8 | int8 | fp4 | mxfp8 | mxfp4 | nvfp4 | hif8
bool parse_format(const std::string& s, Format& out);

// Measured GEMM efficiency by rows (M): absolute fractions of the dense peak at strictly increasing
// row counts, at most kMaxGemmCurvePoints (a fixed array: the core allocates nothing). n = 0: no curve.
inline constexpr int kMaxGemmCurvePoints = 16;
struct GemmCurve {
  int n = 0;
  std::array<double, kMaxGemmCurvePoints> m{};
  std::array<double, kMaxGemmCurvePoints> eff{};
};

struct Chip {
  std::string id, name, vendor;
  int dies = 1;
  // Dense (no 2:4 sparsity) peak per precision; 0 = no native support (the roofline then runs
  // the operator at the next wider supported precision).
  std::array<double, kPrecisions> dense_tflops{};
  double peak(Precision p) const { return dense_tflops[static_cast<int>(p)]; }
  double hbm_gb = 0;
  double hbm_tb_s = 0;
  double tdp_w = 0;
  double idle_w = 0;
  double scaleup_gb_s_per_dir = 0;  // the chip's own scale-up ports (0 = not stated)
  double price_usd = 0;             // 0 = not stated
  // Kernel efficiencies of the hardware, per chip and operator class, from measured kernels (never per
  // case, never per vendor). What the software stack decides lives in Stack.
  double gemm_eff = 1;          // achievable fraction of peak on large GEMMs
  double attn_prefill_eff = 1;  // attention prefill kernels (FlashAttention-3, SM100 FMHA): fraction of peak
  double attn_decode_eff = 1;   // attention decode kernels (FlashMLA, AMLA): fraction of peak
  double fp4_gemm_eff_ratio = 1;  // FP4 GEMM fraction of FP4 peak / FP8 GEMM fraction of FP8 peak
  double sfu_texp_s = 0;        // softmax exponentials per second (10^12, the SFU rate); 0 = not a limit
  double hbm_eff = 1;           // achievable fraction of HBM bandwidth
  double small_gemm_m = 0;      // GEMM rows (tokens) at which shape efficiency falls to half (no curve)
  GemmCurve gemm_curve;         // measured efficiency by GEMM rows; where given, it replaces
                                // gemm_eff x m / (m + small_gemm_m) for GEMMs (m > 0)
  // Tile model of small GEMMs (where gemm_row_tile > 0; it replaces small_gemm_m): the tensor units
  // compute whole tiles of gemm_row_tile token rows, so m rows cost ceil(m / tile) tiles, and the
  // weights stream from HBM at gemm_hbm_eff of its bandwidth (a skinny GEMM's achieved fraction).
  double gemm_row_tile = 0;
  double gemm_hbm_eff = 0;
  // Failures per 1e9 device-hours (FIT): the accelerator (logic, SRAM, links, its processor) and its
  // HBM (all stacks of one package). 0 = not stated.
  double fit = 0, hbm_fit = 0;
  ChipMfg mfg;  // manufacturing inputs (chip_cost.hpp); die_mm2 = 0: not stated
};

// What the software stack decides, apart from the hardware (hwdb/stacks/*.toml): how communication
// overlaps compute, host and launch costs, expert balancing and the memory reserve. A system names
// its default serving and training stacks; --stack swaps one.
//   two_micro_batch: the batch splits in two halves; each half's communication runs under the other
//     half's compute, so a layer takes 2 max(compute(T/2), comm(T/2)), each half reading the weights
//     again (DeepSeek profile-data, open-infra-index day 6; SGLang two-batch overlap, LMSYS 2025-05-05).
//   two_stream (decode; prefill as two_micro_batch): two micro-batches on two concurrent streams that
//     split the compute units, the attention block on a fraction a of them and the MoE block with its
//     dispatch and combine on the rest, so a layer takes
//     2 max(attention(T/2) on a, MoE(T/2) on 1 - a + comm(T/2)), each stream's launches overlapping the
//     other's (CloudMatrix-Infer's microbatch decode pipeline, Zuo et al., arXiv 2506.12708, sec. 4).
//   streams: a fraction hidden_frac of the communication runs on its own stream under compute.
// A pipeline schedule (hwdb/schedules/*.toml): its bubble, memory and the constraints its
// implementation asserts. With pp stages, v model chunks per device, m micro-batches per pipeline
// and F, B, W the forward, full backward and weight-gradient times of one micro-batch on one stage
// (F&B: a forward and a backward chunk of two micro-batches run overlapped), the idle time per step is
//   bubble = (stages_per_pp pp + stages_offset) / v^interleaved x (f F + b B + w W + fb F&B),
// each device holds param_copies copies of its stage's parameters and the first stage keeps the
// activations of act_per_pp pp + act_offset + act_interleave (pp - 1) / v micro-batches.
// Defaults: plain 1F1B (Narayanan et al., SC21, sec. 2.2).
struct PipeSchedule {
  std::array<char, 24> id{'1', 'f', '1', 'b'};
  double stages_per_pp = 1, stages_offset = -1;
  bool interleaved = false;            // v > 1 model chunks per device
  double f = 1, b = 1, w = 0, fb = 0;  // bubble per idle stage, in F, B, W and F&B
  double param_copies = 1;
  double act_per_pp = 1, act_offset = 0, act_interleave = 0;
  // Constraints: micro-batches a multiple of pp (micro_multiple_pp), at least min_micro_per_pp x pp
  // of them and even (micro_even); pp even; layers + layer_pad divisible by pp x v (layers_divide).
  bool micro_multiple_pp = false, micro_even = false, pp_even = false, layers_divide = false;
  double min_micro_per_pp = 0;
  int layer_pad = 0;
  int max_interleave = 1;              // interleaved: the largest v searched
};
inline constexpr int kMaxSchedules = 6;

enum class OverlapScheme { streams, two_micro_batch, two_stream };
enum class StackRole { serving, training };
struct Stack {
  std::string id, name;
  StackRole role = StackRole::serving;
  OverlapScheme scheme = OverlapScheme::streams;
  double hidden_frac = 0;        // streams: fraction of communication hidden behind compute
  double attention_stream_units = 0;  // two_stream: fraction of compute units of the attention stream
  // Fraction of the chip's compute units the dispatch/combine kernels hold while they overlap
  // compute (DeepEP normal kernels: 24 of 132 H800 SMs; its low-latency kernels hold none), in
  // prefill and in decode: compute under overlap runs at (1 - units) of its speed.
  double comm_units_prefill = 0, comm_units_decode = 0;
  double step_overhead_ms = 0;   // host and framework time per forward pass not hidden (scheduler, sampling)
  double launch_us = 0;          // exposed launch cost per operator, launched one by one (eager)
  // Graph capture (CUDA graphs, ACL graphs): decode passes of at most graph_max_batch sequences per
  // data-parallel rank replay a captured graph, each operator costing graph_launch_us (the device-side
  // gap between captured kernels) instead of launch_us; 0 = the stack captures no graphs.
  double graph_launch_us = 0;
  double graph_max_batch = 0;
  // Host time per sequence per pass (scheduling, sampling, detokenisation of the rank's batch), on
  // top of step_overhead_ms.
  double per_seq_us = 0;
  // Serving as the stack is deployed: prefill and decode on the same chips (aggregated) or in
  // separate pools (disaggregated); per-step token budget of aggregated serving (decode tokens plus
  // prefill chunks).
  bool aggregated = false;
  double token_budget = 8192;
  // Training stacks: the fraction of the chip's measured GEMM efficiency (chip gemm_eff, from serving
  // kernels) the stack's training GEMMs reach (1: the same kernels' efficiency).
  double train_gemm_scale = 1;
  double eplb_imbalance = 1;     // busiest chip's expert load / mean under the stack's default EPLB
  double reserve_frac = 0.1;     // HBM kept free (runtime, fragmentation)
  // Chunked pipeline-parallel prefill: tokens per chunk a prompt is cut into (0: the stack states
  // none, no pipeline bubble). A pass of M chunks through pp stages idles (pp - 1) / (M + pp - 1)
  // of the chips' time.
  double pp_chunk_tokens = 0;
  // Training: the pipeline schedules the stack runs (the plan search tries each); none: plain 1F1B.
  std::array<PipeSchedule, kMaxSchedules> schedules{};
  int n_schedules = 0;
};
const char* to_string(OverlapScheme s);
const char* to_string(StackRole r);

enum class Topology { switch1, clos2, fullmesh, clos };
const char* to_string(Topology t);

inline constexpr int kMaxMeshDims = 4;

struct Fabric {
  Topology topology = Topology::switch1;
  bool optical = false;
  double gb_s_per_dir = 0;   // per chip, per direction
  double latency_us = 0;     // per step (one hop through the fabric)
  // One all-to-all (MoE dispatch or combine kernel) among n ranks moving S bytes per rank:
  //   t = a2a_latency_us + a2a_per_peer_us x (n - 1) + S (n - 1) / n / B,
  // B = a2a_gb_s (fitted to measured kernels) when > 0, else gb_s_per_dir x coll_eff.
  double a2a_latency_us = 0; // fixed cost of one all-to-all kernel (launch, synchronisation), replaces the step latency
  double a2a_per_peer_us = 0;  // added per peer rank reached over this fabric
  double a2a_gb_s = 0;       // achieved bandwidth on the bytes leaving a rank (0 = gb_s_per_dir x coll_eff)
  double coll_eff = 1;       // achievable fraction of link bandwidth in collectives
  // In-network (switch) reduction, NVLink SHARP: all-reduce = in_network_latency_us + S / in_network_gb_s.
  // in_network_gb_s = 0: the switch does not reduce.
  double in_network_latency_us = 0, in_network_gb_s = 0;
  int group_chips = 0;       // clos2: chips under one L1 switch group (a node)
  int mesh_ndims = 0;        // fullmesh: dimensions and their sizes
  std::array<int, kMaxMeshDims> mesh_dims{};
  std::array<double, kMaxMeshDims> mesh_share{};  // share of gb_s_per_dir on each dimension
  // fullmesh with a switch tier (UB-Mesh as built): the mesh spans one rack of rack_chips (the
  // product of mesh_dims); racks are joined by tier_ports planes per chip, each a two-level Clos of
  // low-radix switches in the racks (LRS) and high-radix switches (HRS), one link per LRS-HRS pair.
  // rack_chips = 0: no tier, the mesh is the whole supernode.
  int rack_chips = 0;
  int tier_ports = 0;              // tier links per chip (one per plane)
  double tier_port_gb_s_per_dir = 0;
  int lrs_per_rack_plane = 0;      // LRS per rack in each plane
  int spares_per_rack = 0;         // hot-spare chips per rack, on the LRS only (UB-Mesh 64+1)
  // Parts that draw power. With a switch tier, all derived from the description above
  // (topo::mesh_parts): switch_chips = LRS, hrs_chips = HRS, transceivers = 2 per LRS-HRS link.
  double switch_chips = 0, switch_w = 0;
  double hrs_chips = 0, hrs_w = 0;
  double transceivers = 0, transceiver_w = 0;
  // Scale-out only: NIC and switch ports per chip.
  double nic_w = 0;
  int tiers = 0;
  double switch_ports = 0;
  double oversubscription = 1;
};

// Capital cost inputs: the scale-out network is always built from parts; the rest comes from the
// system's price when the hwdb gives one, else from these parts.
struct CostParts {
  double scaleout_port_usd = 0, scaleout_transceiver_usd = 0;
  double chip_usd = 0, node_usd = 0, switch_usd = 0, scaleup_transceiver_usd = 0, rack_usd = 0;
  double hrs_usd = 0;  // per high-radix switch of a mesh's switch tier
};

// Failure rates (FIT: failures per 1e9 part-hours) of a system's parts besides the chip, and how it
// recovers. Rates of 0 with restart_s = 0: not stated (no reliability figures).
struct PartFailures {
  double node_fit = 0;          // per server: CPUs, DRAM, SSD, board, PSU, host faults
  double switch_fit = 0;        // per switch ASIC (scale-up and scale-out)
  double transceiver_fit = 0;   // per optical module / cable end
  double nic_fit = 0;           // per scale-out NIC (one per chip)
  double software_fit = 0;      // per chip: software and collective-library faults that stop a job
  double restart_s = 0;         // detection + restart of the stopped job or instance
  double checkpoint_s = 0;      // writing one training checkpoint (blocking part)
  double spare_every = 0;       // one hot spare chip per this many chips (0 = none)
  double spare_switch_s = 0;    // recovery time when a hot spare takes a failed chip's place
};

struct System {
  std::string id, name, vendor;
  std::string home_site;  // the site it is deployed at unless told otherwise (hwdb/sites id)
  Chip chip;
  int chips = 0;        // accelerators in the whole system (all supernodes)
  int supernodes = 1;   // > 1 for a cluster of supernodes over scale-out
  int chips_per_supernode = 0;
  int nodes = 0, cpus = 0;
  int spare_chips = 0;  // hot spares in the whole system: priced and powered (idle), no compute
  double racks = 0;
  double cpu_w = 0;
  double overhead_frac = 0;   // fans, DRAM, PSU losses: fraction of chip + CPU power
  Fabric scaleup, scaleout;
  Stack stack;                // serving stack it runs (its default, or the one asked for)
  Stack train_stack;          // training stack
  double price_usd = 0;       // per the whole system; 0 = not stated (built up from `cost`)
  CostParts cost;
  double published_all_in_kw = 0;  // reference figure, 0 = none
  PartFailures fail;               // part failure rates and recovery (reliability.hpp)
  double host_memory_tb = 0;       // CPU-attached memory of the whole system (0 = not stated)
};

struct Site {
  std::string id, name;
  double electricity_usd_kwh = 0;
  double pue = 1;
  double facility_capex_usd_w = 0;
  double amortization_years = 0;   // IT equipment
  double facility_years = 0;       // building, power and cooling plant
  double cost_of_capital = 0;
  double maintenance_frac = 0;
  double utilization = 1;          // fraction of hours under load (idle power the rest)
};

}  // namespace podperf
