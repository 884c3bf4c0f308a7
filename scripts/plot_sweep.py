#!/usr/bin/python3
"""Plots of a podperf sweep (HDF5, layout in docs/hdf5-layout.md).

  build/podperf plot out.h5 --outdir plots/        (runs this script with the configured python3)
  /usr/bin/python3 scripts/plot_sweep.py out.h5 --outdir plots/

Every axis of the sweep is either drawn, a facet (one panel per value: model, mode, prompt length, TPOT
target, ...), a series (system, site), or a design knob that a frontier or a "best plan" optimises over
(tp, ep, pp, batch, precision), and each figure says which. Only points that meet their latency target
(and fit in memory) count.

  frontier.png       serving: throughput against interactivity (tokens/s per user), per chip, per
                     system, per kW and per dollar; one column per workload
  cost_vs_price.png  USD per million tokens of the best plan against electricity price, one panel per
                     workload and TPOT target, one line per system and site; crossings marked
  training.png       training: tokens/s per system, per kW and per dollar of the best plan, per model
  power.png          average facility power (kW, IT x PUE over loaded and idle hours) of each system at
                     the plan with the most tokens per kWh, beside those tokens/s per kW; one row per
                     workload (and TPOT target)
  supply_frontier.png  a supply sweep (sweep_kind = "supply", docs/supply.md): tokens/s of the fleet a
                     year's Ascend supply fills against the NVIDIA fleet at equal facility power and at
                     equal wafers, every supply point drawn, its frontier marked, coloured by the
                     binding constraint; and the fleet with imports against the import quota
Needs Debian's python3 with python3-h5py and python3-matplotlib.
"""
import argparse
import itertools
import json
import os
import sys

try:
    import h5py
    import matplotlib
    import numpy as np
except ModuleNotFoundError as e:  # the first python3 on PATH may lack Debian's packages
    sys.exit(f"plot_sweep.py: {e}; run it with Debian's /usr/bin/python3 (apt-get install python3-h5py "
             "python3-matplotlib) or use 'podperf plot'")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator  # noqa: E402

KNOBS = ["tp", "dp", "ep", "pp", "cp", "batch", "micro_batch", "interleave", "zero", "redundant_experts", "weights",
         "kv", "attn", "precision", "prefill_tp", "prefill_dp", "prefill_ep", "overlap", "mtp"]
COST_AXES = ["site", "electricity_usd_kwh", "pue", "price_usd"]
TARGETS = ["tpot_ms", "ttft_ms"]
WORDS = {"seq_in": "prompt tokens", "seq_out": "output tokens", "seq": "sequence", "tpot_ms": "TPOT target ms",
         "ttft_ms": "TTFT target ms", "model": "", "mode": "", "site": "site", "weights": "weights",
         "electricity_usd_kwh": "electricity USD/kWh", "context": "context tokens"}
COLORS = ["#c0392b", "#2c6fbb", "#27ae60", "#8e44ad", "#d35400", "#16a085"]
STYLES = ["-", "--", ":", "-."]


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def names_from_files(root):
    """Display names from the hwdb and model files next to this script (or under --data)."""
    try:
        import tomllib
    except ModuleNotFoundError:
        return {}
    out = {}
    for sub in ["hwdb/systems", "hwdb/clusters", "hwdb/chips", "hwdb/sites", "configs/models"]:
        d = os.path.join(root, sub)
        if not os.path.isdir(d):
            continue
        for fn in os.listdir(d):
            if fn.endswith(".toml"):
                try:
                    with open(os.path.join(d, fn), "rb") as fh:
                        doc = tomllib.load(fh)
                    if "name" in doc:
                        out[fn[:-5]] = doc["name"]
                except (OSError, ValueError):
                    pass
    return out


