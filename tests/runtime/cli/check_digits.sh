#!/usr/bin/env bash
# The runtime against the compiler's integer emulation on the shipped digits CNN, at a8_w8 (no
# script), a16_w16 (digits_a16.alls) and a mix (some layers a16_w16, the rest a8_w8):
#   kiln parser onnx -> kiln optimize -> kiln compiler -> kilnrt infer on test_x.npy (360 frames)
# must write byte-identical .npy files and outputs.json to kiln infer --target quantized, for
# --user-format-type auto and float32. Compiling twice must give identical .kef bytes.
#
#   check_digits.sh path/to/kiln path/to/kilnrt
set -euo pipefail
KILN=${1:?usage: check_digits.sh path/to/kiln path/to/kilnrt}
KILNRT=${2:?usage: check_digits.sh path/to/kiln path/to/kilnrt}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
DIGITS=$ROOT/examples/digits
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The mix: 8-bit input, conv2 and the last layer in 16 bits (so a uint16 output), others 8-bit.
cat >"$WORK/mix.alls" <<'EOF'
quantization_param({*}, precision_mode=a8_w8)
quantization_param([conv2, fc1], precision_mode=a16_w16)
EOF

failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

"$KILN" parser onnx "$DIGITS/digits_cnn.onnx" --har-path "$WORK/digits.kar" >/dev/null
for mode in a8_w8 a16_w16 mix; do
  script=()
  case $mode in
    a16_w16) script=(--model-script "$DIGITS/digits_a16.alls") ;;
    mix) script=(--model-script "$WORK/mix.alls") ;;
  esac
  kar=$WORK/$mode.kar
  "$KILN" optimize "$WORK/digits.kar" --calib-set-path "$DIGITS/calib.npy" "${script[@]}" \
    --output-har-path "$kar" >/dev/null 2>"$WORK/$mode.optimize.log"
  "$KILN" compiler "$kar" --output-dir "$WORK/$mode.c1" >/dev/null
  "$KILN" compiler "$kar" --output-dir "$WORK/$mode.c2" >/dev/null
  kef=$WORK/$mode.c1/digits_cnn.kef
  if cmp -s "$kef" "$WORK/$mode.c2/digits_cnn.kef"; then
    echo "ok   $mode: compiling twice gives identical .kef bytes ($(stat -c %s "$kef") bytes)"
  else
    fail "$mode: compiling twice gave different .kef files"
  fi
  for fmt in auto float32; do
    ref=$WORK/$mode.$fmt.kiln
    out=$WORK/$mode.$fmt.kilnrt
    "$KILN" infer "$kar" --target quantized --input-files "$DIGITS/test_x.npy" --output-dir "$ref" \
      --user-format-type "$fmt" >/dev/null
    "$KILNRT" infer "$kef" --input-files "$DIGITS/test_x.npy" --output-dir "$out" \
      --user-format-type "$fmt" >/dev/null
    same=1
    for f in "$ref"/*; do
      name=$(basename "$f")
      if ! cmp -s "$f" "$out/$name"; then
        same=0
        fail "$mode --user-format-type $fmt: $name differs between kiln infer and kilnrt infer"
        cmp "$f" "$out/$name" || true
      fi
    done
    [ "$(ls "$ref" | wc -l)" = "$(ls "$out" | wc -l)" ] || { same=0; fail "$mode $fmt: file lists differ"; }
    [ $same = 1 ] && echo "ok   $mode --user-format-type $fmt: $(ls "$ref" | tr '\n' ' ')byte-identical"
  done
done
echo "$failed failure(s)"
[ "$failed" = 0 ]
