#!/usr/bin/env bash
# Builds the sanitizer tree in build-sanitize/ (KILN_SANITIZE_DIR overrides): clang with
# AddressSanitizer + UBSan (KILN_SANITIZE) and libFuzzer coverage (KILN_BUILD_FUZZERS), at -O1
# with line tables only (quicker to compile; sanitizer reports still name files and lines).
# One build serves both tiers: the GoogleTest programs of the compiler, alls, calib and the
# runtime, with the kiln and kilnrt they run (tools/sanitize/run_tests.sh, CTest label
# `sanitizer`), and the fuzz targets (tools/fuzz/run_fuzz.sh, label `fuzz`).
#
#   tools/sanitize/build.sh     incremental; exit 77 when clang with libFuzzer is missing
#
# Jobs: KILN_BUILD_JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${KILN_SANITIZE_DIR:-build-sanitize}

has_libfuzzer() {
  command -v "$1" >/dev/null 2>&1 &&
    echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
    "$1" -x c++ -fsanitize=fuzzer,address,undefined -o /dev/null - >/dev/null 2>&1
}
CXX=""
for c in clang++ clang++-14; do
  if has_libfuzzer "$c"; then CXX=$c; break; fi
done
if [ -z "$CXX" ]; then
  tools/bootstrap.sh >&2 || true
  has_libfuzzer clang++ && CXX=clang++
fi
if [ -z "$CXX" ]; then
  echo "sanitize: skipped: no clang with libFuzzer (apt-get install clang libclang-rt-14-dev)"
  exit 77
fi
CC=${CXX/clang++/clang}

TARGETS=(kiln kilnrt
  kiln_compiler_tests kiln_batch_tests kiln_alls_tests kiln_calib_tests kiln_runtime_tests
  kilnrt_api_tests
  kiln_fuzz_kef kiln_fuzz_onnx kiln_fuzz_alls kiln_fuzz_kar kiln_fuzz_calib kiln_fuzz_seeds)

mkdir -p "$B"
if [ ! -f "$B/CMakeCache.txt" ]; then
  # PRE_TEST discovery: the test programs are listed when ctest runs, not after each link.
  CC=$CC CXX=$CXX cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
    -DKILN_SANITIZE=ON -DKILN_BUILD_FUZZERS=ON -DKILN_BUILD_BENCHMARKS=OFF \
    -DCMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE=PRE_TEST >"$B/configure.log" 2>&1 || {
    tail -40 "$B/configure.log"
    rm -f "$B/CMakeCache.txt"
    exit 1
  }
fi
start=$(date +%s)
cmake --build "$B" -j"${KILN_BUILD_JOBS:-$(nproc)}" --target "${TARGETS[@]}" >"$B/build.log" 2>&1 || {
  grep -a -B2 -A20 'error' "$B/build.log" | head -80
  echo "sanitize: the build failed; full log in $B/build.log"
  exit 1
}
echo "sanitize: $B built in $(($(date +%s) - start)) s"
