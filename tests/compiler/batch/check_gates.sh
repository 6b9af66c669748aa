#!/usr/bin/env bash
# Quality gates (expect:) end to end on the digits CNN: a manifest with a good network and a
# deliberately broken one (calibrated on inputs scaled by 0.05, so the real inputs clip and the
# quantized build guesses). The broken one compiles but misses max_accuracy_drop: a failed JUnit
# test case of type kiln.quality_gate with the figure in its message, report.json with the
# figures and gates_failed 1, the summary line saying so, exit status 1. kiln eval on the same
# configs: the good one passes (exit 0) with float's own accuracy, the broken one exits 1.
set -euo pipefail
KILN=${1:?usage: check_gates.sh path/to/kiln}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
D="$ROOT/examples/digits"
/usr/bin/python3 -c "
import numpy as np
np.save('dim.npy', (np.load('$D/calib.npy') * 0.05).astype(np.float32))"
common="  eval: {data: $D/test_x.npy, labels: $D/test_y.npy, outputs: {logits: {kind: classes}}}
    expect: {max_accuracy_drop: 0.01}"
cat > zoo.yaml <<YAML
name: gates
targets: [hailo8]
defaults: {report_samples: 2}
networks:
  - name: good
    onnx: $D/digits_cnn.onnx
    calib: $D/calib.npy
  $common
  - name: broken
    onnx: $D/digits_cnn.onnx
    calib: dim.npy
  $common
YAML
fail() { echo "FAIL: $*"; exit 1; }
rc=0; "$KILN" compile --manifest zoo.yaml --keep-going --output-dir out >log.txt 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat log.txt; fail "a missed gate must exit 1, got $rc"; }
grep -q "1 ok, 0 cached, 1 failed, 0 skipped (1 of them by a quality gate)" log.txt ||
  { cat log.txt; fail "summary line"; }
/usr/bin/python3 - out/report.json out/report.xml <<'PY'
import json, sys, xml.etree.ElementTree as ET
r = json.load(open(sys.argv[1]))
assert r["summary"]["gates_failed"] == 1, r["summary"]
by = {e["network"]: e for e in r["results"]}
assert by["good"]["status"] == "ok" and by["good"]["eval"]["passed"], by["good"]
assert by["broken"]["status"] == "failed" and by["broken"]["gate_failed"], by["broken"]
g = by["broken"]["eval"]["gates"][0]
assert g["key"] == "max_accuracy_drop" and not g["passed"] and g["figure"] > 0.5, g
assert "kef" in [t["target"] for t in by["broken"]["eval"]["targets"]]
cases = {c.get("classname"): c for c in ET.parse(sys.argv[2]).getroot().iter("testcase")}
f = cases["broken"].find("failure")
assert f is not None and f.get("type") == "kiln.quality_gate", ET.tostring(cases["broken"])
assert "max_accuracy_drop 0.01" in f.get("message") and "accuracy_drop 0.8" in f.get("message"), f.get("message")
assert cases["good"].find("failure") is None
print("report.json and report.xml:", f.get("message"))
PY
# kiln eval: the same configs as files.
printf 'name: good\nonnx: %s\ncalib: %s\neval:\n  data: %s\n  labels: %s\n  outputs: {logits: {kind: classes}}\nexpect: {max_accuracy_drop: 0.01}\n' \
  "$D/digits_cnn.onnx" "$D/calib.npy" "$D/test_x.npy" "$D/test_y.npy" > good.yaml
sed "s|^calib: .*|calib: $WORK/dim.npy|; s|^name: good|name: broken|" good.yaml > broken.yaml
"$KILN" eval good.yaml --targets quantized,kef --output-dir ev >ev.log 2>&1 || { cat ev.log; fail "kiln eval good"; }
grep -q "accuracy 0.9972" ev.log || { cat ev.log; fail "float accuracy of the digits test set"; }
[ -f ev/good.eval.json ] || fail "no good.eval.json"
rc=0; "$KILN" eval broken.yaml --output-dir ev2 >ev2.log 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat ev2.log; fail "kiln eval on the broken network must exit 1, got $rc"; }
grep -q "FAIL max_accuracy_drop 0.01: output 'logits' on quantized has accuracy_drop" ev2.log ||
  { cat ev2.log; fail "kiln eval table"; }
# --size N: the first N samples, scored against the first N labels of the file.
"$KILN" eval good.yaml --size 50 --output-dir ev3 >ev3.log 2>&1 || { cat ev3.log; fail "kiln eval --size 50"; }
grep -q "decisions 50" ev3.log || { cat ev3.log; fail "kiln eval --size 50 decisions"; }
echo "1 passed, 0 failed"
