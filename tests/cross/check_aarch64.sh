#!/usr/bin/env bash
# Bit-exactness across architectures: the runtime cross-built for aarch64 (tools/cross/
# build_aarch64.sh) and run under qemu-user gives the same output bytes as the x86 kilnrt and as
# `kiln infer --target quantized`, for --user-format-type auto (the device integers) and float32.
#
#   tests/cross/check_aarch64.sh path/to/kiln path/to/kilnrt [AARCH64_BUILD_DIR]
#
# First tools/cross/build_aarch64.sh builds (incrementally) the runtime, kilnrt and the runtime's
# own tests for aarch64 and runs those tests under qemu. Then the networks: the trained digits
# CNN of examples/digits at a8_w8 (no script) and a16_w16 (digits_a16.alls) on its 360 test
# digits (one batch); the three real models of tools/models at a8_w8 (8 calibration images) if
# they are already in the model cache (nothing is fetched) and while the time budget lasts
# (KILN_CROSS_BUDGET seconds from the start, default 300; 0 = digits only). Prints the files and
# bytes compared and the run times under qemu.
#
# Exit: 0 all bytes equal; 1 a difference or a failure; 77 skipped (no cross compiler or
# qemu-user, and they cannot be installed).
set -euo pipefail
KILN=$(realpath "${1:?usage: check_aarch64.sh path/to/kiln path/to/kilnrt [aarch64 build dir]}")
KILNRT=$(realpath "${2:?usage: check_aarch64.sh path/to/kiln path/to/kilnrt [aarch64 build dir]}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
XBUILD=${3:-$ROOT/build-aarch64}
MODELS_DIR=${KILN_MODELS_DIR:-$HOME/.cache/kiln/models}
BUDGET=${KILN_CROSS_BUDGET:-300}
SYSROOT=/usr/aarch64-linux-gnu
PY=/usr/bin/python3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { printf '%d.%02d' $(($1 / 1000)) $(($1 % 1000 / 10)); }
T_START=$(now_ms)

# 1. The aarch64 build (installs the cross compiler and qemu-user when missing).
t0=$(now_ms)
rc=0; "$ROOT/tools/cross/build_aarch64.sh" "$XBUILD" >"$WORK/build.log" 2>&1 || rc=$?
if [ "$rc" = 77 ]; then
  tail -n 3 "$WORK/build.log"
  echo "SKIP: no aarch64 cross compiler or qemu-user, and they could not be installed"
  exit 77
fi
[ "$rc" = 0 ] || { cat "$WORK/build.log"; echo "FAIL: the aarch64 build failed"; exit 1; }
grep '^build_aarch64:' "$WORK/build.log" | sed "s|$ROOT/||g"
XKILNRT=$XBUILD/runtime/kilnrt
[ -x "$XKILNRT" ] || { echo "FAIL: no $XKILNRT"; exit 1; }
echo "aarch64 build (tools/cross/build_aarch64.sh, incremental): $(secs $(($(now_ms) - t0))) s"
file "$XKILNRT" | sed "s|$ROOT/||"
file -b "$XKILNRT" | grep -q 'ARM aarch64' || { echo "FAIL: $XKILNRT is not an aarch64 executable"; exit 1; }
QEMU=(qemu-aarch64 -L "$SYSROOT")

files=0; bytes=0; cmps=0; diffs=0; runs=0; qemu_ms=0; x86_ms=0
# compare NAME REF_DIR OTHER_DIR LABEL: outputs.json and every file it lists, byte for byte.
compare() {
  local name=$1 ref=$2 other=$3 label=$4 f
  for f in $("$PY" -c 'import json,sys; print(" ".join(o["file"] for o in json.load(open(sys.argv[1]))["outputs"]))' "$ref/outputs.json"); do
    cmps=$((cmps + 1))
    if [ ! -f "$other/$f" ]; then
      echo "  DIFF $name $f: missing from $label"; diffs=$((diffs + 1)); continue
    fi
    if ! cmp -s "$ref/$f" "$other/$f"; then
      diffs=$((diffs + 1))
      echo "  DIFF $name $f: $label differs ($(cmp "$ref/$f" "$other/$f" 2>&1 | head -n 1))"
      "$PY" - "$ref/$f" "$other/$f" <<'PY' || true
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
if a.shape != b.shape or a.dtype != b.dtype:
    print(f"    {a.dtype}{list(a.shape)} vs {b.dtype}{list(b.shape)}")
else:
    d = np.abs(a.astype(np.float64) - b.astype(np.float64))
    i = np.unravel_index(int(np.argmax(d)), d.shape)
    print(f"    {int((d > 0).sum())} of {d.size} elements differ, max |diff| {d.max():g} at {list(i)}: {a[i]!r} vs {b[i]!r}")
PY
    fi
  done
  # The listing too (names, shapes, files, dtypes), byte for byte.
  if ! cmp -s "$ref/outputs.json" "$other/outputs.json"; then
    diffs=$((diffs + 1)); echo "  DIFF $name outputs.json: $label differs"
    diff "$ref/outputs.json" "$other/outputs.json" | head -n 20 || true
  fi
}

# check NAME KAR KEF INPUT: kiln infer on the optimized archive, kilnrt x86 and aarch64 on the
# .kef, for both user formats.
check() {
  local name=$1 kar=$2 kef=$3 input=$4 fmt d t ms
  # The loader and the description of the executable first: kilnrt parse --json.
  mkdir -p "$WORK/out/$name"
  "$KILNRT" parse "$kef" --json >"$WORK/out/$name/parse.x86.json"
  "${QEMU[@]}" "$XKILNRT" parse "$kef" --json >"$WORK/out/$name/parse.aarch64.json"
  if ! cmp -s "$WORK/out/$name/parse.x86.json" "$WORK/out/$name/parse.aarch64.json"; then
    diffs=$((diffs + 1)); echo "  DIFF $name: kilnrt parse --json differs between x86 and aarch64"
    diff "$WORK/out/$name/parse.x86.json" "$WORK/out/$name/parse.aarch64.json" | head -n 20 || true
  fi
  for fmt in auto float32; do
    d="$WORK/out/$name/$fmt"
    mkdir -p "$d"
    "$KILN" infer "$kar" --target quantized --input-files "$input" --output-dir "$d/kiln" \
      --user-format-type "$fmt" >/dev/null
    t=$(now_ms)
    "$KILNRT" infer "$kef" --input-files "$input" --output-dir "$d/x86" --user-format-type "$fmt" >/dev/null
    x86_ms=$((x86_ms + $(now_ms) - t))
    t=$(now_ms)
    "${QEMU[@]}" "$XKILNRT" infer "$kef" --input-files "$input" --output-dir "$d/aarch64" \
      --user-format-type "$fmt" >/dev/null
    ms=$(($(now_ms) - t)); qemu_ms=$((qemu_ms + ms)); runs=$((runs + 1))
    local before=$diffs
    compare "$name" "$d/kiln" "$d/x86" "x86 kilnrt vs kiln infer"
    compare "$name" "$d/kiln" "$d/aarch64" "aarch64 kilnrt vs kiln infer"
    local n s
    n=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["outputs"]))' "$d/kiln/outputs.json")
    s=$(cat "$d"/kiln/*.npy | wc -c)
    files=$((files + n)); bytes=$((bytes + s))
    printf '  %-16s %-8s %d output(s), %8d bytes: %s (qemu %s s)\n' "$name" "$fmt" "$n" "$s" \
      "$([ "$diffs" = "$before" ] && echo "aarch64 = x86 = kiln infer" || echo DIFFERENT)" "$(secs "$ms")"
  done
}

# 2. The digits CNN: 8 and 16 bits.
EX=$ROOT/examples/digits
echo "== digits CNN ($(basename "$EX")/test_x.npy, 360 samples)"
"$KILN" parser onnx "$EX/digits_cnn.onnx" --har-path "$WORK/digits.kar" >/dev/null
"$KILN" optimize "$WORK/digits.kar" --calib-set-path "$EX/calib.npy" \
  --output-har-path "$WORK/digits_a8.kar" >/dev/null 2>&1
"$KILN" optimize "$WORK/digits.kar" --calib-set-path "$EX/calib.npy" --model-script "$EX/digits_a16.alls" \
  --output-har-path "$WORK/digits_a16.kar" >/dev/null 2>&1
for p in a8 a16; do
  "$KILN" compiler "$WORK/digits_$p.kar" --output-dir "$WORK/kef_$p" >/dev/null
  check "digits_$p" "$WORK/digits_$p.kar" "$WORK/kef_$p/digits_cnn.kef" "$EX/test_x.npy"
done

# 3. The real models at a8_w8, when cached and while the budget lasts.
# shellcheck source=tests/real_models/quant_models.sh
source "$ROOT/tests/real_models/quant_models.sh"
declare -A INPUT_SPEC=(  # shape and layout of the raw-pixel input (the scripts normalize)
  [blazeface_128]="nhwc 128 128 3"
  [ppocr_v4_det]="nchw 640 640 3"
  [mlsd_tiny_320]="nhwc 320 320 4"
)
if [ "$BUDGET" -gt 0 ]; then
  echo "== real models at a8_w8 (cache $MODELS_DIR, budget ${BUDGET} s)"
  calib_done=""
  for model in "${MODELS[@]}"; do
    if [ ! -f "$MODELS_DIR/$model.onnx" ]; then
      echo "  $model: not cached, skipped (tools/models/fetch_real_models.sh fetches it)"; continue
    fi
    elapsed=$(( ($(now_ms) - T_START) / 1000 ))
    if [ "$elapsed" -ge "$BUDGET" ]; then
      echo "  $model: skipped, the ${BUDGET} s budget is spent (${elapsed} s)"; continue
    fi
    if [ -z "$calib_done" ]; then
      "$PY" "$ROOT/tools/models/make_calib.py" "$WORK/calib" 8 >/dev/null; calib_done=1
    fi
    t=$(now_ms)
    # shellcheck disable=SC2086
    "$KILN" parser onnx "$MODELS_DIR/$model.onnx" --har-path "$WORK/$model.kar" ${PARSE_ARGS[$model]} >/dev/null
    { cat "$ROOT/tests/real_models/scripts/$model.alls"; echo "quantization_param({*}, precision_mode=a8_w8)"; } \
      >"$WORK/$model.alls"
    "$KILN" optimize "$WORK/$model.kar" --calib-set-path "$WORK/calib" --model-script "$WORK/$model.alls" \
      --report-samples 2 --output-har-path "$WORK/${model}_a8.kar" >"$WORK/$model.log" 2>&1 ||
      { cat "$WORK/$model.log"; echo "FAIL: kiln optimize $model"; exit 1; }
    "$KILN" compiler "$WORK/${model}_a8.kar" --output-dir "$WORK/kef_$model" >/dev/null
    kef=$(find "$WORK/kef_$model" -name '*.kef' -print -quit)
    # One natural image as raw 0-255 pixels in the model's layout (RGBA: alpha 255).
    # shellcheck disable=SC2086
    "$PY" - "$WORK/calib/img_000.png" "$WORK/$model.input.npy" ${INPUT_SPEC[$model]} <<'PY'
import sys, numpy as np
from skimage import io, transform
src, dst, layout, h, w, c = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:7])
im = io.imread(src)[..., :3].astype(np.float64)
x = np.round(transform.resize(im, (h, w), order=1, preserve_range=True))
if c == 4:
    x = np.concatenate([x, np.full((h, w, 1), 255.0)], axis=2)
x = x[None] if layout == "nhwc" else x.transpose(2, 0, 1)[None]
np.save(dst, np.ascontiguousarray(x, dtype=np.float32))
PY
    echo "  $model: parse + optimize + compile $(secs $(($(now_ms) - t))) s"
    check "$model" "$WORK/${model}_a8.kar" "$kef" "$WORK/$model.input.npy"
  done
fi

echo "$files output files ($bytes bytes) of kiln infer --target quantized, each compared byte for byte with x86 kilnrt and aarch64 kilnrt ($cmps comparisons; outputs.json and kilnrt parse --json too): $diffs difference(s)"
echo "$runs runs under qemu-aarch64: $(secs "$qemu_ms") s in all; x86 kilnrt: $(secs "$x86_ms") s; total $(secs $(($(now_ms) - T_START))) s"
[ "$diffs" = 0 ]
