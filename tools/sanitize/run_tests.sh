#!/usr/bin/env bash
# Runs one GoogleTest program of build-sanitize/ (tools/sanitize/build.sh) under AddressSanitizer
# + UBSan: any sanitizer report or leak fails the test. The compiler's CLI tests run the sanitized
# kiln of the same build, so they cover the compiler end to end.
#
#   tools/sanitize/run_tests.sh PROGRAM     e.g. kiln_compiler_tests (CTest asan_PROGRAM)
#
# Exit 77 when the sanitizer build is missing. Tests too slow under ASan are skipped, listed in
# SKIP below with the reason.
set -euo pipefail
cd "$(dirname "$0")/../.."
PROG=${1:?usage: run_tests.sh PROGRAM}
B=${KILN_SANITIZE_DIR:-build-sanitize}
BIN=$(find "$B/tests" -maxdepth 3 -type f -name "$PROG" -perm -u+x | head -1)
if [ -z "$BIN" ]; then
  echo "asan_$PROG: skipped: $PROG is not built in $B (tools/sanitize/build.sh)"
  exit 77
fi

# PROGRAM:GTEST_PATTERN   reason (skipped here, run by the fast tier without sanitizers)
SKIP=(
)
filter=""
for s in "${SKIP[@]}"; do
  [ "${s%%:*}" = "$PROG" ] && filter+="${filter:+:}${s#*:}"
done

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export KILN_VERIFY_EACH_PASS=1
# Scratch files in the sanitizer build, not /tmp, where the fast tier may be writing the same names.
export TEST_TMPDIR="$B/Testing/tmp"
mkdir -p "$TEST_TMPDIR"
start=$(date +%s)
"$BIN" --gtest_brief=1 ${filter:+--gtest_filter=-$filter}
echo "asan_$PROG: passed in $(($(date +%s) - start)) s${filter:+ (skipped: $filter)}"
