#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run Kiln's main job on the
# trained digits CNN that ships in examples/digits: parse it, show its layers, quantize it to
# 8 and 16 bits with its calibration set, run the float and the integer networks on the labelled
# test set, and print the three accuracies.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh
tools/build.sh >/dev/null
OUT=out/quickstart
EX=examples/digits
mkdir -p "$OUT"
KILN=build/compiler/kiln
echo "== kiln parser onnx $EX/digits_cnn.onnx"
$KILN parser onnx $EX/digits_cnn.onnx --har-path "$OUT/digits_cnn.kar"
echo; echo "== kiln info $OUT/digits_cnn.kar"
$KILN info "$OUT/digits_cnn.kar"
echo; echo "== kiln optimize (int8, default script) and (int16, $EX/digits_a16.alls)"
$KILN optimize "$OUT/digits_cnn.kar" --calib-set-path $EX/calib.npy --output-har-path "$OUT/digits_a8.kar"
$KILN optimize "$OUT/digits_cnn.kar" --calib-set-path $EX/calib.npy --model-script $EX/digits_a16.alls \
  --output-har-path "$OUT/digits_a16.kar"
echo; echo "== kiln infer on the $(/usr/bin/python3 -c "import numpy as np; print(len(np.load('$EX/test_y.npy')))") labelled test digits"
$KILN infer "$OUT/digits_cnn.kar" --target native --input-files $EX/test_x.npy --output-dir "$OUT/native" >/dev/null
$KILN infer "$OUT/digits_a8.kar" --target quantized --input-files $EX/test_x.npy --output-dir "$OUT/a8" >/dev/null
$KILN infer "$OUT/digits_a16.kar" --target quantized --input-files $EX/test_x.npy --output-dir "$OUT/a16" >/dev/null
/usr/bin/python3 $EX/accuracy.py "$OUT/native/logits.npy" $EX/test_y.npy "float32"
/usr/bin/python3 $EX/accuracy.py "$OUT/a8/logits.npy" $EX/test_y.npy "int8   "
/usr/bin/python3 $EX/accuracy.py "$OUT/a16/logits.npy" $EX/test_y.npy "int16  "
