#!/usr/bin/env bash
# Quantization figures for the three real models, calibrated on 64 natural images with their
# published pre-processing: output SNR at a8_w8, a16_w16 and a8_w4, and the kiln optimize wall
# time of each (figures for notes and reports, not a test).
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
printf '%-16s %-24s %10s %10s %10s\n' model output a8_w8 a16_w16 a8_w4
for model in "${MODELS[@]}"; do
  # shellcheck disable=SC2086
  "$KILN" parser onnx "$MODELS_DIR/$model.onnx" --har-path "$WORK/$model.kar" ${PARSE_ARGS[$model]} >/dev/null
  times=""
  for mode in a8_w8 a16_w16 a8_w4; do
    { cat "$ROOT/tests/real_models/scripts/$model.alls"; echo "quantization_param({*}, precision_mode=$mode)"; } > "$WORK/s.alls"
    start=$(date +%s.%N)
    "$KILN" optimize "$WORK/$model.kar" --calib-set-path "$WORK/calib" --model-script "$WORK/s.alls" \
      --output-har-path "$WORK/$model.$mode.kar" >/dev/null 2>&1
    end=$(date +%s.%N)
    times="$times $mode $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1fs", b - a }')"
  done
  /usr/bin/python3 - "$model" "$WORK/$model" <<'PY'
import json, sys
model, base = sys.argv[1], sys.argv[2]
r = {m: json.load(open(f"{base}.{m}.kar.report.json"))["outputs"] for m in ("a8_w8", "a16_w16", "a8_w4")}
for i, o in enumerate(r["a8_w8"]):
    print(f"{model:<16} {o['output']:<24} " + " ".join(f"{r[m][i]['snr_db']:>7.2f} dB" for m in r))
PY
  echo "  optimize wall time:$times"
done
