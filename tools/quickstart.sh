#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run Kiln's main job on the
# trained digits CNN that ships in examples/digits: compile it end to end (parse, optimize,
# compile, verify the .kef) at 8 and 16 bits with `kiln compile`, run the executables with the
# runtime `kilnrt` on the labelled test set, and print the float, int8 and int16 accuracies.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh
tools/build.sh >/dev/null
OUT=out/quickstart
EX=examples/digits
KILN=build/compiler/kiln
KILNRT=build/runtime/kilnrt
rm -rf "$OUT"
mkdir -p "$OUT"
echo "== kiln compile --config $EX/digits.yaml (int8) and $EX/digits_a16.yaml (int16), for hailo8l"
$KILN compile --config $EX/digits.yaml --hw-arch hailo8l --output-dir "$OUT/a8"
$KILN compile --config $EX/digits_a16.yaml --hw-arch hailo8l --output-dir "$OUT/a16"
A8=$(find "$OUT/a8" -name '*.kef' | head -1)
A16=$(find "$OUT/a16" -name '*.kef' | head -1)
echo; echo "== kilnrt parse $A8"
$KILNRT parse "$A8" | head -12
N=$(/usr/bin/python3 -c "import numpy as np; print(len(np.load('$EX/test_y.npy')))")
echo; echo "== the float model (kiln infer --target native) and kilnrt infer on the $N labelled test digits"
$KILN parser onnx $EX/digits_cnn.onnx --har-path "$OUT/digits_cnn.kar" >/dev/null
$KILN infer "$OUT/digits_cnn.kar" --target native --input-files $EX/test_x.npy --output-dir "$OUT/float" >/dev/null
$KILNRT infer "$A8" --input-files $EX/test_x.npy --output-dir "$OUT/int8" >/dev/null
$KILNRT infer "$A16" --input-files $EX/test_x.npy --output-dir "$OUT/int16" >/dev/null
/usr/bin/python3 $EX/accuracy.py "$OUT/float/logits.npy" $EX/test_y.npy "float32"
/usr/bin/python3 $EX/accuracy.py "$OUT/int8/logits.npy" $EX/test_y.npy "int8   "
/usr/bin/python3 $EX/accuracy.py "$OUT/int16/logits.npy" $EX/test_y.npy "int16  "
