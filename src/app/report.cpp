// podperf report A B [compare's flags] -o report.html: one self-contained HTML page (inline CSS and
// SVG, no script, no external resource) with the side-by-side table and its ranges, the sensitivity
// tornado, cost per million tokens against electricity price with the crossing marked, the
// throughput-interactivity frontier, the power and cost breakdowns, and every input with its source.
// Every figure comes from the commands themselves (compare, breakeven, power, hwdb show with
// --json), run in-process; the page only draws them.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <regex>
#include <sstream>

#include "json_read.hpp"
#include "podperf/io/json.hpp"
#include "command_line.hpp"
#include "table.hpp"
#include "tools.hpp"

namespace podperf::cli {

namespace {
const char* kColorA = "#c0392b";
const char* kColorB = "#2c6fbb";

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

// Sources are shown as text without their scheme, so that the page holds no link to fetch.
std::string source_text(std::string s) {
  for (const char* scheme : {"https://", "http://"})
    for (std::size_t p; (p = s.find(scheme)) != std::string::npos;) s.erase(p, std::string(scheme).size());
  return s;
}

std::string fmt(double v, int digits = 4) { return std::isfinite(v) ? group_digits(num(v, digits)) : "-"; }

struct Runner {
  std::vector<std::string> globals;
  JsonValue operator()(std::vector<std::string> args) const {
    args.insert(args.begin(), globals.begin(), globals.end());
    args.insert(args.begin(), "podperf");
    args.push_back("--json");
    std::ostringstream out, err;
    const int rc = run_cli(args, out, err);
    std::string e = err.str();
    while (!e.empty() && e.back() == '\n') e.pop_back();
    if (const auto nl = e.rfind('\n'); nl != std::string::npos) e = e.substr(nl + 1);
    if (rc == 2) throw InputError(e);
    if (rc != 0) throw std::runtime_error(e.empty() ? "a command failed" : e);
    return parse_json(out.str());
  }
};

// Drops `flag VALUE` (and --flag=VALUE) from a flag list.
std::vector<std::string> without(std::vector<std::string> v, const std::string& flag, bool has_value = true) {
  for (std::size_t i = 0; i < v.size();) {
    if (v[i] == flag) v.erase(v.begin() + static_cast<long>(i), v.begin() + static_cast<long>(std::min(v.size(), i + (has_value ? 2 : 1))));
    else if (v[i].rfind(flag + "=", 0) == 0) v.erase(v.begin() + static_cast<long>(i));
    else ++i;
  }
  return v;
}

// ---- SVG charts -------------------------------------------------------------------------------
struct Axis {
  double lo, hi;
  bool log = false;
};

double nice_step(double span, int target) {
  const double raw = span / target, mag = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

std::vector<double> ticks(const Axis& a) {
  std::vector<double> t;
  if (a.log) {
    for (double d = std::pow(10, std::floor(std::log10(a.lo))); d <= a.hi * 1.0001; d *= 10)
      for (double m : {1.0, 2.0, 5.0})
        if (d * m >= a.lo * 0.9999 && d * m <= a.hi * 1.0001) t.push_back(d * m);
    return t;
  }
  const double step = nice_step(a.hi - a.lo, 5);
  for (double v = std::ceil(a.lo / step) * step; v <= a.hi + step * 1e-6; v += step) t.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  return t;
}

Axis fit_axis(double lo, double hi, bool log, bool from_zero) {
  if (log) {
    lo = std::pow(10, std::floor(std::log10(lo)));
    hi = std::pow(10, std::ceil(std::log10(hi)));
    return {lo, hi, true};
  }
  if (from_zero) lo = std::min(0.0, lo);
  if (hi <= lo) hi = lo + 1;
  const double step = nice_step(hi - lo, 5);
  return {std::floor(lo / step) * step, std::ceil(hi / step) * step, false};
}

struct Series {
  std::string name, color;
  std::vector<std::pair<double, double>> pts;
  bool dashed = false, markers = true;
};

struct Mark {
  double x, y;
  std::string label;
};

class Plot {
 public:
  Plot(std::string title, std::string xlabel, std::string ylabel) : title_(std::move(title)), xl_(std::move(xlabel)), yl_(std::move(ylabel)) {}
  std::vector<Series> series;
  std::vector<Mark> marks;
  bool xlog = false, ylog = false, xzero = true, yzero = true;

  std::string svg() const {
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (auto& s : series)
      for (auto& [x, y] : s.pts) {
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
      }
    if (!std::isfinite(x0)) return "<p>no points to draw</p>";
    const Axis ax = fit_axis(x0, x1, xlog, xzero), ay = fit_axis(y0, y1, ylog, yzero);
    const double W = 640, H = 360, L = 78, R = 20, T = 34, B = 52;
    auto px = [&](double x) { return L + (W - L - R) * (ax.log ? std::log(x / ax.lo) / std::log(ax.hi / ax.lo) : (x - ax.lo) / (ax.hi - ax.lo)); };
    auto py = [&](double y) { return H - B - (H - T - B) * (ay.log ? std::log(y / ay.lo) / std::log(ay.hi / ay.lo) : (y - ay.lo) / (ay.hi - ay.lo)); };
    std::ostringstream o;
    o.precision(5);
    o << "<svg viewBox=\"0 0 " << W << ' ' << H << "\" width=\"" << W << "\" height=\"" << H
      << "\" role=\"img\"><title>" << esc(title_) << "</title>";
    o << "<text x=\"" << W / 2 << "\" y=\"20\" text-anchor=\"middle\" class=\"t\">" << esc(title_) << "</text>";
    for (double t : ticks(ax))
      o << "<line x1=\"" << px(t) << "\" x2=\"" << px(t) << "\" y1=\"" << T << "\" y2=\"" << H - B << "\" class=\"g\"/><text x=\"" << px(t)
        << "\" y=\"" << H - B + 16 << "\" text-anchor=\"middle\">" << fmt(t, 3) << "</text>";
    for (double t : ticks(ay))
      o << "<line x1=\"" << L << "\" x2=\"" << W - R << "\" y1=\"" << py(t) << "\" y2=\"" << py(t) << "\" class=\"g\"/><text x=\"" << L - 6
        << "\" y=\"" << py(t) + 4 << "\" text-anchor=\"end\">" << fmt(t, 3) << "</text>";
    o << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << W - L - R << "\" height=\"" << H - T - B << "\" class=\"f\"/>";
    o << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << H - 10 << "\" text-anchor=\"middle\">" << esc(xl_) << "</text>";
    o << "<text transform=\"translate(16 " << (T + H - B) / 2 << ") rotate(-90)\" text-anchor=\"middle\">" << esc(yl_) << "</text>";
    int k = 0;
    for (auto& s : series) {
      std::string d;
      for (auto& [x, y] : s.pts) d += (d.empty() ? "M" : " L") + std::to_string(px(x)) + " " + std::to_string(py(y));
      o << "<path d=\"" << d << "\" fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"2\"" << (s.dashed ? " stroke-dasharray=\"6 4\"" : "") << "/>";
      if (s.markers)
        for (auto& [x, y] : s.pts) o << "<circle cx=\"" << px(x) << "\" cy=\"" << py(y) << "\" r=\"3\" fill=\"" << s.color << "\"/>";
      o << "<rect x=\"" << L + 10 << "\" y=\"" << T + 8 + 16 * k << "\" width=\"12\" height=\"3\" fill=\"" << s.color << "\"/><text x=\"" << L + 28
        << "\" y=\"" << T + 13 + 16 * k << "\">" << esc(s.name) << "</text>";
      ++k;
    }
    for (auto& m : marks) {
      if (m.x < ax.lo || m.x > ax.hi || m.y < ay.lo || m.y > ay.hi) continue;
      o << "<circle cx=\"" << px(m.x) << "\" cy=\"" << py(m.y) << "\" r=\"6\" fill=\"none\" stroke=\"#000\" stroke-width=\"2\"/><text x=\""
        << px(m.x) + 9 << "\" y=\"" << py(m.y) - 8 << "\" class=\"m\">" << esc(m.label) << "</text>";
    }
    o << "</svg>";
    return o.str();
  }

 private:
  std::string title_, xl_, yl_;
};

// Horizontal stacked bars: one bar per system, one segment per term.
std::string stacked_bars(const std::string& title, const std::string& unit, const std::vector<std::string>& bars,
                         const std::vector<std::string>& terms, const std::vector<std::vector<double>>& v) {
  static const char* palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"};
  double top = 0;
  for (auto& row : v) {
    double s = 0;
    for (double x : row) s += std::max(0.0, x);
    top = std::max(top, s);
  }
  const Axis ax = fit_axis(0, top, false, true);
  const double W = 640, L = 130, R = 20, T = 30, bar = 28, gap = 14;
  const double H = T + bars.size() * (bar + gap) + 40 + 18 * ((terms.size() + 2) / 3);
  auto px = [&](double x) { return L + (W - L - R) * x / ax.hi; };
  std::ostringstream o;
  o.precision(5);
  o << "<svg viewBox=\"0 0 " << W << ' ' << H << "\" width=\"" << W << "\" height=\"" << H
    << "\" role=\"img\"><title>" << esc(title) << "</title><text x=\"" << W / 2 << "\" y=\"18\" text-anchor=\"middle\" class=\"t\">" << esc(title) << "</text>";
  const double axis_y = T + bars.size() * (bar + gap);
  for (double t : ticks(ax))
    o << "<line x1=\"" << px(t) << "\" x2=\"" << px(t) << "\" y1=\"" << T << "\" y2=\"" << axis_y << "\" class=\"g\"/><text x=\"" << px(t) << "\" y=\""
      << axis_y + 14 << "\" text-anchor=\"middle\">" << fmt(t, 3) << "</text>";
  o << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << axis_y + 30 << "\" text-anchor=\"middle\">" << esc(unit) << "</text>";
  for (std::size_t b = 0; b < bars.size(); ++b) {
    const double y = T + b * (bar + gap);
    o << "<text x=\"" << L - 6 << "\" y=\"" << y + bar / 2 + 4 << "\" text-anchor=\"end\">" << esc(bars[b]) << "</text>";
    double x = 0;
    for (std::size_t t = 0; t < terms.size(); ++t) {
      const double w = std::max(0.0, v[b][t]);
      o << "<rect x=\"" << px(x) << "\" y=\"" << y << "\" width=\"" << px(x + w) - px(x) << "\" height=\"" << bar << "\" fill=\"" << palette[t % 9]
        << "\"><title>" << esc(terms[t]) << ": " << fmt(w) << ' ' << esc(unit) << "</title></rect>";
      x += w;
    }
    o << "<text x=\"" << px(x) + 4 << "\" y=\"" << y + bar / 2 + 4 << "\">" << fmt(x) << "</text>";
  }
  for (std::size_t t = 0; t < terms.size(); ++t) {
    const double lx = 20 + (t % 3) * 205, ly = axis_y + 44 + 18 * (t / 3);
    o << "<rect x=\"" << lx << "\" y=\"" << ly - 9 << "\" width=\"10\" height=\"10\" fill=\"" << palette[t % 9] << "\"/><text x=\"" << lx + 14 << "\" y=\""
      << ly << "\">" << esc(terms[t]) << "</text>";
  }
  o << "</svg>";
  return o.str();
}

// Tornado: each input's bar spans the ratio at its low and high end, around the central ratio.
std::string tornado(const JsonValue& swings, double central, const std::string& a, const std::string& b) {
  std::vector<const JsonValue*> rows;
  for (auto& s : swings.items)
    if (std::isfinite(s["ratio_at_low"].num()) && std::isfinite(s["ratio_at_high"].num())) rows.push_back(&s);
  if (rows.size() > 12) rows.resize(12);
  if (rows.empty() || !std::isfinite(central)) return "<p>No ranged input moves the ratio.</p>";
  double lo = central, hi = central;
  for (auto* r : rows) {
    lo = std::min({lo, (*r)["ratio_at_low"].num(), (*r)["ratio_at_high"].num()});
    hi = std::max({hi, (*r)["ratio_at_low"].num(), (*r)["ratio_at_high"].num()});
  }
  const Axis ax = fit_axis(lo, hi, false, false);
  const double W = 640, L = 300, R = 20, T = 30, bar = 16, gap = 6;
  const double H = T + rows.size() * (bar + gap) + 40;
  auto px = [&](double x) { return L + (W - L - R) * (x - ax.lo) / (ax.hi - ax.lo); };
  std::ostringstream o;
  o.precision(5);
  const std::string title = "What moves the cost-per-token ratio " + a + " / " + b;
  o << "<svg viewBox=\"0 0 " << W << ' ' << H << "\" width=\"" << W << "\" height=\"" << H
    << "\" role=\"img\"><title>" << esc(title) << "</title><text x=\"" << W / 2 << "\" y=\"18\" text-anchor=\"middle\" class=\"t\">" << esc(title) << "</text>";
  const double axis_y = T + rows.size() * (bar + gap);
  for (double t : ticks(ax))
    o << "<line x1=\"" << px(t) << "\" x2=\"" << px(t) << "\" y1=\"" << T << "\" y2=\"" << axis_y << "\" class=\"g\"/><text x=\"" << px(t) << "\" y=\""
      << axis_y + 14 << "\" text-anchor=\"middle\">" << fmt(t, 3) << "</text>";
  o << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << axis_y + 30 << "\" text-anchor=\"middle\">USD per million tokens, A / B (input at its low end: light; high end: dark)</text>";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const JsonValue& r = *rows[i];
    const double y = T + i * (bar + gap), l = r["ratio_at_low"].num(), h = r["ratio_at_high"].num();
    o << "<text x=\"" << L - 6 << "\" y=\"" << y + bar - 3 << "\" text-anchor=\"end\">" << esc(r["input"].str()) << "</text>";
    for (auto [v, c] : {std::pair{l, "#9ecae1"}, std::pair{h, "#08519c"}}) {
      const double x0 = std::min(px(central), px(v)), x1 = std::max(px(central), px(v));
      o << "<rect x=\"" << x0 << "\" y=\"" << y << "\" width=\"" << std::max(1.0, x1 - x0) << "\" height=\"" << bar << "\" fill=\"" << c << "\"/>";
    }
  }
  o << "<line x1=\"" << px(central) << "\" x2=\"" << px(central) << "\" y1=\"" << T - 4 << "\" y2=\"" << axis_y << "\" stroke=\"#000\"/>";
  o << "</svg>";
  return o.str();
}

// The hwdb entities behind a system id: the system (or cluster and its system) and its chip.
std::vector<std::string> entities(const Runner& run, std::string id) {
  static const std::regex multi("^[0-9]+x([a-z0-9-]+)(:os=.*)?$");
  std::smatch m;
  if (std::regex_match(id, m, multi)) id = m[1].str();
  std::vector<std::string> out;
  for (int depth = 0; depth < 3 && !id.empty(); ++depth) {
    out.push_back(id);
    const JsonValue r = run({"hwdb", "show", id});
    std::string next;
    for (const char* ref : {"system", "chip"})
      if (r[ref].type == JsonValue::Type::string) next = r[ref].text;
    if (r["kind"].str() == "chip") break;
    id = next;
  }
  return out;
}

std::string inputs_table(const Runner& run, const std::vector<std::string>& ids) {
  std::ostringstream o;
  o << "<table class=\"in\"><tr><th>entry</th><th>field</th><th>value</th><th>unit</th><th>range</th><th>kind</th><th>source</th></tr>";
  for (auto& id : ids) {
    const JsonValue r = run({"hwdb", "show", id});
    for (auto& [key, v] : r.members) {
      if (v.type != JsonValue::Type::object) continue;
      std::string value = v["value"].type == JsonValue::Type::array ? "" : fmt(v["value"].num(), 6);
      if (v["value"].type == JsonValue::Type::array)
        for (auto& x : v["value"].items) value += (value.empty() ? "" : " x ") + fmt(x.num(), 6);
      const JsonValue& range = v["range"];
      o << "<tr><td>" << esc(id) << "</td><td>" << esc(key) << "</td><td class=\"n\">" << value << "</td><td>" << esc(v["unit"].str())
        << "</td><td class=\"n\">" << (range.items.size() == 2 ? fmt(range.items[0].num(), 6) + " - " + fmt(range.items[1].num(), 6) : "")
        << "</td><td>" << esc(v["kind"].str()) << "</td><td class=\"s\">" << esc(source_text(v["source"].str())) << "</td></tr>";
    }
  }
  o << "</table>";
  return o.str();
}

const char* kStyle =
    "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}"
    "h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}td.s{font-size:12px;color:#555;max-width:420px}"
    "tr.sec td{font-weight:600;background:#f4f4f4}.a{color:#c0392b}.b{color:#2c6fbb}"
    "svg{display:block;margin:8px 0;font-size:11px}svg .t{font-size:14px;font-weight:600}svg .g{stroke:#e5e5e5}"
    "svg .f{fill:none;stroke:#999}svg .m{font-size:12px;font-weight:600}p.note{color:#555}";
}  // namespace

void add_report_command(CLI::App& app, Context& ctx) {
  struct Opts {
    std::string a, b, out;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("report",
                                 "a self-contained HTML report of A against B (compare's flags after the two systems)");
  cmd->add_option("a", o->a, "first system")->required();
  cmd->add_option("b", o->b, "second system")->required();
  cmd->add_option("-o,--output", o->out, "HTML file to write")->required();
  cmd->add_flag("--json", o->json, "print the file written and the key figures as JSON");
  cmd->allow_extras();
  cmd->fallthrough(false);  // the extras are compare's flags, not global options
  cmd->callback([&ctx, o, cmd] {
    check_output_target(o->out, "--output");  // before any work: a device, FIFO or link is refused
    Runner run;
    run.globals = {"--hwdb", ctx.hwdb_dir, "--configs", ctx.configs_dir};
    for (auto& f : ctx.figures) run.globals.insert(run.globals.end(), {"--figures", f});
    const std::vector<std::string> flags = without(without(cmd->remaining(), "--json", false), "--csv", false);
    std::vector<std::string> cargs = {"compare", o->a, o->b};
    cargs.insert(cargs.end(), flags.begin(), flags.end());
    if (std::find(flags.begin(), flags.end(), "--sensitivity") == flags.end()) cargs.push_back("--sensitivity");
    const JsonValue c = run(cargs);
    std::vector<std::string> bargs = {"breakeven", o->a, o->b};
    for (auto& f : without(flags, "--sensitivity", false)) bargs.push_back(f);
    const JsonValue be = run(bargs);
    const JsonValue power = run({"power", o->a, o->b});
    const std::string a = c["a"].str(), b = c["b"].str(), mode = c["mode"].str();
    const JsonValue &ea = c["estimate_a"], &eb = c["estimate_b"], &ta = c["tco_a"], &tb = c["tco_b"];
    auto row = [&](const std::string& key) -> const JsonValue& {
      static const JsonValue none;
      for (auto& r : c["rows"].items)
        if (r["key"].str() == key) return r;
      return none;
    };

    std::ostringstream h;
    h << "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>podperf: " << esc(a) << " vs " << esc(b)
      << "</title><style>" << kStyle << "</style></head><body>";
    h << "<h1>" << esc(a) << " (" << esc(c["site_a"].str()) << ") against " << esc(b) << " (" << esc(c["site_b"].str()) << ")</h1>";
    h << "<p>Model <b>" << esc(c["model"].str()) << "</b>, " << esc(mode) << "; ratios A/B with their 5-95% range over "
      << c["samples"].str() << " draws of the hwdb's ranges (seed " << c["seed"].str() << "). podperf " PODPERF_VERSION " (" PODPERF_GIT_REV ").</p>";
    h << "<p id=\"headline\">Cost per million tokens: <span class=\"a\">" << esc(a) << " " << fmt(row("usd_per_mtok")["a"].num()) << " USD</span>, <span class=\"b\">"
      << esc(b) << " " << fmt(row("usd_per_mtok")["b"].num()) << " USD</span>; tokens/s per system " << fmt(row("tokens_per_s")["a"].num()) << " against "
      << fmt(row("tokens_per_s")["b"].num()) << ".</p>";

    // Side-by-side table.
    h << "<h2>Side by side</h2><table id=\"compare\"><tr><th></th><th class=\"a\">" << esc(a) << "</th><th class=\"b\">" << esc(b)
      << "</th><th>A/B</th><th>5-95% range</th><th>better</th></tr>";
    for (auto& r : c["rows"].items) {
      auto cell = [&](const JsonValue& v) { return std::isfinite(v.num()) ? fmt(v.num()) : std::string("-"); };
      const double lo = r["ratio_low"].num(), hi = r["ratio_high"].num();
      h << "<tr data-key=\"" << esc(r["key"].str()) << "\"><td>" << esc(r["label"].str()) << "</td><td class=\"n\">" << cell(r["a"]) << "</td><td class=\"n\">"
        << cell(r["b"]) << "</td><td class=\"n\">" << (std::isfinite(r["ratio"].num()) ? fmt(r["ratio"].num(), 3) + "x" : "-") << "</td><td class=\"n\">"
        << (std::isfinite(lo) && hi > lo * (1 + 1e-9) ? fmt(lo, 3) + " - " + fmt(hi, 3) : "") << "</td><td>" << esc(r["better"].str()) << "</td></tr>";
    }
    h << "</table>";
    for (auto* e : {&ea, &eb})
      if ((*e)["fits"].type == JsonValue::Type::boolean && !(*e)["fits"].boolean)
        h << "<p class=\"note\">" << esc((*e)["system"].str()) << ": " << esc((*e)["reason"].str()) << "</p>";

    // Tornado.
    h << "<h2>Sensitivity</h2>" << tornado(c["sensitivity_usd_per_mtok_ratio"], row("usd_per_mtok")["ratio"].num(), a, b);

    // Cost against electricity price: cost per Mtok = (fixed per hour + energy per hour per USD/kWh x price)
    // / tokens per hour; the lines cross where the two costs are equal at the same price.
    h << "<h2>Cost per million tokens against electricity price</h2>";
    const double toka = row("tokens_per_s")["a"].num() * 3600, tokb = row("tokens_per_s")["b"].num() * 3600;
    if (std::isfinite(toka) && std::isfinite(tokb) && toka > 0 && tokb > 0) {
      auto line = [](const JsonValue& t, double tok_h) {
        const double fixed = t["capex_per_h"].num() + t["facility_per_h"].num() + t["maintenance_per_h"].num();
        return std::pair{fixed / tok_h * 1e6, t["energy_per_h_per_usd_kwh"].num() / tok_h * 1e6};
      };
      const auto [ca, ka] = line(ta, toka);
      const auto [cb, kb] = line(tb, tokb);
      const double pa = row("electricity_usd_kwh")["a"].num(), pb = row("electricity_usd_kwh")["b"].num();
      const double cross = ka != kb ? (cb - ca) / (ka - kb) : NAN;
      double pmax = std::max({0.3, 1.5 * pa, 1.5 * pb});
      if (std::isfinite(cross) && cross > 0 && cross < 2) pmax = std::max(pmax, 1.25 * cross);
      Plot p("Cost per million tokens against electricity price", "electricity price, USD per kWh", "USD per million tokens");
      for (auto [name, color, c0, k] : {std::tuple{a, kColorA, ca, ka}, std::tuple{b, kColorB, cb, kb}}) {
        Series s{name, color, {}, false, false};
        for (int i = 0; i <= 40; ++i) s.pts.push_back({pmax * i / 40, c0 + k * pmax * i / 40});
        p.series.push_back(s);
      }
      p.marks.push_back({pa, ca + ka * pa, a + " at " + c["site_a"].str()});
      p.marks.push_back({pb, cb + kb * pb, b + " at " + c["site_b"].str()});
      if (std::isfinite(cross) && cross >= 0 && cross <= pmax) p.marks.push_back({cross, ca + ka * cross, "crossing " + fmt(cross, 3) + " USD/kWh"});
      h << p.svg() << "<p id=\"crossing\">";
      if (std::isfinite(cross) && cross >= 0)
        h << "At the same electricity price the two lines cross at <b>" << fmt(cross, 3) << " USD/kWh</b> (" << fmt(ca + ka * cross) << " USD per million tokens).";
      else
        h << "The lines do not cross at a non-negative price: " << esc(ca < cb ? a : b) << " costs less per token at every electricity price"
          << (std::isfinite(cross) ? " (they would cross at " + fmt(cross, 3) + " USD/kWh)" : "") << ".";
      const JsonValue& bp = be["breakeven_electricity_usd_kwh"];
      h << " With " << esc(b) << " at its own site, " << esc(a) << " matches its cost at "
        << (bp.type == JsonValue::Type::number ? fmt(bp.num(), 3) + " USD/kWh" : "no positive electricity price") << " (podperf breakeven).</p>";
    } else {
      h << "<p>A system does not fit this workload: no cost per token.</p>";
    }

    // Throughput-interactivity frontier: the best tokens/s per chip at each TPOT target (serving only).
    h << "<h2>Throughput against interactivity</h2>";
    if (mode == "serve" || mode == "decode") {
      Plot p("Throughput against interactivity (" + c["model"].str() + ", " + mode + ")", "tokens/s per user (interactivity)", "tokens/s per chip");
      p.xlog = p.ylog = true;
      Series sa{a, kColorA, {}}, sb{b, kColorB, {}};
      const std::vector<std::string> base = without(without(without(flags, "--tpot-ms"), "--samples"), "--sensitivity", false);
      for (double tpot : {5.0, 8.0, 12.5, 20.0, 30.0, 50.0, 75.0, 100.0, 150.0, 250.0}) {
        std::vector<std::string> args = {"compare", o->a, o->b, "--samples", "0", "--tpot-ms", num(tpot)};
        args.insert(args.end(), base.begin(), base.end());
        const JsonValue r = run(args);
        for (auto [e, s] : {std::pair{&r["estimate_a"], &sa}, std::pair{&r["estimate_b"], &sb}}) {
          const JsonValue& x = *e;
          // Only points that meet their target.
          if (x["fits"].boolean && x["tpot_ms"].num() <= tpot * (1 + 1e-6) && x["tokens_per_s_per_user"].num() > 0)
            s->pts.push_back({x["tokens_per_s_per_user"].num(), x["tokens_per_s_per_chip"].num()});
        }
      }
      for (auto* s : {&sa, &sb}) std::sort(s->pts.begin(), s->pts.end());
      p.series = {sa, sb};
      h << p.svg() << "<p class=\"note\">Each point: the batch with the most tokens/s per chip that meets a TPOT target (5 to 250 ms); "
        << "targets a system cannot meet are left out.</p>";
    } else {
      h << "<p>Training: no serving frontier.</p>";
    }

    // Power and cost breakdowns.
    h << "<h2>Power and cost</h2>";
    {
      std::vector<std::string> bars, terms = {"accelerators", "host CPUs", "node overhead", "scale-up switches", "scale-up optics",
                                              "scale-out NICs", "scale-out switches", "scale-out optics"};
      const char* keys[] = {"chips_kw", "cpus_kw", "node_overhead_kw", "scaleup_switch_kw", "scaleup_optics_kw", "scaleout_nic_kw",
                            "scaleout_switch_kw", "scaleout_optics_kw"};
      std::vector<std::vector<double>> v;
      for (auto& s : power.items) {
        bars.push_back(s["id"].str());
        std::vector<double> x;
        for (auto* k : keys) x.push_back(s[k].num());
        v.push_back(x);
      }
      h << stacked_bars("All-in peak IT power by term", "kW", bars, terms, v);
    }
    {
      std::vector<std::vector<double>> v;
      for (auto* t : {&ta, &tb})
        v.push_back({(*t)["capex_per_h"].num(), (*t)["facility_per_h"].num(), (*t)["maintenance_per_h"].num(), (*t)["energy_per_h"].num()});
      h << stacked_bars("Cost of ownership per hour by term", "USD per hour", {a, b}, {"capital", "facility", "maintenance", "electricity"}, v);
    }

    // Inputs and sources.
    h << "<h2>Inputs and their sources</h2><p class=\"note\">Every hwdb number behind this page: value, unit, range, kind of source "
         "(vendor, analyst, measured, measured-fit, derived, assumption) and the source itself.</p>";
    std::vector<std::string> ids = entities(run, o->a);
    for (auto& id : entities(run, o->b))
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    for (auto* s : {"site_a", "site_b"})
      if (std::find(ids.begin(), ids.end(), c[s].str()) == ids.end()) ids.push_back(c[s].str());
    h << inputs_table(run, ids);
    h << "</body></html>\n";

    const std::string html = h.str();
    write_file_atomic(o->out, html, "--output");
    if (o->json) {
      Json j = Json::object();
      j["output"] = o->out;
      j["bytes"] = static_cast<double>(html.size());
      j["usd_per_mtok_a"] = row("usd_per_mtok")["a"].num();
      j["usd_per_mtok_b"] = row("usd_per_mtok")["b"].num();
      std::cout << j.dump() << '\n';
    } else {
      std::cout << "wrote " << o->out << " (" << group_digits(std::to_string(html.size())) << " bytes)\n";
    }
  });
}

}  // namespace podperf::cli
