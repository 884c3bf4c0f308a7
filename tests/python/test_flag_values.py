"""Adversarial values for every numeric flag of estimate and compare, for --set and for the numeric
sweep axes: NaN, +-inf, denormals, empty text, INT_MAX and just past it, 2^64, negative, zero, huge
and tiny, and the edges of the accepted ranges. Each run must end in one of two ways:
  - exit 2 with exactly one line on stderr that names the flag (for --set: the flag; for a sweep
    axis: the spec file and the axis), or
  - exit 0 (a result) or 3 (no result under the targets, the output complete) with output whose every
    number is finite and below 1e30 in magnitude (no figure over a zero or vanishing denominator, no
    NaN or Infinity in the JSON; for a sweep, in every row marked ok).
The numeric flags are read from each command's --help, so a new numeric flag without a sensible
value in BENIGN (the value that makes the flag take effect) fails this test."""
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor

BIN = os.environ["PODPERF_BINARY"]
SRC = os.environ["PODPERF_SOURCE"]
BOUND = 1e30

VALUES = ["nan", "-nan", "inf", "-inf", "1e309", "4.9e-324", "1e-310", "", " ", "2147483647", "2147483648",
          "-2147483648", "18446744073709551616", "-1", "0", "-0", "1e308", "1e30", "1e-300", "1e-9", "0x10",
          "5abc",
          # valid but extreme: the edges of the ranges the flags accept
          "1e-12", "0.001", "1", "0.999999", "100000000", "1e12"]

# A value each numeric flag takes in a run that uses it: it finds the mode in which the flag acts.
BENIGN = {
    "--tp": "2", "--dp": "2", "--ep": "2", "--pp": "2", "--cp": "2",
    "--prefill-tp": "2", "--prefill-dp": "2", "--prefill-ep": "2", "--prefill-pp": "1",
    "--batch": "16", "--global-batch-tokens": "4000000", "--seq-in": "2048", "--seq-out": "512", "--seq": "4096",
    "--context": "4096", "--tpot-ms": "50", "--ttft-ms": "2000", "--mtp": "1", "--mtp-accept": "0.7",
    "--overlap": "0.5", "--redundant-experts": "32", "--imbalance": "1.2", "--micro-batch": "2",
    "--interleave": "2", "--zero": "1", "--tokens": "1e12", "--percentile": "90", "--prefix-hit": "0.5",
    "--arrival-rate": "10", "--hbm-reserve": "0.1", "--seq-in-range": "1000:3000", "--seq-out-range": "100:900",
    "--pd-split": "96:288", "--concurrency": "64", "--chunk-tokens": "8192", "--samples": "2", "--seed": "7",
    "--pue": "1.3", "--electricity-usd-kwh": "0.1", "--utilization": "0.8",
}
# Flags that act only beside others: the model and the extra arguments of their runs.
CONTEXT = {
    "--interleave": ("llama3-70b", ["--pp", "4"]),  # 80 layers: PP 4 x v 2 chunks
    "--percentile": ("deepseek-v3", ["--tpot-ms", "50"]),
    "--concurrency": ("deepseek-v3", ["--serving", "aggregated"]),
    "--chunk-tokens": ("deepseek-v3", ["--serving", "aggregated"]),
}
# Numeric flags whose help type is text (pairs of numbers).
TEXT_NUMERIC = {"--seq-in-range", "--seq-out-range", "--pd-split"}
GLOBAL = ["--pue", "--electricity-usd-kwh", "--utilization"]

ESTIMATE = ["estimate", "--system", "cloudmatrix-384", "--model", "deepseek-v3", "--json"]


def estimate(flag):
    model, extra = CONTEXT.get(flag, ("deepseek-v3", []))
    return ["estimate", "--system", "cloudmatrix-384", "--model", model, "--json"] + extra
COMPARE = ["compare", "gb200-nvl72", "cloudmatrix-384", "--model", "deepseek-v3", "--json"]
MODES = ["decode", "serve", "prefill", "train"]

failures = []
runs = 0
pool = None  # the runs of one flag go side by side
lock = threading.Lock()
outcomes = {}  # exit code -> runs checked


def run(args):
    global runs
    with lock:
        runs += 1
    p = subprocess.run([BIN] + args, capture_output=True, timeout=300, cwd=SRC)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def bad_number(x):
    return isinstance(x, float) and (not math.isfinite(x) or abs(x) >= BOUND) or \
        isinstance(x, int) and not isinstance(x, bool) and abs(x) >= BOUND


