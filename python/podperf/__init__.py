"""podperf from Python: the command line's results as dicts and pandas DataFrames.

    import podperf
    c = podperf.compare("cloudmatrix-384", "gb200-nvl72")      # dict, as `podperf compare --json`
    podperf.compare_frame("cloudmatrix-384", "gb200-nvl72")      # its rows as a DataFrame
    e = podperf.estimate("gb200-nvl72", "deepseek-v3", mode="decode", tpot_ms=12.5)
    df = podperf.read_sweep("out.h5")                             # a sweep file as a DataFrame

Keyword arguments become flags: tpot_ms=12.5 -> --tpot-ms 12.5, sensitivity=True -> --sensitivity.
hwdb=, configs= and figures= set the global options. Bad input raises podperf.InputError carrying the
command line's one-line message (file:line: field, or the flag).
"""
import inspect
import math
import os
import tempfile

from . import _podperf

__version__ = _podperf.version
__all__ = ["InputError", "PodperfError", "run", "call", "estimate", "Scenario", "Result", "metrics", "compare", "compare_frame", "breakeven",
           "validate", "claims", "models", "hwdb", "sweep", "read_sweep"]


class InputError(ValueError):
    """Bad input (exit code 2): the message names the file, line and field, or the flag."""


class PodperfError(RuntimeError):
    """podperf failed for another reason (exit code 1 without output)."""


def _installed(name):
    """P/share/podperf/NAME when this package is installed as P/lib/python3/dist-packages/podperf."""
    here = os.path.dirname(os.path.abspath(__file__))
    p = os.path.normpath(os.path.join(here, "..", "..", "..", "..", "share", "podperf", name))
    return p if os.path.isdir(p) else None


def _path_like(name, v):
    if isinstance(v, (str, os.PathLike)):
        return os.fspath(v)
    raise InputError(f"argument {name}: a path or a name is needed (got {type(v).__name__} {v!r})")


def _globals(hwdb=None, configs=None, figures=None):
    args = []
    if hwdb is not None:
        hwdb = _path_like("hwdb", hwdb)
    if configs is not None:
        configs = _path_like("configs", configs)
    if figures is not None and not isinstance(figures, (str, os.PathLike, list, tuple)):
        raise InputError(f"argument figures: a figure-set name or path, or a list of them (got {type(figures).__name__} {figures!r})")
    if isinstance(figures, (str, os.PathLike)):
        figures = [figures]
    figures = [_path_like("figures", f) for f in (figures or [])]
    hwdb = hwdb or os.environ.get("PODPERF_HWDB") or _installed("hwdb")
    configs = configs or os.environ.get("PODPERF_CONFIGS") or _installed("configs")
    if hwdb:
        args += ["--hwdb", str(hwdb)]
    if configs:
        args += ["--configs", str(configs)]
    for f in figures:
        args += ["--figures", f]
    return args


def _value(flag, v):
    """A flag's value as the command line reads it; what it cannot be is refused here, with the flag."""
    if isinstance(v, bool) or not isinstance(v, (str, int, float, os.PathLike)):
        raise InputError(f"flag {flag}: a number or a text is needed (got {type(v).__name__} {v!r})")
    if isinstance(v, float) and not math.isfinite(v):
        raise InputError(f"flag {flag}: must be a finite number (got {v})")
    s = os.fspath(v) if isinstance(v, os.PathLike) else str(v)
    if s == "":
        raise InputError(f"flag {flag}: empty value")
    return s


def _flags(kw):
    args = []
    for key, value in kw.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            if not value:
                raise InputError(f"flag {flag}: empty list")
            args += [flag, ",".join(_value(flag, v) for v in value)]
        else:
            args += [flag, _value(flag, value)]
    return args


def run(*args, hwdb=None, configs=None, figures=None):
    """Runs `podperf ARGS...` in-process; returns its standard output as text.

    Raises InputError (exit code 2) or PodperfError (exit code 1 with no output). A command with no
    result under its targets (exit code 3: estimate's NO RESULT or DOES NOT FIT) returns its output."""
    argv = ["podperf"] + _globals(hwdb, configs, figures) + [str(a) for a in args]
    rc, out, err = _podperf.run(argv)
    out = out.decode("utf-8", "replace")
    err = err.decode("utf-8", "replace").strip()
    if rc == 2:
        raise InputError(err.splitlines()[-1] if err else "bad input")
    if rc != 0 and not out:
        raise PodperfError(err or f"podperf exited with code {rc}")
    return out


def call(*args, hwdb=None, configs=None, figures=None, **flags):
    """Runs a command with --json and returns its document as dicts and lists: the figures the command
    computed, handed over as built (the JSON text is not parsed back). A command with no result under
    its targets (exit code 3) returns its document; bad input raises InputError."""
    argv = ["podperf"] + _globals(hwdb, configs, figures) + [str(a) for a in args] + _flags(flags) + ["--json"]
    rc, doc, out, err = _podperf.call(argv)
    err = err.decode("utf-8", "replace").strip()
    if rc == 2:
        raise InputError(err.splitlines()[-1] if err else "bad input")
    if doc is None:
        raise PodperfError(err or f"podperf {' '.join(str(a) for a in args)} wrote no document (exit code {rc})")
    return doc


