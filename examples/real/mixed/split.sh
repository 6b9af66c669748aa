#!/usr/bin/env bash
# The mixed-precision search's held-out data for the three real models: the last 16 images of each
# representative calibration set (img_048..063), which the configs here do not calibrate on
# (calib_size: 48), as symbolic links in DEST/{faces,text,lines}. The evaluation sets stay apart.
#   examples/real/mixed/split.sh DEST
set -euo pipefail
DEST=${1:?usage: split.sh DEST}
SETS=$(cd "$(dirname "$0")/../.data/sets/calib" && pwd)
for kind in faces text lines; do
  mkdir -p "$DEST/$kind"
  for i in $(seq 48 63); do ln -sfn "$SETS/$kind/img_0$i.png" "$DEST/$kind/img_0$i.png"; done
done
echo "split.sh: 16 held-out images per model in $DEST/{faces,text,lines}"
