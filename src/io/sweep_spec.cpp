#include "podperf/io/sweep_spec.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "podperf/io/error.hpp"
#include "podperf/io/toml_fields.hpp"

namespace podperf {

namespace {
// Upper bounds of the numeric axes: the limits of the matching estimate flags (--tp, --batch,
// --seq-in, --tpot-ms, --mtp, --overlap, --micro-batch, --zero ... ) and of the hwdb's site
// electricity price.
struct AxisInfo {
  const char* name;
  bool text;
  const char* unit;
  double max;  // numeric axes: largest value accepted
};
const AxisInfo kAxisInfo[kAxes] = {
    {"system", true, "id", 0},       {"model", true, "id", 0},  {"mode", true, "prefill | decode | serve | train", 0},
    {"site", true, "id", 0},         {"weights", true, "precision", 0}, {"kv", true, "precision", 0},
    {"tp", false, "chips", kMaxAxisCount},       {"ep", false, "chips", kMaxAxisCount},
    {"pp", false, "stages", kMaxAxisCount},      {"batch", false, "sequences per chip", kMaxAxisCount},
    {"seq_in", false, "tokens", kMaxAxisCount},  {"seq_out", false, "tokens", kMaxAxisCount},
    {"context", false, "tokens", kMaxAxisCount}, {"tpot_ms", false, "ms (target)", kMaxAxisCount},
    {"mtp", false, "draft tokens", kMaxMtpTokens}, {"electricity_usd_kwh", false, "USD/kWh", kMaxElectricityUsdKwh},
    {"overlap", false, "fraction", 1},
    {"utilization", false, "fraction of hours under load", 1}, {"yield", false, "fraction of good dies", 1},
    {"micro_batch", false, "sequences per micro-batch", kMaxAxisCount},
    {"interleave", false, "virtual pipeline stages per chip", kMaxAxisCount},
    {"zero", false, "ZeRO stage", 3},            {"cp", false, "chips (context parallel)", kMaxAxisCount},
    {"seq", false, "tokens (training sequence)", kMaxAxisCount},
    {"recompute", true, "none | selective | full", 0}, {"sp", true, "on | off", 0},
    {"tp_overlap", true, "none | pipelined", 0},
    {"stack", true, "stack id | deployed", 0}};

struct MetricInfo {
  const char* name;
  const char* unit;
};
const MetricInfo kMetricInfo[kMetrics] = {
    {"tokens_per_s_per_chip", "tokens/s per chip of the system as bought"}, {"tokens_per_s", "tokens/s per system (whole instances)"},
    {"tokens_per_s_per_user", "tokens/s per sequence"}, {"tpot_ms", "ms"}, {"ttft_ms", "ms"},
    {"step_time_s", "s"}, {"mfu", "fraction"}, {"memory_gb_per_chip", "GB"},
    {"meets_target", "1 if TPOT <= tpot_ms target"}, {"usd_per_mtok", "USD per million tokens"},
    {"tokens_per_kwh", "tokens per facility kWh"}, {"tokens_per_usd", "tokens per USD"},
    {"avg_facility_kw", "kW"}, {"capex_usd", "USD"}, {"tco_usd_per_h", "USD per hour"},
    {"instance_chips", "chips"}, {"batch_per_instance", "sequences per instance (decode), prompts per pass (prefill), per step (train)"},
    {"interruptions_per_day", "per day"}, {"mtbf_system_h", "h"}, {"goodput", "fraction left after failures"},
    {"good_usd_per_mtok", "USD per million tokens after failures"}};

// A tiny shunting-yard parser for constraint sides: numbers, variables, + - * / and parentheses.
struct Parser {
  const std::string& s;
  std::size_t i = 0;
  const std::string& file;
  int line;
  const std::string& where;

