#!/usr/bin/python3
"""Fits the all-to-all (MoE dispatch / combine) curve of each measured fabric to the sourced kernel
measurements in validation/measurements/kernels.toml, and lists model against measurement.

Model (docs/methodology.md, "All-to-all from measured kernels"):

    t(n, S) = t0 + t_peer (n - 1) + S (n - 1) / n / B

n ranks, S = bytes one rank hands to the kernel (its own share included), (n - 1)/n of them leave
the rank. t0 (launch and synchronisation), t_peer (per peer) and B (achieved bandwidth on the
bytes that cross the fabric) are fitted by non-negative least squares on the relative error
(each row divided by its measured time), all points of a fabric with equal weight.

Time and bytes of a measured point:
  - the source prints a kernel time and a bandwidth: t = time_us, S = achieved_gb_s x t (the bytes
    the source's own bandwidth counts);
  - the source prints a bandwidth only (DeepEP normal mode, "bottleneck" definition): S = the bytes
    DeepEP's test counts (recv_x.numel(): tokens received by a rank, one copy per distinct
    destination rank, its own included) = tokens x D(n) x bytes per token, with
    D(n) = n (1 - C(E - E/n, k) / C(E, k)) distinct ranks per token for k of E = 256 experts drawn
    uniformly (DeepEP's test draws top-k of random scores), and t = S / bandwidth.

Leave-one-out fits give each parameter's range. Run: /usr/bin/python3 scripts/fit_all_to_all.py
"""
import itertools
import math
import os
import sys
import tomllib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
KERNELS = os.path.join(HERE, "..", "validation", "measurements", "kernels.toml")
EXPERTS = 256  # DeepSeek-V3 routed experts, the setting of every measured point


def bytes_per_token(a):
    h = a["hidden"]
    # DeepEP counts FP8 with its 1x128 FP32 scales (fp8_factor = (1 + 4/128) / 2 of BF16).
    return {"fp8": h * (1 + 4 / 128), "int8": h, "bf16": 2 * h}[a["dtype"]]


def distinct_ranks(n, k=8, e=EXPERTS):
    per = e // n
    return n * (1 - math.comb(e - per, k) / math.comb(e, k))


def point(i, a):
    """(index, kernel, n, S bytes, t seconds) of one measured entry, or None without a time."""
    n = a["ep"]
    if "time_us" in a:
        t = a["time_us"] * 1e-6
        return (i, a["kernel"], n, a["achieved_gb_s"] * 1e9 * t, t)
    if a.get("bandwidth_definition") == "bottleneck" and a.get("placement") in ("intranode", "supernode") and "tokens" in a:
        s = a["tokens"] * distinct_ranks(n, a["topk"]) * bytes_per_token(a)
        return (i, a["kernel"], n, s, s / (a["achieved_gb_s"] * 1e9))
    return None


# The fabrics with measurements: hwdb fabric -> which entries (by system, kernel prefix, version).
FITS = {
    "cloudmatrix-384 scaleup (UB)": lambda a: a.get("system") == "cloudmatrix-384"
    and a["kernel"].startswith(("cloudmatrix-fused", "deepep-ascend")) and "version" not in a,
    "hgx-h800 scaleout (InfiniBand, DeepEP low-latency, pure RDMA)": lambda a: a.get("system") == "hgx-h800"
    and a["kernel"].startswith("deepep-ll") and a.get("version") == "v1-2025-02",
}


def rows(n, s):
    return [1.0, n - 1.0, s * (n - 1) / n]


def nnls(A, y):
    """Non-negative least squares by enumerating the active sets (three unknowns)."""
    best, best_x = math.inf, None
    m = A.shape[1]
    for free in itertools.product([0, 1], repeat=m):
        idx = [j for j in range(m) if free[j]]
        if not idx:
            continue
        x = np.zeros(m)
        sol, *_ = np.linalg.lstsq(A[:, idx], y, rcond=None)
        if (sol < 0).any():
            continue
        x[idx] = sol
        r = float(((A @ x - y) ** 2).sum())
        if r < best:
            best, best_x = r, x
    return best_x


def fit(points):
    A = np.array([rows(n, s) for _, _, n, s, _ in points])
    y = np.array([t for *_, t in points])
    w = 1 / y
    return nnls(A * w[:, None], y * w)


def params(x):
    return x[0] * 1e6, x[1] * 1e6, (1 / x[2] / 1e9) if x[2] > 0 else math.inf


def model(x, n, s):
    return float(np.dot(rows(n, s), x))


