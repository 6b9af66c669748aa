#!/usr/bin/env bash
# Kiln's own a8_w8 flow on a fine-tuned PP-OCRv4 det ONNX (qft_ppocr_det.py's output), judged
# against the ORIGINAL float network: parse both, optimize the tuned one at a8_w8 on the
# representative calibration set (as tools/bench/real_accuracy.sh does), run the original in float
# (native, parsed graph) and the tuned one quantized (bit-exact with kilnrt) and in float on the 32
# evaluation images, then examples/real/eval_ppocr_det.py compares each against the original.
#
#   tools/experiments/qft_kiln_eval.sh path/to/kiln TUNED.onnx WORKDIR [MODE]   (MODE: a8_w8)
#
# EXTRA_ALLS=FILE appends FILE's script lines (e.g. equalization off, or the ranges the prototype
# tuned against as force_range_out lines); TAG=name keeps that run's files apart.
# With TUNED.onnx = the original model this is the baseline (Kiln's 0.906 of docs/calibration.md).
set -euo pipefail
KILN=${1:?usage: qft_kiln_eval.sh path/to/kiln TUNED.onnx WORKDIR [MODE]}
TUNED=${2:?usage: qft_kiln_eval.sh path/to/kiln TUNED.onnx WORKDIR [MODE]}
WORK=${3:?usage: qft_kiln_eval.sh path/to/kiln TUNED.onnx WORKDIR [MODE]}
MODE=${4:-a8_w8}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
REAL="$ROOT/examples/real"
SETS="$REAL/.data/sets"
ORIGINAL="$REAL/.data/models/ppocr_v4_det.onnx"
SHAPES=(--tensor-shapes "x=[1,3,640,640]")
NAME=$(basename "$TUNED" .onnx)${TAG:+.$TAG}
mkdir -p "$WORK"
[ -f "$WORK/eval.npy" ] || /usr/bin/python3 "$REAL/images_to_npy.py" "$SETS/eval/text" "$WORK/eval.npy" --model ppocr_v4_det
# The original float reference: the parsed network (`--target native`) on normalized inputs
# (the script's normalization line is added by kiln optimize, so the parsed graph lacks it).
if [ ! -f "$WORK/original.float/outputs.json" ]; then
  /usr/bin/python3 -c "import numpy as np, sys; x = np.load(sys.argv[1]); \
m = np.array([123.675, 116.28, 103.53], np.float32).reshape(1, 3, 1, 1); \
s = np.array([58.395, 57.12, 57.375], np.float32).reshape(1, 3, 1, 1); \
np.save(sys.argv[2], ((x - m) / s).astype(np.float32))" "$WORK/eval.npy" "$WORK/eval.normalized.npy"
  "$KILN" parser onnx "$ORIGINAL" --har-path "$WORK/original.kar" "${SHAPES[@]}" >/dev/null
  "$KILN" infer "$WORK/original.kar" --target native --input-files "$WORK/eval.normalized.npy" \
    --output-dir "$WORK/original.float" >/dev/null
fi
"$KILN" parser onnx "$TUNED" --har-path "$WORK/$NAME.kar" "${SHAPES[@]}" >/dev/null
{ cat "$ROOT/tests/real_models/scripts/ppocr_v4_det.alls"; echo "quantization_param({*}, precision_mode=$MODE)";
  [ -z "${EXTRA_ALLS:-}" ] || cat "$EXTRA_ALLS"; } > "$WORK/$NAME.$MODE.alls"
"$KILN" optimize "$WORK/$NAME.kar" --calib-set-path "$SETS/calib/text" --model-script "$WORK/$NAME.$MODE.alls" \
  --report-samples 4 --output-har-path "$WORK/$NAME.$MODE.kar" >/dev/null 2>"$WORK/$NAME.$MODE.log"
"$KILN" infer "$WORK/$NAME.$MODE.kar" --target quantized --input-files "$WORK/eval.npy" \
  --output-dir "$WORK/$NAME.$MODE" >/dev/null
"$KILN" infer "$WORK/$NAME.$MODE.kar" --target fp-optimized --input-files "$WORK/eval.npy" \
  --output-dir "$WORK/$NAME.float" >/dev/null
echo "== $NAME in float against the original float"
/usr/bin/python3 "$REAL/eval_ppocr_det.py" "$WORK/original.float" "$WORK/$NAME.float" --json "$WORK/$NAME.float.eval.json"
echo "== $NAME $MODE (Kiln's integer flow) against the original float"
/usr/bin/python3 "$REAL/eval_ppocr_det.py" "$WORK/original.float" "$WORK/$NAME.$MODE" --json "$WORK/$NAME.$MODE.eval.json"