class Sweep:
    def __init__(self, f, names):
        self.f = f
        self.names = names
        self.n = f["point"].shape[0]
        self.axes = {}
        self.labels = {}
        for name, ds in f["axes"].items():
            self.axes[name] = ds[:]
            if "labels" in ds.attrs:
                self.labels[name] = [text(x) for x in ds.attrs["labels"]]
        self.ok = f["reason"][:] == 0
        if "metrics/meets_target" in f:
            self.ok &= f["metrics/meets_target"][:] == 1

    def metric(self, m):
        return self.f[f"metrics/{m}"][:] if f"metrics/{m}" in self.f else None

    def values(self, axis):
        return list(np.unique(self.axes[axis]))

    def word(self, axis, v, train=False):
        if train and axis == "seq_in":  # a training sweep's seq_in is the sequence length, not a prompt
            return f"{v:,.10g} tokens per sequence"
        if axis in self.labels:
            label = self.labels[axis][int(v)]
            if label in self.names:
                return self.names[label]
            head, _, rest = label.partition("x")
            if head.isdigit() and rest in self.names:
                return f"{head} x {self.names[rest]}"
            return label
        if axis in TARGETS:
            return f"{axis[:4].upper()} <= {v:g} ms"
        w = WORDS.get(axis, axis.replace("_", " "))
        return f"{v:,.10g} {w}".strip() if axis in ("seq_in", "seq_out", "seq", "context") else f"{w} {v:,.10g}".strip()


def legend(fig, axs):
    """One legend for the figure, from every panel (a panel may be empty), at the bottom and inside the
    figure: as many columns as fit its width. Returns the figure fraction it takes from the bottom (what
    the layout must leave free)."""
    seen = {}
    for row in axs:
        for ax in row:
            for h, label in zip(*ax.get_legend_handles_labels()):
                seen.setdefault(label, h)
    if not seen:
        return 0.0
    renderer = fig.canvas.get_renderer()
    for ncol in range(min(4, len(seen)), 0, -1):
        leg = fig.legend(list(seen.values()), list(seen.keys()), loc="lower center", bbox_to_anchor=(0.5, 0.005),
                         ncol=ncol, fontsize=8)
        box = leg.get_window_extent(renderer)
        if box.width <= 0.98 * fig.bbox.width or ncol == 1:
            return box.height / fig.bbox.height + 0.015
        leg.remove()
    return 0.0


def suptitle(fig, text, fontsize=10):
    """The figure title, each line wrapped to the figure's width; returns the figure fraction below it
    (the top of the panels)."""
    import textwrap
    chars = max(40, int(fig.get_figwidth() * 72 / (0.56 * fontsize)))
    lines = [w for line in text.split("\n") for w in (textwrap.wrap(line, chars) or [""])]
    t = fig.suptitle("\n".join(lines), fontsize=fontsize)
    box = t.get_window_extent(fig.canvas.get_renderer())
    return max(0.5, 1 - box.height / fig.bbox.height - 0.015)


def layout(fig, bottom, top):
    """tight_layout between the legend (bottom, a figure fraction) and the title (top)."""
    fig.tight_layout(rect=(0, min(bottom, 0.45), 1, top))


def is_train(sw):
    """A training sweep: every point trains (its seq_in is the sequence length)."""
    return "mode" in sw.labels and all(x == "train" for x in sw.labels["mode"])


def frontier(x, y):
    """Indices of the points not dominated in (x, y), both to maximise, sorted by x."""
    order = np.argsort(-x, kind="stable")
    best = -np.inf
    keep = []
    for i in order:
        if y[i] > best:
            keep.append(i)
            best = y[i]
    keep = np.array(keep, dtype=int)
    return keep[np.argsort(x[keep], kind="stable")]


def readable_log(ax, which="xy"):
    fmt = FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:.3g}")
    for a in which:
        axis = ax.xaxis if a == "x" else ax.yaxis
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(fmt)
        axis.set_minor_formatter(FuncFormatter(lambda v, _: ""))


def facets(sw, axes, train=False):
    """Panels: every combination of the values of `axes` (axes with one value go into the title)."""
    many = [a for a in axes if len(sw.values(a)) > 1]
    one = [a for a in axes if len(sw.values(a)) == 1]
    combos = list(itertools.product(*[sw.values(a) for a in many])) or [()]
    fixed = ", ".join(sw.word(a, sw.values(a)[0], train) for a in one)
    return many, combos, fixed


