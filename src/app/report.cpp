// The HTML report (report.hpp): the page and its JSON are two renderings of one Report, built from
// the comparison model and the scenario results. Every number on the page is written by num_span(),
// which stamps it with its path in report_json() and its value.
#include "podperf/app/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "podperf/io/error.hpp"

namespace podperf {

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

// A value as report_json writes it (Json's number format), for data-value.
std::string json_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

Json num_json(double v) { return std::isfinite(v) ? Json(v) : Json(); }

// A number on the page: its text in the page's format, its path in report_json() and its value. A
// value that is not finite is shown as missing, with the reason given (`missing`, or "-").
std::string num_span(const std::string& path, double v, int digits = 4, const std::string& missing = "-",
                     const std::string& missing_code = "") {
  if (!std::isfinite(v))
    return "<span class=\"miss\" data-metric=\"" + esc(path) + "\" data-missing=\"" + esc(missing_code.empty() ? "none" : missing_code) +
           "\">" + esc(missing) + "</span>";
  return "<span data-metric=\"" + esc(path) + "\" data-value=\"" + json_number(v) + "\" data-digits=\"" + std::to_string(digits) +
         "\">" + report_number(v, digits) + "</span>";
}

std::string name_id(const std::string& name, const std::string& id) {
  if (name.empty() || name == id) return "<b>" + esc(id) + "</b>";
  return "<b>" + esc(name) + "</b> <code>" + esc(id) + "</code>";
}

// Why a side has no workload figure: the reason code and the words for a cell and for a sentence.
struct Missing {
  std::string code, cell, sentence;
};
Missing missing_of(const Evaluation& ev, const ComparisonSpec& spec) {
  const Estimate& e = ev.econ.est;
  const double tpot = ev.serve && ev.serving.d.rule.tpot_ms > 0 ? ev.serving.d.rule.tpot_ms : spec.w.tpot_ms;
  const double ttft = ev.serve && ev.serving.d.rule.ttft_ms > 0 ? ev.serving.d.rule.ttft_ms : spec.w.ttft_ms;
  switch (e.reason) {
    case Reason::ok: return {"", "-", ""};
    case Reason::memory: return {"memory", "does not fit in memory", "does not fit in memory at any plan and batch"};
    case Reason::tpot_unreachable:
      return {"tpot_target", "misses the TPOT target",
              "fits in memory but misses the " + report_number(tpot) + " ms TPOT target at every batch"};
    case Reason::ttft_unreachable:
      if (ttft > 0)
        return {"ttft_target", "misses the TTFT target", "fits in memory but misses the " + report_number(ttft) + " ms TTFT target"};
      return {"ttft_unbounded", "no stable operating point",
              "fits in memory but has no operating point under the latency bounds: prefill would run saturated, so the time to "
              "first token grows without bound"};
    default: return {"no_plan", "no valid plan", std::string("has no valid plan (") + reason_text(e.reason) + ")"};
  }
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
    if (hi <= lo) hi = lo * 10;
    return {lo, hi, true};
  }
  if (from_zero) lo = std::min(0.0, lo);
  if (hi <= lo) hi = lo + 1;
  const double step = nice_step(hi - lo, 5);
  return {std::floor(lo / step) * step, std::ceil(hi / step) * step, false};
}

// Text that must stay inside [0, room] of the chart: cut to the characters that fit (about 8 units a
// character at the chart's font size, wide letters included), the whole text in a tooltip.
std::string fitted(const std::string& s, double room) {
  const std::size_t n = static_cast<std::size_t>(std::max(4.0, room / 8.0));
  if (s.size() <= n) return esc(s);
  return esc(s.substr(0, n - 1)) + "&#8230;";
}

// The opening of an SVG that scales with its container (viewBox only; CSS sets the width).
std::string svg_open(double W, double H, const std::string& title) {
  std::ostringstream o;
  o << "<svg viewBox=\"0 0 " << W << ' ' << H << "\" preserveAspectRatio=\"xMidYMid meet\" role=\"img\"><title>" << esc(title)
    << "</title><text x=\"" << W / 2 << "\" y=\"20\" text-anchor=\"middle\" class=\"t\">" << fitted(title, (W - 20) * 0.85) << "</text>";
  return o.str();
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
    if (!std::isfinite(x0)) return "<p class=\"note\">No points to draw.</p>";
    const Axis ax = fit_axis(x0, x1, xlog, xzero), ay = fit_axis(y0, y1, ylog, yzero);
    const double W = 640, H = 380, L = 78, R = 24, T = 34, B = 56;
    auto px = [&](double x) { return L + (W - L - R) * (ax.log ? std::log(x / ax.lo) / std::log(ax.hi / ax.lo) : (x - ax.lo) / (ax.hi - ax.lo)); };
    auto py = [&](double y) { return H - B - (H - T - B) * (ay.log ? std::log(y / ay.lo) / std::log(ay.hi / ay.lo) : (y - ay.lo) / (ay.hi - ay.lo)); };
    std::ostringstream o;
    o.precision(5);
    o << svg_open(W, H, title_);
    for (double t : ticks(ax))
      o << "<line x1=\"" << px(t) << "\" x2=\"" << px(t) << "\" y1=\"" << T << "\" y2=\"" << H - B << "\" class=\"g\"/><text x=\"" << px(t)
        << "\" y=\"" << H - B + 16 << "\" text-anchor=\"middle\">" << report_number(t, 3) << "</text>";
    for (double t : ticks(ay))
      o << "<line x1=\"" << L << "\" x2=\"" << W - R << "\" y1=\"" << py(t) << "\" y2=\"" << py(t) << "\" class=\"g\"/><text x=\"" << L - 6
        << "\" y=\"" << py(t) + 4 << "\" text-anchor=\"end\">" << report_number(t, 3) << "</text>";
    o << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << W - L - R << "\" height=\"" << H - T - B << "\" class=\"f\"/>";
    o << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << H - 12 << "\" text-anchor=\"middle\">" << esc(xl_) << "</text>";
    o << "<text transform=\"translate(18 " << (T + H - B) / 2 << ") rotate(-90)\" text-anchor=\"middle\">" << esc(yl_) << "</text>";
    int k = 0;
    for (auto& s : series) {
      std::string d;
      for (auto& [x, y] : s.pts) d += (d.empty() ? "M" : " L") + std::to_string(px(x)) + " " + std::to_string(py(y));
      if (!d.empty())
        o << "<path d=\"" << d << "\" fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"2\"" << (s.dashed ? " stroke-dasharray=\"6 4\"" : "") << "/>";
      if (s.markers)
        for (auto& [x, y] : s.pts) o << "<circle cx=\"" << px(x) << "\" cy=\"" << py(y) << "\" r=\"3\" fill=\"" << s.color << "\"/>";
      o << "<rect x=\"" << L + 10 << "\" y=\"" << T + 8 + 18 * k << "\" width=\"12\" height=\"3\" fill=\"" << s.color << "\"/><text x=\"" << L + 28
        << "\" y=\"" << T + 13 + 18 * k << "\">" << fitted(s.name, W - R - L - 36) << "</text>";
      ++k;
    }
    for (auto& m : marks) {
      if (m.x < ax.lo || m.x > ax.hi || m.y < ay.lo || m.y > ay.hi) continue;
      const bool right_half = px(m.x) > (L + W - R) / 2;  // labels grow away from the nearer edge
      o << "<circle cx=\"" << px(m.x) << "\" cy=\"" << py(m.y) << "\" r=\"6\" fill=\"none\" stroke=\"#000\" stroke-width=\"2\"/><text x=\""
        << px(m.x) + (right_half ? -9 : 9) << "\" y=\"" << py(m.y) - 8 << "\" class=\"m\" text-anchor=\"" << (right_half ? "end" : "start")
        << "\">" << fitted(m.label, right_half ? px(m.x) - 12 : W - px(m.x) - 12) << "</text>";
    }
    o << "</svg>";
    return o.str();
  }

 private:
  std::string title_, xl_, yl_;
};

