#include "podperf/app/model_error.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "podperf/app/calibration.hpp"
#include "podperf/io/error.hpp"

namespace podperf {

namespace {
bool training(const std::string& mode) { return mode == "train"; }

// The base system of an id: "2xhgx-h800:os=2@trtllm" -> "hgx-h800".
std::string base_system(const Hwdb& db, std::string id) {
  if (auto at = id.rfind('@'); at != std::string::npos) id = id.substr(0, at);
  if (auto c = db.clusters.find(id); c != db.clusters.end()) return c->second.str("system");
  if (!db.systems.count(id))
    if (auto x = id.find('x'); x != std::string::npos) {
      id = id.substr(x + 1);
      if (auto colon = id.find(':'); colon != std::string::npos) id = id.substr(0, colon);
    }
  if (auto s = db.systems.find(id); s != db.systems.end() && !s->second.str("alias_of").empty()) return s->second.str("alias_of");
  return id;
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const double x = q * (v.size() - 1);
  const std::size_t i = static_cast<std::size_t>(x);
  return i + 1 < v.size() ? v[i] + (x - i) * (v[i + 1] - v[i]) : v[i];
}
}  // namespace

ModelError model_error(const Hwdb& db, const ModelDb& models, const std::vector<ValidationCase>& cases,
                       const std::string& system_id, Mode mode, const std::string& stack_id) {
  const std::string sys = base_system(db, system_id);
  const std::string chip = db.systems.count(sys) ? db.systems.at(sys).str("chip") : "";
  const bool train = mode == Mode::train;
  std::vector<double> all, mine;
  int own = 0;
  for (auto& c : cases) {
    if (c.micro() || c.mode == "gemm" || c.mode == "stream" || training(c.mode) != train) continue;
    double err;
    try {
      err = evaluate(db, models, c, Pick{}).error;
    } catch (const InputError&) {
      continue;
    }
    if (!std::isfinite(err)) continue;
    all.push_back(std::abs(err));
    const std::string csys = base_system(db, c.system);
    if (csys != sys) continue;
    ++own;
    if (db.systems.count(csys) && db.systems.at(csys).str("chip") == chip && case_stack(db, c) == stack_id)
      mine.push_back(std::abs(err));
  }
  ModelError e;
  std::ostringstream s;
  const char* what = train ? "training" : "serving";
  const double med = quantile(all, 0.5);
  if (!mine.empty()) {
    e.validated = true;
    e.class_cases = static_cast<int>(mine.size());
    e.frac = std::max(*std::max_element(mine.begin(), mine.end()), med);
    s << "validated: " << mine.size() << " " << what << " case(s) of its own on " << stack_id << ", largest |error| "
      << std::lround(100 * *std::max_element(mine.begin(), mine.end())) << " % (floor: the median " << std::lround(100 * med)
      << " % of all " << all.size() << ")";
  } else {
    e.class_cases = static_cast<int>(all.size());
    e.frac = all.empty() ? 0.5 : *std::max_element(all.begin(), all.end());
    s << "unvalidated: no " << what << " case of its own" << (own ? " on " + stack_id : std::string()) << "; the largest |error| "
      << std::lround(100 * e.frac) << " % of all " << all.size() << " " << what << " cases, open ones included";
  }
  e.basis = s.str();
  return e;
}

}  // namespace podperf
