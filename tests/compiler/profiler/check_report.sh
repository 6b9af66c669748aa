#!/usr/bin/env bash
# kiln profiler and kiln visualizer end to end, in headless Chromium:
#  - the digits CNN compiled with `kiln compile --report-html` (mixed a8/a16 precision), profiled
#    by `kilnrt run --profile --json`, with a hand-made noise analysis: `kiln profiler` with every
#    input; BlazeFace the same way when the model is in the cache (or can be fetched);
#  - each page: one graph node per layer, every view, no console messages, the script ran, a
#    screenshot of each view (build/tests/profiler/screenshots/);
#  - kiln visualizer: the SVG parses as XML with one node per layer; the dot output parses with
#    Graphviz (dot -Tcanon) with one node per layer.
# Exit 77 (skipped) only when Chromium or Graphviz cannot be installed.
#
#   check_report.sh path/to/kiln path/to/kilnrt SCREENSHOT_DIR
set -euo pipefail
KILN=${1:?usage: check_report.sh path/to/kiln path/to/kilnrt SCREENSHOT_DIR}
KILNRT=${2:?usage: check_report.sh path/to/kiln path/to/kilnrt SCREENSHOT_DIR}
SHOTS=${3:?usage: check_report.sh path/to/kiln path/to/kilnrt SCREENSHOT_DIR}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
HERE="$ROOT/tests/compiler/profiler"
MODELS_DIR=${KILN_MODELS_DIR:-$HOME/.cache/kiln/models}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if ! command -v chromium >/dev/null || ! command -v dot >/dev/null; then
  "$ROOT/tools/bootstrap.sh" >/dev/null 2>&1 || true
fi
command -v chromium >/dev/null || { echo "SKIP: chromium cannot be installed"; exit 77; }
command -v dot >/dev/null || { echo "SKIP: graphviz (dot) cannot be installed"; exit 77; }

layers_of() { "$KILN" info "$1" --json | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["layers"]))'; }

# profile NAME DIR: kilnrt run --profile --json, kiln profiler with everything, the page checked.
profile() {
  local name=$1 dir=$2 net=$3 noise=$4
  "$KILNRT" run "$dir/$net.kef" --frames-count 5 --profile --json >"$WORK/$name.run.json"
  local t0 t1
  t0=$(date +%s%N)
  "$KILN" profiler "$dir/${net}_optimized.kar" --kef "$dir/$net.kef" \
    --runtime-profile "$WORK/$name.run.json" --analysis "$noise" -o "$WORK/$name.html"
  t1=$(date +%s%N)
  echo "$name: $(stat -c %s "$WORK/$name.html") bytes in $(( (t1 - t0) / 1000000 )) ms"
  /usr/bin/python3 "$HERE/check_page.py" chromium "$WORK/$name.html" \
    "$(layers_of "$dir/${net}_optimized.kar")" "$SHOTS" "$name"
}

# ---- the digits CNN ----
D="$ROOT/examples/digits"
"$KILN" compile "$D/digits_cnn.onnx" --calib-set-path "$D/calib.npy" \
  --model-script "$D/digits_mixed.alls" --report-html --output-dir "$WORK/digits" >/dev/null
test -s "$WORK/digits/digits_cnn.report.html" || { echo "FAIL: kiln compile --report-html wrote no report"; exit 1; }
grep -q '"report_html"' "$WORK/digits/digits_cnn.summary.json" || { echo "FAIL: summary.json does not list the report"; exit 1; }
/usr/bin/python3 "$HERE/check_page.py" chromium "$WORK/digits/digits_cnn.report.html" \
  "$(layers_of "$WORK/digits/digits_cnn_optimized.kar")" - -
profile digits "$WORK/digits" digits_cnn "$ROOT/tests/data/profiler/digits_noise.json"

# ---- kiln visualizer ----
KAR="$WORK/digits/digits_cnn_optimized.kar"
N=$(layers_of "$KAR")
"$KILN" visualizer "$KAR" -o "$WORK/g.svg" >/dev/null
"$KILN" visualizer "$KAR" --color-by snr --format dot -o "$WORK/g.dot" >/dev/null
/usr/bin/python3 - "$WORK/g.svg" "$N" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg", root.tag
nodes = [g for g in root.iter(ns + "g") if "node" in (g.get("class") or "").split()]
assert len(nodes) == int(sys.argv[2]), (len(nodes), sys.argv[2])
print("ok: visualizer SVG: %d nodes" % len(nodes))
PY
dot -Tcanon "$WORK/g.dot" >"$WORK/canon.dot"
nodes=$(grep -c '^\s*"\?layer_[0-9]*"\?\s*\[' "$WORK/canon.dot" || true)
[ "$nodes" = "$N" ] || { echo "FAIL: visualizer dot: $nodes nodes for $N layers"; exit 1; }
echo "ok: visualizer dot: $nodes nodes"

# ---- BlazeFace (when the model is cached or can be fetched) ----
rc=0; "$ROOT/tools/models/fetch_real_models.sh" "$MODELS_DIR" >/dev/null 2>&1 || rc=$?
if [ -f "$MODELS_DIR/blazeface_128.onnx" ]; then
  /usr/bin/python3 "$ROOT/tools/models/make_calib.py" "$WORK/calib" 8 >/dev/null
  "$KILN" compile "$MODELS_DIR/blazeface_128.onnx" --calib-set-path "$WORK/calib" \
    --model-script "$ROOT/tests/real_models/scripts/blazeface_128.alls" \
    --output-dir "$WORK/blazeface" >/dev/null
  profile blazeface "$WORK/blazeface" blazeface_128 "$ROOT/tests/data/profiler/blazeface_noise.json"
else
  echo "note: BlazeFace not in $MODELS_DIR and not fetchable (rc $rc): its page was not checked"
fi
echo "ok: screenshots in $SHOTS"
