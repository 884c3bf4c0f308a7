"""One scenario, one answer: random scenarios (seeded) put to every front end give identical figures.

For each scenario (system, model, mode, TPOT target, precision recipe or format, plan; serve scenarios
aggregated or disaggregated) this runs
  - `podperf estimate --json` (its `result`),
  - `podperf compare A B --json --samples 0` with the scenario's system as A or as B (`result_a` /
    `result_b`),
  - for prefill, decode and train, a one-point sweep of the same point (its HDF5 row), with the plan
    the sweep resolved passed to `estimate` as flags,
  - the Python module (`podperf.estimate`), when it is built,
  - `podperf claims --json` over a claim written for the scenario (its reading's `result_a`), where
    the scenario names no plan or recipe (a claim's reading takes neither),
  - for every REPORT_EVERY-th scenario, `podperf report A B --json --samples 0` (its first view's
    `a.result` / `b.result`: the figures the HTML report shows),
and asserts that tokens/s, tokens/s per chip, TPOT, TTFT, USD per million tokens, power and MTBF
agree to 1e-9 (relative). A scenario that is bad input must be refused by every front end.
Then the shipped DeepSeek sweep's best point per system under a TPOT target must equal `estimate`
at that point's plan and format with that target.
Environment: PODPERF_SOURCE, PODPERF_BUILD, CONSISTENCY_SCENARIOS (default 200), CONSISTENCY_SEED,
CONSISTENCY_REPORT_EVERY (default 8; 0: no reports)."""
import json
import math
import os
import random
import subprocess
import sys
import tempfile

