#!/usr/bin/env bash
# kiln compile --manifest end to end on the digits CNN: four networks (a8_w8 from a config file,
# a16_w16 with config pre-processing, a mixed-precision script, one broken script) x two targets
# with -j 2. Checks statuses, exit codes, report.json, the JUnit XML's required elements, the
# cache (second run, --no-cache, a changed input), stopping without --keep-going, and that
# --shard 1/2 + 2/2 merged equal the single run.
set -euo pipefail
KILN=${1:?usage: check_manifest.sh path/to/kiln}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
mkdir -p models scripts
cp "$ROOT/examples/digits/digits_cnn.onnx" "$ROOT/examples/digits/calib.npy" models/
cp "$ROOT/examples/digits/digits_a16.alls" scripts/
echo "quantization_param(conv2, precision_mode=a16_w16)" > scripts/mix.alls
echo "quantization_param(conv99, precision_mode=a16_w16)" > scripts/broken.alls
cat > models/a8.yaml <<'YAML'
name: a8
onnx: digits_cnn.onnx
calib: calib.npy
YAML
cat > zoo.yaml <<'YAML'
name: digits_zoo
targets: [hailo8, hailo8l]
defaults:
  calib: models/calib.npy
  report_samples: 4
networks:
  - config: models/a8.yaml
  - name: a16
    onnx: models/digits_cnn.onnx
    script: scripts/digits_a16.alls
    preprocessing: {mean: 0, std: 1}
  - name: broken
    onnx: models/digits_cnn.onnx
    script: scripts/broken.alls
  - name: mix
    onnx: models/digits_cnn.onnx
    script: scripts/mix.alls
YAML

fail() { echo "FAIL: $*"; exit 1; }
# run EXPECTED_STATUS ARGS...: runs kiln compile --manifest and checks the exit status.
run() {
  local want=$1; shift
  local rc=0
  "$KILN" compile "$@" >"$WORK/last.out" 2>&1 || rc=$?
  cat "$WORK/last.out"
  [ "$rc" = "$want" ] || fail "kiln compile $* exited with $rc, expected $want"
}

check() {  # check DIR 'python expression over statuses' description
  /usr/bin/python3 - "$@" <<'PY'
import json, sys
d, want = sys.argv[1], json.loads(sys.argv[2])
r = json.load(open(f"{d}/report.json"))
got = {f"{e['network']}/{e['target']}": e["status"] for e in r["results"]}
if got != want:
    sys.exit(f"FAIL: {d}: statuses {got}, expected {want}")
PY
}
statuses() {  # statuses A16 BROKEN OTHERS -> JSON of network/target -> status
  local s="{" n t
  for n in a8 a16 broken mix; do
    for t in hailo8 hailo8l; do
      case $n in a8|mix) st=$3;; a16) st=$1;; broken) st=$2;; esac
      s="$s\"$n/$t\": \"$st\","
    done
  done
  echo "${s%,}}"
}

SECONDS=0
echo "== first run: -j 2 --keep-going"
run 1 --manifest zoo.yaml -j 2 --keep-going --output-dir out
check out "$(statuses ok failed ok)"
/usr/bin/python3 - out <<'PY'
import json, os, sys
import xml.etree.ElementTree as ET
d = sys.argv[1]
r = json.load(open(f"{d}/report.json"))
s = r["summary"]
assert (s["results"], s["ok"], s["failed"], s["cached"], s["skipped"]) == (8, 6, 2, 0, 0), s
assert [e["network"] for e in r["results"]] == ["a8"] * 2 + ["a16"] * 2 + ["broken"] * 2 + ["mix"] * 2
by = {(e["network"], e["target"]): e for e in r["results"]}
for n in ("a8", "a16", "mix"):
    for t in ("hailo8", "hailo8l"):
        e = by[(n, t)]
        assert os.path.getsize(f"{d}/{e['kef']['path']}") == e["kef"]["bytes"], e
        assert e["kef"]["path"] == f"{n}/{t}/{n}.kef" and e["verified_samples"] == 4, e
        assert e["output_snr_db"][0]["output"] == "logits", e
assert by[("a8", "hailo8")]["precision"] == {"a8_w8": 9}
# the generated normalization comes before the script, so {*} covers it too
assert by[("a16", "hailo8")]["precision"] == {"a16_w16": 10}, by[("a16", "hailo8")]["precision"]
assert by[("mix", "hailo8")]["precision"] == {"a16_w16": 1, "a8_w8": 8}
b = by[("broken", "hailo8")]
assert "conv99" in b["error"] and "conv99" in open(f"{d}/{b['log']}").read(), b
assert "conv99" in b["log_tail"], b

# JUnit: the elements and attributes the JUnit schema requires.
root = ET.parse(f"{d}/report.xml").getroot()
assert root.tag == "testsuites", root.tag
assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("8", "2", "0"), root.attrib
suites = root.findall("testsuite")
assert [x.get("name") for x in suites] == ["a8", "a16", "broken", "mix"]
for x in suites:
    for a in ("name", "tests", "failures", "errors", "time", "timestamp", "hostname", "id", "package"):
        assert x.get(a) is not None, (x.get("name"), a)
    float(x.get("time"))
    assert x.find("properties") is not None and x.find("system-out") is not None and x.find("system-err") is not None
    cases = x.findall("testcase")
    assert len(cases) == int(x.get("tests")) == 2
    assert sum(c.find("failure") is not None for c in cases) == int(x.get("failures"))
    for c in cases:
        assert c.get("classname") == x.get("name") and c.get("name") in ("hailo8", "hailo8l")
        float(c.get("time"))
