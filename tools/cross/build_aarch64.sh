#!/usr/bin/env bash
# Cross-builds Kiln's runtime and kilnrt for 64-bit Arm Linux (Raspberry Pi 5, ...) and runs them
# under qemu-user, in one command:
#
#   tools/cross/build_aarch64.sh [--no-test] [BUILD_DIR]      (default: build-aarch64)
#
# 1. Installs what is missing (Debian 12: g++-aarch64-linux-gnu, qemu-user, googletest's
#    sources, cmake, make, file; with apt-get, as root or through sudo; nothing when all are
#    there).
# 2. Builds GoogleTest for aarch64 from Debian's sources (/usr/src/googletest, once) and
#    configures a runtime-only tree (-DKILN_BUILD_COMPILER=OFF: the runtime needs only the C++17
#    standard library; -DKILN_BUILD_RUNTIME_TESTS=ON) with tools/cross/aarch64-toolchain.cmake.
# 3. Builds it (incremental): the runtime libraries, kilnrt (linked statically: copy it to the
#    board as it is) and the runtime's own tests.
# 4. Runs `kilnrt --version` and the runtime tests (CTest) under qemu-aarch64 -L
#    /usr/aarch64-linux-gnu (--no-test skips the tests), and prints what `file` says of kilnrt.
#
# Exit codes: 0 built (and the tests passed); 77 the cross compiler or qemu is missing and could
# not be installed; anything else: the build or a test failed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
RUN_TESTS=1
if [ "${1:-}" = --no-test ]; then RUN_TESTS=0; shift; fi
BUILD=${1:-build-aarch64}
SYSROOT=/usr/aarch64-linux-gnu
GTEST_SRC=/usr/src/googletest
now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { printf '%d.%d' $(($1 / 1000)) $(($1 % 1000 / 100)); }

# what must exist (a command, or a file) | Debian package providing it
NEEDS=(
  "aarch64-linux-gnu-g++|g++-aarch64-linux-gnu"
  "qemu-aarch64|qemu-user"
  "$GTEST_SRC/CMakeLists.txt|googletest"
  "cmake|cmake"
  "make|make"
  "file|file"
)
have() { if [[ $1 == /* ]]; then [ -e "$1" ]; else command -v "$1" >/dev/null 2>&1; fi; }
missing=()
for entry in "${NEEDS[@]}"; do
  IFS='|' read -r what pkg <<<"$entry"
  have "$what" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "build_aarch64: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "build_aarch64: need root or sudo to install ${missing[*]}" >&2; exit 77; fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
    echo "build_aarch64: could not install ${missing[*]}" >&2
    exit 77
  fi
fi
for what in aarch64-linux-gnu-g++ qemu-aarch64 cmake make; do
  have "$what" || { echo "build_aarch64: $what unavailable" >&2; exit 77; }
done

TOOLCHAIN=$ROOT/tools/cross/aarch64-toolchain.cmake
t0=$(now_ms)
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
SHOW=${BUILD#"$ROOT"/}  # for messages
# GoogleTest for aarch64, from the sources Debian ships (the runtime's tests link it).
GTEST_PREFIX=$BUILD/googletest-install
TEST_ARGS=(-DKILN_BUILD_RUNTIME_TESTS=OFF)
if [ -f "$GTEST_SRC/CMakeLists.txt" ]; then
  if [ ! -f "$GTEST_PREFIX/lib/cmake/GTest/GTestConfig.cmake" ]; then
    cmake -S "$GTEST_SRC" -B "$BUILD/googletest" -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$GTEST_PREFIX" >/dev/null
    cmake --build "$BUILD/googletest" -j"$(nproc)" >/dev/null
    cmake --install "$BUILD/googletest" >/dev/null
  fi
  TEST_ARGS=(-DKILN_BUILD_RUNTIME_TESTS=ON -DGTest_DIR="$GTEST_PREFIX/lib/cmake/GTest")
fi
cmake -S . -B "$BUILD" -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" -DCMAKE_BUILD_TYPE=Release \
  -DKILN_BUILD_COMPILER=OFF -DKILN_STATIC_KILNRT=ON "${TEST_ARGS[@]}" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
echo "build_aarch64: built $SHOW in $(secs $(($(now_ms) - t0))) s"

KILNRT=$BUILD/runtime/kilnrt
[ -x "$KILNRT" ] || { echo "build_aarch64: $KILNRT was not built" >&2; exit 1; }
if v=$(qemu-aarch64 -L "$SYSROOT" "$KILNRT" --version 2>&1); then
  echo "build_aarch64: qemu-aarch64 -L $SYSROOT $SHOW/runtime/kilnrt --version: $v"
else
  echo "build_aarch64: '$KILNRT --version' failed under qemu-aarch64 -L $SYSROOT: $v" >&2
  exit 1
fi

# The runtime's tests, run by CTest through the toolchain's CMAKE_CROSSCOMPILING_EMULATOR.
if [ "$RUN_TESTS" = 1 ] && ctest --test-dir "$BUILD" -N 2>/dev/null | grep -q 'Total Tests: [1-9]'; then
  t0=$(now_ms)
  ctest --test-dir "$BUILD" --output-on-failure -j"$(nproc)" >"$BUILD/ctest.log" 2>&1 ||
    { cat "$BUILD/ctest.log"; echo "build_aarch64: runtime tests failed under qemu-aarch64" >&2; exit 1; }
  echo "build_aarch64: runtime tests under qemu-aarch64: $(grep -aE 'tests passed' "$BUILD/ctest.log") ($(secs $(($(now_ms) - t0))) s)"
fi
file "$KILNRT" | sed "s|^$ROOT/||"