def walk(v, path="$"):
    """The first number in a JSON value that is not finite or bounded, with its path."""
    if isinstance(v, dict):
        for k, x in v.items():
            r = walk(x, path + "." + k)
            if r:
                return r
    elif isinstance(v, list):
        for i, x in enumerate(v):
            r = walk(x, "%s[%d]" % (path, i))
            if r:
                return r
    elif bad_number(v):
        return "%s = %r" % (path, v)
    return None


def refuse_constant(c):
    raise ValueError("not JSON: " + c)


def check(args, names, what):
    """One adversarial run: exit 2 naming `names` in one line, or exit 0 or 3 with finite, bounded JSON."""
    rc, out, err = run(args)
    where = "podperf " + " ".join(repr(a) if a == "" or " " in a else a for a in args)
    if rc == 3:  # no result under the targets: the output is as complete as a result's
        rc = 0
    with lock:
        outcomes[rc if rc in (0, 2) else "other"] = outcomes.get(rc if rc in (0, 2) else "other", 0) + 1
    if "runtime error:" in err:  # UndefinedBehaviorSanitizer, in a sanitized build
        failures.append("%s: %s" % (where, err.strip()[:300]))
        return
    if rc == 2:
        if err.count("\n") != 1 or not err.endswith("\n"):
            failures.append("%s: exit 2 without exactly one line: %r" % (where, err))
        elif not any(n in err for n in names):
            failures.append("%s: the message does not name %s: %s" % (where, " or ".join(names), err.strip()))
        return
    if rc != 0:
        failures.append("%s: exit %d: %s" % (where, rc, err.strip()[:300]))
        return
    try:
        data = json.loads(out, parse_constant=refuse_constant)
    except ValueError as e:
        failures.append("%s (%s): exit 0 with output that is not JSON: %s" % (where, what, e))
        return
    bad = walk(data)
    if bad:
        failures.append("%s (%s): exit 0 with %s" % (where, what, bad))


def numeric_flags(args):
    """Options of a command whose value is a number, from its --help."""
    rc, out, err = run(args + ["--help"])
    assert rc == 0, err
    flags = []
    for line in out.splitlines():
        m = re.match(r"\s+(?:-\w, )?(--[a-z0-9-]+)(?:,\s*--?[a-z0-9-]+)*\s+(\S+)", line)
        if not m:
            continue
        flag, kind = m.group(1), m.group(2)
        if re.match(r"\[?(INT|UINT|FLOAT|NUMBER|DOUBLE)", kind) or flag in TEXT_NUMERIC:
            flags.append(flag)
    return flags


def mode_for(flag):
    """The estimate mode in which the flag's benign value runs, or None."""
    value = BENIGN[flag]
    for mode in MODES:
        rc, _, _ = run(estimate(flag) + ["--mode", mode, flag, value])
        if rc in (0, 3):  # taken (a result, or none under the targets)
            return mode
    return None


def flags_of_commands():
    est = numeric_flags(["estimate"])
    cmp_ = numeric_flags(["compare"])
    glob = [f for f in numeric_flags([]) if f not in est]
    for f in GLOBAL:
        if f not in glob:
            glob.append(f)
    missing = sorted(set(est + cmp_ + glob) - set(BENIGN))
    if missing:
        failures.append("numeric flags without a value in BENIGN: " + ", ".join(missing))
    return est, cmp_, glob


def test_estimate(est, glob):
    for flag in est + glob:
        if flag not in BENIGN:
            continue
        mode = mode_for(flag)
        if mode is None:
            failures.append("estimate %s %s: refused in every mode (BENIGN needs a value it takes)" % (flag, BENIGN[flag]))
            continue
        list(pool.map(lambda v: check(estimate(flag) + ["--mode", mode, flag, v], [flag], "mode " + mode), VALUES))


def test_compare(cmp_, glob):
    # compare's own flags, every global override, and the workload flags that price both sides.
    own = [f for f in cmp_ if f in ("--samples", "--seed")]
    for flag in own + glob + ["--tpot-ms", "--batch", "--utilization", "--seq-in", "--imbalance", "--overlap"]:
        if flag not in cmp_ and flag not in glob:
            failures.append("compare has no flag " + flag)
            continue
        extra = [] if flag == "--samples" else ["--samples", "2"]
        list(pool.map(lambda v: check(COMPARE + extra + [flag, v], [flag], "compare"), VALUES))


# hwdb numbers set for one run: chip, system and site fields that price or time an estimate.
SETS = ["gb200-gpu.hbm_tb_s", "gb200-gpu.hbm_gb", "gb200-gpu.price_usd", "gb200-gpu.tdp_w", "gb200-gpu.fp8_dense_tflops",
        "ascend-910c.hbm_tb_s", "ascend-910c.bf16_dense_tflops", "ascend-910c.price_usd", "ascend-910c.tdp_w",
        "cloudmatrix-384.gb_s_per_dir", "cloudmatrix-384.latency_us", "china.electricity_usd_kwh", "china.pue"]


