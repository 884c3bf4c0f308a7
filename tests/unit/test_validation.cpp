// Validation cases and calibration: the shipped cases load, every case stays inside its tolerance,
// the calibration reproduces the shipped fit, and bad case files get one-line errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "podperf/app/calibration.hpp"
#include "run_cli.hpp"

using namespace podperf;

namespace {
const std::string kSrc = PODPERF_SOURCE_DIR;
}

TEST_CASE("validation: at least 12 cases across Huawei and Nvidia, serving and training") {
  const auto cases = load_cases(kSrc + "/validation/cases");
  CHECK(cases.size() >= 12);
  int huawei = 0, nvidia = 0, training = 0;
  for (auto& c : cases) {
    huawei += c.group.rfind("huawei", 0) == 0;
    nvidia += c.group.rfind("nvidia", 0) == 0;
    training += c.group.find("training") != std::string::npos;
    CHECK(!c.source.empty());
  }
  CHECK(huawei >= 5);
  CHECK(nvidia >= 5);
  CHECK(training >= 2);
}

TEST_CASE("calibration reproduces the shipped fit and holds its leave-one-out bounds") {
  const Hwdb db = load_hwdb(kSrc + "/hwdb");
  const ModelDb models = load_models(kSrc + "/configs");
  const auto cases = fit_cases(load_cases(kSrc + "/validation/cases"));
  const CalibResult r = calibrate(db, models, cases, true);
  REQUIRE(r.loo_error.size() == cases.size());
  std::vector<double> abs_err, loo_err;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(cases[i].id);
    CHECK(std::abs(r.error[i]) <= cases[i].tolerance);
    if (cases[i].micro()) continue;  // definitional micro cases stay out of the headline
    abs_err.push_back(std::abs(r.error[i]));
    loo_err.push_back(std::isfinite(r.loo_error[i]) ? std::abs(r.loo_error[i]) : 1e9);
  }
  REQUIRE(abs_err.size() >= 25);
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  };
  // In-sample median <= 10 %; leave-one-out (every refit from the priors) median <= 15 %, and no case
  // above 40 % (a case without a leave-one-out prediction counts as above).
  CHECK(median(abs_err) <= 0.10);
  CHECK(median(loo_err) <= 0.15);
  CHECK(std::count_if(loo_err.begin(), loo_err.end(), [](double e) { return e > 0.40; }) == 0);
  // Ascend training, reported apart: at least three fitted MindSpeed runs on Ascend, each within 20 %
  // when left out (its stack refitted on the others from the priors).
  int ascend_training = 0;
  for (std::size_t i = 0; i < cases.size(); ++i)
    if (cases[i].group == "huawei-training") {
      CAPTURE(cases[i].id);
      ++ascend_training;
      CHECK(case_stack(db, cases[i]) == "mindspeed");
      REQUIRE(std::isfinite(r.loo_error[i]));
      CHECK(std::abs(r.loo_error[i]) <= 0.20);
    }
  CHECK(ascend_training >= 3);
  // A stack without a fitted case holds the median of the fitted stacks of its role, and that rule
  // predicts each fitted stack's cases, left out in turn, better than the priors do.
  REQUIRE(!r.pooled.empty());
  for (const PooledValue& v : r.pooled) {
    CAPTURE(v.stack + " " + v.field);
    CHECK(static_cast<int>(v.from.size()) >= kPoolMin);
    CHECK(db.stacks.at(v.stack).numbers.at(v.field).value == doctest::Approx(v.value).epsilon(0.005));
  }
  // By hand: the seven fitted serving stacks' launch costs in the hwdb, 10.59, 14.3, 14.55, 15.49,
  // 30.95, 40 and 40 us, have the median 15.49 us, which MindIE's stack carries.
  CHECK(db.stacks.at("mindie").numbers.at("host.launch_us").value == doctest::Approx(15.49).epsilon(0.001));
  std::vector<double> loso, at_prior;
  for (std::size_t i = 0; i < cases.size(); ++i)
    if (!cases[i].micro()) {
      loso.push_back(std::abs(r.loso_error[i]));
      at_prior.push_back(std::abs(r.prior_error[i]));
    }
  CHECK(median(loso) < median(at_prior));
  CHECK(median(loso) <= 0.15);
  // The hwdb already holds the fit: refitting moves no parameter by more than a few percent.
  for (std::size_t i = 0; i < r.params.size(); ++i) {
    CAPTURE(r.params[i].stack + " " + r.params[i].field);
    CHECK(std::abs(r.fitted[i] - r.params[i].start) <= 0.05 * (r.params[i].high - r.params[i].low));
    CHECK(r.params[i].cases >= 1);
  }
}

TEST_CASE("validation: at least 30 system-level cases, 8 on Blackwell, 8 on Ascend, 4 in training; open cases say why") {
  const auto cases = load_cases(kSrc + "/validation/cases");
  const Hwdb db = load_hwdb(kSrc + "/hwdb");
  int system_level = 0, blackwell = 0, ascend = 0, training = 0;
  for (auto& c : cases) {
    if (c.micro()) continue;
    ++system_level;
    const std::string chip = db.system(c.system).chip.id;
    blackwell += chip == "gb200-gpu" || chip == "gb300-gpu" || chip == "b200" || chip == "b300";
    ascend += chip.rfind("ascend", 0) == 0;
    training += c.mode == "train";
  }
  CHECK(system_level >= 30);
  CHECK(blackwell >= 8);
  CHECK(ascend >= 8);
  CHECK(training >= 4);
  // Open cases are neither fitted nor asserted: fit_cases leaves exactly them out.
  int open = 0;
  for (auto& c : cases) open += !c.open.empty();
  CHECK(fit_cases(cases).size() + static_cast<std::size_t>(open) == cases.size());
}

TEST_CASE("CloudMatrix 384 trains Llama 3 70B at no higher MFU than any published Ascend training run") {
  // The highest published Ascend training MFU: Pangu Ultra 135B on 8,192 NPUs, "over 50 %"
  // (arXiv 2504.07866); Pangu Ultra MoE on 6K NPUs reached 30.0 % (arXiv 2505.04519).
  const CliResult r = run_podperf("estimate --system cloudmatrix-384 --model llama3-70b --mode train --json");
  REQUIRE(r.rc == 0);
  const auto at = r.out.find("\"mfu\":");
  REQUIRE(at != std::string::npos);
  const double mfu = std::stod(r.out.substr(at + 6));
  CHECK(mfu > 0.2);
  CHECK(mfu <= 0.50);
}
