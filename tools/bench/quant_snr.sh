#!/usr/bin/env bash
# Quantization figures for the three real models, calibrated on 64 natural images with their
# published pre-processing: output SNR at a8_w8, a16_w16 and a8_w4 at the default optimization
# level (1), and a8_w8 and a8_w4 at level 2 (error-compensating weight rounding), with the kiln
# optimize wall time of each (figures for notes and reports, not a test).
#   tools/bench/quant_snr.sh [CALIB_SAMPLES]      (after tools/build.sh)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-64}
KILN=${KILN_BUILD_DIR:-$ROOT/build}/compiler/kiln
MODELS_DIR=${KILN_MODELS_DIR:-$HOME/.cache/kiln/models}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=../../tests/real_models/quant_models.sh
source "$ROOT/tests/real_models/quant_models.sh"
"$ROOT/tools/models/fetch_real_models.sh" "$MODELS_DIR" >/dev/null
/usr/bin/python3 "$ROOT/tools/models/make_calib.py" "$WORK/calib" "$N" >/dev/null
RUNS=(a8_w8 a16_w16 a8_w4 a8_w8@2 a8_w4@2)
printf '%-16s %-24s' model output
printf ' %10s' "${RUNS[@]}"
echo
for model in "${MODELS[@]}"; do
  # shellcheck disable=SC2086
  "$KILN" parser onnx "$MODELS_DIR/$model.onnx" --har-path "$WORK/$model.kar" ${PARSE_ARGS[$model]} >/dev/null
  times=""
  for run in "${RUNS[@]}"; do
    mode=${run%@*}
    {
      cat "$ROOT/tests/real_models/scripts/$model.alls"
      echo "quantization_param({*}, precision_mode=$mode)"
      [[ $run == *@* ]] && echo "model_optimization_flavor(optimization_level=${run#*@})"
    } > "$WORK/s.alls"
    start=$(date +%s.%N)
    "$KILN" optimize "$WORK/$model.kar" --calib-set-path "$WORK/calib" --model-script "$WORK/s.alls" \
      --output-har-path "$WORK/$model.$run.kar" >/dev/null 2>&1
    end=$(date +%s.%N)
    times="$times $run $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1fs", b - a }')"
  done
  /usr/bin/python3 - "$model" "$WORK/$model" <<'PY'
import json, sys
model, base = sys.argv[1], sys.argv[2]
runs = ("a8_w8", "a16_w16", "a8_w4", "a8_w8@2", "a8_w4@2")
r = {m: json.load(open(f"{base}.{m}.kar.report.json"))["outputs"] for m in runs}
for i, o in enumerate(r["a8_w8"]):
    print(f"{model:<16} {o['output']:<24} " + " ".join(f"{r[m][i]['snr_db']:>7.2f} dB" for m in r))
PY
  echo "  optimize wall time:$times"
done
