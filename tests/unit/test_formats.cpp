// Number formats and per-group weight precision: block-scale bytes by hand, and the weight memory
// of a model whose groups carry different formats.
#include <doctest/doctest.h>

#include <string>

#include "podperf/io/hwdb.hpp"
#include "podperf/io/models.hpp"
#include "podperf/core/workload.hpp"

using namespace podperf;
using doctest::Approx;

TEST_CASE("block-scaled formats count their scale bytes") {
  Format f;
  REQUIRE(parse_format("nvfp4", f));
  // 4-bit element + one 8-bit E4M3 scale per 16 elements = 4.5 bits.
  CHECK(f.bytes() == Approx(4.5 / 8));
  CHECK(to_string(f) == "nvfp4");
  REQUIRE(parse_format("mxfp4", f));
  // 4-bit element + one 8-bit E8M0 scale per 32 elements = 4.25 bits.
  CHECK(f.bytes() == Approx(4.25 / 8));
  REQUIRE(parse_format("mxfp8", f));
  CHECK(f.bytes() == Approx(8.25 / 8));
  REQUIRE(parse_format("hif8", f));
  CHECK(f.bytes() == 1);
  CHECK(f.p == Precision::fp8);
  REQUIRE(parse_format("fp4", f));
  CHECK(f.bytes() == 0.5);
  CHECK_FALSE(parse_format("fp5", f));
}

TEST_CASE("weights set every group; a group override changes only its own bytes") {
  const ModelDb models = load_models(std::string(PODPERF_SOURCE_DIR) + "/configs");
  const Hwdb db = load_hwdb(std::string(PODPERF_SOURCE_DIR) + "/hwdb");
  const Model m = models.model("deepseek-v3");
  const System s = db.system("gb200-nvl72");
  InferenceSetup x;
  x.par = Parallel{1, 72, 72, 1, 1};
  x.batch = 72;
  x.weights = x.kv = Precision::fp8;
  x.redundant_experts = 32;
  for (int g = 0; g < kGroups; ++g) CHECK(x.weight_format(static_cast<Group>(g)) == Format{Precision::fp8});
  const double all_fp8 = estimate_decode(s, m, x).mem.weights;
  x.group[static_cast<int>(Group::experts)] = Format{Precision::fp4, Scaling::nv};
  const double nv_experts = estimate_decode(s, m, x).mem.weights;
  // Routed experts per chip: 58 MoE layers x (256 + 32) / 72 experts x 44,040,192 parameters,
  // from 1 byte to 0.5625 bytes each.
  const double expert_params = 58.0 * 288 / 72 * 44040192;
  CHECK(all_fp8 - nv_experts == Approx(expert_params * (1 - 0.5625) * 1e-9).epsilon(1e-9));
}
