#include "podperf/app/model_error.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "podperf/app/calibration.hpp"
#include "podperf/io/error.hpp"
#include "podperf/io/toml_fields.hpp"

namespace podperf {

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

namespace {
double quantile(std::vector<double> v, double q) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const double x = q * (v.size() - 1);
  const std::size_t i = static_cast<std::size_t>(x);
  return i + 1 < v.size() ? v[i] + (x - i) * (v[i + 1] - v[i]) : v[i];
}
double largest(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }
long pct(double x) { return std::lround(100 * x); }

// The rules of the header over the residuals of one mode: `own` the system's cases in its class,
// `cls` other systems' cases in its class, `all` every case's residual, `wide` every case's largest
// out-of-sample residual.
ModelError apply_rules(const std::vector<double>& own, const std::vector<double>& cls, const std::vector<double>& all,
                       const std::vector<double>& wide, bool train, bool any_own, const std::string& stack_id,
                       const char* residual) {
  ModelError e;
  std::ostringstream s;
  const char* what = train ? "training" : "serving";
  const double med = quantile(all, 0.5);
  if (!own.empty()) {
    e.validated = true;
    e.class_cases = static_cast<int>(own.size());
    e.frac = std::max(largest(own), med);
    s << "validated: " << own.size() << " " << what << " case(s) of its own on " << stack_id << ", largest " << residual
      << " |error| " << pct(largest(own)) << " % (floor: the median " << pct(med) << " % of all " << all.size() << ")";
  } else if (!cls.empty()) {
    e.class_cases = static_cast<int>(cls.size());
    e.frac = std::max(largest(cls), med);
    s << "unvalidated: no " << what << " case of its own" << (any_own ? " on " + stack_id : std::string()) << "; "
      << cls.size() << " case(s) of other systems with its chip on " << stack_id << ", largest " << residual << " |error| "
      << pct(largest(cls)) << " % (floor: the median " << pct(med) << " %)";
  } else {
    e.class_cases = static_cast<int>(wide.size());
    e.frac = wide.empty() ? 0.5 : largest(wide);
    s << "unvalidated: no " << what << " case of its own" << (any_own ? " on " + stack_id : std::string())
      << " and none in its class; the largest " << (std::string(residual) == "in-sample" ? "" : "out-of-sample ")
      << "|error| " << pct(e.frac) << " % of all " << wide.size() << " " << what << " cases, open ones included";
  }
  e.basis = s.str();
  return e;
}
}  // namespace

std::string residuals_file(const std::string& cases_dir) {
  return (std::filesystem::path(cases_dir) / ".." / "residuals.toml").lexically_normal().string();
}

ResidualRecord load_residuals(const std::string& file) {
  ResidualRecord r;
  if (!std::filesystem::exists(file)) return r;
  r.file = file;
  const toml::table root = io::parse_toml_file(file);
  r.source = root["source"].value_or(std::string());
  r.kind = root["kind"].value_or(std::string());
  if (r.source.empty()) throw InputError(file, 1, "source", "required: the calibrate run the residuals come from");
  if (r.kind != "measured-fit") throw InputError(file, 1, "kind", "must be \"measured-fit\"");
  const toml::array* cases = root["case"].as_array();
  if (!cases) return r;
  for (const toml::node& n : *cases) {
    const toml::table* t = n.as_table();
    const int line = static_cast<int>(n.source().begin.line);
    if (!t) throw InputError(file, line, "case", "must be a table");
    CaseResidual c;
    auto str = [&](const char* k) {
      auto v = (*t)[k].value<std::string>();
      if (!v || v->empty()) throw InputError(file, line, std::string("case.") + k, "required");
      return *v;
    };
    auto num = [&](const char* k, bool required) {
      auto v = (*t)[k].value<double>();
      if (!v) {
        if (required) throw InputError(file, line, std::string("case.") + k, "required number");
        return std::nan("");
      }
      return *v;
    };
    c.id = str("id");
    c.system = str("system");
    c.chip = str("chip");
    c.stack = str("stack");
    const std::string mode = str("mode");
    if (mode != "serving" && mode != "training") throw InputError(file, line, "case.mode", "serving or training (got '" + mode + "')");
    c.training = mode == "training";
    c.open = (*t)["open"].value_or(false);
    c.error = num("error", true);
    c.loo_error = num("loo_error", true);
    c.loso_error = num("loso_error", false);
    r.cases.push_back(c);
  }
  return r;
}

ModelError model_error(const Hwdb& db, const ResidualRecord& record, const std::string& system_id, Mode mode,
                       const std::string& stack_id) {
  const std::string sys = base_system(db, system_id);
  const std::string chip = db.systems.count(sys) ? db.systems.at(sys).str("chip") : "";
  const bool train = mode == Mode::train;
  std::vector<double> own, cls, all, wide;
  bool any_own = false;
  for (const CaseResidual& c : record.cases) {
    if (c.training != train) continue;
    const double loo = std::abs(c.open ? c.error : c.loo_error);
    all.push_back(loo);
    wide.push_back(std::max(loo, std::isfinite(c.loso_error) ? std::abs(c.loso_error) : 0.0));
    if (c.chip != chip || c.stack != stack_id) {
      any_own = any_own || c.system == sys;
      continue;
    }
    (c.system == sys ? own : cls).push_back(loo);
    any_own = any_own || c.system == sys;
  }
  ModelError e = apply_rules(own, cls, all, wide, train, any_own, stack_id, "leave-one-out");
  e.basis += "; calibrate's record";
  return e;
}

ModelError model_error(const Hwdb& db, const ModelDb& models, const std::vector<ValidationCase>& cases,
                       const std::string& system_id, Mode mode, const std::string& stack_id) {
  const std::string sys = base_system(db, system_id);
  const std::string chip = db.systems.count(sys) ? db.systems.at(sys).str("chip") : "";
  const bool train = mode == Mode::train;
  std::vector<double> own, cls, all;
  bool any_own = false;
  for (auto& c : cases) {
    if (c.micro() || c.mode == "gemm" || c.mode == "stream" || (c.mode == "train") != train) continue;
    double err;
    try {
      err = evaluate(db, models, c, Pick{}).error;
    } catch (const InputError&) {
      continue;
    }
    if (!std::isfinite(err)) continue;
    all.push_back(std::abs(err));
    const std::string csys = base_system(db, c.system);
    any_own = any_own || csys == sys;
    if (!db.systems.count(csys) || db.systems.at(csys).str("chip") != chip || case_stack(db, c) != stack_id) continue;
    (csys == sys ? own : cls).push_back(std::abs(err));
  }
  return apply_rules(own, cls, all, all, train, any_own, stack_id, "in-sample");
}

}  // namespace podperf
