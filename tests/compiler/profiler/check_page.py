#!/usr/bin/env python3
"""Checks a kiln profiler page in headless Chromium (tests/compiler/profiler/check_report.sh).

  check_page.py CHROMIUM REPORT.html LAYERS SCREENSHOT_DIR NAME

Static checks (the page without JavaScript): one Graphviz node per layer with the ids
layer_0 .. layer_(LAYERS-1), every view's <section>, the embedded data. Then Chromium loads the
page (--dump-dom after the script ran): the script's marker data-kiln-ready="yes" is set, no
console message was logged (errors and warnings print as CONSOLE lines with --enable-logging),
every view has its content, and each view is screenshot (NAME-<view>.png in SCREENSHOT_DIR;
NAME "-": no screenshots).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

VIEWS = ["model", "optimization", "compilation", "runtime", "noise"]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def chromium(binary, args, url, timeout=120):
    profile = tempfile.mkdtemp(prefix="kiln-chromium-")
    try:
        cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + profile,
               "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000"] + args + [url]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def main():
    binary, page, layers, shots, name = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    html = open(page, encoding="utf-8").read()

    # ---- without JavaScript ----
    ids = re.findall(r'<g id="(layer_\d+)" class="node layer"', html)
    want = ["layer_%d" % i for i in range(layers)]
    if sorted(ids) != sorted(want):
        fail("%s: %d graph nodes for %d layers (static SVG)" % (page, len(ids), layers))
    for v in VIEWS:
        if '<section id="%s" class="view">' % v not in html:
            fail("%s: no %s view" % (page, v))
    rows = html.count('<tr data-layer="')
    if rows != layers:
        fail("%s: the layer table has %d rows for %d layers" % (page, rows, layers))
    m = re.search(r'<script type="application/json" id="kiln-data">(.*?)</script>', html, re.S)
    if not m:
        fail(page + ": no embedded data")
    data = json.loads(m.group(1))
    if data.get("kind") != "kiln-profile" or len(data["model"]["layers"]) != layers:
        fail(page + ": embedded data is not the model's")
    if data.get("runtime") and data.get("executable"):
        ops, timed = len(data["executable"]["operations"]), len(data["runtime"]["profile"])
        if ops != timed:
            fail("%s: the runtime profile times %d of %d operations" % (page, timed, ops))
    if re.search(r'(src|href)="(https?:)?//', html):
        fail(page + ": the page refers to a network resource")

    # ---- with JavaScript ----
    url = "file://" + os.path.abspath(page)
    rc, dom, err = chromium(binary, ["--dump-dom"], url)
    if rc != 0:
        fail("chromium --dump-dom exited with %d:\n%s" % (rc, err[-3000:]))
    console = [l for l in err.splitlines() if "CONSOLE" in l]
    if console:
        fail("console messages while loading %s:\n%s" % (page, "\n".join(console)))
    if 'data-kiln-ready="yes"' not in dom:
        fail(page + ": the page's script did not finish (no data-kiln-ready marker)\n" + err[-3000:])
    nodes = set(re.findall(r'<g id="(layer_\d+)" class="node layer', dom))
    if nodes != set(want):
        fail("%s: %d graph nodes for %d layers after the script ran" % (page, len(nodes), layers))
    # Every view the data has drew its chart.
    charts = {"optimization": ["snr-chart", "range-chart"], "compilation": ["context-chart"],
              "runtime": ["runtime-type-chart", "runtime-op-chart"], "noise": ["noise-chart"]}
    if data.get("executable"):
        charts["compilation"].append("arena-chart")
    key = {"optimization": "optimization", "compilation": "compilation", "runtime": "runtime",
           "noise": "noise"}
    for view, ids_ in charts.items():
        if not data.get(key[view]):
            continue
        for cid in ids_:
            if not re.search(r'<div id="%s" class="chart"><svg' % cid, dom):
                fail("%s: the %s view has no %s chart after the script ran" % (page, view, cid))

    # ---- screenshots of each view (NAME "-": none) ----
    if name == "-":
        print("ok: %s: %d layers, %d views" % (page, layers, len(VIEWS)))
        return
    os.makedirs(shots, exist_ok=True)
    for v in VIEWS:
        png = os.path.join(shots, "%s-%s.png" % (name, v))
        if os.path.exists(png):
            os.remove(png)
        rc, _, err = chromium(binary, ["--screenshot=" + png, "--window-size=1400,1000",
                                       "--hide-scrollbars"], url + "#" + v)
        if rc != 0 or not os.path.exists(png):
            fail("chromium --screenshot of the %s view failed (%d):\n%s" % (v, rc, err[-2000:]))
        with open(png, "rb") as f:
            if f.read(8) != b"\x89PNG\r\n\x1a\n":
                fail(png + " is not a PNG")
    print("ok: %s: %d layers, %d views, screenshots in %s" % (page, layers, len(VIEWS), shots))


if __name__ == "__main__":
    main()