// Horizontal stacked bars: one bar per side, one segment per term; the total written at the bar's end
// (with its path in report_json()).
struct Bar {
  std::string label, total_path;
  std::vector<double> v;
};
std::string stacked_bars(const std::string& title, const std::string& unit, const std::vector<Bar>& bars, const std::vector<std::string>& terms) {
  static const char* palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"};
  double top = 0;
  for (auto& b : bars) {
    double s = 0;
    for (double x : b.v) s += std::max(0.0, x);
    top = std::max(top, s);
  }
  const Axis ax = fit_axis(0, top, false, true);
  const double W = 640, L = 190, R = 70, T = 34, bar = 28, gap = 14;
  const double H = T + bars.size() * (bar + gap) + 44 + 20 * ((terms.size() + 1) / 2);
  auto px = [&](double x) { return L + (W - L - R) * x / ax.hi; };
  std::ostringstream o;
  o.precision(5);
  o << svg_open(W, H, title);
  const double axis_y = T + bars.size() * (bar + gap);
  for (double t : ticks(ax))
    o << "<line x1=\"" << px(t) << "\" x2=\"" << px(t) << "\" y1=\"" << T << "\" y2=\"" << axis_y << "\" class=\"g\"/><text x=\"" << px(t) << "\" y=\""
      << axis_y + 14 << "\" text-anchor=\"middle\">" << report_number(t, 3) << "</text>";
  o << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << axis_y + 32 << "\" text-anchor=\"middle\">" << esc(unit) << "</text>";
  for (std::size_t b = 0; b < bars.size(); ++b) {
    const double y = T + b * (bar + gap);
    o << "<text x=\"" << L - 6 << "\" y=\"" << y + bar / 2 + 4 << "\" text-anchor=\"end\">" << fitted(bars[b].label, L - 10) << "</text>";
    double x = 0;
    for (std::size_t t = 0; t < terms.size(); ++t) {
      const double w = std::max(0.0, bars[b].v[t]);
      o << "<rect x=\"" << px(x) << "\" y=\"" << y << "\" width=\"" << px(x + w) - px(x) << "\" height=\"" << bar << "\" fill=\"" << palette[t % 9]
        << "\"><title>" << esc(terms[t]) << ": " << report_number(w) << ' ' << esc(unit) << "</title></rect>";
      x += w;
    }
    o << "<text x=\"" << px(x) + 4 << "\" y=\"" << y + bar / 2 + 4 << "\" data-metric=\"" << esc(bars[b].total_path) << "\" data-value=\""
      << json_number(x) << "\" data-digits=\"4\">" << report_number(x) << "</text>";
  }
  for (std::size_t t = 0; t < terms.size(); ++t) {
    const double lx = 20 + (t % 2) * 310, ly = axis_y + 52 + 20 * (t / 2);
    o << "<rect x=\"" << lx << "\" y=\"" << ly - 10 << "\" width=\"11\" height=\"11\" fill=\"" << palette[t % 9] << "\"/><text x=\"" << lx + 16 << "\" y=\""
      << ly << "\">" << esc(terms[t]) << "</text>";
  }
  o << "</svg>";
  return o.str();
}

// Tornado: each input's bar spans the ratio at its low and high end, around the central ratio.
std::string tornado(const std::vector<Swing>& swings, double central) {
  std::vector<const Swing*> rows;
  for (auto& s : swings)
    if (std::isfinite(s.at_low) && std::isfinite(s.at_high)) rows.push_back(&s);
  if (rows.size() > 12) rows.resize(12);
  if (rows.empty() || !std::isfinite(central)) return "<p class=\"note\">No ranged input moves the ratio.</p>";
  double lo = central, hi = central;
  for (auto* r : rows) lo = std::min({lo, r->at_low, r->at_high}), hi = std::max({hi, r->at_low, r->at_high});
  const Axis ax = fit_axis(lo, hi, false, false);
  const double W = 640, L = 280, R = 24, T = 34, bar = 16, gap = 6;
  const double H = T + rows.size() * (bar + gap) + 62;
  auto px = [&](double x) { return L + (W - L - R) * (x - ax.lo) / (ax.hi - ax.lo); };
  std::ostringstream o;
  o.precision(5);
  o << svg_open(W, H, "What moves the cost-per-token ratio A / B");
  const double axis_y = T + rows.size() * (bar + gap);
  for (double t : ticks(ax))
    o << "<line x1=\"" << px(t) << "\" x2=\"" << px(t) << "\" y1=\"" << T << "\" y2=\"" << axis_y << "\" class=\"g\"/><text x=\"" << px(t) << "\" y=\""
      << axis_y + 14 << "\" text-anchor=\"middle\">" << report_number(t, 3) << "</text>";
  // The axis label in two lines across the whole chart, so that it is never cut at either edge.
  o << "<text x=\"" << W / 2 << "\" y=\"" << axis_y + 34 << "\" text-anchor=\"middle\">USD per million tokens, A / B</text>";
  o << "<text x=\"" << W / 2 << "\" y=\"" << axis_y + 52 << "\" text-anchor=\"middle\" class=\"s\">input at its low end: light bar; at its high end: dark bar</text>";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Swing& r = *rows[i];
    const double y = T + i * (bar + gap);
    o << "<text x=\"" << L - 6 << "\" y=\"" << y + bar - 3 << "\" text-anchor=\"end\"><title>" << esc(r.input.key) << "</title>"
      << fitted(r.input.key, L - 10) << "</text>";
    for (auto [v, c] : {std::pair{r.at_low, "#9ecae1"}, std::pair{r.at_high, "#08519c"}}) {
      const double x0 = std::min(px(central), px(v)), x1 = std::max(px(central), px(v));
      o << "<rect x=\"" << x0 << "\" y=\"" << y << "\" width=\"" << std::max(1.0, x1 - x0) << "\" height=\"" << bar << "\" fill=\"" << c << "\"/>";
    }
  }
  o << "<line x1=\"" << px(central) << "\" x2=\"" << px(central) << "\" y1=\"" << T - 4 << "\" y2=\"" << axis_y << "\" stroke=\"#000\"/>";
  o << "</svg>";
  return o.str();
}

// Cost per million tokens as a line in the electricity price p: fixed + slope x p (per side).
struct PriceLines {
  bool ok = false;
  double fixed_a = NAN, slope_a = NAN, fixed_b = NAN, slope_b = NAN, crossing = NAN;
};
PriceLines price_lines(const Comparison& c) {
  PriceLines l;
  const std::size_t tok = comparison_row("tokens_per_s");
  const double toka = c.va[tok] * 3600, tokb = c.vb[tok] * 3600;
  if (!(std::isfinite(toka) && std::isfinite(tokb) && toka > 0 && tokb > 0)) return l;
  const Tco &ta = c.a.ev.econ.tco, &tb = c.b.ev.econ.tco;
  l.fixed_a = ta.fixed_per_h() / toka * 1e6;
  l.slope_a = ta.energy_per_h_per_usd_kwh / toka * 1e6;
  l.fixed_b = tb.fixed_per_h() / tokb * 1e6;
  l.slope_b = tb.energy_per_h_per_usd_kwh / tokb * 1e6;
  l.crossing = l.slope_a != l.slope_b ? (l.fixed_b - l.fixed_a) / (l.slope_a - l.slope_b) : NAN;
  l.ok = true;
  return l;
}