def mask_of(sw, axes, combo):
    m = np.ones(sw.n, dtype=bool)
    for a, v in zip(axes, combo):
        m &= sw.axes[a] == v
    return m


def filter_note(sw, axes, picks):
    return "; ".join(f"{WORDS.get(a, a)} {sw.word(a, v) if a in sw.labels else f'{v:g}'}" for a, v in zip(axes, picks))


def one_cost_point(sw, base):
    """The sweep's points at one site and one price (the price nearest 0.08 USD/kWh, the last value of
    any other cost axis): the cost axes, the values picked on them, and `base` narrowed to them."""
    cost_axes = [a for a in COST_AXES if a in sw.axes]
    picks = []
    base = base.copy()
    for a in cost_axes:
        vals = sw.values(a)
        v = vals[int(np.argmin(np.abs(np.array(vals) - 0.08)))] if a == "electricity_usd_kwh" else vals[-1]
        base &= sw.axes[a] == v
        picks.append(v)
    return cost_axes, picks, base


def serving_frontier(sw, outdir, title):
    chip, user = sw.metric("tokens_per_s_per_chip"), sw.metric("tokens_per_s_per_user")
    if chip is None or user is None:
        return None
    kwh, kw, cost = sw.metric("tokens_per_kwh"), sw.metric("avg_facility_kw"), sw.metric("usd_per_mtok")
    system_tps = sw.metric("tokens_per_s")
    if system_tps is None and kwh is not None and kw is not None:
        system_tps = kwh * kw / 3600  # tokens/kWh x kW / 3600 s/h
    views = [("tokens/s per chip", chip)]
    if system_tps is not None:
        views.append(("tokens/s per system", system_tps))
    if kwh is not None:
        views.append(("tokens/s per kW (facility)", kwh / 3600))
    if cost is not None:
        views.append(("tokens per USD", 1e6 / cost))
    # Throughput does not depend on where the system runs or what power costs; the per-kW and
    # per-dollar views do: take one site and one price and say so.
    cost_axes, picks, base = one_cost_point(sw, sw.ok & np.isfinite(chip) & np.isfinite(user))
    series = [a for a in ("system", "weights") if a in sw.axes]
    workload = [a for a in sw.axes if a not in KNOBS + COST_AXES + TARGETS + series]
    many, combos, fixed = facets(sw, workload)
    fig, axs = plt.subplots(len(views), len(combos), figsize=(4.6 * len(combos) + 0.8, 3.3 * len(views) + 1.2),
                            squeeze=False)
    for c, combo in enumerate(combos):
        m0 = base & mask_of(sw, many, combo)
        for r, (label, y) in enumerate(views):
            ax = axs[r][c]
            for si, s in enumerate(sw.values("system")):
                for wi, w in enumerate(sw.values("weights") if "weights" in sw.axes else [None]):
                    m = m0 & (sw.axes["system"] == s) & np.isfinite(y)
                    if w is not None:
                        m &= sw.axes["weights"] == w
                    if not m.any():
                        continue
                    idx = np.where(m)[0]
                    k = idx[frontier(user[idx], y[idx])]
                    name = sw.word("system", s) + (f", {sw.word('weights', w)}" if w is not None else "")
                    ax.plot(user[k], y[k], STYLES[wi % 4], color=COLORS[si % 6], marker="o", ms=2.5, label=name)
            ax.set_xscale("log")
            ax.set_yscale("log")
            readable_log(ax)
            ax.grid(True, which="major", alpha=0.3)
            if r == 0:
                ax.set_title(", ".join(sw.word(a, v) for a, v in zip(many, combo)) or fixed, fontsize=10)
            if r == len(views) - 1:
                ax.set_xlabel("tokens/s per user (interactivity)")
            if c == 0:
                ax.set_ylabel(label)
    bottom = legend(fig, axs)
    knobs = [a for a in KNOBS if a in sw.axes and a not in series]
    top = suptitle(fig, f"{title}: throughput against interactivity" + (f" ({fixed})" if fixed and many else "") +
                 f"\nfrontier over {', '.join(knobs) or 'the plan'} and every TPOT target, points meeting their target only"
                 + (f"; per kW and per dollar at {filter_note(sw, cost_axes, picks)}" if cost_axes else ""), fontsize=10)
    layout(fig, bottom, top)
    p = os.path.join(outdir, "frontier.png")
    save_png(fig, p)
    plt.close(fig)
    return p