SRC = os.environ.get("PODPERF_SOURCE", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("PODPERF_BUILD", os.path.join(SRC, "build"))
BIN = os.path.join(BUILD, "podperf")
N = int(os.environ.get("CONSISTENCY_SCENARIOS", "200"))
SEED = int(os.environ.get("CONSISTENCY_SEED", "1"))
REPORT_EVERY = int(os.environ.get("CONSISTENCY_REPORT_EVERY", "8"))

SYSTEMS = ["cloudmatrix-384", "gb200-nvl72", "gb300-nvl72", "hgx-h100", "hgx-h200", "hgx-b200", "atlas-800i-a3",
           "atlas-950-superpod", "hgx-h20"]
MODELS = ["llama3-70b", "deepseek-v3", "llama3.1-8b", "qwen3-235b-a22b", "gpt-oss-120b"]
TRAIN_MODELS = ["llama3-70b", "llama3.1-8b", "deepseek-v3"]
KEYS = ["tokens_per_s", "tokens_per_s_per_chip", "tpot_ms", "ttft_ms", "usd_per_mtok", "it_power_kw",
        "avg_facility_kw", "mtbf_system_h"]
SWEEP_KEYS = {"tokens_per_s": "tokens_per_s", "tokens_per_s_per_chip": "tokens_per_s_per_chip",
              "tpot_ms": "tpot_ms", "ttft_ms": "ttft_ms", "usd_per_mtok": "usd_per_mtok",
              "avg_facility_kw": "avg_facility_kw", "mtbf_system_h": "mtbf_system_h"}


def run(args):
    p = subprocess.run([BIN] + args, cwd=SRC, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr.strip()


def same(a, b, rel=1e-9):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


def draw(rng):
    mode = rng.choice(["prefill", "decode", "serve", "train"])
    sysid = rng.choice(SYSTEMS)
    model = rng.choice(TRAIN_MODELS if mode == "train" else MODELS)
    flags = ["--system", sysid, "--model", model, "--mode", mode, "--site", rng.choice(["us", "china"])]
    aggregated = mode == "serve" and rng.random() < 0.3
    if aggregated:  # prefill and decode on the same chips: a closed loop of clients, or a TPOT target's rate
        flags += ["--serving", "aggregated"]
        if rng.random() < 0.5:
            flags += ["--concurrency", str(rng.choice([1, 16, 256]))]
        else:
            flags += ["--tpot-ms", str(rng.choice([25, 50, 100]))]
    elif mode in ("decode", "serve"):  # compare asks under 50 ms unless told: every scenario names its target
        flags += ["--tpot-ms", str(rng.choice([15, 25, 50, 100]))]
    if mode != "train":
        r = rng.random()
        if r < 0.2:
            flags += ["--weights", rng.choice(["fp8", "int8", "bf16"])]
        elif r < 0.35:
            flags += ["--recipe", rng.choice(["fp8", "w8a8", "nvfp4", "mxfp4"])]
        flags += ["--seq-in", str(rng.choice([1024, 2048, 4096]))]
        if mode in ("prefill", "decode") and rng.random() < 0.3:
            flags += ["--tp", str(rng.choice([1, 2, 4, 8]))]
    else:
        if rng.random() < 0.5:
            flags += ["--tp", str(rng.choice([1, 2, 4, 8])), "--pp", str(rng.choice([1, 2, 4]))]
    return sysid, flags


def without(flags, name):
    out, skip = [], False
    for i, f in enumerate(flags):
        if skip:
            skip = False
            continue
        if f == name:
            skip = True
            continue
        out.append(f)
    return out


def check(label, want, got, keys, fails):
    for k in keys:
        if not same(want.get(k), got.get(k)):
            fails.append(f"{label}: {k} {want.get(k)} != {got.get(k)}")


def sweep_point(sysid, model, mode, extra, tmp):
    """A one-point sweep; returns the row as a dict (metric -> value) and the reason code."""
    import h5py
    axes = [f'system = ["{sysid}"]', f'model = ["{model}"]', f'mode = ["{mode}"]'] + extra
    metrics = list(SWEEP_KEYS.values()) + ["instance_chips", "batch_per_instance"]
    spec = os.path.join(tmp, "one.toml")
    with open(spec, "w") as f:
        f.write('id = "one"\ndescription = "one point"\n[axes]\n' + "\n".join(axes) +
                '\n[output]\ninvalid = "keep"\nmetrics = [' + ", ".join(f'"{m}"' for m in metrics) + "]\n")
    out = os.path.join(tmp, "one.h5")
    if os.path.exists(out):
        os.remove(out)
    rc, _, err = run(["sweep", spec, "-o", out, "--quiet", "--threads", "1"])
    assert rc == 0, err
    with h5py.File(out, "r") as h:
        row = {m: float(h["metrics"][m][0]) for m in metrics}
        reason = int(h["reason"][0])
    return row, reason


def sweep_check(sysid, flags, est, tmp, fails):
    mode = flags[flags.index("--mode") + 1]
    model = flags[flags.index("--model") + 1]
    if mode == "serve" or "--recipe" in flags:
        return 0
    extra, eflags = [], ["--system", sysid, "--model", model, "--mode", mode]
    if "--weights" in flags:
        w = flags[flags.index("--weights") + 1]
        extra.append(f'weights = ["{w}"]')
        eflags += ["--weights", w]
    site = flags[flags.index("--site") + 1]
    extra.append(f'site = ["{site}"]')
    eflags += ["--site", site]
    for name, axis in (("--seq-in", "seq_in"), ("--tpot-ms", "tpot_ms"), ("--pp", "pp")):
        if name in flags:
            extra.append(f"{axis} = [{flags[flags.index(name) + 1]}]")
            eflags += [name, flags[flags.index(name) + 1]]
    tp = flags[flags.index("--tp") + 1] if "--tp" in flags else None
    if mode == "train":
        if tp:
            extra.append(f"tp = [{tp}]")
            eflags += ["--tp", tp]
        else:
            eflags += ["--tp", "1"]  # the sweep's plan: TP 1 PP 1, DP over every chip
    else:
        # The sweep's TP is an axis (default: the default instance's): name it, so estimate can take it.
        tp = tp or "2"
        extra.append(f"tp = [{tp}]")
    row, reason = sweep_point(sysid, model, mode, extra, tmp)
    if reason != 0:
        return 0
    if mode != "train":
        # The sweep's instance: its TP over the default instance; estimate takes it as flags.
        inst = int(row["instance_chips"])
        t = int(tp or 1)
        eflags += ["--tp", str(t), "--dp", str(inst // t)]
    rc, out, err = run(["estimate", "--json"] + eflags)
    if rc not in (0, 3):  # 3: no result under the targets, its JSON complete
        fails.append(f"sweep point {eflags}: estimate refused it: {err}")
        return 1
    res = json.loads(out)["result"]
    got = {k: row[v] for k, v in SWEEP_KEYS.items()}
    for k in ("tpot_ms", "ttft_ms"):
        if res.get(k) is None and got[k] == 0:
            got[k] = None
    check(f"sweep {eflags}", res, got, SWEEP_KEYS.keys(), fails)
    return 1


def write_claim(i, sysid, flags, tmp):
    """A claim whose one reading is the scenario on A (and on B, the same system); returns its id."""
    def flag(name, default=None):
        return flags[flags.index(name) + 1] if name in flags else default
    cid = f"scenario-{i}"
    lines = [f'id = "{cid}"', 'sentence = "the scenario as a claim"', 'source = "test"', 'quantity = "tokens/s per chip"',
             f'a = "{sysid}"', f'b = "{sysid}"', "claimed = 1", 'relation = "about"', "", "[[reading]]",
             'label = "scenario"', 'metric = "tokens_per_s_per_chip"', f'model = "{flag("--model")}"',
             f'mode = "{flag("--mode")}"', f'site_a = "{flag("--site")}"', f'site_b = "{flag("--site")}"']
    if "--tpot-ms" in flags:
        lines.append(f"tpot_ms = {flag('--tpot-ms')}")
    if "--seq-in" in flags:
        lines.append(f"seq_in = {flag('--seq-in')}")
    if "--weights" in flags:
        lines += [f'weights_a = "{flag("--weights")}"', f'weights_b = "{flag("--weights")}"']
    os.makedirs(os.path.join(tmp, "claims"), exist_ok=True)
    with open(os.path.join(tmp, "claims", cid + ".toml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return cid


def main():
    rng = random.Random(SEED)
    fails = []
    counts = {"scenarios": 0, "refused": 0, "compare": 0, "sweep": 0, "python": 0, "report": 0, "claims": 0}
    claims = {}  # claim id -> (flags, estimate's result)
    podperf = None
    if os.environ.get("CONSISTENCY_PYTHON", "1") != "0":
        try:
            sys.path.insert(0, os.path.join(BUILD, "python"))
            import podperf as podperf  # noqa: F811
        except ImportError:
            podperf = None
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(N):
            sysid, flags = draw(rng)
            other = rng.choice([s for s in SYSTEMS if s != sysid])
            counts["scenarios"] += 1
            rc, out, err = run(["estimate", "--json"] + flags)
            as_a = i % 2 == 0
            pair = [sysid, other] if as_a else [other, sysid]
            cflags = without(without(flags, "--system"), "--model")
            model = flags[flags.index("--model") + 1]
            crc, cout, cerr = run(["compare"] + pair + ["--model", model, "--samples", "0", "--json"] + cflags)
            if rc == 2:
                counts["refused"] += 1
                if crc != 2:
                    fails.append(f"{flags}: estimate refuses ({err}) but compare exits {crc}")
                continue
            if rc not in (0, 3):  # 3: no result under the targets, its JSON complete
                fails.append(f"{flags}: estimate failed: {err}")
                continue
            est = json.loads(out)["result"]
            if crc == 2:  # the other system refuses the flags (a plan it cannot run): pair it with itself
                pair = [sysid, sysid]
                crc, cout, cerr = run(["compare"] + pair + ["--model", model, "--samples", "0", "--json"] + cflags)
            if crc != 0:
                fails.append(f"{flags}: compare failed: {cerr}")
                continue
            cj = json.loads(cout)
            check(f"compare {pair} {cflags}", est, cj["result_a" if as_a else "result_b"], KEYS, fails)
            counts["compare"] += 1
            if REPORT_EVERY and i % REPORT_EVERY == 0:
                html = os.path.join(tmp, "report.html")
                rrc, rout, rerr = run(["report"] + pair + ["--model", model, "--samples", "0", "--json", "-o", html] + cflags)
                if rrc != 0:
                    fails.append(f"report {pair} {cflags}: exit {rrc}: {rerr}")
                else:
                    view = json.loads(rout)["views"][0]
                    check(f"report {pair} {cflags}", est, view["a" if as_a else "b"]["result"], KEYS, fails)
                    check(f"report vs compare {pair} {cflags}", cj["result_b" if as_a else "result_a"],
                          view["b" if as_a else "a"]["result"], KEYS, fails)
                    counts["report"] += 1
            counts["sweep"] += sweep_check(sysid, flags, est, tmp, fails)
            if not any(f in flags for f in ("--tp", "--pp", "--recipe", "--serving")):  # claims: no plan or deployment
                claims[write_claim(i, sysid, flags, tmp)] = (flags, est)
            if podperf is not None and hasattr(podperf, "estimate"):
                kw = {}
                rest = without(without(without(flags, "--system"), "--model"), "--mode")
                for j in range(0, len(rest), 2):
                    kw[rest[j][2:].replace("-", "_")] = rest[j + 1]
                mode = flags[flags.index("--mode") + 1]
                py = podperf.estimate(sysid, model, mode=mode, **kw)
                check(f"python {flags}", est, py["result"], KEYS, fails)
                counts["python"] += 1

        # The claims written above, in one run: each reading's A figures are estimate's.
        if claims:
            rc, out, err = run(["claims", "--claims", os.path.join(tmp, "claims"), "--samples", "0", "--json"])
            if rc != 0:
                fails.append(f"claims failed: {err}")
            else:
                for c in json.loads(out):
                    flags, est = claims[c["id"]]
                    got = c["readings"][0].get("result_a")
                    if got is None:
                        fails.append(f"claims {flags}: no result_a")
                        continue
                    check(f"claims {flags}", est, got, KEYS, fails)
                    counts["claims"] += 1

        # The shipped DeepSeek sweep: the best point per system under each TPOT target is `estimate`
        # with that target at the point's plan and format.
        import h5py
        import numpy as np
        spec = os.path.join(SRC, "configs", "sweeps", "cm384-vs-nvl72-deepseek.toml")
        out = os.path.join(tmp, "ds.h5")
        rc, _, err = run(["sweep", spec, "-o", out, "--quiet"])
        assert rc == 0, err
        with h5py.File(out, "r") as h:
            ax = {k: h["axes"][k][:] for k in h["axes"]}
            labels = {k: [x.decode() if isinstance(x, bytes) else str(x) for x in h["axes"][k].attrs["labels"]]
                      for k in h["axes"] if "labels" in h["axes"][k].attrs}
            met = {k: h["metrics"][k][:] for k in h["metrics"]}
            reason = h["reason"][:]
        for si, sysid in enumerate(labels["system"]):
            for target in sorted(set(ax["tpot_ms"].tolist())):
                ok = (reason == 0) & (ax["system"] == si) & (ax["tpot_ms"] == target)
                if not ok.any():
                    continue
                best = int(np.argmax(np.where(ok, met["tokens_per_s_per_chip"], -1)))
                w = labels["weights"][int(ax["weights"][best])]
                tp = int(ax["tp"][best])
                ep = int(ax["ep"][best])
                inst = int(met["instance_chips"][best]) if "instance_chips" in met else None
                eflags = ["estimate", "--json", "--system", sysid, "--model", "deepseek-v3", "--mode", "decode",
                          "--weights", w, "--kv", w, "--tp", str(tp), "--seq-in", str(int(ax["seq_in"][best])),
                          "--tpot-ms", str(target)]
                if inst:
                    eflags += ["--dp", str(inst // tp)]
                if ep:
                    eflags += ["--ep", str(ep)]
                site = labels["site"][int(ax["site"][best])]
                eflags += ["--site", site]
                rc, o, err = run(eflags)
                if rc != 0:
                    fails.append(f"DeepSeek sweep best {sysid} TPOT {target}: estimate refused: {err}")
                    continue
                res = json.loads(o)["result"]
                if not same(res["tokens_per_s_per_chip"], float(met["tokens_per_s_per_chip"][best])):
                    fails.append(f"DeepSeek sweep best {sysid} TPOT {target}: tokens/s/chip "
                                 f"{met['tokens_per_s_per_chip'][best]} != estimate {res['tokens_per_s_per_chip']}")
                if not same(res["tpot_ms"], float(met["tpot_ms"][best])):
                    fails.append(f"DeepSeek sweep best {sysid} TPOT {target}: TPOT {met['tpot_ms'][best]} != "
                                 f"estimate {res['tpot_ms']}")
    print(counts)
    for f in fails[:40]:
        print("FAIL", f)
    if fails:
        print(f"{len(fails)} mismatches")
        sys.exit(1)
    print("consistent")


if __name__ == "__main__":
    main()