struct Term {
  const char* key;
  const char* label;
  double PowerBreakdown::*w;
};
const Term kPowerTerms[] = {
    {"chips_w", "accelerators", &PowerBreakdown::chips_w},
    {"cpus_w", "host CPUs", &PowerBreakdown::cpus_w},
    {"node_overhead_w", "node overhead", &PowerBreakdown::node_overhead_w},
    {"spare_chips_w", "hot-spare chips", &PowerBreakdown::spare_chips_w},
    {"scaleup_switch_w", "scale-up switches", &PowerBreakdown::scaleup_switch_w},
    {"scaleup_optics_w", "scale-up optics", &PowerBreakdown::scaleup_optics_w},
    {"scaleout_nic_w", "scale-out NICs", &PowerBreakdown::scaleout_nic_w},
    {"scaleout_switch_w", "scale-out switches", &PowerBreakdown::scaleout_switch_w},
    {"scaleout_optics_w", "scale-out optics", &PowerBreakdown::scaleout_optics_w},
};

// Cost of ownership per hour by term, per accelerator.
std::vector<std::pair<const char*, double>> tco_per_chip(const Evaluation& ev) {
  const Tco& t = ev.econ.tco;
  const double n = ev.sys.chips;
  return {{"capital", t.capex_per_h / n}, {"facility", t.facility_per_h / n}, {"maintenance", t.maintenance_per_h / n},
          {"electricity", t.energy_per_h / n}};
}

// The verdict in segments: text, or a number with its path.
struct Seg {
  std::string text, path;
  double v = NAN;
  int digits = 4;
  bool number = false;
};
struct Verdict {
  std::vector<Seg> segs;
  std::string cheaper;   // "a", "b", "" (neither with confidence, or no comparison)
  std::string dominant;  // "model_error", "hwdb_ranges", "" (no band)
};
Seg T(std::string s) {
  Seg g;
  g.text = std::move(s);
  return g;
}
Seg N(std::string path, double v, int digits = 4) {
  Seg g;
  g.path = std::move(path);
  g.v = v;
  g.digits = digits;
  g.number = true;
  return g;
}

Verdict verdict(const Comparison& c, const std::string& base) {
  Verdict v;
  const std::size_t i = comparison_row("usd_per_mtok");
  const double a = c.va[i], b = c.vb[i];
  const Interval& r = c.ratio[i];
  const std::string an = c.a.ev.sys.name, bn = c.b.ev.sys.name;
  const char* tokens = c.a.ev.w.mode == Mode::prefill ? "input" : c.a.ev.w.mode == Mode::train ? "training" : "output";
  const std::string row = base + "/rows/usd_per_mtok/";
  if (!std::isfinite(a) || !std::isfinite(b)) {
    for (auto [side, name, val] : {std::tuple{&c.a, an, a}, std::tuple{&c.b, bn, b}})
      if (!std::isfinite(val)) v.segs.push_back(T(name + " " + missing_of(side->ev, c.spec).sentence + ". "));
    v.segs.push_back(T("No cost comparison: a missing side has no cost per token, and no range is given for it."));
    return v;
  }
  v.segs = {T(an + " costs "), N(row + "a", a), T(" USD per million " + std::string(tokens) + " tokens against " + bn + "'s "),
            N(row + "b", b), T(": A/B "), N(row + "ratio", r.central, 3), T("x")};
  const bool band = c.spec.samples > 0 && has_band(r);
  if (band) {
    v.segs.push_back(T(" (5-95 % band "));
    v.segs.push_back(N(row + "ratio_low", r.low, 3));
    v.segs.push_back(T(" to "));
    v.segs.push_back(N(row + "ratio_high", r.high, 3));
    v.segs.push_back(T(" over " + std::to_string(c.spec.samples) + " draws)"));
  }
  if (band_crosses_one(r)) {
    v.segs.push_back(T(". The band crosses 1: neither system is cheaper with confidence."));
  } else if (even(a, b)) {
    v.segs.push_back(T(". The two are even (within 0.5 %)."));
  } else {
    v.cheaper = a < b ? "a" : "b";
    v.segs.push_back(T(". " + (a < b ? an : bn) + " is cheaper per token" + (band ? " across the whole band." : " (no band: no draws).")));
  }
  if (c.has_split && has_band(c.cost_hwdb_only) + has_band(c.cost_model_error_only) > 0) {
    const double whw = has_band(c.cost_hwdb_only) ? std::log(c.cost_hwdb_only.high / c.cost_hwdb_only.low) : 0;
    const double wme = has_band(c.cost_model_error_only) ? std::log(c.cost_model_error_only.high / c.cost_model_error_only.low) : 0;
    v.dominant = wme > whw ? "model_error" : "hwdb_ranges";
    v.segs.push_back(T(std::string(" The band is dominated by ") +
                       (wme > whw ? "the model's own error (the leave-one-out residuals of each side's case class)"
                                  : "the input ranges of the hardware database") +
                       ": the input ranges alone give "));
    v.segs.push_back(N(base + "/split/hwdb_low", c.cost_hwdb_only.low, 3));
    v.segs.push_back(T(" to "));
    v.segs.push_back(N(base + "/split/hwdb_high", c.cost_hwdb_only.high, 3));
    v.segs.push_back(T(", the model error alone "));
    v.segs.push_back(N(base + "/split/model_error_low", c.cost_model_error_only.low, 3));
    v.segs.push_back(T(" to "));
    v.segs.push_back(N(base + "/split/model_error_high", c.cost_model_error_only.high, 3));
    v.segs.push_back(T("."));
  }
  return v;
}

std::string verdict_text(const Verdict& v) {
  std::string s;
  for (auto& g : v.segs) s += g.number ? report_number(g.v, g.digits) : g.text;
  return s;
}
std::string verdict_html(const Verdict& v) {
  std::string s;
  for (auto& g : v.segs) s += g.number ? num_span(g.path, g.v, g.digits) : esc(g.text);
  return s;
}

// Rows shown: a row that no side has a value for while both run the workload does not apply here.
bool row_shown(const Comparison& c, std::size_t i) {
  const ComparisonRow& r = comparison_rows()[i];
  if (std::isfinite(c.va[i]) || std::isfinite(c.vb[i])) return true;
  if (r.key.rfind("train_run", 0) == 0 && c.a.ev.w.mode != Mode::train) return false;
  return r.workload && (!c.a.ev.econ.est.fits() || !c.b.ev.econ.est.fits());
}

// A side's value cell: the number, or why it is missing.
std::string value_cell(const Comparison& c, const ComparisonSide& s, std::size_t i, double v, const std::string& path) {
  const ComparisonRow& r = comparison_rows()[i];
  if (std::isfinite(v)) return num_span(path, v);
  if (r.workload && !s.ev.econ.est.fits()) {
    const Missing m = missing_of(s.ev, c.spec);
    return num_span(path, v, 4, m.cell, m.code);
  }
  return num_span(path, v, 4, r.workload ? "not applicable" : "not stated", r.workload ? "not_applicable" : "not_stated");
}

std::string better_text(const Comparison& c, std::size_t i) {
  const ComparisonRow& r = comparison_rows()[i];
  if (r.better == 0 || !std::isfinite(c.ratio[i].central)) return "";
  if (band_crosses_one(c.ratio[i])) return "either (band crosses 1)";
  if (even(c.va[i], c.vb[i])) return "even";
  const std::string s = better_side(c, i);
  const double f = s == "a" ? (r.better > 0 ? c.va[i] / c.vb[i] : c.vb[i] / c.va[i]) : (r.better > 0 ? c.vb[i] / c.va[i] : c.va[i] / c.vb[i]);
  return (s == "a" ? "A" : "B") + std::string(" by ") + report_number(f, 3) + "x";
}