def cost_vs_price(sw, outdir, title):
    cost = sw.metric("usd_per_mtok")
    if cost is None or "electricity_usd_kwh" not in sw.axes:
        return None
    price = sw.axes["electricity_usd_kwh"]
    prices = np.array(sw.values("electricity_usd_kwh"))
    low, high = sw.metric("usd_per_mtok_low"), sw.metric("usd_per_mtok_high")
    series = [a for a in ("system", "site") if a in sw.axes]
    workload = [a for a in sw.axes if a not in KNOBS + COST_AXES + series] + [a for a in COST_AXES if a in sw.axes and
                                                                            a not in ("site", "electricity_usd_kwh")]
    train = is_train(sw)
    many, combos, fixed = facets(sw, workload, train=train)
    ncol = min(len(combos), 5)
    nrow = (len(combos) + ncol - 1) // ncol
    fig, axs = plt.subplots(nrow, ncol, figsize=(3.9 * ncol + 0.6, 3.1 * nrow + 1.4), squeeze=False, sharex=True)
    for c, combo in enumerate(combos):
        ax = axs[c // ncol][c % ncol]
        m0 = sw.ok & np.isfinite(cost) & mask_of(sw, many, combo)
        curves = []
        for si, s in enumerate(sw.values("system")):
            for ti, t in enumerate(sw.values("site") if "site" in sw.axes else [None]):
                m1 = m0 & (sw.axes["system"] == s)
                if t is not None:
                    m1 &= sw.axes["site"] == t
                best, lo, hi = [], [], []
                for p_ in prices:
                    m = m1 & (price == p_)
                    if m.any():
                        i = np.where(m)[0][np.argmin(cost[m])]
                        best.append(cost[i])
                        lo.append(low[i] if low is not None else np.nan)
                        hi.append(high[i] if high is not None else np.nan)
                    else:
                        best.append(np.nan), lo.append(np.nan), hi.append(np.nan)
                best = np.array(best)
                if not np.isfinite(best).any():
                    continue
                name = sw.word("system", s) + (f" in {sw.word('site', t)}" if t is not None else "")
                ax.plot(prices, best, STYLES[ti % 4], color=COLORS[si % 6], marker="o", ms=2.5, label=name)
                if low is not None and high is not None:
                    ax.fill_between(prices, lo, hi, color=COLORS[si % 6], alpha=0.15, lw=0)
                curves.append(best)
        if len(curves) >= 2:
            d = curves[0] - curves[-1]
            for i in np.where(np.isfinite(d[:-1]) & np.isfinite(d[1:]) & (np.sign(d[:-1]) * np.sign(d[1:]) < 0))[0]:
                x0 = prices[i] - d[i] * (prices[i + 1] - prices[i]) / (d[i + 1] - d[i])
                ax.axvline(x0, color="k", ls=":", lw=1)
                ax.annotate(f"crossing {x0:.3f}", (x0, ax.get_ylim()[1]), fontsize=7, ha="left", va="top", rotation=90)
        ax.set_title(", ".join(sw.word(a, v, train) for a, v in zip(many, combo)) or fixed, fontsize=9)
        if not curves:
            ax.text(0.5, 0.5, "no plan meets the target", transform=ax.transAxes, ha="center", va="center", fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.set_ylim(bottom=0)
        if c % ncol == 0:
            ax.set_ylabel("USD per million tokens")
        if c // ncol == nrow - 1:
            ax.set_xlabel("electricity price, USD per kWh")
    for c in range(len(combos), nrow * ncol):
        axs[c // ncol][c % ncol].axis("off")
    bottom = legend(fig, axs)
    knobs = [a for a in KNOBS if a in sw.axes]
    top = suptitle(fig, f"{title}: cost per million tokens against electricity price" + (f" ({fixed})" if fixed and many else "")
                 + f"\nbest plan over {', '.join(knobs) or 'the plan'} among points meeting their target; first and last "
                   "series' crossings marked", fontsize=10)
    layout(fig, bottom, top)
    p = os.path.join(outdir, "cost_vs_price.png")
    save_png(fig, p)
    plt.close(fig)
    return p


def training(sw, outdir, title):
    tps, kwh, cost = sw.metric("tokens_per_s"), sw.metric("tokens_per_kwh"), sw.metric("usd_per_mtok")
    if tps is None or sw.metric("tokens_per_s_per_user") is not None:
        return None
    views = [("tokens/s per system", tps)]
    if kwh is not None:
        views.append(("tokens/s per kW (facility)", kwh / 3600))
    if cost is not None:
        views.append(("tokens per USD", 1e6 / cost))
    cost_axes, picks, base = one_cost_point(sw, sw.ok)
    workload = [a for a in sw.axes if a not in KNOBS + COST_AXES + ["system"]]
    many, combos, fixed = facets(sw, workload, train=True)
    systems = sw.values("system")
    fig, axs = plt.subplots(1, len(views), figsize=(4.2 * len(views) + 0.5, 0.5 * len(combos) * len(systems) + 2.2),
                            squeeze=False)
    for r, (label, y) in enumerate(views):
        ax = axs[0][r]
        ticks, names = [], []
        for c, combo in enumerate(combos):
            for si, s in enumerate(systems):
                m = base & mask_of(sw, many, combo) & (sw.axes["system"] == s) & np.isfinite(y)
                pos = c * (len(systems) + 1) + si
                if m.any():
                    ax.barh(pos, np.max(y[m]), color=COLORS[si % 6])
                ticks.append(pos)
                names.append(f"{sw.word('system', s)}\n" + ", ".join(sw.word(a, v, train=True) for a, v in zip(many, combo)))
        ax.set_yticks(ticks)
        ax.set_yticklabels(names if r == 0 else [""] * len(names), fontsize=7)
        ax.set_xlabel(label)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 else f"{v:g}"))
        ax.tick_params(axis="x", labelrotation=30)
        ax.grid(True, axis="x", alpha=0.3)
        ax.invert_yaxis()
    knobs = [a for a in KNOBS if a in sw.axes]
    top = suptitle(fig, f"{title}: best training plan per model" + (f" ({fixed})" if fixed and many else "") +
                 f"\nbest over {', '.join(knobs)}; per kW and per dollar at {filter_note(sw, cost_axes, picks)}", fontsize=10)
    layout(fig, 0, top)
    p = os.path.join(outdir, "training.png")
    save_png(fig, p)
    plt.close(fig)
    return p


def power(sw, outdir, title):
    """Average facility power of each system at its most energy-efficient plan, and its tokens/s per kW."""
    kw, kwh = sw.metric("avg_facility_kw"), sw.metric("tokens_per_kwh")
    if kw is None or kwh is None:
        return None
    train = is_train(sw)
    # Facility power depends on the site (PUE and utilisation) and not on the electricity price: take
    # one site and one price, as the other figures do, and say so.
    cost_axes, picks, base = one_cost_point(sw, sw.ok & np.isfinite(kw) & np.isfinite(kwh))
    workload = [a for a in sw.axes if a not in KNOBS + COST_AXES + ["system"]]
    many, combos, fixed = facets(sw, workload, train=train)
    systems = sw.values("system")
    views = [("average facility power kW (IT x PUE)", lambda i: kw[i]), ("tokens/s per kW (facility)", lambda i: kwh[i] / 3600)]
    fig, axs = plt.subplots(1, len(views), figsize=(4.6 * len(views) + 1.5, 0.45 * len(combos) * len(systems) + 2.4),
                            squeeze=False)
    for r, (label, value) in enumerate(views):
        ax = axs[0][r]
        ticks, names = [], []
        for c, combo in enumerate(combos):
            for si, s in enumerate(systems):
                m = base & mask_of(sw, many, combo) & (sw.axes["system"] == s)
                pos = c * (len(systems) + 1) + si
                if m.any():
                    i = np.where(m)[0][np.argmax(kwh[m])]  # the plan with the most tokens per kWh
                    ax.barh(pos, value(i), color=COLORS[si % 6])
                    ax.annotate(f"{value(i):,.0f}" if value(i) >= 10 else f"{value(i):.3g}", (value(i), pos), fontsize=7,
                                va="center", ha="left", xytext=(2, 0), textcoords="offset points")
                else:
                    ax.annotate("no plan meets the target", (0, pos), fontsize=7, va="center", ha="left")
                ticks.append(pos)
                names.append(f"{sw.word('system', s)}\n" + ", ".join(sw.word(a, v, train) for a, v in zip(many, combo)))
        ax.set_yticks(ticks)
        ax.set_yticklabels(names if r == 0 else [""] * len(names), fontsize=7)
        ax.set_xlabel(label)
        ax.margins(x=0.18)
        ax.set_xlim(left=0)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 else f"{v:g}"))
        ax.tick_params(axis="x", labelrotation=30)
        ax.grid(True, axis="x", alpha=0.3)
        ax.invert_yaxis()
    knobs = [a for a in KNOBS if a in sw.axes]
    top = suptitle(fig, f"{title}: facility power at the most energy-efficient plan" + (f" ({fixed})" if fixed and many else "") +
                 f"\nbest over {', '.join(knobs) or 'the plan'} by tokens per kWh, points meeting their target only"
                 + (f"; at {filter_note(sw, cost_axes, picks)}" if cost_axes else ""), fontsize=10)
    layout(fig, 0, top)
    p = os.path.join(outdir, "power.png")
    save_png(fig, p)
    plt.close(fig)
    return p


