#!/usr/bin/env bash
# The README's second command: install what is missing, build, and run every test (CTest).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/bootstrap.sh
tools/build.sh
ctest --test-dir build --output-on-failure -j2 "$@"