std::string side_table(const Comparison& c, const std::string& base) {
  const std::string a = c.a.ev.sys.name, b = c.b.ev.sys.name;
  const std::string eight = "A " + eight_bit_format(c.a.ev.sys) + ", B " + eight_bit_format(c.b.ev.sys);
  std::ostringstream h;
  h << "<table class=\"r cmp\"><thead><tr class=\"h\"><th>figure</th><th class=\"a\">A: " << esc(a) << "</th><th class=\"b\">B: " << esc(b)
    << "</th><th>A/B</th><th>5-95 % range of A/B</th><th>better</th></tr></thead><tbody>";
  bool work = false;
  for (std::size_t i = 0; i < comparison_rows().size(); ++i) {
    if (!row_shown(c, i)) continue;
    const ComparisonRow& r = comparison_rows()[i];
    if (r.workload && !work) {
      work = true;
      h << "<tr class=\"sec\"><td colspan=\"6\">The workload (" << esc(to_string(c.a.ev.w.mode)) << ")</td></tr>";
    }
    const std::string p = base + "/rows/" + r.key + "/";
    const Interval& iv = c.ratio[i];
    const bool both = std::isfinite(c.va[i]) && std::isfinite(c.vb[i]) && std::isfinite(iv.central);
    h << "<tr data-key=\"" << esc(r.key) << "\"><td class=\"l\">" << esc(comparison_row_label(r, c.a.ev.w.mode, eight)) << "</td><td class=\"n\" data-label=\"A: "
      << esc(a) << "\">" << value_cell(c, c.a, i, c.va[i], p + "a") << "</td><td class=\"n\" data-label=\"B: " << esc(b) << "\">"
      << value_cell(c, c.b, i, c.vb[i], p + "b") << "</td><td class=\"n\" data-label=\"A/B\">";
    if (both) h << num_span(p + "ratio", iv.central, 3) << "x";
    else h << "<span class=\"miss\">-</span>";
    h << "</td><td class=\"n\" data-label=\"5-95 % range\">";
    if (both && c.spec.samples > 0 && has_band(iv))
      h << num_span(p + "ratio_low", iv.low, 3) << " - " << num_span(p + "ratio_high", iv.high, 3) << (point_outside_band(iv) ? " *" : "");
    else if (both)
      h << "<span class=\"dim\">" << (c.spec.samples > 0 ? "no spread" : "no draws") << "</span>";
    else
      h << "<span class=\"miss\">-</span>";
    h << "</td><td data-label=\"better\">" << esc(better_text(c, i)) << "</td></tr>";
  }
  h << "</tbody></table>";
  return h.str();
}

std::string plan_cell(const std::string& p, const Estimate& e) {
  if (!e.fits() && e.par.chips() <= 1) return "<span class=\"miss\">none</span>";
  return "TP " + num_span(p + "tp", e.par.tp) + ", DP " + num_span(p + "dp", e.par.dp) + ", EP " + num_span(p + "ep", e.par.ep) + ", PP " +
         num_span(p + "pp", e.par.pp);
}

std::string precision_text(const Evaluation& ev) {
  if (ev.w.mode == Mode::train) return std::string(to_string(ev.w.train.precision)) + " compute";
  return to_string(ev.w.infer.main_weight_format()) + " weights, " + to_string(ev.w.infer.kv_fmt()) + " KV cache";
}

// The question, per side.
std::string question_table(const Comparison& c, const std::string& base, const Hwdb& db) {
  std::ostringstream h;
  const std::string a = c.a.ev.sys.name, b = c.b.ev.sys.name;
  h << "<table class=\"r q\"><thead><tr class=\"h\"><th></th><th class=\"a\">A</th><th class=\"b\">B</th></tr></thead><tbody>";
  auto row = [&](const std::string& label, const std::string& va, const std::string& vb) {
    h << "<tr><td class=\"l\">" << esc(label) << "</td><td data-label=\"A\">" << va << "</td><td data-label=\"B\">" << vb << "</td></tr>";
  };
  auto each = [&](auto f) { return std::pair{f(c.a, base + "/a/"), f(c.b, base + "/b/")}; };
  auto put = [&](const std::string& label, auto f) {
    auto [x, y] = each(f);
    row(label, x, y);
  };
  put("system", [&](const ComparisonSide& s, const std::string&) { return name_id(s.ev.sys.name, s.id); });
  put("chip", [&](const ComparisonSide& s, const std::string&) { return name_id(s.ev.sys.chip.name, s.ev.sys.chip.id); });
  put("accelerators", [&](const ComparisonSide& s, const std::string& p) { return num_span(p + "chips", s.ev.sys.chips); });
  put("site", [&](const ComparisonSide& s, const std::string&) { return name_id(s.ev.site.name, s.site_id); });
  put("electricity, USD/kWh", [&](const ComparisonSide& s, const std::string& p) { return num_span(p + "site/electricity_usd_kwh", s.ev.site.electricity_usd_kwh); });
  put("PUE", [&](const ComparisonSide& s, const std::string& p) { return num_span(p + "site/pue", s.ev.site.pue); });
  put("utilisation (hours under load)", [&](const ComparisonSide& s, const std::string& p) {
    return num_span(p + "utilization", s.ev.result[ResultMetric::utilization]);
  });
  put(c.a.ev.w.mode == Mode::train ? "training stack" : "serving stack", [&](const ComparisonSide& s, const std::string&) {
    const Stack& st = s.ev.w.mode == Mode::train ? s.ev.sys.train_stack : s.ev.sys.stack;
    return name_id(st.name, st.id);
  });
  put("precision", [&](const ComparisonSide& s, const std::string&) { return esc(precision_text(s.ev)); });
  put("parallel plan", [&](const ComparisonSide& s, const std::string& p) { return plan_cell(p + "plan/", s.ev.econ.est); });
  put(c.a.ev.w.mode == Mode::train ? "global batch, sequences" : "batch per instance",
      [&](const ComparisonSide& s, const std::string& p) {
        return s.ev.econ.est.fits() ? num_span(p + "plan/batch", s.ev.econ.est.batch) : "<span class=\"miss\">none</span>";
      });
  put("chips per instance", [&](const ComparisonSide& s, const std::string& p) {
    return s.ev.econ.est.fits() ? num_span(p + "plan/instance_chips", s.ev.econ.est.instance_chips) : "<span class=\"miss\">none</span>";
  });
  put("model error (validation)", [&](const ComparisonSide& s, const std::string& p) {
    return "throughput x/ " + num_span(p + "model_error/factor", 1 + s.err.frac, 3) + (s.err.validated ? " (validated)" : " (unvalidated)");
  });
  put("outcome", [&](const ComparisonSide& s, const std::string&) {
    return s.ev.econ.est.fits() ? std::string("meets the question") : "<span class=\"miss\">" + esc(missing_of(s.ev, c.spec).cell) + "</span>";
  });
  (void)db;
  h << "</tbody></table>";
  return h.str();
}

std::string inputs_table(const Hwdb& db, const std::vector<std::string>& ids) {
  std::ostringstream o;
  o << "<table class=\"r in\"><thead><tr class=\"h\"><th>entry</th><th>field</th><th>value</th><th>unit</th><th>range</th><th>kind</th><th>source</th></tr></thead><tbody>";
  for (auto& id : ids) {
    const Record* r = db.find(id);
    if (!r) continue;
    for (auto& key : r->order) {
      auto it = r->numbers.find(key);
      if (it == r->numbers.end()) continue;
      const Number& n = it->second;
      const std::string p = "inputs/" + id + "/" + key + "/";
      std::string value;
      if (!n.list.empty() && n.curve_x.empty()) {
        for (double x : n.list) value += (value.empty() ? "" : " x ") + report_number(x, 6);
        value = esc(value);
      } else {
        value = num_span(p + "value", n.value, 6);
      }
      o << "<tr><td class=\"l\" data-label=\"entry\">" << esc(id) << "</td><td data-label=\"field\">" << esc(key) << "</td><td class=\"n\" data-label=\"value\">"
        << value << "</td><td data-label=\"unit\">" << esc(unit_of(r->entity, key)) << "</td><td class=\"n\" data-label=\"range\">"
        << (n.has_range ? num_span(p + "low", n.low, 6) + " - " + num_span(p + "high", n.high, 6) : "") << "</td><td data-label=\"kind\">"
        << esc(to_string(n.kind)) << "</td><td class=\"s\" data-label=\"source\">" << esc(source_text(n.source)) << "</td></tr>";
    }
  }
  o << "</tbody></table>";
  return o.str();
}

