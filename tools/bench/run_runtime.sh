#!/usr/bin/env bash
# Runtime speed on the three real models: kilnrt (a8_w8 .kef, one thread) beside onnxruntime
# (float32, one thread, all graph optimizations) on the same input, in the same run; and kilnrt's
# peak RSS beside the .kef size and its activation arena. Figures, not a test.
#   tools/bench/run_runtime.sh [FRAMES]      (after tools/build.sh)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FRAMES=${1:-20}
BUILD=${KILN_BUILD_DIR:-$ROOT/build}
MODELS_DIR=${KILN_MODELS_DIR:-$HOME/.cache/kiln/models}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=../../tests/real_models/quant_models.sh
source "$ROOT/tests/real_models/quant_models.sh"
"$ROOT/tools/models/fetch_real_models.sh" "$MODELS_DIR" >/dev/null
"$ROOT/tools/ort/setup.sh" >/dev/null
/usr/bin/python3 "$ROOT/tools/models/make_inputs.py" "$WORK" >/dev/null
/usr/bin/python3 "$ROOT/tools/models/make_calib.py" "$WORK/calib" 16 >/dev/null
KILN=$BUILD/compiler/kiln
KILNRT=$BUILD/runtime/kilnrt
printf '%-16s %10s %10s %7s %10s %10s %10s %10s\n' model kilnrt_ms ort_ms ratio p99_ms rss_MB kef_MB arena_MB
for model in "${MODELS[@]}"; do
  # shellcheck disable=SC2086
  "$KILN" parser onnx "$MODELS_DIR/$model.onnx" --har-path "$WORK/$model.kar" ${PARSE_ARGS[$model]} >/dev/null
  "$KILN" optimize "$WORK/$model.kar" --calib-set-path "$WORK/calib" \
    --model-script "$ROOT/tests/real_models/scripts/$model.alls" --report-samples 2 \
    --output-har-path "$WORK/$model.q.kar" >/dev/null 2>&1
  "$KILN" compiler "$WORK/$model.q.kar" --hw-arch hailo8 --output-dir "$WORK/kef" >/dev/null
  "$KILNRT" run "$WORK/kef/$model.kef" --frames-count "$FRAMES" --measure-latency \
    --input-files "$WORK/$model.input.npy" --json >"$WORK/$model.run.json"
  o=$(node "$ROOT/tools/ort/ort_run.js" "$MODELS_DIR/$model.onnx" --inputs "$WORK/$model.input.npy" \
      --output-dir "$WORK/ort_$model" --time "$FRAMES" | sed "s/.*:[ ]*\([0-9.e+-]*\)}/\1/")
  /usr/bin/python3 - "$model" "$WORK/$model.run.json" "$o" <<'PY'
import json, sys
model, run, ort = sys.argv[1], json.load(open(sys.argv[2])), float(sys.argv[3])
mem = run["memory"]
ms = run["latency_ms"]["p50"]
print(f"{model:<16} {ms:10.2f} {ort:10.2f} {ms / ort:6.2f}x {run['latency_ms']['p99']:10.2f} "
      f"{mem['peak_rss_bytes'] / 1e6:10.1f} {mem['kef_bytes'] / 1e6:10.2f} {mem['arena_bytes'] / 1e6:10.1f}")
PY
done