def estimate(system, model, mode="serve", *, stack=None, tpot_ms=None, ttft_ms=None, batch=None, seq_in=None,
             seq_out=None, seq=None, context=None, tp=None, dp=None, ep=None, pp=None, cp=None, recipe=None,
             weights=None, kv=None, attn=None, precision=None, mtp=None, search=False, site=None, samples=None,
             global_batch_tokens=None, tokens=None, scenario=None, percentile=None, arrival_rate=None, mix=None,
             pd_split=None, prefill_system=None, hwdb=None, configs=None, figures=None, **more):
    """One scenario evaluated, as `podperf estimate --json` evaluates it; returns a dict whose
    "result" holds the figures by metric id (the same figures compare, sweep and claims give).

    system  -- system id, NxSYSTEM or SYSTEM@STACK (hwdb/systems)
    model   -- model id (configs/models)
    mode    -- "prefill" | "decode" | "serve" | "train"
    stack   -- software stack id in place of the system's own
    tpot_ms -- TPOT target in ms: picks the batch (the largest that meets it)
    ttft_ms -- TTFT target in ms
    batch   -- decode and serve: concurrent sequences per instance; prefill: prompts per pass;
               train: sequences per global step
    seq_in, seq_out -- prompt and output tokens (default 2,048 and 256)
    seq     -- training sequence length in tokens (default: the model's, else 4,096)
    context -- decode KV length in tokens
    tp, dp, ep, pp, cp -- the parallel plan (default: the scenario's plan or plan search)
    recipe  -- precision recipe id (hwdb/recipes); default the chip's native one
    weights, kv, attn -- formats ("fp8", "int8", "bf16", "nvfp4", "mxfp4", ...) overriding the recipe
    precision -- training compute precision ("bf16" | "fp8")
    mtp     -- multi-token-prediction draft tokens per step
    search  -- search the parallel plan
    site    -- site id for cost (default: the system's home site)
    samples -- Monte Carlo draws over the hwdb ranges for the cost rows (default 0)
    global_batch_tokens -- training global batch in tokens
    tokens  -- tokens to train (time and cost of the run)
    scenario, percentile, arrival_rate (requests/s), mix, pd_split ("P:D" chips), prefill_system --
               serve mode's latency rule and deployment (docs/deployments.md)
    hwdb, configs, figures -- data directories and figure sets
    more    -- any other `estimate` flag by its name (e.g. eplb="default", micro_batch=2; serving="aggregated",
               concurrency=64, chunk_tokens=8192 for aggregated serving under a closed loop)

    Raises InputError for a bad value (the message names the flag); TypeError for an unknown keyword
    of this signature."""
    flags = dict(stack=stack, tpot_ms=tpot_ms, ttft_ms=ttft_ms, batch=batch, seq_in=seq_in, seq_out=seq_out, seq=seq,
                 context=context, tp=tp, dp=dp, ep=ep, pp=pp, cp=cp, recipe=recipe, weights=weights, kv=kv, attn=attn,
                 precision=precision, mtp=mtp, search=search, site=site, samples=samples,
                 global_batch_tokens=global_batch_tokens, tokens=tokens, scenario=scenario, percentile=percentile,
                 arrival_rate=arrival_rate, mix=mix, pd_split=pd_split, prefill_system=prefill_system)
    for key in more:
        if key not in _ESTIMATE_MORE:
            raise TypeError(f"estimate() got an unexpected keyword argument '{key}'")
    flags.update(more)
    return call("estimate", "--system", system, "--model", model, "--mode", mode, hwdb=hwdb, configs=configs,
                figures=figures, **flags)


# The other `estimate` flags, by keyword (a name outside these and the signature is a TypeError).
_ESTIMATE_MORE = {"prefill_tp", "prefill_dp", "prefill_ep", "prefill_pp", "w_attn", "w_ffn", "w_experts", "w_shared",
                  "w_head", "mtp_accept", "overlap", "eplb", "redundant_experts", "imbalance", "micro_batch",
                  "interleave", "zero", "recompute", "sp", "tp_overlap", "attention_kernel", "seed", "prefix_hit",
                  "seq_in_range", "seq_out_range", "hbm_reserve", "serving", "concurrency", "chunk_tokens",
                  "prefill_eplb"}


def metrics():
    """The result catalogue: a list of dicts with id, unit, better ("higher", "lower" or "") and
    description, in the order `podperf metrics --json` gives them."""
    return call("metrics")["metrics"]


class Result(dict):
    """A scenario's figures by metric id (None: does not apply, or the workload does not fit).
    result.unit(id), result.better(id) and result.description(id) read the catalogue."""

    _catalogue = None

    @classmethod
    def _info(cls, key):
        if cls._catalogue is None:
            cls._catalogue = {m["id"]: m for m in metrics()}
        if key not in cls._catalogue:
            raise KeyError(key)
        return cls._catalogue[key]

    def unit(self, key):
        return self._info(key)["unit"]

    def better(self, key):
        return self._info(key)["better"]

    def description(self, key):
        return self._info(key)["description"]