const char* kStyle =
    "*{box-sizing:border-box}"
    "body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:1120px;color:#222;padding:12px 16px;overflow-wrap:anywhere}"
    "h1{font-size:22px;line-height:1.3}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}h3{font-size:16px}"
    "code{font-size:13px;color:#555}"
    "table{border-collapse:collapse;margin:8px 0;width:100%}"
    "td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap;overflow-wrap:normal}td.s{font-size:12px;color:#555}"
    "table.in td{font-size:13px}"
    "tr.sec td{font-weight:600;background:#f4f4f4}.a{color:#c0392b}.b{color:#2c6fbb}.miss{color:#8a5a00;font-style:italic}.dim{color:#777}"
    "table.cmp td:last-child{white-space:nowrap}"
    "#verdict{font-size:16px;background:#f7f7f2;border-left:4px solid #888;padding:8px 12px}"
    "figure{margin:12px 0}svg{display:block;width:100%;max-width:760px;height:auto;font-size:13px}"
    "svg .t{font-size:15px;font-weight:600}svg .g{stroke:#e5e5e5}svg .s{font-size:12px;fill:#555}"
    "svg .f{fill:none;stroke:#999}svg .m{font-size:13px;font-weight:600}p.note{color:#555}"
    "dl.q{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}dl.q dt{font-weight:600}dl.q dd{margin:0}"
    "@media (max-width:700px){"
    "body{padding:8px 10px}dl.q{grid-template-columns:1fr}dl.q dd{margin:0 0 6px 0}"
    "table.r,table.r thead,table.r tbody,table.r tr,table.r td{display:block;width:100%}"
    "table.r tr.h{display:none}table.r tr{border:1px solid #ddd;border-radius:4px;margin:8px 0;padding:4px 6px}"
    "table.r tr.sec{border:0;padding:0}"
    "table.r td{border:0;padding:1px 0;text-align:right}table.r td.n{white-space:normal}table.cmp td:last-child{white-space:normal}"
    "table.r td::after{content:\"\";display:block;clear:both}"
    "table.r td.l{text-align:left;font-weight:600}"
    "table.r td[data-label]::before{content:attr(data-label);float:left;text-align:left;color:#555;font-weight:400;padding-right:10px}"
    "table.r td.s{text-align:left}table.r td.s::before{float:none;display:block}"
    "}";

std::string mode_words(const Comparison& c) {
  switch (c.a.ev.w.mode) {
    case Mode::serve: return "serving (prefill and decode pools, requests at the latency bounds)";
    case Mode::decode: return "decode";
    case Mode::prefill: return "prefill";
    case Mode::train: return "training";
  }
  return to_string(c.a.ev.w.mode);
}
}  // namespace

std::string report_number(double v, int digits) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  if (v != 0 && (std::abs(v) >= 1e7 || std::abs(v) < 1e-3))
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  else if (std::abs(v) >= std::pow(10.0, digits))
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  // Thousands separators for a plain decimal number with four or more integer digits.
  const std::string s = buf;
  const std::size_t i = !s.empty() && s[0] == '-' ? 1 : 0;
  std::size_t j = i;
  while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
  if (j - i < 4 || (j < s.size() && s[j] != '.') || s.find('e') != std::string::npos) return s;
  std::string out = s.substr(0, i);
  for (std::size_t k = i; k < j; ++k) {
    out += s[k];
    if (k + 1 < j && (j - k - 1) % 3 == 0) out += ',';
  }
  return out + s.substr(j);
}

Report build_report(const ScenarioData& data, const ReportRequest& req) {
  if (req.views.empty()) throw std::logic_error("report without a comparison");
  const Hwdb& db = *data.db;
  Report r;
  for (const ReportViewSpec& v : req.views) r.views.push_back({v.title, v.note, make_comparison(data, v.spec, req.cases, req.residuals)});
  const Comparison& c = r.views.front().c;
  r.be = breakeven(c, c.spec.samples, c.spec.seed);
  // Throughput against interactivity: each side's scenario under a ladder of TPOT targets.
  const Mode mode = c.a.ev.w.mode;
  if (req.frontier && (mode == Mode::serve || mode == Mode::decode)) {
    r.has_frontier = true;
    for (double tpot : {5.0, 8.0, 12.5, 20.0, 30.0, 50.0, 75.0, 100.0, 150.0, 250.0})
      for (auto [side, out] : {std::pair{&c.a, &r.frontier_a}, std::pair{&c.b, &r.frontier_b}}) {
        Scenario sc = side->sc;
        sc.w.tpot_ms = tpot;
        if (side->ev.aggregated) {  // under a target the load is the highest rate that meets it
          sc.serve.concurrency = 0;
          sc.serve.arrival_given = false;
        }
        const Evaluation ev = evaluate_on(data, db.system(side->id), db.site(side->site_id), c.model, sc);
        const Result& x = ev.result;
        // Only points that meet their target.
        if (ev.econ.est.fits() && x[ResultMetric::tpot_ms] <= tpot * (1 + 1e-6) && x[ResultMetric::tokens_per_s_per_user] > 0)
          out->push_back({tpot, x[ResultMetric::tokens_per_s_per_user], x[ResultMetric::tokens_per_s_per_chip]});
      }
    for (auto* f : {&r.frontier_a, &r.frontier_b})
      std::sort(f->begin(), f->end(), [](auto& x, auto& y) { return x.tokens_per_s_per_user < y.tokens_per_s_per_user; });
  }
  // Validation: the cases run on the chip of either side.
  const std::string chip_a = c.a.ev.sys.chip.id, chip_b = c.b.ev.sys.chip.id;
  for (const ValidationCase& vc : req.cases) {
    std::string chip;
    try {
      chip = db.system(vc.system).chip.id;
    } catch (const InputError&) {
      continue;
    }
    if (chip != chip_a && chip != chip_b) continue;
    ValidationRow row;
    row.side = chip == chip_a && chip == chip_b ? "ab" : chip == chip_a ? "a" : "b";
    row.chip = chip;
    row.vc = vc;
    row.r = evaluate(db, *data.models, vc, Pick{});
    r.validation.push_back(row);
  }
  // The hwdb entries behind the page.
  std::vector<std::string> ids = entities_of_system(db, c.a.id);
  for (auto& id : entities_of_system(db, c.b.id)) ids.push_back(id);
  ids.push_back(c.a.site_id);
  ids.push_back(c.b.site_id);
  for (auto& id : ids)
    if (!id.empty() && std::find(r.input_ids.begin(), r.input_ids.end(), id) == r.input_ids.end() && db.find(id)) r.input_ids.push_back(id);
  return r;
}