failures = root.findall("testsuite/testcase/failure")
assert len(failures) == 2 and all("conv99" in f.get("message") for f in failures)
print("report.json and report.xml: ok")
PY
sha() { sha256sum out/a8/hailo8/a8.kef | cut -d' ' -f1; }
first_sha=$(sha)

echo "== second run: cached"
run 1 --manifest zoo.yaml -j 2 --keep-going --output-dir out
check out "$(statuses cached failed cached)"
[ "$(sha)" = "$first_sha" ] || fail "a cached network's executable changed"
grep -q "cached  a8" "$WORK/last.out" || fail "no cached line"

echo "== a changed script recompiles that network only"
echo "# changed" >> scripts/mix.alls
run 1 --manifest zoo.yaml -j 2 --keep-going --output-dir out
/usr/bin/python3 - out <<'PY'
import json, sys
r = json.load(open(f"{sys.argv[1]}/report.json"))
st = {e["network"]: e["status"] for e in r["results"]}
assert st == {"a8": "cached", "a16": "cached", "broken": "failed", "mix": "ok"}, st
PY
grep -q "start   mix (changed: script)" "$WORK/last.out" || fail "no 'changed: script'"

echo "== --no-cache"
run 1 --manifest zoo.yaml -j 2 --keep-going --no-cache --output-dir out
check out "$(statuses ok failed ok)"

echo "== without --keep-going, nothing starts after a failure"
cat > stop.yaml <<'YAML'
defaults: {calib: models/calib.npy, targets: [hailo8]}
networks:
  - {name: broken, onnx: models/digits_cnn.onnx, script: scripts/broken.alls}
  - {name: later, onnx: models/digits_cnn.onnx}
YAML
run 1 --manifest stop.yaml -j 1 --output-dir stop
/usr/bin/python3 - stop <<'PY'
import json, sys
import xml.etree.ElementTree as ET
r = json.load(open(f"{sys.argv[1]}/report.json"))
st = [(e["network"], e["status"]) for e in r["results"]]
assert st == [("broken", "failed"), ("later", "skipped")], st
root = ET.parse(f"{sys.argv[1]}/report.xml").getroot()
assert root.get("skipped") == "1" and len(root.findall("testsuite/testcase/skipped")) == 1
PY
[ ! -e stop/later/result.json ] || fail "a skipped network ran"

echo "== --shard 1/2 + 2/2, merged, equal the single run"
run 1 --manifest zoo.yaml --shard 1/2 -j 2 --keep-going --output-dir shard1
run 0 --manifest zoo.yaml --shard 2/2 -j 2 --keep-going --output-dir shard2
rc=0; "$KILN" report merge shard1/report.json shard2/report.json --output-dir merged || rc=$?
[ "$rc" = 1 ] || fail "report merge exited with $rc, expected 1 (a network failed)"
/usr/bin/python3 - out merged shard1 <<'PY'
import json, sys
import xml.etree.ElementTree as ET
def norm(d):
    r = json.load(open(f"{d}/report.json"))
    out = []
    for e in r["results"]:
        e = {k: v for k, v in e.items() if k not in ("seconds", "log_tail")}
        if e["status"] == "cached":
            e["status"] = "ok"
        out.append(e)
    return r, out
single, a = norm(sys.argv[1])
merged, b = norm(sys.argv[2])
shard1, _ = norm(sys.argv[3])
assert [e["network"] for e in json.load(open(f"{sys.argv[3]}/report.json"))["results"]] == ["a8"] * 2 + ["broken"] * 2
if a != b:
    for x, y in zip(a, b):
        if x != y:
            print("single:", x, "\nmerged:", y)
    sys.exit("FAIL: the merged report differs from the single run's")
assert merged["summary"] == single["summary"] | {"ok": 6, "cached": 0}, (merged["summary"], single["summary"])
assert merged["shards"] == ["1/2", "2/2"] and merged["summary"]["missing"] == []
ET.parse(f"{sys.argv[2]}/report.xml")
print("merged == single run")
PY
rc=0; "$KILN" report merge shard1/report.json --output-dir partial >/dev/null || rc=$?
[ "$rc" = 1 ] || fail "merging one shard of two should fail"
grep -q '"missing": \[' partial/report.json
/usr/bin/python3 -c "
import json; m = json.load(open('partial/report.json'))['summary']['missing']
assert m == ['a16', 'mix'], m"

echo "== config errors stop nothing but their network"
cat > bad.yaml <<'YAML'
targets: [hailo8]
networks:
  - {name: good, onnx: models/digits_cnn.onnx, calib: models/calib.npy}
  - {name: typo, onnx: models/digits_cnn.onnx, calib: models/calib.npy, calib_sise: 3}
YAML
run 1 --manifest bad.yaml --keep-going --output-dir badrun
grep -q "bad.yaml:4:73: unknown key 'calib_sise'" badrun/report.json || fail "no file:line for the bad key"
check badrun '{"good/hailo8": "ok", "typo/hailo8": "failed"}'

echo "all manifest checks passed in ${SECONDS} s"
