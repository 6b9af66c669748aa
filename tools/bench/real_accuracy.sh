#!/usr/bin/env bash
# Task-level accuracy of the three real models on their content evaluation sets (issue 10):
# parse, optimize at each precision on the representative calibration set, run the float
# network (fp-optimized: the optimized archive in float, with the script's normalization) and
# the quantized emulation (bit-exact with kilnrt) on the 32 evaluation images, then the Python
# evaluators of examples/real/ compare quantized against float. Prints one line per model and mode.
#
#   tools/bench/real_accuracy.sh path/to/kiln [WORKDIR] [MODES...]   (default modes: a8_w8 a16_w16)
#
# Needs examples/real/fetch.sh first (models and sets). Slow (PP-OCRv4 det 640 at 64 calibration
# samples): minutes per model on two cores; not a CTest.
set -euo pipefail
KILN=${1:?usage: real_accuracy.sh path/to/kiln [WORKDIR] [MODES...]}
KILN=$(cd "$(dirname "$KILN")" && pwd)/$(basename "$KILN")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${2:-$(mktemp -d)}
shift $(( $# >= 2 ? 2 : 1 ))
MODES=("$@"); [ ${#MODES[@]} -gt 0 ] || MODES=(a8_w8 a16_w16)
REAL="$ROOT/examples/real"
SETS="$REAL/.data/sets"
MODELS_DIR=${KILN_MODELS_DIR:-$HOME/.cache/kiln/models}
# shellcheck source=../../tests/real_models/quant_models.sh
source "$ROOT/tests/real_models/quant_models.sh"
# Task accuracy is measured on the full M-LSD, its peak test (Equal(MaxPool(x), x)) included;
# quant_models.sh cuts it for the output-SNR checks only.
PARSE_ARGS[mlsd_tiny_320]=""
declare -A KIND=([blazeface_128]=faces [ppocr_v4_det]=text [mlsd_tiny_320]=lines)
declare -A EVALUATOR=([blazeface_128]=eval_blazeface.py [ppocr_v4_det]=eval_ppocr_det.py [mlsd_tiny_320]=eval_mlsd.py)
[ -f "$SETS/eval/lines/img_000.png" ] || { echo "real_accuracy.sh: run examples/real/fetch.sh first" >&2; exit 1; }
mkdir -p "$WORK"
for model in ${ONLY_MODELS:-${MODELS[@]}}; do
  kind=${KIND[$model]}
  /usr/bin/python3 "$REAL/images_to_npy.py" "$SETS/eval/$kind" "$WORK/$model.eval.npy" --model "$model"
  # shellcheck disable=SC2086
  [ -f "$WORK/$model.kar" ] || "$KILN" parser onnx "$MODELS_DIR/$model.onnx" --har-path "$WORK/$model.kar" ${PARSE_ARGS[$model]} >/dev/null
  for mode in "${MODES[@]}"; do
    { cat "$ROOT/tests/real_models/scripts/$model.alls"; echo "quantization_param({*}, precision_mode=$mode)"; } \
      > "$WORK/$model.$mode.alls"
    [ -f "$WORK/$model.$mode.kar" ] || "$KILN" optimize "$WORK/$model.kar" --calib-set-path "$SETS/calib/$kind" \
      --model-script "$WORK/$model.$mode.alls" --report-samples 4 --output-har-path "$WORK/$model.$mode.kar" \
      >/dev/null 2>"$WORK/$model.$mode.log"
    [ -f "$WORK/$model.float/outputs.json" ] || "$KILN" infer "$WORK/$model.$mode.kar" --target fp-optimized \
      --input-files "$WORK/$model.eval.npy" --output-dir "$WORK/$model.float" >/dev/null
    "$KILN" infer "$WORK/$model.$mode.kar" --target quantized --input-files "$WORK/$model.eval.npy" \
      --output-dir "$WORK/$model.$mode" >/dev/null
    echo "== $model $mode (calibration: $kind, evaluation: $SETS/eval/$kind)"
    /usr/bin/python3 "$REAL/${EVALUATOR[$model]}" "$WORK/$model.float" "$WORK/$model.$mode" \
      --json "$WORK/$model.$mode.eval.json"
  done
done
