#!/usr/bin/env bash
# The README's second command: install what is missing, build, and run the tests (CTest).
#
#   tools/test.sh            the fast tier: unit tests, ONNX conformance, real models, bit-exactness
#   tools/test.sh --all      every tier: also the sanitizer build (build-sanitize/: the test
#                            programs of the compiler, alls, calib and runtime under ASan + UBSan,
#                            and the fuzz targets for 45 s each) and the aarch64 cross build
#                            under qemu (what CI runs: .ci/run)
#
# Further arguments go to ctest (e.g. -R importer, --output-on-failure is always on).
set -euo pipefail
cd "$(dirname "$0")/.."
tier=fast
if [ "${1:-}" = "--all" ]; then
  tier=all
  shift
fi
tools/bootstrap.sh
tools/build.sh
if [ "$tier" = fast ]; then
  echo "tools/test.sh: fast tier (tools/test.sh --all adds the sanitizer, fuzz and cross tiers)"
  ctest --test-dir build --output-on-failure -j2 -LE 'sanitizer|fuzz|cross' "$@"
else
  ctest --test-dir build --output-on-failure -j2 "$@"
fi