  [[noreturn]] void fail(const std::string& msg) { throw InputError(file, line, where, msg + " in '" + s + "'"); }
  void ws() {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  }
  Expr parse() {
    Expr e;
    std::vector<char> ops;
    auto prec = [](char c) { return c == '+' || c == '-' ? 1 : c == '*' || c == '/' ? 2 : 0; };
    auto emit = [&](char c) {
      e.rpn.push_back({c == '+' ? Expr::add : c == '-' ? Expr::sub : c == '*' ? Expr::mul : Expr::div, 0});
    };
    bool want_operand = true;
    for (ws(); i < s.size(); ws()) {
      const char c = s[i];
      if (want_operand) {
        if (c == '(') {
          ops.push_back('(');
          ++i;
          continue;
        }
        if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
          char* end = nullptr;
          const double v = std::strtod(s.c_str() + i, &end);
          if (end == s.c_str() + i || !std::isfinite(v)) fail("bad number at '" + s.substr(i) + "'");
          i = static_cast<std::size_t>(end - s.c_str());
          e.rpn.push_back({Expr::num, v});
        } else if (std::isalpha(static_cast<unsigned char>(c))) {
          std::size_t j = i;
          while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
          const std::string name = s.substr(i, j - i);
          i = j;
          int var = -1;
          for (int a = 0; a < kAxes; ++a)
            if (name == kAxisInfo[a].name && !kAxisInfo[a].text) var = a;
          if (name == "chips") var = kVarChips;
          if (name == "chips_per_supernode") var = kVarChipsPerSupernode;
          if (var < 0) fail("unknown variable '" + name + "' (numeric axes, chips, chips_per_supernode)");
          e.rpn.push_back({Expr::var, double(var)});
        } else {
          fail(std::string("expected a number or a name at '") + c + "'");
        }
        want_operand = false;
      } else {
        if (c == ')') {
          while (!ops.empty() && ops.back() != '(') emit(ops.back()), ops.pop_back();
          if (ops.empty()) fail("unbalanced ')'");
          ops.pop_back();
          ++i;
          continue;
        }
        if (!prec(c)) break;  // the comparison operator ends the side
        while (!ops.empty() && ops.back() != '(' && prec(ops.back()) >= prec(c)) emit(ops.back()), ops.pop_back();
        ops.push_back(c);
        ++i;
        want_operand = true;
      }
    }
    if (want_operand) fail("incomplete expression");
    if (i < s.size()) fail("unexpected '" + s.substr(i) + "' (one comparison per constraint)");
    while (!ops.empty()) {
      if (ops.back() == '(') fail("unbalanced '('");
      emit(ops.back());
      ops.pop_back();
    }
    // eval() keeps pending operands on a fixed stack of Expr::kMaxDepth.
    int depth = 0, deepest = 0;
    for (auto& t : e.rpn) {
      depth += t.op == Expr::num || t.op == Expr::var ? 1 : -1;
      deepest = std::max(deepest, depth);
    }
    if (deepest > Expr::kMaxDepth)
      fail("nested too deeply (" + std::to_string(deepest) + " pending operands; at most " + std::to_string(Expr::kMaxDepth) + ")");
    return e;
  }
};

std::vector<double> numbers_of(const toml::node& n, const std::string& file, const std::string& where, double max) {
  auto bounded = [&](double v, int line, const std::string& field) {
    if (!std::isfinite(v) || v < 0) throw InputError(file, line, field, "values must be finite and >= 0 (got " + io::fmt_num(v) + ")");
    if (v > max) throw InputError(file, line, field, "values must be <= " + io::fmt_num(max) + " (got " + io::fmt_num(v) + ")");
    return v;
  };
  std::vector<double> out;
  auto num = [&](const toml::node& x) {
    if (auto d = x.value_exact<double>()) return *d;
    if (auto k = x.value_exact<int64_t>()) return double(*k);
    throw InputError(file, io::line_of(x), where, "must be a number");
  };
  if (auto* arr = n.as_array()) {
    for (auto& x : *arr) out.push_back(num(x));
  } else if (auto* t = n.as_table()) {
    for (auto&& [k, v] : *t) {
      const std::string key(k.str());
      if (key != "from" && key != "to" && key != "step" && key != "scale")
        throw InputError(file, io::line_of(v), where + "." + key, "unknown key (from, to, step, scale)");
    }
    const toml::node* from = t->get("from");
    const toml::node* to = t->get("to");
    if (!from || !to) throw InputError(file, io::line_of(n), where, "a range needs 'from' and 'to'");
    const double a = bounded(num(*from), io::line_of(*from), where + ".from");
    const double b = bounded(num(*to), io::line_of(*to), where + ".to");
    if (a > b) throw InputError(file, io::line_of(n), where, "range from > to (" + io::fmt_num(a) + " > " + io::fmt_num(b) + ")");
    std::string scale = "linear";
    if (auto* sc = t->get("scale")) {
      if (!sc->is_string()) throw InputError(file, io::line_of(*sc), where + ".scale", "must be a string");
      scale = sc->as_string()->get();
    }
    if (scale == "log2") {
      if (a <= 0) throw InputError(file, io::line_of(n), where, "a log2 range must start above 0");
      for (double x = a; x <= b * (1 + 1e-12); x *= 2) out.push_back(x);
    } else if (scale == "linear") {
      const toml::node* st = t->get("step");
      if (!st) throw InputError(file, io::line_of(n), where, "a linear range needs 'step'");
      const double step = num(*st);
      if (!(step > 0)) throw InputError(file, io::line_of(*st), where + ".step", "must be > 0");
      const double count = std::floor((b - a) / step + 1e-9) + 1;
      if (count > 1e7) throw InputError(file, io::line_of(n), where, "more than 10,000,000 values");
      for (double k = 0; k < count; ++k) out.push_back(a + k * step);
    } else {
      throw InputError(file, io::line_of(n), where + ".scale", "unknown scale '" + scale + "' (linear | log2)");
    }
  } else {
    throw InputError(file, io::line_of(n), where, "must be a list or a range { from, to, step | scale }");
  }
  for (double v : out) bounded(v, io::line_of(n), where);
  if (out.empty()) throw InputError(file, io::line_of(n), where, "no values");
  return out;
}
}  // namespace

