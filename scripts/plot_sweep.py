#!/usr/bin/env python3
"""Plots of a podperf sweep (HDF5, layout in docs/hdf5-layout.md).

  scripts/plot_sweep.py out.h5 --outdir plots/

Draws, for each system of the sweep:
  pareto.png       throughput-interactivity frontier: tokens/s per chip vs tokens/s per user
  cost_vs_price.png cost per million tokens vs electricity price (best configuration at each price),
                   with the break-even price between the first two systems marked
  power.png        average facility power vs system throughput
Needs h5py and matplotlib (Debian: python3-h5py, python3-matplotlib).
"""
import argparse
import os
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def column(f, group, name):
    key = f"{group}/{name}"
    return f[key][:] if key in f else None


def labels(f, axis):
    return [s.decode() if isinstance(s, bytes) else s for s in f[f"axes/{axis}"].attrs["labels"]]


def pareto(x, y):
    """Points not dominated in (x, y), both to maximise, sorted by x."""
    order = np.argsort(-x)
    best_y = -np.inf
    keep = []
    for i in order:
        if y[i] > best_y:
            keep.append(i)
            best_y = y[i]
    keep = np.array(keep, dtype=int)
    return keep[np.argsort(x[keep])]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("h5")
    ap.add_argument("--outdir", default="plots")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    with h5py.File(args.h5, "r") as f:
        if int(f.attrs.get("complete", 0)) != 1:
            print(f"{args.h5}: incomplete sweep ({int(f.attrs['points_done'])} of {int(f.attrs['points_total'])} points); plotting what is there",
                  file=sys.stderr)
        title = f.attrs.get("sweep_id", "sweep")
        if isinstance(title, bytes):
            title = title.decode()
        ok = f["reason"][:] == 0
        systems = labels(f, "system")
        sys_idx = f["axes/system"][:]
        written = []

        tps_chip = column(f, "metrics", "tokens_per_s_per_chip")
        tps_user = column(f, "metrics", "tokens_per_s_per_user")
        if tps_chip is not None and tps_user is not None:
            fig, ax = plt.subplots(figsize=(7, 5))
            for s, name in enumerate(systems):
                m = ok & (sys_idx == s) & np.isfinite(tps_chip) & np.isfinite(tps_user)
                if not m.any():
                    continue
                x, y = tps_user[m], tps_chip[m]
                ax.scatter(x, y, s=3, alpha=0.15)
                k = pareto(x, y)
                ax.plot(x[k], y[k], marker="o", ms=3, label=name)
            ax.set_xlabel("interactivity: tokens/s per user")
            ax.set_ylabel("throughput: tokens/s per chip")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{title}: throughput-interactivity frontier")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend()
            p = os.path.join(args.outdir, "pareto.png")
            fig.tight_layout()
            fig.savefig(p, dpi=120)
            plt.close(fig)
            written.append(p)

        cost = column(f, "metrics", "usd_per_mtok")
        price = column(f, "axes", "electricity_usd_kwh")
        if cost is not None and price is not None:
            fig, ax = plt.subplots(figsize=(7, 5))
            prices = np.unique(price)
            curves = []
            for s, name in enumerate(systems):
                best = []
                for p_ in prices:
                    m = ok & (sys_idx == s) & (price == p_) & np.isfinite(cost)
                    if "metrics/meets_target" in f:
                        m &= f["metrics/meets_target"][:] == 1
                    best.append(np.min(cost[m]) if m.any() else np.nan)
                best = np.array(best)
                curves.append(best)
                ax.plot(prices, best, marker=".", label=name)
            if len(curves) >= 2:
                d = curves[0] - curves[1]
                idx = np.where(np.isfinite(d[:-1]) & np.isfinite(d[1:]) & (np.sign(d[:-1]) != np.sign(d[1:])))[0]
                for i in idx:
                    x0 = prices[i] - d[i] * (prices[i + 1] - prices[i]) / (d[i + 1] - d[i])
                    ax.axvline(x0, color="k", ls="--", lw=1)
                    ax.annotate(f"break-even {x0:.3f} USD/kWh", (x0, np.nanmin(curves[0])), rotation=90, va="bottom",
                                ha="right", fontsize=8)
                if len(idx) == 0:
                    ax.text(0.02, 0.02, "no break-even in the price range", transform=ax.transAxes, fontsize=8, va="bottom")
            ax.set_xlabel("electricity price (USD/kWh)")
            ax.set_ylabel("USD per million tokens (best plan meeting the TPOT target)")
            ax.set_title(f"{title}: cost vs electricity price")
            ax.grid(True, alpha=0.3)
            ax.legend(loc="lower right")
            p = os.path.join(args.outdir, "cost_vs_price.png")
            fig.tight_layout()
            fig.savefig(p, dpi=120)
            plt.close(fig)
            written.append(p)

        kw = column(f, "metrics", "avg_facility_kw")
        tps = column(f, "metrics", "tokens_per_s")
        if tps is None and tps_chip is not None:
            tps = tps_chip
        if kw is not None and tps is not None:
            fig, ax = plt.subplots(figsize=(7, 5))
            for s, name in enumerate(systems):
                m = ok & (sys_idx == s) & np.isfinite(kw) & np.isfinite(tps)
                if m.any():
                    ax.scatter(tps[m], kw[m], s=4, alpha=0.3, label=name)
            ax.set_xlabel("throughput (tokens/s" + (" per system)" if "metrics/tokens_per_s" in f else " per chip)"))
            ax.set_ylabel("average facility power (kW)")
            ax.set_xscale("log")
            ax.set_title(f"{title}: power vs throughput")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(markerscale=4)
            p = os.path.join(args.outdir, "power.png")
            fig.tight_layout()
            fig.savefig(p, dpi=120)
            plt.close(fig)
            written.append(p)
    for p in written:
        print(p)
    if not written:
        print("nothing to plot: the sweep keeps none of the needed metrics", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
