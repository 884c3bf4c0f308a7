// podperf roofline / collective: the two physics pieces, for checking by hand.
#include <iostream>
#include <memory>

#include "context.hpp"
#include "podperf/core/collectives.hpp"
#include "podperf/io/json.hpp"
#include "podperf/core/roofline.hpp"
#include "table.hpp"
#include "units.hpp"
#include "json_output.hpp"

namespace podperf::cli {

void add_engine_commands(CLI::App& app, Context& ctx) {
  struct Opts {
    std::string chip, flops = "0", bytes = "0", precision = "bf16", gemm_m;
    std::string system, op = "all-reduce", coll_bytes, algo = "auto";
    int ranks = 0;
    CLI::Option* ranks_opt = nullptr;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();

  auto* r = app.add_subcommand("roofline", "time of one operator on one chip, and its bound");
  r->add_option("--chip", o->chip, "chip id")->required();
  r->add_option("--flops", o->flops, "floating-point operations (e.g. 2e12, 3T)");
  r->add_option("--bytes", o->bytes, "bytes moved to/from HBM (e.g. 1GB, 64MiB)");
  r->add_option("--precision", o->precision, "fp4 | fp8 | int8 | bf16 | fp32")->capture_default_str();
  r->add_option("--gemm-m", o->gemm_m, "rows (tokens) of a GEMM, for the small-GEMM efficiency curve");
  r->add_flag("--json", o->json, "machine-readable output");
  r->callback([&ctx, o] {
    Op op;
    if (!parse_precision(o->precision, op.precision))
      throw InputError("flag --precision: unknown precision '" + o->precision + "' (fp4 | fp8 | int8 | bf16 | fp32)");
    op.flops = o->flops == "0" ? 0 : parse_quantity(o->flops, "--flops");
    op.bytes = o->bytes == "0" ? 0 : parse_quantity(o->bytes, "--bytes");
    if (!o->gemm_m.empty()) {
      op.gemm_m = o->gemm_m == "0" ? 0 : parse_quantity(o->gemm_m, "--gemm-m");
      if (op.gemm_m < 1) throw InputError("flag --gemm-m: must be at least 1 row (got " + o->gemm_m + ")");
    }
    if (op.flops == 0 && op.bytes == 0) throw InputError("flag --flops or --bytes: give at least one");
    const Chip chip = ctx.db().chip(o->chip);
    if (peak_tflops(chip, op.precision) == 0)
      throw InputError("chip '" + chip.id + "' has no " + o->precision + " or wider precision");
    const OpTime t = roofline(chip, op);
    const double rate = peak_tflops(chip, op.precision);
    if (o->json) {
      Json j = Json::object();
      j["chip"] = chip.id;
      j["precision"] = to_string(op.precision);
      j["flops"] = op.flops;
      j["bytes"] = op.bytes;
      j["time_s"] = t.time_s;
      j["bound"] = to_string(t.bound);
      j["compute_s"] = t.compute_s;
      j["memory_s"] = t.memory_s;
      j["overhead_s"] = t.overhead_s;
      j["peak_tflops"] = rate;
      j["compute_eff"] = compute_efficiency(chip, op.gemm_m);
      j["hbm_eff"] = chip.hbm_eff;
      j["achieved_tflops"] = op.flops / t.time_s / 1e12;
      j["achieved_tb_s"] = op.bytes / t.time_s / 1e12;
      write_json(std::cout, j);
      return;
    }
    // Integer formats count operations, not floating-point operations.
    const char* unit = op.precision == Precision::int8 ? " TOPS" : " TFLOPS";
    std::cout << chip.name << ", " << to_string(op.precision) << " (peak " << num(rate) << unit << " dense x "
              << num(compute_efficiency(chip, op.gemm_m), 3) << ", HBM " << num(chip.hbm_tb_s) << " TB/s x "
              << num(chip.hbm_eff, 3) << ")\n"
              << "  time      " << num(t.time_s * 1e6) << " us  (" << to_string(t.bound) << "-bound)\n"
              << "  compute   " << num(t.compute_s * 1e6) << " us\n"
              << "  memory    " << num(t.memory_s * 1e6) << " us\n"
              << "  overhead  " << num(t.overhead_s * 1e6) << " us\n";
  });

  auto* c = app.add_subcommand("collective", "time of one collective on a system's fabric");
  c->add_option("--system", o->system, "system or cluster id (or NxSYSTEM)")->required();
  c->add_option("--op", o->op, "all-reduce | reduce-scatter | all-gather | all-to-all | broadcast | p2p")
      ->capture_default_str();
  o->ranks_opt = c->add_option("--ranks", o->ranks, "ranks in the group (default: every chip)");
  c->add_option("--bytes", o->coll_bytes, "message size, nccl-tests convention (e.g. 64MiB)")->required();
  c->add_option("--algo", o->algo, "auto | ring | tree | direct | hierarchical | in-network")->capture_default_str();
  c->add_flag("--json", o->json, "machine-readable output");
  c->callback([&ctx, o] {
    Coll coll;
    Algo algo;
    if (!parse_coll(o->op.c_str(), coll))
      throw InputError("flag --op: unknown collective '" + o->op +
                       "' (all-reduce | reduce-scatter | all-gather | all-to-all | broadcast | p2p)");
    if (!parse_algo(o->algo.c_str(), algo))
      throw InputError("flag --algo: unknown algorithm '" + o->algo + "' (auto | ring | tree | direct | hierarchical | in-network)");
    const System sys = ctx.db().system(o->system);
    const bool ranks_given = o->ranks_opt && o->ranks_opt->count() > 0;
    const int ranks = ranks_given ? o->ranks : sys.chips;
    if (ranks < 2 || ranks > sys.chips)
      throw InputError("flag --ranks: must be in [2, " + std::to_string(sys.chips) + "] for " + sys.id + " (got " +
                       std::to_string(ranks) + ")");
    const double bytes = parse_quantity(o->coll_bytes, "--bytes");
    const CollResult res = collective(sys, coll, ranks, bytes, algo);
    if (algo != Algo::automatic && res.algo != algo)
      throw InputError("flag --algo: " + sys.id + " cannot run " + o->algo + " for " + o->op + " (its topology gives " +
                       to_string(res.algo) + "; use --algo auto)");
    if (o->json) {
      Json j = Json::object();
      j["system"] = sys.id;
      j["op"] = to_string(coll);
      j["ranks"] = ranks;
      j["bytes"] = bytes;
      j["time_s"] = res.time_s;
      j["algorithm"] = to_string(res.algo);
      j["bus_bandwidth_gb_s"] = res.bus_gb_s;
      j["bottleneck"] = to_string(res.bottleneck);
      j["scaleup_s"] = res.scaleup_s;
      j["scaleout_s"] = res.scaleout_s;
      j["topology"] = to_string(sys.scaleup.topology);
      write_json(std::cout, j);
      return;
    }
    std::cout << to_string(coll) << " of " << num(bytes) << " bytes over " << ranks << " ranks of " << sys.name
              << " (scale-up: " << to_string(sys.scaleup.topology) << ")\n"
              << "  time           " << num(res.time_s * 1e6) << " us\n"
              << "  algorithm      " << to_string(res.algo) << '\n'
              << "  bus bandwidth  " << num(res.bus_gb_s) << " GB/s\n"
              << "  bottleneck     " << to_string(res.bottleneck) << '\n';
    if (res.scaleout_s > 0)
      std::cout << "  scale-up phase " << num(res.scaleup_s * 1e6) << " us, scale-out phase "
                << num(res.scaleout_s * 1e6) << " us\n";
  });
}

}  // namespace podperf::cli
