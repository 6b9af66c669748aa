#!/usr/bin/env bash
# Float emulation speed on the three real models beside onnxruntime (CPU, one thread, all graph
# optimizations), same inputs, same run. Prints ms per inference and the ratio Kiln / onnxruntime.
#   tools/bench/run_float.sh [RUNS]      (after tools/build.sh)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${1:-20}
BUILD=${KILN_BUILD_DIR:-$ROOT/build}
MODELS=${KILN_MODELS_DIR:-$HOME/.cache/kiln/models}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$ROOT/tools/models/fetch_real_models.sh" "$MODELS" >/dev/null
"$ROOT/tools/ort/setup.sh" >/dev/null
/usr/bin/python3 "$ROOT/tools/models/make_inputs.py" "$WORK" >/dev/null
declare -A SHAPES=([ppocr_v4_det]="--tensor-shapes x=[1,3,640,640]")
printf '%-16s %12s %12s %8s\n' model kiln_ms ort_ms ratio
for model in blazeface_128 ppocr_v4_det mlsd_tiny_320; do
  # shellcheck disable=SC2086
  "$BUILD/compiler/kiln" parser onnx "$MODELS/$model.onnx" --har-path "$WORK/$model.kar" ${SHAPES[$model]:-} >/dev/null
  k=$("$BUILD/tools/bench/kiln_float_bench" "$WORK/$model.kar" "$WORK/$model.input.npy" "$RUNS" |
      sed "s/.*:[ ]*\([0-9.e+-]*\)}/\1/")
  o=$(node "$ROOT/tools/ort/ort_run.js" "$MODELS/$model.onnx" --inputs "$WORK/$model.input.npy" \
      --output-dir "$WORK/ort_$model" --time "$RUNS" | sed "s/.*:[ ]*\([0-9.e+-]*\)}/\1/")
  awk -v m="$model" -v k="$k" -v o="$o" 'BEGIN { printf "%-16s %12.3f %12.3f %7.2fx\n", m, k, o, k / o }'
done