BOUNDS = ["logic dies (wafers x yield)", "HBM stacks", "packaging"]


def supply_frontier(f, outdir, title, names):
    """A supply sweep: quantity for quality at equal power and at equal wafers."""
    m = {k: f["metrics"][k][:] for k in f["metrics"]}
    ax_names = list(f["axes"])
    system = names.get(text(f.attrs["system"]), text(f.attrs["system"]))
    nvidia = names.get(text(f.attrs["nvidia_system"]), text(f.attrs["nvidia_system"]))
    fig, axs = plt.subplots(1, 3, figsize=(16, 5.2), squeeze=False)
    bound = m["binding_constraint"].astype(int)
    for panel, (xkey, nvkey, xlabel, what) in enumerate([
            ("ascend_facility_mw", "nvidia_tokens_per_s_equal_power", "facility power MW (average)", "equal power"),
            ("wafers_per_year", "nvidia_tokens_per_s_equal_wafers", "wafers per year (the Ascend supply's budget)",
             "equal wafers")]):
        ax = axs[0][panel]
        x, y, yn = m[xkey], m["ascend_tokens_per_s"], m[nvkey]
        for b, label in enumerate(BOUNDS):
            sel = bound == b
            if sel.any():
                ax.scatter(x[sel], y[sel], s=12, color=COLORS[b], alpha=0.6, label=f"{system}, bound by {label}")
        keep = frontier(-x, y)  # most tokens/s for the least budget
        ax.plot(x[keep], y[keep], color="black", lw=1.2, label=f"{system}: frontier")
        order = np.argsort(x, kind="stable")
        ax.plot(x[order], yn[order], color=COLORS[3], lw=1.5, ls="--", label=f"{nvidia} at the same budget")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("tokens/s (fleet)")
        ax.set_title(what, fontsize=10)
        ax.grid(alpha=0.3)
    ax = axs[0][2]
    q = f["axes"]["import_chips"][:] if "import_chips" in ax_names else np.zeros_like(m["fleet_tokens_per_s"])
    for i, v in enumerate(np.unique(q)):
        sel = q == v
        ax.scatter(m["good_chips_per_year"][sel], m["fleet_tokens_per_s"][sel], s=12, color=COLORS[(i + 3) % len(COLORS)],
                   alpha=0.6, label=f"import quota {v:,.0f} chips")
    ax.set_xlabel("good Ascend chips per year")
    ax.set_ylabel("tokens/s (Ascend + imports)")
    ax.set_title("fleet with imports", fontsize=10)
    ax.grid(alpha=0.3)
    swept = ", ".join(a for a in ax_names)
    top = suptitle(fig, f"{title}\nevery point one combination of {swept}; NVIDIA at the same facility power and at the same wafers",
                 fontsize=10)
    layout(fig, legend(fig, axs), top)
    p = os.path.join(outdir, "supply_frontier.png")
    save_png(fig, p)
    plt.close(fig)
    return p
