"""podperf report: one self-contained HTML page that headless Chromium renders, at phone and desktop width.

Writes three reports (a pair that both serve; a pair where one side fits in memory but misses its TPOT
target; a pair where one side does not fit in memory) with `--json`, and checks:
  - the page references nothing outside itself and states the question (model, mode, target, request
    shape, sites, precisions, stacks, plans) with product names beside their ids;
  - a missing value is shown as missing with its reason, never as a range, and "does not fit" only
    when the side does not fit in memory;
  - in headless Chromium at 390 px and 1400 px wide: no element's box leaves the viewport (nothing
    scrolls sideways), and every number on the page (each carries data-metric, its path in the
    report's JSON, and data-value) equals the JSON and is written in the page's number format;
  - a screenshot is not blank and shows both systems' colours.
Exit 77 (skipped) only when chromium is not installed; the checks that need no browser run first.
Environment: PODPERF_BINARY, REPORT_OUT (a directory kept for inspection)."""
import html as html_lib
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
WIDTHS = (390, 1400)
CASES = {
    # name: (A, B, flags, what A shows)
    "both": ("cloudmatrix-384", "gb200-nvl72", FLAGS, None),
    "target": ("cloudmatrix-384", "gb200-nvl72", FLAGS + ["--tpot-ms", "20"], None),
    "memory": ("hgx-h100", "gb200-nvl72", FLAGS + ["--model", "deepseek-v3"], "memory"),
}

# Measures every element against the viewport and collects every number the page shows.
MEASURE = r"""(() => {
  const vw = document.documentElement.clientWidth, out = {innerWidth: window.innerWidth, clientWidth: vw,
    scrollWidth: document.documentElement.scrollWidth, overflow: [], figures: [], checked: 0};
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    out.checked++;
    if (r.left < -0.5 || r.right > vw + 0.5)
      out.overflow.push({tag: el.tagName, cls: el.getAttribute('class'), text: (el.textContent || '').slice(0, 60),
                         left: r.left, right: r.right});
  }
  for (const el of document.querySelectorAll('[data-metric]'))
    out.figures.push({path: el.dataset.metric, value: el.dataset.value === undefined ? null : el.dataset.value,
                      missing: el.dataset.missing || null, digits: el.dataset.digits ? +el.dataset.digits : 4,
                      text: el.textContent});
  return JSON.stringify(out);
})()"""


class Browser:
    """Headless chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe): the
    viewport is set by device-metrics emulation, so any width can be measured."""

    def __init__(self, chromium, profile):
        r_cmd, w_cmd = os.pipe()   # we write commands, chromium reads fd 3
        r_evt, w_evt = os.pipe()   # chromium writes fd 4, we read
        def fds():  # the pipe ends at fds 3 and 4 of chromium (moved first: a pipe end may already be 3 or 4)
            a, b = os.dup(r_cmd), os.dup(w_evt)
            os.dup2(a, 3)
            os.dup2(b, 4)
        self.proc = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                      "--no-first-run", "--hide-scrollbars", "--remote-debugging-pipe",
                                      "--user-data-dir=" + profile, "about:blank"],
                                     close_fds=False, preexec_fn=fds, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        os.close(r_cmd)
        os.close(w_evt)
        self.out = os.fdopen(w_cmd, "wb", buffering=0)
        self.inp = os.fdopen(r_evt, "rb", buffering=0)
        self.buf = b""
        self.next_id = 0
        self.events = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)

    def _read(self):
        while b"\0" not in self.buf:
            chunk = self.inp.read(1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, session=False, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        self.out.write(json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method):
        while True:
            for k, m in enumerate(self.events):
                if m.get("method") == method:
                    del self.events[k]
                    return m
            self.events.append(self._read())

    def open(self, url, width, height=2000):
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=width, height=height, deviceScaleFactor=1,
                  mobile=False)
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression):
        r = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        return r["result"]["value"]

    def screenshot(self, path):
        import base64
        r = self.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:
            pass
        self.proc.wait(timeout=30)


def podperf_num(v, digits=4):
    """The page's number format (report.hpp report_number), written out independently."""
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