const char* to_string(AxisId a) { return kAxisInfo[static_cast<int>(a)].name; }
bool axis_is_text(AxisId a) { return kAxisInfo[static_cast<int>(a)].text; }
const char* axis_unit(AxisId a) { return kAxisInfo[static_cast<int>(a)].unit; }
const char* to_string(MetricId m) { return kMetricInfo[static_cast<int>(m)].name; }
const char* metric_unit(MetricId m) { return kMetricInfo[static_cast<int>(m)].unit; }

std::uint64_t SweepSpec::points() const {
  // Saturates instead of wrapping (the loader refuses more than kMaxSweepPoints).
  std::uint64_t n = 1;
  for (auto& a : axes) {
    if (a.size() != 0 && n > UINT64_MAX / a.size()) return UINT64_MAX;
    n *= a.size();
  }
  return n;
}

const Axis* SweepSpec::axis(AxisId id) const {
  for (auto& a : axes)
    if (a.id == id) return &a;
  return nullptr;
}

double eval(const Expr& e, const double* vars) {
  double st[Expr::kMaxDepth];
  int sp = 0;
  for (auto& t : e.rpn) {
    switch (t.op) {
      case Expr::num:
      case Expr::var:
        if (sp == Expr::kMaxDepth) return NAN;  // the parser refuses deeper expressions
        st[sp++] = t.op == Expr::num ? t.value : vars[static_cast<int>(t.value)];
        break;
      default: {
        if (sp < 2) return NAN;
        const double b = st[--sp], a = st[--sp];
        st[sp++] = t.op == Expr::add ? a + b : t.op == Expr::sub ? a - b : t.op == Expr::mul ? a * b : (b != 0 ? a / b : NAN);
      }
    }
  }
  return sp == 1 ? st[0] : NAN;
}

bool holds(const Constraint& c, const double* vars) {
  const double a = eval(c.lhs, vars), b = eval(c.rhs, vars);
  switch (c.cmp) {
    case Cmp::le: return a <= b;
    case Cmp::lt: return a < b;
    case Cmp::ge: return a >= b;
    case Cmp::gt: return a > b;
    case Cmp::eq: return a == b;
    case Cmp::ne: return a != b;
  }
  return false;
}