def main():
    entries = tomllib.load(open(KERNELS, "rb"))["all_to_all"]
    out = {}
    for name, sel in FITS.items():
        pts = [p for i, a in enumerate(entries) if sel(a) and (p := point(i, a))]
        x = fit(pts)
        loo = [params(fit(pts[:j] + pts[j + 1:])) for j in range(len(pts))]
        t0, tp, bw = params(x)
        print(f"{name}: {len(pts)} points (kernels.toml [[all_to_all]] entries "
              f"{', '.join(str(p[0]) for p in pts)}, counted from 0)")
        for label, v, k in (("a2a_latency_us", t0, 0), ("a2a_per_peer_us", tp, 1), ("a2a_gb_s", bw, 2)):
            lo, hi = min(l[k] for l in loo), max(l[k] for l in loo)
            print(f"  {label:16s} {v:9.4g}   leave-one-out range [{lo:.4g}, {hi:.4g}]")
        errs = []
        for i, kernel, n, s, t in pts:
            e = model(x, n, s) / t - 1
            errs.append(abs(e))
            print(f"  {i:3d} {kernel:32s} EP{n:<4d} S {s / 1e6:8.2f} MB  measured {t * 1e6:8.1f} us"
                  f"  model {model(x, n, s) * 1e6:8.1f} us  {100 * e:+6.1f}%")
        print(f"  median |error| {100 * float(np.median(errs)):.1f}%, max {100 * max(errs):.1f}%\n")
        out[name] = x
    ib = out["hgx-h800 scaleout (InfiniBand, DeepEP low-latency, pure RDMA)"]
    # NVLink inside an HGX H800: DeepEP normal mode at EP8 only, so only B is resolved; t0 and t_peer
    # are those of the same kernel family over InfiniBand (above).
    nvl = [p for i, a in enumerate(entries) if a.get("system") == "hgx-h800" and a.get("link") == "nvlink"
           and a.get("version") == "v1-2025-06" and (p := point(i, a))]
    bws = [s * (n - 1) / n / (t - ib[0] - ib[1] * (n - 1)) / 1e9 for _, _, n, s, t in nvl]
    print(f"hgx-h800 scaleup (NVLink, DeepEP normal, entries {', '.join(str(p[0]) for p in nvl)}): "
          f"a2a_gb_s {sum(bws) / len(bws):.4g} (points {', '.join(f'{b:.4g}' for b in bws)})\n")
    # Out of sample: the June 2025 low-latency kernels forward intra-node peers over NVLink, so only
    # the (n - 8)/n share crosses InfiniBand: t = t0 + t_peer (n - 8) + S (n - 8) / n / B.
    print("out of sample, hgx-h800 DeepEP low-latency v1-2025-06 (hierarchical: InfiniBand share only)")
    errs = []
    for i, a in enumerate(entries):
        if a.get("system") == "hgx-h800" and a["kernel"].startswith("deepep-ll") and a.get("version") == "v1-2025-06" \
                and a["ep"] > 8:
            _, kernel, n, s, t = point(i, a)
            m = ib[0] + ib[1] * (n - 8) + s * (n - 8) / n * ib[2]
            errs.append(abs(m / t - 1))
            print(f"  {i:3d} {kernel:32s} EP{n:<4d} measured {t * 1e6:8.1f} us  model {m * 1e6:8.1f} us  {100 * (m / t - 1):+6.1f}%")
    print(f"  median |error| {100 * float(np.median(errs)):.1f}%, max {100 * max(errs):.1f}%\n")
    fit_in_network()
    return out


def fit_in_network():
    """In-network (NVLink SHARP) all-reduce: t = t0 + S / B by least squares on the relative error over
    the measured NCCL NVLS curves, t = S x 2(n-1)/n / busbw (nccl-tests' bus bandwidth)."""
    colls = tomllib.load(open(KERNELS, "rb"))["collective"]
    for system in ("hgx-h100", "hgx-h200"):
        pts = [(c["bytes"], c["bytes"] * 2 * (c["ranks"] - 1) / c["ranks"] / (c["busbw_gb_s"] * 1e9))
               for c in colls if c.get("system") == system and "NVLS" in c["collective"]]
        A = np.array([[1.0, s] for s, _ in pts])
        y = np.array([t for _, t in pts])
        x = nnls(A / y[:, None], np.ones_like(y))
        errs = np.abs(A @ x / y - 1)
        print(f"{system} in-network all-reduce, {len(pts)} NCCL NVLS points: in_network_latency_us {x[0] * 1e6:.4g}, "
              f"in_network_gb_s {1 / x[1] / 1e9:.4g}; median |error| {100 * float(np.median(errs)):.1f}%, "
              f"max {100 * errs.max():.1f}%")


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
