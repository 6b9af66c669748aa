#!/usr/bin/env bash
# Runtime speed on the three real models: kilnrt (a8_w8 .kef) p50 at one and two threads beside
# onnxruntime (float32, one thread, all graph optimizations) on the same input, in the same run,
# the ratio kilnrt (1 thread) / onnxruntime, the 2-thread speed-up, kilnrt's peak RSS beside the
# .kef size and its activation arena, and the kernel path that ran (KILN_KERNEL_PATH forces one).
# Figures, not a test.
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
echo "host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPU(s)"
printf '%-16s %9s %9s %9s %7s %8s %8s %8s %8s %s\n' model kilnrt1_ms kilnrt2_ms ort_ms ratio 2thr_x \
  rss_MB kef_MB arena_MB path
for model in "${MODELS[@]}"; do
  # shellcheck disable=SC2086
  "$KILN" parser onnx "$MODELS_DIR/$model.onnx" --har-path "$WORK/$model.kar" ${PARSE_ARGS[$model]} >/dev/null
  "$KILN" optimize "$WORK/$model.kar" --calib-set-path "$WORK/calib" \
    --model-script "$ROOT/tests/real_models/scripts/$model.alls" --report-samples 2 \
    --output-har-path "$WORK/$model.q.kar" >/dev/null 2>&1
  "$KILN" compiler "$WORK/$model.q.kar" --hw-arch hailo8 --output-dir "$WORK/kef" >/dev/null
  for t in 1 2; do
    "$KILNRT" run "$WORK/kef/$model.kef" --frames-count "$FRAMES" --measure-latency --threads $t \
      --input-files "$WORK/$model.input.npy" --json >"$WORK/$model.run$t.json"
  done
  o=$(node "$ROOT/tools/ort/ort_run.js" "$MODELS_DIR/$model.onnx" --inputs "$WORK/$model.input.npy" \
      --output-dir "$WORK/ort_$model" --time "$FRAMES" | sed "s/.*:[ ]*\([0-9.e+-]*\)}/\1/")
  /usr/bin/python3 - "$model" "$WORK/$model.run1.json" "$WORK/$model.run2.json" "$o" <<'PY'
import json, sys
model, run1, run2 = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
ort = float(sys.argv[4])
mem = run1["memory"]
ms1, ms2 = run1["latency_ms"]["p50"], run2["latency_ms"]["p50"]
print(f"{model:<16} {ms1:9.2f} {ms2:9.2f} {ort:9.2f} {ms1 / ort:6.2f}x {ms1 / ms2:7.2f}x "
      f"{mem['peak_rss_bytes'] / 1e6:8.1f} {mem['kef_bytes'] / 1e6:8.2f} "
      f"{mem['arena_bytes'] / 1e6:8.1f} {run1['kernel_path']}")
PY
done
