#!/usr/bin/env bash
# nms_postprocess on the YOLO path: the shapes detector of examples/real/yolo_shapes/ (trained
# here, committed as ONNX) parsed, optimized with its script + JSON config, compiled and run by
# kilnrt infer on 16 held-out synthetic images. Checks:
#   - kilnrt infer and kiln infer --target quantized write the same nms_postprocess.npy;
#   - examples/real/nms_reference.py (numpy decode + NMS) finds exactly Kiln's boxes on the
#     quantized outputs, and the same boxes (IoU >= 0.9, >= 90 % found) on the float outputs;
#   - the decoded boxes find the drawn shapes (recall and precision >= 0.8 at IoU 0.5);
#   - a bad config is an error naming the file and the key.
set -euo pipefail
KILN=${1:?usage: check_nms_yolo.sh path/to/kiln path/to/kilnrt}
KILNRT=${2:?usage: check_nms_yolo.sh path/to/kiln path/to/kilnrt}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
Y="$ROOT/examples/real/yolo_shapes"
REF="$ROOT/examples/real/nms_reference.py"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

/usr/bin/python3 "$Y/yolo_shapes.py" images "$WORK/calib.npy" --count 64 --seed 100 >/dev/null
/usr/bin/python3 "$Y/yolo_shapes.py" images "$WORK/eval.npy" --count 16 --seed 7 >/dev/null
"$KILN" parser onnx "$Y/yolo_shapes.onnx" --har-path "$WORK/ys.kar" >/dev/null
"$KILN" optimize "$WORK/ys.kar" --calib-set-path "$WORK/calib.npy" --model-script "$Y/yolo_shapes.alls" \
  --report-samples 2 --output-har-path "$WORK/ys_q.kar" >/dev/null 2>"$WORK/optimize.log"
"$KILN" compiler "$WORK/ys_q.kar" --hw-arch hailo8 --output-dir "$WORK" >/dev/null
"$KILNRT" infer "$WORK/yolo_shapes.kef" --input-files "$WORK/eval.npy" --output-dir "$WORK/rt" >/dev/null
"$KILN" infer "$WORK/ys_q.kar" --target quantized --input-files "$WORK/eval.npy" --output-dir "$WORK/emu" >/dev/null
for t in quantized fp-optimized; do
  "$KILN" infer "$WORK/ys_q.kar" --target $t --raw-outputs --input-files "$WORK/eval.npy" \
    --output-dir "$WORK/raw_$t" >/dev/null
done

passed=0; failed=0
check() {  # name, command...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); else echo "FAIL: $name"; failed=$((failed + 1)); fi
}
check "kilnrt infer == kiln infer --target quantized" \
  cmp "$WORK/rt/nms_postprocess.npy" "$WORK/emu/nms_postprocess.npy"
check "numpy decode of the quantized outputs == Kiln's boxes" \
  /usr/bin/python3 "$REF" "$Y/yolo_shapes_nms.json" yolov8 "$WORK/raw_quantized" "$WORK/rt" --exact
check "numpy decode of the float outputs ~ Kiln's boxes" \
  /usr/bin/python3 "$REF" "$Y/yolo_shapes_nms.json" yolov8 "$WORK/raw_fp-optimized" "$WORK/rt"
check "the boxes find the drawn shapes" /usr/bin/python3 - "$Y" "$ROOT/examples/real" "$WORK/rt" <<'PY'
import sys
import numpy as np
sys.path[:0] = sys.argv[1:3]
import yolo_shapes as ys
from evallib import box_iou, greedy_match
_, labels = ys.make(16, 7)
got = np.load(sys.argv[3] + "/nms_postprocess.npy")
tp = n_det = n_gt = 0
for i, truth in enumerate(labels):
    row, at = got[i], 0
    for k in range(ys.CLASSES):
        n = int(row[at])
        det = row[at + 1:at + 1 + 5 * n].reshape(n, 5)[:, [1, 0, 3, 2]] * ys.SIZE
        at += 1 + 5 * n
        gt = np.array([b[1:] for b in truth if b[0] == k]).reshape(-1, 4)
        tp += greedy_match(1 - box_iou(gt, det), 0.5)
        n_det += n
        n_gt += len(gt)
print(f"shapes: {n_gt} drawn, {n_det} boxes, {tp} found at IoU >= 0.5")
sys.exit(0 if tp >= 0.8 * n_gt and tp >= 0.8 * n_det else 1)
PY
# The Python runtime (when the build has it): Session.run returns the same boxes as kilnrt infer,
# and raw_outputs=True the network's own outputs.
PYDIR=$(cd "$(dirname "$KILNRT")/.." && pwd)/python
if [ -d "$PYDIR/kilnrt" ]; then
  check "kilnrt.Session.run == kilnrt infer (boxes and raw outputs)" \
    env PYTHONPATH="$PYDIR" /usr/bin/python3 - "$WORK" <<'PY'
import json, sys
import numpy as np
import kilnrt
work = sys.argv[1]
session = kilnrt.Model(work + "/yolo_shapes.kef").session()
x = np.load(work + "/eval.npy")
boxes = session.run(x)
assert np.array_equal(boxes, np.load(work + "/rt/nms_postprocess.npy")), "boxes differ"
name = kilnrt.Model(work + "/yolo_shapes.kef").inputs[0]["name"]
assert list(session.run({name: x})) == ["nms_postprocess"]
raw = session.run({name: x}, raw_outputs=True)
for o in json.load(open(work + "/raw_quantized/outputs.json"))["outputs"]:
    assert np.array_equal(raw[o["name"]], np.load(work + "/raw_quantized/" + o["file"])), o["name"]
try:
    session.run(x, output_type="auto")
    raise SystemExit("output_type=auto with boxes must be refused")
except ValueError as e:
    assert "raw_outputs=True" in str(e), e
print("kilnrt.Session.run: the boxes of kilnrt infer; raw_outputs gives", len(raw), "outputs")
PY
fi
# Bad configs: the error names the file and the key.
mkdir -p "$WORK/bad"
sed 's/"nms_iou_th"/"nms_iou_thresh"/' "$Y/yolo_shapes_nms.json" > "$WORK/bad/cfg.json"
sed 's/yolo_shapes_nms.json/cfg.json/' "$Y/yolo_shapes.alls" > "$WORK/bad/s.alls"
bad_config() {  # expected message part
  if "$KILN" optimize "$WORK/ys.kar" --calib-set-path "$WORK/calib.npy" --model-script "$WORK/bad/s.alls" \
    --output-har-path "$WORK/bad/o.kar" >/dev/null 2>"$WORK/bad/log"; then
    echo "optimize accepted a bad config"; return 1
  fi
  grep -q "$1" "$WORK/bad/log" || { cat "$WORK/bad/log"; return 1; }
}
check "unknown config key" bad_config "cfg.json: key \"nms_iou_thresh\" is not a known key"
sed 's/"reg16"/"conv3"/' "$Y/yolo_shapes_nms.json" > "$WORK/bad/cfg.json"
check "a layer that is no output" bad_config "key \"bbox_decoders\[1\].reg_layer\" names 'conv3', which is not one of the network's outputs"
sed 's/"classes": 3/"classes": 4/' "$Y/yolo_shapes_nms.json" > "$WORK/bad/cfg.json"
check "classes that do not fit the outputs" bad_config "class output 1 of shape \[1, 3, 8, 8\]: expected 4 channels"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