class Scenario:
    """One question: Scenario(system, model, mode="serve", **inputs) takes the keywords of estimate()
    (an unknown one raises TypeError now); .evaluate() returns its Result, .estimate() the whole
    estimate dict."""

    def __init__(self, system, model, mode="serve", **inputs):
        named = inspect.signature(estimate).parameters
        for key in inputs:
            if (key not in named or key == "more") and key not in _ESTIMATE_MORE:
                raise TypeError(f"Scenario() got an unexpected keyword argument '{key}'")
        self.system, self.model, self.mode, self.inputs = system, model, mode, dict(inputs)

    def __repr__(self):
        extra = "".join(f", {k}={v!r}" for k, v in self.inputs.items())
        return f"Scenario({self.system!r}, {self.model!r}, mode={self.mode!r}{extra})"

    def estimate(self):
        return estimate(self.system, self.model, self.mode, **self.inputs)

    def evaluate(self):
        return Result(self.estimate()["result"])


def compare(a, b, **flags):
    """`podperf compare A B --json`: the side-by-side rows (a, b, ratio and its 5-95% range)."""
    return call("compare", a, b, **flags)


def compare_frame(a, b, **flags):
    """compare() rows as a DataFrame indexed by row key."""
    import pandas as pd

    return pd.DataFrame(compare(a, b, **flags)["rows"]).set_index("key")


def breakeven(a, b, **flags):
    """`podperf breakeven A B --json`: electricity and system price at parity."""
    return call("breakeven", a, b, **flags)


def validate(**flags):
    """`podperf validate --json` (a failed case is reported in the result, not raised)."""
    return call("validate", **flags)


def claims(**flags):
    """`podperf claims --json`: verdict and readings per public claim."""
    return call("claims", **flags)


def models():
    """The shipped models as a DataFrame (id, name, parameter counts)."""
    import pandas as pd

    return pd.DataFrame(call("models", "list")["models"]).set_index("id")


def hwdb(id=None, kind=None, **globals_):
    """`podperf hwdb list --json` (ids by kind), or `hwdb show ID --json` when id is given."""
    if id is not None:
        return call("hwdb", "show", id, **globals_)
    return call("hwdb", "list", kind=kind, **globals_)


def sweep(spec, out=None, threads=None, **globals_):
    """Runs `podperf sweep SPEC -o OUT` and returns read_sweep(OUT) (a temporary file when out is None)."""
    if out is not None:
        run("sweep", spec, "-o", out, *_flags({"threads": threads}), **globals_)
        return read_sweep(out)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "sweep.h5")
        run("sweep", spec, "-o", path, *_flags({"threads": threads}), **globals_)
        return read_sweep(path)


def _text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def read_sweep(path):
    """A sweep file (docs/hdf5-layout.md) as a DataFrame: one row per point, text axes decoded to their
    labels (categoricals), `reason` decoded to its text; an axis that shares its name with a metric
    (tpot_ms: the target and the achieved value) becomes NAME_axis; the unit of each column in
    df.attrs["units"][column] and the file's root attributes in df.attrs["file"]."""
    import h5py
    import numpy as np
    import pandas as pd

    path = _path_like("path", path)
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    if not h5py.is_hdf5(path):
        raise InputError(f"{path}: not an HDF5 file (podperf sweep ... -o out.h5 writes one)")
    try:
        return _read_sweep(path, h5py, np, pd)
    except (OSError, KeyError, ValueError, TypeError) as e:
        raise InputError(f"{path}: not a podperf sweep file ({e})") from None


def _read_sweep(path, h5py, np, pd):
    cols, units = {}, {}
    with h5py.File(path, "r") as f:
        cols["point"] = f["point"][:]
        units["point"] = _text(f["point"].attrs.get("units", ""))
        for name, ds in f["axes"].items():
            values = ds[:]
            if "labels" in ds.attrs:
                labels = [_text(x) for x in ds.attrs["labels"]]
                values = pd.Categorical.from_codes(values.astype(np.int64), categories=labels)
            cols[name] = values
            units[name] = _text(ds.attrs.get("units", ""))
        for name, ds in f["metrics"].items():
            if name in cols:  # an axis and a metric of the same name (tpot_ms: target and achieved)
                cols[name + "_axis"] = cols.pop(name)
                units[name + "_axis"] = units.pop(name)
            cols[name] = ds[:]
            units[name] = _text(ds.attrs.get("units", ""))
        reason = f["reason"][:]
        codes = {}
        for line in [_text(x) for x in np.atleast_1d(f["reason"].attrs.get("codes", []))]:
            code, _, text = line.partition(":")
            try:
                codes[int(code)] = text.strip()
            except ValueError:
                pass
        cols["reason"] = pd.Categorical([codes.get(int(r), str(int(r))) if r else "ok" for r in reason])
        units["reason"] = ""
        meta = {k: (_text(v) if isinstance(v, (bytes, str)) else v.item() if hasattr(v, "item") else v)
                for k, v in f.attrs.items()}
    df = pd.DataFrame(cols)
    df.attrs["units"] = units
    df.attrs["file"] = meta
    return df
