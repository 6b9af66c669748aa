#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run Kiln's main job on the
# trained digits CNN that ships in examples/digits: parse it, show its layers, run it in float on
# the labelled test set and print the accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh
tools/build.sh >/dev/null
OUT=out/quickstart
mkdir -p "$OUT"
KILN=build/compiler/kiln
echo "== kiln parser onnx examples/digits/digits_cnn.onnx"
$KILN parser onnx examples/digits/digits_cnn.onnx --har-path "$OUT/digits_cnn.kar"
echo; echo "== kiln info $OUT/digits_cnn.kar"
$KILN info "$OUT/digits_cnn.kar"
echo; echo "== kiln infer --target native on the labelled test set"
$KILN infer "$OUT/digits_cnn.kar" --target native --input-files examples/digits/test_x.npy \
  --output-dir "$OUT/native"
/usr/bin/python3 examples/digits/accuracy.py "$OUT/native/logits.npy" examples/digits/test_y.npy float