def save_png(fig, path):
    """podperf's output protocol: a regular file or a new path only; the bytes go to a temporary no
    other writer can take (unique name, O_EXCL), renamed onto the target once complete."""
    import secrets
    import stat
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            raise PlotError(f"{path}: exists and is not a regular file; --outdir must hold regular files or new paths")
    except FileNotFoundError:
        pass
    tmp = f"{path}.tmp-{os.getpid()}-{secrets.token_hex(8)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as out:
            fig.savefig(out, dpi=110, format="png")
            out.flush()
            os.fsync(out.fileno())
        os.rename(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):  # a full disk: the target named, as every podperf writer does
            raise PlotError(f"{path}: writing failed ({e.strerror or e}); the target is left as it was") from e
        raise


class PlotError(Exception):
    """Bad input: one line, exit code 2."""


def main():
    try:
        return plot()
    except PlotError as e:
        print(e, file=sys.stderr)
        return 2
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        print(f"{where}{e.strerror or e}", file=sys.stderr)
        return 2
    except (KeyError, ValueError) as e:
        print(f"not a podperf sweep file ({e})", file=sys.stderr)
        return 2


def plot():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("h5")
    ap.add_argument("--outdir", default="plots")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."),
                    help="directory holding hwdb/ and configs/ (for display names)")
    ap.add_argument("--json", action="store_true", help="list the files written as JSON")
    args = ap.parse_args()
    if not os.path.isfile(args.h5):
        print(f"flag h5: no such file '{args.h5}'", file=sys.stderr)
        return 2
    if not h5py.is_hdf5(args.h5):
        raise PlotError(f"{args.h5}: not an HDF5 file (podperf sweep ... -o out.h5 writes one)")
    if os.path.exists(args.outdir) and not os.path.isdir(args.outdir):
        raise PlotError(f"flag --outdir: '{args.outdir}' exists and is not a directory")
    try:
        os.makedirs(args.outdir, exist_ok=True)
    except OSError as e:
        raise PlotError(f"flag --outdir: cannot create '{args.outdir}' ({e.strerror})")
    names = names_from_files(args.data)
    with h5py.File(args.h5, "r") as f:
        if int(f.attrs.get("complete", 0)) != 1:
            print(f"{args.h5}: incomplete sweep ({int(f.attrs['points_done'])} of {int(f.attrs['points_total'])} "
                  "points); plotting what is there", file=sys.stderr)
        title = text(f.attrs.get("sweep_description", f.attrs.get("sweep_id", "sweep"))).split(":")[0]
        if text(f.attrs.get("sweep_kind", "")) == "supply":
            written = [supply_frontier(f, args.outdir, title, names)]
        else:
            sw = Sweep(f, names)
            written = [p for p in (serving_frontier(sw, args.outdir, title), cost_vs_price(sw, args.outdir, title),
                                   training(sw, args.outdir, title), power(sw, args.outdir, title)) if p]
    if args.json:
        print(json.dumps({"files": written}))
    else:
        for p in written:
            print(p)
    if not written:
        print("nothing to plot: the sweep keeps none of the needed metrics", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
