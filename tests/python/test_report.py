"""podperf report: one self-contained HTML page that headless Chromium renders.

Writes the report, checks that it references nothing outside itself, opens it in Debian's headless
chromium, takes a screenshot (not blank) and checks that the rendered DOM shows the key figures of
`compare --json`. Exit 77 (skipped) only when chromium is not installed.
Environment: PODPERF_BINARY, REPORT_OUT (a directory kept for inspection)."""
import json
import math
import os
import re
import shutil
import subprocess
import sys

BINARY = os.environ["PODPERF_BINARY"]
OUT = os.environ.get("REPORT_OUT") or "report-test"
FLAGS = ["--samples", "50"]


def podperf_num(v, digits=4):
    """The CLI's number format (table.hpp num + group_digits), written out independently."""
    if v != 0 and (abs(v) >= 1e7 or abs(v) < 1e-3):
        s = "%.*g" % (digits, v)
    elif abs(v) >= 10 ** digits:
        s = "%.0f" % v
    else:
        s = "%.*g" % (digits, v)
    m = re.fullmatch(r"(-?)(\d{4,})(\.\d+)?", s)
    if m:
        s = m.group(1) + f"{int(m.group(2)):,}" + (m.group(3) or "")
    return s


def main():
    os.makedirs(OUT, exist_ok=True)
    html = os.path.abspath(os.path.join(OUT, "report.html"))
    r = subprocess.run([BINARY, "report", "cloudmatrix-384", "gb200-nvl72", *FLAGS, "-o", html],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(html + ".part"), "temporary file left behind"
    page = open(html, encoding="utf-8").read()
    for bad in ("http://", "https://", "<script", "<link", "<img", "url(", "@import", "src="):
        assert bad not in page, f"the report references something outside itself: {bad}"
    assert page.count("<svg") >= 5, "expected the tornado, cost, frontier, power and cost charts"

    c = json.loads(subprocess.run([BINARY, "compare", "cloudmatrix-384", "gb200-nvl72", *FLAGS, "--json"],
                                  capture_output=True, text=True, check=True).stdout)
    key = {row["key"]: row for row in c["rows"]}
    figures = []
    for k in ("usd_per_mtok", "tokens_per_s", "tokens_per_s_per_chip", "all_in_power_kw", "capex_musd"):
        for side in ("a", "b"):
            if isinstance(key[k][side], float) and math.isfinite(key[k][side]):
                figures.append(podperf_num(key[k][side]))
    for f in figures:
        assert f in page, f"figure {f} missing from the page"

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("chromium not installed: browser checks skipped (apt-get install chromium)")
        return 77
    base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=" + os.path.abspath(os.path.join(OUT, "chromium-profile"))]
    dom = subprocess.run(base + ["--dump-dom", "file://" + html], capture_output=True, text=True, timeout=180)
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = re.sub(r"<[^>]+>", " ", dom.stdout)
    for f in figures:
        assert f in text, f"figure {f} not in the rendered DOM"
    assert "Cost per million tokens against electricity price" in text
    shot = os.path.abspath(os.path.join(OUT, "report.png"))
    if os.path.exists(shot):
        os.remove(shot)
    s = subprocess.run(base + ["--screenshot=" + shot, "--window-size=1200,2400", "--hide-scrollbars",
                               "file://" + html], capture_output=True, text=True, timeout=180)
    assert s.returncode == 0 and os.path.exists(shot), s.stderr[-2000:]
    from PIL import Image
    img = Image.open(shot).convert("RGB")
    px = img.getdata()
    non_white = sum(1 for p in px if sum(p) < 720)
    colours = len(img.getcolors(maxcolors=1 << 20) or [])
    share = non_white / (img.width * img.height)
    print(f"screenshot {img.width}x{img.height}: {share:.1%} non-white pixels, {colours} colours")
    assert share > 0.02, "the page renders (almost) blank"
    assert colours > 20, "the page renders without charts"
    # The two systems' series colours of the charts are on screen.
    rgb = set(px)
    for hexcol in ("c0392b", "2c6fbb"):
        want = tuple(int(hexcol[i:i + 2], 16) for i in (0, 2, 4))
        assert any(all(abs(a - b) <= 8 for a, b in zip(p, want)) for p in rgb), f"no #{hexcol} in the screenshot"
    print("report OK:", html)
    return 0


if __name__ == "__main__":
    sys.exit(main())