Json report_json(const Report& rep) {
  const Comparison& c0 = rep.views.front().c;
  Json j = Json::object();
  j["podperf"] = PODPERF_VERSION;
  j["usd_per_mtok_a"] = num_json(c0.va[comparison_row("usd_per_mtok")]);
  j["usd_per_mtok_b"] = num_json(c0.vb[comparison_row("usd_per_mtok")]);
  Json q = Json::object();
  q["model"] = c0.model.id;
  q["model_name"] = c0.model.name;
  q["mode"] = to_string(c0.a.ev.w.mode);
  q["tpot_ms"] = c0.spec.w.tpot_ms > 0 && c0.a.ev.w.mode != Mode::train && c0.a.ev.w.mode != Mode::prefill ? Json(c0.spec.w.tpot_ms) : Json();
  q["ttft_ms"] = c0.spec.w.ttft_ms > 0 ? Json(c0.spec.w.ttft_ms) : Json();
  q["percentile"] = c0.a.ev.w.mode == Mode::serve ? Json(c0.a.sc.serve.percentile) : Json();
  if (c0.a.ev.w.mode == Mode::train) {
    q["seq"] = c0.a.ev.w.train.seq;
  } else {
    q["seq_in"] = c0.a.ev.w.infer.seq_in;
    q["seq_out"] = c0.a.ev.w.infer.seq_out;
  }
  q["samples"] = c0.spec.samples;
  q["seed"] = static_cast<double>(c0.spec.seed);
  j["question"] = q;
  Json views = Json::array();
  for (const ReportView& v : rep.views) {
    const Comparison& c = v.c;
    Json x = Json::object();
    x["title"] = v.title;
    x["note"] = v.note;
    for (auto [key, s] : {std::pair{"a", &c.a}, std::pair{"b", &c.b}}) {
      Json sj = Json::object();
      const Evaluation& ev = s->ev;
      sj["id"] = s->id;
      sj["name"] = ev.sys.name;
      sj["chip"] = ev.sys.chip.id;
      sj["chip_name"] = ev.sys.chip.name;
      sj["chips"] = ev.sys.chips;
      Json site = Json::object();
      site["id"] = s->site_id;
      site["name"] = ev.site.name;
      site["electricity_usd_kwh"] = ev.site.electricity_usd_kwh;
      site["pue"] = ev.site.pue;
      sj["site"] = site;
      sj["utilization"] = num_json(ev.result[ResultMetric::utilization]);
      sj["stack"] = s->stack_id;
      sj["precision"] = precision_text(ev);
      const Estimate& e = ev.econ.est;
      sj["fits"] = e.fits();
      sj["missing"] = missing_of(ev, c.spec).code;
      sj["reason"] = e.fits() ? "" : reason_text(e.reason);
      Json plan = Json::object();
      if (e.fits() || e.par.chips() > 1) {
        plan["tp"] = e.par.tp;
        plan["dp"] = e.par.dp;
        plan["ep"] = e.par.ep;
        plan["pp"] = e.par.pp;
      }
      if (e.fits()) {
        plan["batch"] = e.batch;
        plan["instance_chips"] = e.instance_chips;
      }
      sj["plan"] = plan;
      Json me = Json::object();
      me["frac"] = s->err.frac;
      me["factor"] = 1 + s->err.frac;
      me["validated"] = s->err.validated;
      me["basis"] = s->err.basis;
      sj["model_error"] = me;
      Json res = Json::object();
      for (const MetricInfo& m : metric_catalogue()) res[m.id] = num_json(ev.result[m.metric]);
      sj["result"] = res;
      const PowerBreakdown pw = peak_power(ev.sys);
      Json pj = Json::object();
      double total = 0;
      for (auto& t : kPowerTerms) pj[t.key] = pw.*(t.w) / ev.sys.chips, total += pw.*(t.w) / ev.sys.chips;
      pj["total"] = total;
      sj["power_w_per_chip"] = pj;
      Json tj = Json::object();
      double tt = 0;
      for (auto& [name, val] : tco_per_chip(ev)) tj[name] = val, tt += val;
      tj["total"] = tt;
      sj["tco_usd_per_chip_h"] = tj;
      x[key] = sj;
    }
    Json rows = Json::object();
    for (std::size_t i = 0; i < comparison_rows().size(); ++i) {
      const ComparisonRow& r = comparison_rows()[i];
      Json rj = Json::object();
      rj["label"] = comparison_row_label(r, c.a.ev.w.mode, "A " + eight_bit_format(c.a.ev.sys) + ", B " + eight_bit_format(c.b.ev.sys));
      rj["unit"] = r.unit;
      rj["a"] = num_json(c.va[i]);
      rj["b"] = num_json(c.vb[i]);
      const bool both = std::isfinite(c.va[i]) && std::isfinite(c.vb[i]);
      rj["ratio"] = both ? num_json(c.ratio[i].central) : Json();
      const bool band = both && c.spec.samples > 0 && has_band(c.ratio[i]);
      rj["ratio_low"] = band ? num_json(c.ratio[i].low) : Json();
      rj["ratio_high"] = band ? num_json(c.ratio[i].high) : Json();
      rj["better"] = better_side(c, i);
      rj["shown"] = row_shown(c, i);
      rows[r.key] = rj;
    }
    x["rows"] = rows;
    const Verdict vd = verdict(c, "");
    Json vj = Json::object();
    vj["text"] = verdict_text(vd);
    vj["cheaper"] = vd.cheaper;
    vj["dominant"] = vd.dominant;
    x["verdict"] = vj;
    if (c.has_split) {
      Json s = Json::object();
      s["samples"] = c.split_samples;
      s["hwdb_low"] = c.cost_hwdb_only.low;
      s["hwdb_high"] = c.cost_hwdb_only.high;
      s["model_error_low"] = c.cost_model_error_only.low;
      s["model_error_high"] = c.cost_model_error_only.high;
      x["split"] = s;
    }
    const PriceLines l = price_lines(c);
    Json lj = Json::object();
    lj["fixed_usd_per_mtok_a"] = num_json(l.fixed_a);
    lj["usd_per_mtok_per_usd_kwh_a"] = num_json(l.slope_a);
    lj["fixed_usd_per_mtok_b"] = num_json(l.fixed_b);
    lj["usd_per_mtok_per_usd_kwh_b"] = num_json(l.slope_b);
    lj["crossing_usd_kwh"] = num_json(l.crossing);
    lj["usd_per_mtok_at_crossing"] = num_json(l.fixed_a + l.slope_a * l.crossing);
    x["electricity_lines"] = lj;
    Json t = Json::array();
    for (auto& s : c.tornado) {
      Json sj = Json::object();
      sj["input"] = s.input.key;
      sj["low"] = s.input.low;
      sj["high"] = s.input.high;
      sj["ratio_at_low"] = num_json(s.at_low);
      sj["ratio_at_high"] = num_json(s.at_high);
      t.push(sj);
    }
    x["sensitivity_usd_per_mtok_ratio"] = t;
    views.push(x);
  }
  j["views"] = views;
  Json be = Json::object();
  auto pos = [](double v) { return std::isfinite(v) && v > 0 ? Json(v) : Json(); };
  be["electricity_usd_kwh"] = pos(rep.be.v[Breakeven::electricity].central);
  be["electricity_unclipped"] = num_json(rep.be.v[Breakeven::electricity].central);
  be["capex_usd"] = pos(rep.be.v[Breakeven::capex].central);
  be["utilization_a"] = std::isfinite(rep.be.v[Breakeven::util_a].central) && rep.be.v[Breakeven::util_a].central > 0 &&
                                rep.be.v[Breakeven::util_a].central <= 1
                            ? Json(rep.be.v[Breakeven::util_a].central)
                            : Json();
  j["breakeven"] = be;
  Json fr = Json::object();
  for (auto [key, pts] : {std::pair{"a", &rep.frontier_a}, std::pair{"b", &rep.frontier_b}}) {
    Json arr = Json::array();
    for (auto& p : *pts) {
      Json pj = Json::object();
      pj["tpot_target_ms"] = p.tpot_target_ms;
      pj["tokens_per_s_per_user"] = p.tokens_per_s_per_user;
      pj["tokens_per_s_per_chip"] = p.tokens_per_s_per_chip;
      arr.push(pj);
    }
    fr[key] = arr;
  }
  j["frontier"] = fr;
  Json val = Json::array();
  for (auto& v : rep.validation) {
    Json vj = Json::object();
    vj["case"] = v.vc.id;
    vj["side"] = v.side;
    vj["system"] = v.vc.system;
    vj["chip"] = v.chip;
    vj["mode"] = v.vc.mode;
    vj["metric"] = v.vc.metric;
    vj["unit"] = v.vc.unit;
    vj["measured"] = v.vc.measured;
    vj["predicted"] = v.r.note.empty() ? num_json(v.r.predicted) : Json();
    vj["error"] = v.r.note.empty() ? num_json(v.r.error) : Json();
    vj["tolerance"] = v.vc.tolerance;
    vj["within"] = v.r.within;
    vj["open"] = !v.vc.open.empty();
    vj["note"] = v.r.note;
    val.push(vj);
  }
  j["validation"] = val;
  Json inputs = Json::object();
  const Hwdb& db = *c0.data.db;
  for (auto& id : rep.input_ids) {
    const Record* r = db.find(id);
    Json e = Json::object();
    for (auto& key : r->order)
      if (auto it = r->numbers.find(key); it != r->numbers.end()) {
        Json n = Json::object();
        n["value"] = it->second.value;
        n["unit"] = unit_of(r->entity, key);
        if (it->second.has_range) {
          n["low"] = it->second.low;
          n["high"] = it->second.high;
        }
        n["kind"] = to_string(it->second.kind);
        n["source"] = it->second.source;
        e[key] = n;
      }
    inputs[id] = e;
  }
  j["inputs"] = inputs;
  return j;
}

