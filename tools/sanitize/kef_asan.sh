#!/usr/bin/env bash
# The .kef format and bad-input tests (kiln_runtime_tests) under AddressSanitizer + UBSan: a
# runtime-only build (no compiler dependencies) in build-rt-asan/ (KILN_RT_ASAN_DIR overrides).
# A CTest test (kef_asan) of the main build, so tools/test.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${KILN_RT_ASAN_DIR:-build-rt-asan}
if [ ! -f "$B/CMakeCache.txt" ]; then
  cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_BUILD_COMPILER=OFF \
    -DKILN_BUILD_RUNTIME_TESTS=ON -DKILN_SANITIZE=ON >/dev/null
fi
cmake --build "$B" -j"$(nproc)" --target kiln_runtime_tests >"$B/build.log" 2>&1 || {
  tail -40 "$B/build.log"
  exit 1
}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
exec "$B/kiln_runtime_tests" --gtest_brief=1
