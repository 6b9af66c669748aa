#!/usr/bin/env bash
# Test fixture: compiles the shipped digits CNN at a8_w8 and a16_w16 into OUT_DIR/digits_a8.kef
# and OUT_DIR/digits_a16.kef for the runtime tests (C API, kilnrt errors).
#
#   make_digits_kef.sh path/to/kiln OUT_DIR
set -euo pipefail
KILN=${1:?usage: make_digits_kef.sh path/to/kiln OUT_DIR}
OUT=${2:?usage: make_digits_kef.sh path/to/kiln OUT_DIR}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
DIGITS=$ROOT/examples/digits
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$KILN" parser onnx "$DIGITS/digits_cnn.onnx" --har-path "$WORK/digits.kar" >/dev/null
for bits in 8 16; do
  script=()
  [ $bits = 16 ] && script=(--model-script "$DIGITS/digits_a16.alls")
  "$KILN" optimize "$WORK/digits.kar" --calib-set-path "$DIGITS/calib.npy" "${script[@]}" \
    --report-samples 2 --output-har-path "$WORK/a$bits.kar" >/dev/null 2>&1
  "$KILN" compiler "$WORK/a$bits.kar" --output-dir "$WORK/a$bits" >/dev/null
  cp "$WORK/a$bits/digits_cnn.kef" "$OUT/digits_a$bits.kef"
done
echo "wrote $OUT/digits_a8.kef and $OUT/digits_a16.kef"
