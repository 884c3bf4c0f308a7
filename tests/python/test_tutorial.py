"""docs/tutorial.md as a test: every command runs as written, in order, and answers its question.

The commands run in a scratch directory laid out like a fresh checkout after the README's build (the same
layout as the README test), so `cp -r hwdb my-hwdb` and the files the tutorial writes stay out of the tree.
Each command must exit 0, print no "nan" and no "NO RESULT"; the commands that answer a question are then
read for their answer (a cost per token on both sides, a TPOT within its target, files written, the
parameter count of a new model).
Environment: PODPERF_SOURCE, PODPERF_BUILD, TUTORIAL_SCRATCH."""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_readme import blocks, commands as plain_commands  # noqa: E402  (one reader of ```sh blocks)

SRC = os.environ["PODPERF_SOURCE"]
BUILD = os.environ["PODPERF_BUILD"]
SCRATCH = os.path.abspath(os.environ.get("TUTORIAL_SCRATCH") or "tutorial-scratch")


def commands(block):
    """The README reader's commands, with a here-document kept whole with the line that opens it."""
    out, lines = [], block.splitlines()
    i = 0
    while i < len(lines):
        m = re.search(r"<<-?\s*'?\"?(\w+)'?\"?", lines[i])
        if m:
            end = lines.index(m.group(1), i + 1)
            out.append("\n".join(lines[i:end + 1]))
            i = end + 1
        else:
            out.extend(plain_commands(lines[i]) if not lines[i].rstrip().endswith("\\") else [])
            if lines[i].rstrip().endswith("\\"):  # a continued command: hand the run to the README reader
                j = i
                while lines[j].rstrip().endswith("\\"):
                    j += 1
                out.extend(plain_commands("\n".join(lines[i:j + 1])))
                i = j
            i += 1
    return out


def number(text):
    return float(text.replace(",", ""))


def row(out, label):
    """The values of the first text table row whose label starts with `label`, or None."""
    for line in out.splitlines():
        m = re.match(re.escape(label) + r"[A-Za-z ]*?\s{2,}(.*)$", line)
        if m:
            return m.group(1).split()
    return None


def check_compare(cmd, out):
    vals = row(out, "TCO USD per million")
    assert vals and len(vals) >= 3, "no cost row"
    number(vals[0]), number(vals[1])  # both sides priced: a value, not '-'


def check_decode_target(cmd, out):
    target = float(re.search(r"--tpot-ms ([0-9.]+)", cmd).group(1))
    if "--json" in cmd:
        tpot = json.loads(out)["tpot_ms"]
    else:
        m = re.search(r"^\s*TPOT ms\s+([0-9.]+)", out, flags=re.M) or re.search(r"TPOT[^0-9\n]*([0-9.]+) ms", out)
        assert m, "no TPOT printed"
        tpot = float(m.group(1))
    assert 0 < tpot <= target, f"TPOT {tpot} ms against a {target} ms target"


def check_breakeven(cmd, out):
    assert "USD/kWh" in out or "electricity" in out, "no break-even price"


def check_models_show(cmd, out):
    m = re.search(r"([0-9.]+)\s*B", out)
    assert m and 7.5 < float(m.group(1)) < 8.5, "computed parameter count of Llama 3.1 8B not near 8.0 B"


CHECKS = [
    (r"compare cloudmatrix-384 gb200-nvl72 .*--sensitivity", check_compare),
    (r"breakeven ", check_breakeven),
    (r"estimate .*--mode decode --tpot-ms", check_decode_target),
    (r"models show llama3-8b", check_models_show),
]
FILES = [(r"report .* -o (\S+)", "{}"), (r"sweep .* -o (\S+)", "{}"), (r"plot .* --outdir (\S+)", "{}")]


def main():
    text = open(os.path.join(SRC, "docs", "tutorial.md"), encoding="utf-8").read()
    shutil.rmtree(SCRATCH, ignore_errors=True)
    os.makedirs(SCRATCH)
    for name in os.listdir(SRC):
        if name.startswith(".") or name.startswith("build"):
            continue
        # What the tutorial copies and edits is a real copy: `cp -r` of a link would edit the tree itself.
        if name in ("hwdb", "configs"):
            shutil.copytree(os.path.join(SRC, name), os.path.join(SCRATCH, name))
        else:
            os.symlink(os.path.join(SRC, name), os.path.join(SCRATCH, name))
    os.symlink(BUILD, os.path.join(SCRATCH, "build"))
    env = dict(os.environ, PATH="/usr/bin:/bin")
    penv = dict(env, PYTHONPATH=os.path.join(SCRATCH, "build", "python"))
    module = os.environ.get("PODPERF_PYTHON_MODULE", "ON").upper() in ("ON", "1", "TRUE", "YES")
    failures, ran = [], 0
    # The tutorial's blocks in the order they appear: sh and python interleaved.
    pieces = [(m.start(), "sh", b) for m, b in ((m, m.group(1)) for m in re.finditer(
        r"^```sh[ \t]*\n(.*?)^```", text, flags=re.S | re.M))]
    pieces += [(m.start(), "python", m.group(1)) for m in re.finditer(r"^```python[ \t]*\n(.*?)^```", text,
                                                                      flags=re.S | re.M)]
    assert blocks(text, "sh"), "the tutorial has no commands"
    for _, lang, block in sorted(pieces):
        if lang == "python":
            if not module:
                continue
            steps = [("/usr/bin/python3 -c <block>", ["/usr/bin/python3", "-c", block], penv)]
        else:
            steps = [(c, ["bash", "-c", c], env) for c in commands(block)]
        for cmd, argv, e in steps:
            ran += 1
            r = subprocess.run(argv, cwd=SCRATCH, env=e, capture_output=True, text=True, timeout=900)
            problem = None
            if r.returncode != 0:
                problem = f"exit {r.returncode}: {(r.stderr or r.stdout).strip()[-400:]}"
            elif re.search(r"\bnan\b", r.stdout, flags=re.I) or "NO RESULT" in r.stdout:
                problem = "printed nan or NO RESULT"
            else:
                try:
                    for pattern, check in CHECKS:
                        if re.search(pattern, cmd):
                            check(cmd, r.stdout)
                    for pattern, _ in FILES:
                        m = re.search(pattern, cmd)
                        if m:
                            p = os.path.join(SCRATCH, m.group(1))
                            assert os.path.exists(p) and (os.path.isdir(p) and os.listdir(p) or
                                                          os.path.isfile(p) and os.path.getsize(p) > 0), f"{p} not written"
                    if lang == "python":
                        assert r.stdout.strip(), "printed nothing"
                except (AssertionError, ValueError, KeyError, json.JSONDecodeError) as exc:
                    problem = f"wrong answer: {exc}"
            print(f"[{'ok' if problem is None else 'FAIL'}] {cmd.splitlines()[0][:140]}")
            if problem:
                failures.append(f"{cmd.splitlines()[0][:140]}: {problem}")
    print(f"{ran} tutorial commands, {len(failures)} failed")
    for f in failures:
        print("FAILED:", f)
    return 1 if failures or ran == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