def at(doc, path):
    """The value at a '/'-separated path of the report's JSON (KeyError when absent)."""
    for part in path.split("/"):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def write_report(name, a, b, flags):
    html = os.path.abspath(os.path.join(OUT, f"report-{name}.html"))
    r = subprocess.run([BINARY, "report", a, b, *flags, "-o", html, "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(html + ".part"), "temporary file left behind"
    return html, json.loads(r.stdout)


def static_checks(name, html, j, missing_a):
    page = open(html, encoding="utf-8").read()
    for bad in ("http://", "https://", "<script", "<link", "<img", "url(", "@import", "src="):
        assert bad not in page, f"{name}: the report references something outside itself: {bad}"
    both_fit = j["views"][0]["a"]["fits"] and j["views"][0]["b"]["fits"]
    assert page.count("<svg") >= (4 if both_fit else 2), f"{name}: expected the tornado, cost, power and cost charts"
    assert "viewBox" in page and 'width="640"' not in page, f"{name}: charts must scale with their viewBox"
    text = re.sub(r"<[^>]+>", " ", page)
    v = j["views"][0]
    q = j["question"]
    # The question: model, mode, request shape, and per side names with ids, site, stack, precision, plan.
    assert q["model_name"] in text and q["model"] in text, f"{name}: model name and id"
    assert podperf_num(q["seq_in"]) in text and podperf_num(q["seq_out"]) in text, f"{name}: request shape"
    if q.get("tpot_ms"):
        assert "TPOT at most" in text, f"{name}: the TPOT target is stated"
    for side in ("a", "b"):
        s = v[side]
        for want in (s["name"], s["id"], s["chip_name"], s["site"]["id"], s["stack"], s["precision"]):
            assert want in page or want in text, f"{name}: {side} {want!r} not on the page"
    assert "How podperf did on these chips" in text, f"{name}: validation panel"
    shown = re.search(r'<p id="verdict">(.*?)</p>', page, re.S)
    assert shown and html_lib.unescape(re.sub(r"<[^>]+>", "", shown.group(1))) == v["verdict"]["text"], \
        f"{name}: the verdict on the page is not the JSON's"
    # Missing values: no range, the reason named, and "does not fit" only when memory is the reason.
    for side in ("a", "b"):
        s = v[side]
        if s["fits"]:
            continue
        row = v["rows"]["usd_per_mtok"]
        assert row[side] is None and row["ratio"] is None and row["ratio_low"] is None, f"{name}: a missing value has a range"
        cell = re.search(r'data-metric="views/0/rows/usd_per_mtok/%s" data-missing="([a-z_]+)">([^<]*)<' % side, page)
        assert cell, f"{name}: the missing cost of {side} is not marked"
        assert cell.group(1) == s["missing"], f"{name}: missing reason {cell.group(1)} != {s['missing']}"
        if s["missing"] == "memory":
            assert "does not fit" in cell.group(2)
        else:
            assert "does not fit" not in cell.group(2), f"{name}: 'does not fit' for a side that fits ({s['reason']})"
    if missing_a:
        assert v["a"]["missing"] == missing_a, f"{name}: A should be missing for {missing_a}, is {v['a']['missing']!r}"
    # The range column never shows a range for a row without both values.
    for key, row in v["rows"].items():
        if row["a"] is None or row["b"] is None:
            assert row["ratio_low"] is None and f'views/0/rows/{key}/ratio_low' not in page, f"{name}: range for missing {key}"


def browser(name, html, j, b):
    shown_rows = [k for k, r in j["views"][0]["rows"].items() if r["shown"]]
    for width in WIDTHS:
        b.open("file://" + html, width)
        r = json.loads(b.evaluate(MEASURE))
        assert r["innerWidth"] == width, f"{name}: viewport {r['innerWidth']} px, asked {width}"
        print(f"{name} at {width}px: {r['checked']} element boxes, {len(r['overflow'])} outside the viewport, "
              f"page {r['scrollWidth']} px wide, {len(r['figures'])} figures")
        for o in r["overflow"][:10]:
            print("  overflow:", o)
        assert not r["overflow"], f"{name} at {width}px: {len(r['overflow'])} elements leave the viewport"
        assert r["scrollWidth"] <= r["clientWidth"], f"{name} at {width}px: the page scrolls sideways"
        seen = set()
        for fig in r["figures"]:
            path = fig["path"]
            seen.add(path)
            want = at(j, path)
            if fig["value"] is None:
                assert want is None, f"{name}: {path} shown missing ({fig['text']}) but the JSON has {want}"
                continue
            got = float(fig["value"])
            assert isinstance(want, (int, float)) and not isinstance(want, bool), f"{name}: {path} is {want!r} in the JSON"
            assert math.isclose(got, want, rel_tol=1e-12, abs_tol=0), f"{name}: {path} page {got} != JSON {want}"
            assert fig["text"] == podperf_num(want, fig["digits"]), f"{name}: {path} written {fig['text']!r}, value {want}"
        for key in shown_rows:
            for side in ("a", "b"):
                assert f"views/0/rows/{key}/{side}" in seen, f"{name}: row {key} {side} is not on the page"
        shot = os.path.abspath(os.path.join(OUT, f"report-{name}-{width}.png"))
        b.screenshot(shot)
    return shot


def main():
    os.makedirs(OUT, exist_ok=True)
    reports = {}
    for name, (a, b, flags, missing_a) in CASES.items():
        html, j = write_report(name, a, b, flags)
        static_checks(name, html, j, missing_a)
        reports[name] = (html, j)
    # The target case must be what it is named for: a side that fits but misses its TPOT target.
    tv = reports["target"][1]["views"][0]
    assert "tpot_target" in (tv["a"]["missing"], tv["b"]["missing"]), "no side misses the 20 ms TPOT target"

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("chromium not installed: browser checks skipped (apt-get install chromium)")
        return 77
    shot = None
    b = Browser(chromium, os.path.abspath(os.path.join(OUT, "chromium-profile")))
    try:
        for name, (html, j) in reports.items():
            s = browser(name, html, j, b)
            shot = shot or s
    finally:
        b.close()
    from PIL import Image
    img = Image.open(shot).convert("RGB")
    px = img.getdata()
    non_white = sum(1 for p in px if sum(p) < 720)
    colours = len(img.getcolors(maxcolors=1 << 20) or [])
    share = non_white / (img.width * img.height)
    print(f"screenshot {img.width}x{img.height}: {share:.1%} non-white pixels, {colours} colours")
    assert share > 0.02, "the page renders (almost) blank"
    assert colours > 20, "the page renders without charts"
    rgb = set(px)
    for hexcol in ("c0392b", "2c6fbb"):
        want = tuple(int(hexcol[i:i + 2], 16) for i in (0, 2, 4))
        assert any(all(abs(a - b) <= 8 for a, b in zip(p, want)) for p in rgb), f"no #{hexcol} in the screenshot"
    print("report OK:", OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
