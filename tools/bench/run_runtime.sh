#!/usr/bin/env bash
# Runtime speed on the three real models: kilnrt (a8_w8 .kef) p50 at one and two threads beside
# onnxruntime (float32, one thread, all graph optimizations) on the same input, in the same run,
# the ratio kilnrt (1 thread) / onnxruntime, the 2-thread speed-up, kilnrt's peak RSS beside the
# .kef size and its activation arena, and the kernel path that ran (KILN_KERNEL_PATH forces one).
# On a shared or virtual machine the speed of both programs drifts by tens of percent within a
# minute, so each model is measured in ROUNDS rounds of (kilnrt 1 thread, kilnrt 2 threads,
# onnxruntime), one right after the other: the ratios are taken within a round and the printed
# figures are the medians over the rounds (the per-round ratios follow on a second line).
# Figures, not a test.
#   tools/bench/run_runtime.sh [FRAMES [ROUNDS]]      (after tools/build.sh; ROUNDS default 3)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FRAMES=${1:-20}
ROUNDS=${2:-3}
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
  for r in $(seq "$ROUNDS"); do
    for t in 1 2; do
      "$KILNRT" run "$WORK/kef/$model.kef" --frames-count "$FRAMES" --measure-latency --threads $t \
        --input-files "$WORK/$model.input.npy" --json >"$WORK/$model.r$r.run$t.json"
    done
    node "$ROOT/tools/ort/ort_run.js" "$MODELS_DIR/$model.onnx" --inputs "$WORK/$model.input.npy" \
      --output-dir "$WORK/ort_$model" --time "$FRAMES" | sed "s/.*:[ ]*\([0-9.e+-]*\)}/\1/" \
      >"$WORK/$model.r$r.ort"
  done
  /usr/bin/python3 - "$model" "$WORK" "$ROUNDS" <<'PY'
import json, statistics, sys
model, work, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = []
for r in range(1, rounds + 1):
    run1 = json.load(open(f"{work}/{model}.r{r}.run1.json"))
    run2 = json.load(open(f"{work}/{model}.r{r}.run2.json"))
    ort = float(open(f"{work}/{model}.r{r}.ort").read())
    rows.append((run1["latency_ms"]["p50"], run2["latency_ms"]["p50"], ort, run1))
med = lambda xs: statistics.median(xs)
ms1, ms2, ort = med([x[0] for x in rows]), med([x[1] for x in rows]), med([x[2] for x in rows])
ratio, speedup = med([x[0] / x[2] for x in rows]), med([x[0] / x[1] for x in rows])
run1 = rows[0][3]
mem = max((x[3]["memory"] for x in rows), key=lambda m: m["peak_rss_bytes"])
print(f"{model:<16} {ms1:9.2f} {ms2:9.2f} {ort:9.2f} {ratio:6.2f}x {speedup:7.2f}x "
      f"{mem['peak_rss_bytes'] / 1e6:8.1f} {mem['kef_bytes'] / 1e6:8.2f} "
      f"{mem['arena_bytes'] / 1e6:8.1f} {run1['kernel_path']}")
print(f"{'':<16} per round: ratio " + " ".join(f"{x[0] / x[2]:.2f}x" for x in rows) +
      ", 2 threads " + " ".join(f"{x[0] / x[1]:.2f}x" for x in rows))
PY
done
