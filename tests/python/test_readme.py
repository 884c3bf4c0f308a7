"""Every command in README.md's ```sh blocks runs as written and exits 0.

The commands run in a scratch directory that looks like a fresh checkout after the README's build
(build/, hwdb/, configs/, scripts/, validation/, ... linked from the tree), so that files they write
(out.h5, plots/, report.html) stay out of the source tree. A `make` line is the build and test entry
point itself and is not re-run from inside the test suite. ```python blocks run with this interpreter
and PYTHONPATH=build/python, as the README states.
Environment: PODPERF_SOURCE, PODPERF_BUILD, README_SCRATCH."""
import os
import re
import shutil
import subprocess
import sys

SRC = os.environ["PODPERF_SOURCE"]
BUILD = os.environ["PODPERF_BUILD"]
SCRATCH = os.path.abspath(os.environ.get("README_SCRATCH") or "readme-scratch")


def blocks(text, lang):
    return re.findall(r"^```" + lang + r"[ \t]*\n(.*?)^```", text, flags=re.S | re.M)


def commands(block):
    """Lines of a sh block, joining backslash continuations and dropping comments."""
    out, cur = [], ""
    for line in block.splitlines():
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        cur += line
        cmd = cur.strip()
        cur = ""
        if cmd and not cmd.startswith("#"):
            out.append(cmd)
    return out


def main():
    readme = open(os.path.join(SRC, "README.md"), encoding="utf-8").read()
    shutil.rmtree(SCRATCH, ignore_errors=True)
    os.makedirs(SCRATCH)
    for name in os.listdir(SRC):
        if name.startswith(".") or name in ("build", "README.md") or name.startswith("build"):
            continue
        os.symlink(os.path.join(SRC, name), os.path.join(SCRATCH, name))
    os.symlink(BUILD, os.path.join(SCRATCH, "build"))
    env = dict(os.environ)
    env["PATH"] = "/usr/bin:/bin"  # what a fresh Debian machine has; no pyenv ahead of Debian's python3
    failures, ran = [], 0
    # A build without the Python module (PODPERF_PYTHON=OFF, e.g. the sanitizer build) skips what needs it.
    module = os.environ.get("PODPERF_PYTHON_MODULE", "ON").upper() in ("ON", "1", "TRUE", "YES")
    for block in blocks(readme, "sh"):
        for cmd in commands(block):
            if re.match(r"^(sudo\s+)?make\b", cmd):
                continue
            if not module and "import podperf" in cmd:
                print(f"[skipped: no Python module in this build] {cmd}")
                continue
            ran += 1
            r = subprocess.run(["bash", "-c", cmd], cwd=SCRATCH, env=env, capture_output=True, text=True, timeout=600)
            status = "ok" if r.returncode == 0 else f"exit {r.returncode}"
            print(f"[{status}] {cmd}")
            if r.returncode != 0:
                failures.append(f"{cmd}: exit {r.returncode}: {(r.stderr or r.stdout).strip()[-500:]}")
    penv = dict(env, PYTHONPATH=os.path.join(SCRATCH, "build", "python"))
    for block in blocks(readme, "python") if module else []:
        ran += 1
        r = subprocess.run(["/usr/bin/python3", "-c", block], cwd=SCRATCH, env=penv, capture_output=True, text=True,
                           timeout=600)
        print(f"[{'ok' if r.returncode == 0 else 'exit %d' % r.returncode}] python block: {block.splitlines()[0]}")
        if r.returncode != 0:
            failures.append(f"python block {block.splitlines()[0]!r}: {r.stderr.strip()[-500:]}")
    print(f"{ran} README commands, {len(failures)} failed")
    for f in failures:
        print("FAILED:", f)
    return 1 if failures or ran == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