def test_set():
    for field in SETS:
        list(pool.map(lambda v: check(["--set", field + "=" + v] + ESTIMATE + ["--mode", "decode"], ["--set"], "--set"), VALUES))
    check(["--set", "gb200-gpu.hbm_tb_s=5e-324"] + COMPARE + ["--samples", "0"], ["--set"], "--set")


# Sweep axes with numbers, each with a value that runs.
AXES = {"tp": "2", "ep": "2", "pp": "1", "batch": "8", "seq_in": "1024", "seq_out": "256", "context": "2048",
        "tpot_ms": "50", "mtp": "1", "electricity_usd_kwh": "0.1", "overlap": "0.5", "utilization": "0.8",
        "yield": "0.8", "micro_batch": "1", "interleave": "1", "zero": "1", "cp": "1", "seq": "4096"}
TRAIN_AXES = {"micro_batch", "interleave", "zero", "cp", "seq"}
# The adversarial values as TOML: nan and inf are TOML floats, the rest numbers or a string.
TOML_VALUES = ["nan", "-nan", "inf", "-inf", "4.9e-324", "1e-310", '""', "2147483647", "2147483648",
               "18446744073709551616", "-1", "0", "-0.0", "1e308", "1e-300", "0.5", "1.5", "1e-12", "100000000", "1e12"]


def sweep_rows_ok(path):
    """The first ok row of a sweep file (one dataset per column, reason 0 = ok) with a non-finite or
    unbounded figure, or None."""
    import h5py
    import numpy
    with h5py.File(path, "r") as f:
        ok = f["reason"][()] == 0
        for name, col in f.items():
            if not isinstance(col, h5py.Dataset) or col.dtype.kind != "f" or col.shape != ok.shape:
                continue
            vals = col[()][ok]
            bad = ~numpy.isfinite(vals) | (numpy.abs(numpy.nan_to_num(vals)) >= BOUND)
            if bad.any():
                return "%s = %r in an ok row" % (name, vals[bad][0])
    return None


def test_sweep_axes():
    try:
        import h5py  # noqa: F401
    except ImportError:
        print("sweep axes: h5py missing, rows not read")
    with tempfile.TemporaryDirectory() as d:
        def one(job):
            i, axis, v = job
            mode = "train" if axis in TRAIN_AXES else "decode"
            spec = os.path.join(d, "s%d.toml" % i)
            with open(spec, "w") as f:
                f.write('id = "s"\ndescription = "adversarial axis"\n[axes]\nsystem = ["gb200-nvl72"]\n'
                        'model = ["llama3-70b"]\nmode = ["%s"]\n%s = [%s]\n' % (mode, axis, v))
            out = os.path.join(d, "s%d.h5" % i)
            rc, _, err = run(["sweep", spec, "-o", out, "--quiet", "--threads", "1"])
            where = "sweep axis %s = [%s]" % (axis, v)
            with lock:
                outcomes[rc if rc in (0, 2) else "other"] = outcomes.get(rc if rc in (0, 2) else "other", 0) + 1
            if "runtime error:" in err:
                failures.append("%s: %s" % (where, err.strip()[:300]))
                return
            if rc == 2:
                # The axis by name, or the line of the axis (line 7) where the TOML parser refuses a number.
                if err.count("\n") != 1:
                    failures.append("%s: exit 2 without exactly one line: %r" % (where, err))
                elif not err.startswith(spec) or (axis not in err and not err.startswith(spec + ":7:")):
                    failures.append("%s: the message does not name the spec and the axis: %s" % (where, err.strip()))
                return
            if rc != 0:
                failures.append("%s: exit %d: %s" % (where, rc, err.strip()[:300]))
                return
            try:
                bad = sweep_rows_ok(out)
            except ImportError:
                bad = None
            if bad:
                failures.append("%s: exit 0 with %s" % (where, bad))
        jobs = [(i, axis, v) for i, (axis, v) in enumerate((a, v) for a in AXES for v in TOML_VALUES)]
        list(pool.map(one, jobs))


def main():
    global pool
    pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1))
    est, cmp_, glob = flags_of_commands()
    assert len(est) >= 25, est
    test_estimate(est, glob)
    test_compare(cmp_, glob)
    test_set()
    test_sweep_axes()
    for f in failures:
        print("FAIL " + f)
    print("flag values: %d runs (%d checked: %d exit 0 with finite figures or no result, %d exit 2 in one line), "
          "%d numeric flags of estimate, %d of compare, %d global, %d failures"
          % (runs, sum(outcomes.values()), outcomes.get(0, 0), outcomes.get(2, 0), len(est), len(cmp_), len(glob),
             len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