SweepSpec load_sweep_spec(const std::string& path) {
  const toml::table root = io::parse_toml_file(path);
  SweepSpec s;
  s.file = path;
  {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    s.text = ss.str();
  }
  for (auto&& [k, v] : root) {
    const std::string key(k.str());
    if (key != "id" && key != "description" && key != "axes" && key != "constraints" && key != "output")
      throw InputError(path, io::line_of(v), key, "unknown field (id, description, axes, constraints, output)");
  }
  auto str = [&](const char* k) {
    const toml::node* n = root.get(k);
    if (!n || !n->is_string()) throw InputError(path, n ? io::line_of(*n) : 1, k, "missing or not a string");
    return n->as_string()->get();
  };
  s.id = str("id");
  s.description = str("description");
  const toml::table* axes = root.get_as<toml::table>("axes");
  if (!axes || axes->empty()) throw InputError(path, 1, "axes", "missing table [axes] with at least one axis");
  // Axes in file order (toml++ keeps keys sorted; recover the order from the source lines).
  std::vector<std::pair<int, std::string>> order;
  for (auto&& [k, v] : *axes) order.emplace_back(io::line_of(v), std::string(k.str()));
  std::sort(order.begin(), order.end());
  for (auto& [line, name] : order) {
    const toml::node& v = *axes->get(name);
    int id = -1;
    for (int a = 0; a < kAxes; ++a)
      if (name == kAxisInfo[a].name) id = a;
    if (id < 0) {
      std::string all;
      for (auto& a : kAxisInfo) all += (all.empty() ? "" : ", ") + std::string(a.name);
      throw InputError(path, line, "axes." + name, "unknown axis (" + all + ")");
    }
    Axis ax{static_cast<AxisId>(id), {}, {}, line};
    if (kAxisInfo[id].text) {
      const toml::array* arr = v.as_array();
      if (!arr || arr->empty()) throw InputError(path, line, "axes." + name, "must be a non-empty list of strings");
      // Labels are stored as one HDF5 attribute and indexed as uint16 in the file.
      if (arr->size() > kMaxAxisLabels)
        throw InputError(path, line, "axes." + name, std::to_string(arr->size()) + " labels (at most " + std::to_string(kMaxAxisLabels) + ")");
      for (auto& x : *arr) {
        if (!x.is_string()) throw InputError(path, io::line_of(x), "axes." + name, "must be a list of strings");
        ax.labels.push_back(x.as_string()->get());
        if (ax.labels.back().size() > 256) throw InputError(path, io::line_of(x), "axes." + name, "label longer than 256 characters");
      }
    } else {
      ax.values = numbers_of(v, path, "axes." + name, kAxisInfo[id].max);
      // The limits of the flag the axis stands for (integer axes are checked with the sweep's
      // inputs, sweep.cpp).
      const AxisId aid = static_cast<AxisId>(id);
      const bool integer = aid == AxisId::mtp || aid == AxisId::context;
      const double least = aid == AxisId::context               ? 1
                           : aid == AxisId::tpot_ms             ? kMinTargetMs
                           : aid == AxisId::utilization         ? kMinUtilization
                           : aid == AxisId::electricity_usd_kwh ? kMinMagnitude
                                                                : 0;
      for (double x : ax.values) {
        if (const std::string p = number_problem(x); !p.empty())
          throw InputError(path, line, "axes." + name, p + " (got " + io::fmt_num(x) + ")");
        if (integer && std::floor(x) != x) throw InputError(path, line, "axes." + name, "values must be integers (got " + io::fmt_num(x) + ")");
        if (x < least)
          throw InputError(path, line, "axes." + name,
                           (least == kMinMagnitude ? std::string("values must be > 0") : "values must be >= " + io::fmt_num(least)) +
                               " (got " + io::fmt_num(x) + ")");
      }
    }
    s.axes.push_back(std::move(ax));
  }
  if (!s.axis(AxisId::system)) throw InputError(path, io::line_of(*axes), "axes.system", "missing (required)");
  if (!s.axis(AxisId::model)) throw InputError(path, io::line_of(*axes), "axes.model", "missing (required)");
  {
    // The point count in overflow-safe arithmetic: a product past kMaxSweepPoints is refused here.
    double n = 1;
    for (auto& a : s.axes) n *= double(a.size());
    if (n > kMaxSweepPoints)
      throw InputError(path, io::line_of(*axes), "axes", "the axes give " + io::fmt_num(n) + " points (at most " +
                                                            io::fmt_num(kMaxSweepPoints) + ")");
  }
  if (auto* cons = root.get("constraints")) {
    const toml::array* arr = cons->as_array();
    if (!arr) throw InputError(path, io::line_of(*cons), "constraints", "must be a list of strings like \"tp * ep <= chips\"");
    for (auto& c : *arr) {
      if (!c.is_string()) throw InputError(path, io::line_of(c), "constraints", "must be strings");
      const std::string text = c.as_string()->get();
      static const std::pair<const char*, Cmp> cmps[] = {{"<=", Cmp::le}, {">=", Cmp::ge}, {"==", Cmp::eq},
                                                         {"!=", Cmp::ne}, {"<", Cmp::lt},  {">", Cmp::gt}};
      std::size_t at = std::string::npos;
      Cmp cmp = Cmp::le;
      std::size_t len = 0;
      for (auto& [sym, cm] : cmps) {
        const auto pos = text.find(sym);
        if (pos != std::string::npos && (at == std::string::npos || pos < at || (pos == at && std::strlen(sym) > len)))
          at = pos, cmp = cm, len = std::strlen(sym);
      }
      const std::string where = "constraints";
      if (at == std::string::npos) throw InputError(path, io::line_of(c), where, "no comparison (<=, <, >=, >, ==, !=) in '" + text + "'");
      const std::string l = text.substr(0, at), r = text.substr(at + len);
      Constraint k{text, Parser{l, 0, path, io::line_of(c), where}.parse(), Parser{r, 0, path, io::line_of(c), where}.parse(), cmp};
      s.constraints.push_back(std::move(k));
    }
  }
  s.metrics = {MetricId::tokens_per_s_per_chip, MetricId::tokens_per_s_per_user, MetricId::tpot_ms,
               MetricId::usd_per_mtok, MetricId::meets_target};
  if (auto* out = root.get_as<toml::table>("output")) {
    for (auto&& [k, v] : *out) {
      const std::string key(k.str());
      if (key == "invalid") {
        const std::string mode = v.is_string() ? v.as_string()->get() : "";
        if (mode != "keep" && mode != "skip")
          throw InputError(path, io::line_of(v), "output.invalid", "must be 'keep' (rows with a reason code) or 'skip' (counted)");
        s.keep_invalid = mode == "keep";
      } else if (key == "metrics") {
        const toml::array* arr = v.as_array();
        if (!arr || arr->empty()) throw InputError(path, io::line_of(v), "output.metrics", "must be a non-empty list");
        s.metrics.clear();
        for (auto& x : *arr) {
          const std::string name = x.is_string() ? x.as_string()->get() : "";
          int id = -1;
          for (int m = 0; m < kMetrics; ++m)
            if (name == kMetricInfo[m].name) id = m;
          if (id < 0) throw InputError(path, io::line_of(x), "output.metrics", "unknown metric '" + name + "'");
          if (std::find(s.metrics.begin(), s.metrics.end(), static_cast<MetricId>(id)) != s.metrics.end())
            throw InputError(path, io::line_of(x), "output.metrics", "metric '" + name + "' listed twice");
          s.metrics.push_back(static_cast<MetricId>(id));
        }
      } else {
        throw InputError(path, io::line_of(v), "output." + key, "unknown field (invalid, metrics)");
      }
    }
  }
  return s;
}

}  // namespace podperf
