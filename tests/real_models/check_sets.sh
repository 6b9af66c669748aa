#!/usr/bin/env bash
# examples/real/make_sets.py: deterministic (two runs give identical files), evaluation and
# calibration images disjoint, and the disjointness check catches an evaluation image copied
# into a calibration folder. Small counts to stay fast.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
MAKE="$ROOT/examples/real/make_sets.py"
/usr/bin/python3 "$MAKE" "$WORK/a" --eval 3 --calib 4 >/dev/null
/usr/bin/python3 "$MAKE" "$WORK/b" --eval 3 --calib 4 >/dev/null
diff -r "$WORK/a" "$WORK/b" >/dev/null || { echo "FAIL: two runs of make_sets.py differ"; exit 1; }
for kind in faces text lines; do
  n=$(ls "$WORK/a/eval/$kind" | wc -l); m=$(ls "$WORK/a/calib/$kind" | wc -l)
  [ "$n" = 3 ] && [ "$m" = 4 ] || { echo "FAIL: $kind: $n evaluation, $m calibration images"; exit 1; }
done
/usr/bin/python3 "$MAKE" "$WORK/a" --check-only >/dev/null
cp "$WORK/a/eval/text/img_001.png" "$WORK/a/calib/text/img_099.png"
if /usr/bin/python3 "$MAKE" "$WORK/a" --check-only --kinds text >"$WORK/out" 2>&1; then
  echo "FAIL: an evaluation image in the calibration set was not caught"; exit 1
fi
grep -q "must be disjoint" "$WORK/out" || { cat "$WORK/out"; exit 1; }
echo "1 passed, 0 failed"