std::string report_html(const Report& rep) {
  const Comparison& c = rep.views.front().c;
  const Hwdb& db = *c.data.db;
  const std::string a = c.a.ev.sys.name, b = c.b.ev.sys.name;
  const Mode mode = c.a.ev.w.mode;
  std::ostringstream h;
  h << "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    << "<title>podperf: " << esc(a) << " against " << esc(b) << "</title><style>" << kStyle << "</style></head><body>";
  h << "<h1><span class=\"a\">" << esc(a) << "</span> <code>" << esc(c.a.id) << "</code> against <span class=\"b\">" << esc(b) << "</span> <code>"
    << esc(c.b.id) << "</code></h1>";

  // The question.
  h << "<section id=\"question\"><h2>The question</h2><dl class=\"q\">";
  h << "<dt>model</dt><dd>" << name_id(c.model.name, c.model.id) << "</dd>";
  h << "<dt>mode</dt><dd>" << esc(mode_words(c)) << "</dd>";
  h << "<dt>targets</dt><dd>";
  if (mode == Mode::train || mode == Mode::prefill || (c.spec.w.tpot_ms <= 0 && c.spec.w.ttft_ms <= 0)) {
    h << "none (the largest batch that fits in memory)";
  } else {
    if (c.spec.w.tpot_ms > 0) h << "TPOT at most " << num_span("question/tpot_ms", c.spec.w.tpot_ms) << " ms";
    if (c.spec.w.ttft_ms > 0) h << (c.spec.w.tpot_ms > 0 ? ", " : "") << "TTFT at most " << num_span("question/ttft_ms", c.spec.w.ttft_ms) << " ms";
    if (mode == Mode::serve) h << " at the " << num_span("question/percentile", c.a.sc.serve.percentile) << "th percentile";
    h << "; the target picks the batch (the largest that meets it)";
  }
  h << "</dd><dt>request</dt><dd>";
  if (mode == Mode::train)
    h << num_span("question/seq", c.a.ev.w.train.seq) << " tokens per sequence";
  else
    h << num_span("question/seq_in", c.a.ev.w.infer.seq_in) << " prompt tokens, " << num_span("question/seq_out", c.a.ev.w.infer.seq_out)
      << " output tokens per request";
  h << "</dd><dt>sites</dt><dd>A at " << name_id(c.a.ev.site.name, c.a.site_id) << ", B at " << name_id(c.b.ev.site.name, c.b.site_id)
    << (c.a.site_id == c.b.site_id ? " (one site: the hardware alone)" : "") << "</dd>";
  h << "<dt>software</dt><dd>" << (c.spec.stack.empty() ? "each system on its own stack, as deployed" : "both on " + esc(c.spec.stack)) << "</dd>";
  h << "<dt>uncertainty</dt><dd>" << (c.spec.samples > 0 ? std::to_string(c.spec.samples) + " draws of the hwdb's ranges, each side's model error convolved exactly (seed " +
                                                                std::to_string(c.spec.seed) + ")"
                                                          : std::string("no draws (--samples 0): central values only"))
    << "</dd><dt>podperf</dt><dd>" PODPERF_VERSION " (" PODPERF_GIT_REV ")</dd></dl>";
  h << question_table(c, "views/0", db) << "</section>";

  // The verdict.
  h << "<section><h2>Verdict</h2><p id=\"verdict\">" << verdict_html(verdict(c, "views/0")) << "</p></section>";

  // Side by side, for every view.
  for (std::size_t k = 0; k < rep.views.size(); ++k) {
    const ReportView& v = rep.views[k];
    const std::string base = "views/" + std::to_string(k);
    h << "<section class=\"view\"><h2>" << esc(k == 0 ? std::string("Side by side") : v.title) << "</h2>";
    if (!v.note.empty()) h << "<p class=\"note\">" << esc(v.note) << "</p>";
    if (k > 0) h << question_table(v.c, base, db) << "<p>" << verdict_html(verdict(v.c, base)) << "</p>";
    h << "<p class=\"note\">Per chip rows divide by the chips as bought. A missing value says why it is missing: "
         "a side that does not fit in memory, or that fits but misses its latency target, has no workload figures and no range.</p>";
    h << side_table(v.c, base);
    if (std::any_of(v.c.ratio.begin(), v.c.ratio.end(), [](const Interval& i) { return point_outside_band(i); }))
      h << "<p class=\"note\">* the ratio at the central values lies outside the 5-95 % range of the draws: the hwdb ranges are "
           "skewed around their central values, so most draws move the ratio one way.</p>";
    h << "</section>";
  }

  // Validation.
  h << "<section id=\"validation\"><h2>How podperf did on these chips</h2>";
  for (auto [side, tag] : {std::pair{&c.a, "a"}, std::pair{&c.b, "b"}}) {
    if (tag == std::string("b") && c.b.ev.sys.chip.id == c.a.ev.sys.chip.id) break;
    std::vector<double> errs;
    int n = 0, within = 0;
    for (auto& v : rep.validation)
      if (v.side.find(tag) != std::string::npos) {
        ++n;
        if (v.r.note.empty() && v.vc.open.empty()) {
          errs.push_back(std::abs(v.r.error));
          within += v.r.within;
        }
      }
    h << "<p>" << name_id(side->ev.sys.chip.name, side->ev.sys.chip.id) << ": ";
    if (n == 0) {
      h << "no validation case runs on this chip.";
    } else {
      h << n << " published measurement" << (n == 1 ? "" : "s") << " on this chip";
      if (!errs.empty()) {
        std::sort(errs.begin(), errs.end());
        h << "; of the " << errs.size() << " asserted, " << within << " within their tolerance, median |error| "
          << report_number(100 * median(errs), 3) << " %, largest " << report_number(100 * errs.back(), 3) << " %";
      }
      h << ".";
    }
    h << " The model error carried into " << (tag == std::string("a") ? "A" : "B") << "'s band: throughput x/ "
      << num_span(std::string("views/0/") + tag + "/model_error/factor", 1 + side->err.frac, 3) << " (" << esc(side->err.basis) << ").</p>";
  }
  if (!rep.validation.empty()) {
    h << "<table class=\"r val\"><thead><tr class=\"h\"><th>case</th><th>system</th><th>metric</th><th>published</th><th>podperf</th><th>error (podperf / published - 1)</th><th>status</th></tr></thead><tbody>";
    for (std::size_t k = 0; k < rep.validation.size(); ++k) {
      const ValidationRow& v = rep.validation[k];
      const std::string p = "validation/" + std::to_string(k) + "/";
      const bool pred = v.r.note.empty();
      std::string status = !pred ? "no prediction: " + v.r.note : !v.vc.open.empty() ? "open (not reached yet)" : v.r.within ? "within tolerance" : "outside tolerance";
      h << "<tr><td class=\"l\" data-label=\"\">" << esc(v.vc.title.empty() ? v.vc.id : v.vc.title) << " <code>" << esc(v.vc.id) << "</code></td><td data-label=\"system\">"
        << esc(v.vc.system) << "</td><td data-label=\"metric\">" << esc(v.vc.metric) << " (" << esc(v.vc.unit) << ")</td><td class=\"n\" data-label=\"published\">"
        << num_span(p + "measured", v.vc.measured) << "</td><td class=\"n\" data-label=\"podperf\">"
        << (pred ? num_span(p + "predicted", v.r.predicted) : "<span class=\"miss\">none</span>") << "</td><td class=\"n\" data-label=\"error\">"
        << (pred ? num_span(p + "error", v.r.error, 3) : "<span class=\"miss\">-</span>") << "</td><td data-label=\"status\">" << esc(status) << "</td></tr>";
    }
    h << "</tbody></table><p class=\"note\">Error: podperf / published - 1. Open cases are published results the model does not reach "
         "yet; they are shown but neither fitted nor asserted.</p>";
  }
  h << "</section>";

  // Tornado.
  h << "<section><h2>Sensitivity</h2><figure>" << tornado(c.tornado, c.ratio[comparison_row("usd_per_mtok")].central) << "</figure></section>";

  // Cost against electricity price.
  h << "<section><h2>Cost per million tokens against electricity price</h2>";
  const PriceLines l = price_lines(c);
  if (l.ok) {
    const double pa = c.a.ev.site.electricity_usd_kwh, pb = c.b.ev.site.electricity_usd_kwh;
    double pmax = std::max({0.3, 1.5 * pa, 1.5 * pb});
    if (std::isfinite(l.crossing) && l.crossing > 0 && l.crossing < 2) pmax = std::max(pmax, 1.25 * l.crossing);
    Plot p("Cost per million tokens against electricity price", "electricity price, USD per kWh", "USD per million tokens");
    for (auto [name, color, c0, k] : {std::tuple{a, kColorA, l.fixed_a, l.slope_a}, std::tuple{b, kColorB, l.fixed_b, l.slope_b}}) {
      Series s{name, color, {}, false, false};
      for (int i = 0; i <= 40; ++i) s.pts.push_back({pmax * i / 40, c0 + k * pmax * i / 40});
      p.series.push_back(s);
    }
    p.marks.push_back({pa, l.fixed_a + l.slope_a * pa, "A at " + c.a.site_id});
    p.marks.push_back({pb, l.fixed_b + l.slope_b * pb, "B at " + c.b.site_id});
    if (std::isfinite(l.crossing) && l.crossing >= 0 && l.crossing <= pmax)
      p.marks.push_back({l.crossing, l.fixed_a + l.slope_a * l.crossing, "crossing " + report_number(l.crossing, 3) + " USD/kWh"});
    h << "<figure>" << p.svg() << "</figure><p id=\"crossing\">";
    if (std::isfinite(l.crossing) && l.crossing >= 0)
      h << "At the same electricity price the two lines cross at <b>" << num_span("views/0/electricity_lines/crossing_usd_kwh", l.crossing, 3)
        << " USD/kWh</b> (" << num_span("views/0/electricity_lines/usd_per_mtok_at_crossing", l.fixed_a + l.slope_a * l.crossing) << " USD per million tokens).";
    else
      h << "The lines do not cross at a non-negative price: " << esc(l.fixed_a < l.fixed_b ? a : b) << " costs less per token at every electricity price.";
    const double be = rep.be.v[Breakeven::electricity].central;
    h << " With " << esc(b) << " at its own site, " << esc(a) << " matches its cost at "
      << (std::isfinite(be) && be > 0 ? num_span("breakeven/electricity_usd_kwh", be, 3) + " USD/kWh" : std::string("no positive electricity price"))
      << ".</p>";
  } else {
    h << "<p class=\"miss\">No cost per token on ";
    std::string who;
    for (auto* s : {&c.a, &c.b})
      if (!s->ev.econ.est.fits()) who += (who.empty() ? "" : " and ") + esc(s->ev.sys.name) + " (" + esc(missing_of(s->ev, c.spec).cell) + ")";
    h << who << ": no lines to draw.</p>";
  }
  h << "</section>";

  // Throughput against interactivity.
  h << "<section><h2>Throughput against interactivity</h2>";
  if (rep.has_frontier) {
    Plot p("Tokens/s per chip against tokens/s per user", "tokens/s per user (interactivity)", "tokens/s per chip");
    p.xlog = p.ylog = true;
    Series sa{a, kColorA, {}}, sb{b, kColorB, {}};
    for (auto& f : rep.frontier_a) sa.pts.push_back({f.tokens_per_s_per_user, f.tokens_per_s_per_chip});
    for (auto& f : rep.frontier_b) sb.pts.push_back({f.tokens_per_s_per_user, f.tokens_per_s_per_chip});
    p.series = {sa, sb};
    h << "<figure>" << p.svg() << "</figure><p class=\"note\">" << esc(c.model.name) << ", " << esc(to_string(mode))
      << ". Each point: the batch with the most tokens/s per chip that meets a TPOT target "
      << "(5 to 250 ms); targets a system cannot meet are left out. Per chip, so that a small system is not hidden by a large one.</p>";
  } else {
    h << "<p class=\"note\">" << (mode == Mode::train ? "Training" : "Prefill") << ": no serving frontier.</p>";
  }
  h << "</section>";

  // Power and cost per chip.
  h << "<section><h2>Power and cost per accelerator</h2><p class=\"note\">Per accelerator, so that systems of different sizes "
       "(" << report_number(c.a.ev.sys.chips) << " and " << report_number(c.b.ev.sys.chips) << " chips) stay comparable; the system totals are in the table above.</p>";
  {
    std::vector<std::string> terms;
    for (auto& t : kPowerTerms) terms.push_back(t.label);
    std::vector<Bar> bars;
    for (auto [side, tag] : {std::pair{&c.a, "a"}, std::pair{&c.b, "b"}}) {
      const PowerBreakdown pw = peak_power(side->ev.sys);
      Bar bar{std::string(tag == std::string("a") ? "A " : "B ") + side->ev.sys.name, std::string("views/0/") + tag + "/power_w_per_chip/total", {}};
      for (auto& t : kPowerTerms) bar.v.push_back(pw.*(t.w) / side->ev.sys.chips);
      bars.push_back(bar);
    }
    h << "<figure>" << stacked_bars("All-in peak IT power per accelerator, by term", "W per accelerator", bars, terms) << "</figure>";
  }
  {
    std::vector<Bar> bars;
    std::vector<std::string> terms;
    for (auto [side, tag] : {std::pair{&c.a, "a"}, std::pair{&c.b, "b"}}) {
      Bar bar{std::string(tag == std::string("a") ? "A " : "B ") + side->ev.sys.name, std::string("views/0/") + tag + "/tco_usd_per_chip_h/total", {}};
      terms.clear();
      for (auto& [name, v] : tco_per_chip(side->ev)) terms.push_back(name), bar.v.push_back(v);
      bars.push_back(bar);
    }
    h << "<figure>" << stacked_bars("Cost of ownership per accelerator-hour, by term", "USD per accelerator-hour", bars, terms) << "</figure>";
  }
  h << "</section>";

  // Inputs and sources.
  h << "<section><h2>Inputs and their sources</h2><p class=\"note\">Every hwdb number behind this page: value, unit, range, kind of source "
       "(vendor, analyst, measured, measured-fit, derived, assumption) and the source itself.</p>";
  h << inputs_table(db, rep.input_ids) << "</section>";
  h << "</body></html>\n";
  return h.str();
}

}  // namespace podperf
