#!/usr/bin/env bash
# Fuzzes the .kef loader with libFuzzer (tests/fuzz/kef_fuzz.cpp) for a bounded time and prints
# how many inputs it executed.
#
#   tools/fuzz/run_kef_fuzz.sh [SECONDS]    (default 60)
#
# Builds with Debian's clang (-fsanitize=fuzzer,address,undefined) from the runtime's sources
# into build-fuzz/ (KILN_FUZZ_DIR overrides), seeds the corpus with the hand-built sample
# programs (tests/runtime/format/kef_programs.h) so the fuzzer starts from valid files, and runs. Exit 0:
# no finding; 1: a crash, sanitizer report or timeout (the input is in build-fuzz/artifacts/);
# 77: clang or its libFuzzer runtime is not available (tools/bootstrap.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN=${1:-60}
OUT=${KILN_FUZZ_DIR:-build-fuzz}

find_clang() {
  for c in clang++ clang++-14; do
    if command -v "$c" >/dev/null 2>&1 &&
      echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
      "$c" -x c++ -fsanitize=fuzzer -o /dev/null - >/dev/null 2>&1; then
      echo "$c"
      return 0
    fi
  done
  return 1
}
CXX=$(find_clang) || { tools/bootstrap.sh >&2 || true; CXX=$(find_clang); } || {
  echo "kef_fuzz: skipped: no clang with libFuzzer (apt-get install clang libclang-rt-14-dev)"
  exit 77
}

mkdir -p "$OUT/obj" "$OUT/corpus" "$OUT/seeds" "$OUT/artifacts"
FLAGS=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined
       -fno-sanitize-recover=undefined -I.)
# Recompile a source when it or any runtime header (or the sample programs) is newer.
newest_header=$(find runtime tests/runtime/format/kef_programs.h -name '*.h' -printf '%T@\n' | sort -n | tail -1)
objs=()
stale=()
for src in runtime/engine/*.cpp runtime/kernels/*.cpp runtime/format/*.cpp runtime/api/runtime.cpp; do
  obj="$OUT/obj/$(echo "$src" | tr / _).o"
  objs+=("$obj")
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] ||
    [ "$(stat -c %Y "$obj")" -lt "${newest_header%.*}" ]; then
    stale+=("$src" "$obj")
  fi
done
if [ ${#stale[@]} -gt 0 ]; then
  printf '%s\n' "${stale[@]}" | xargs -P"$(nproc)" -n2 sh -c \
    "$CXX ${FLAGS[*]} -fsanitize=fuzzer-no-link -c \"\$0\" -o \"\$1\"" || {
    echo "kef_fuzz: building the runtime failed"
    exit 1
  }
fi
"$CXX" "${FLAGS[@]}" -fsanitize=fuzzer tests/fuzz/kef_fuzz.cpp "${objs[@]}" -o "$OUT/kef_fuzz"
"$CXX" "${FLAGS[@]}" -fsanitize=fuzzer-no-link -DKEF_FUZZ_WRITE_SEEDS tests/fuzz/kef_fuzz.cpp \
  "${objs[@]}" -o "$OUT/kef_seeds"
"$OUT/kef_seeds" "$OUT/seeds"

echo "kef_fuzz: fuzzing for ${SECONDS_TO_RUN} s (corpus $OUT/corpus, seeds $OUT/seeds)"
set +e
"$OUT/kef_fuzz" -max_total_time="$SECONDS_TO_RUN" -print_final_stats=1 -max_len=32768 \
  -timeout=20 -rss_limit_mb=2048 -artifact_prefix="$OUT/artifacts/" \
  "$OUT/corpus" "$OUT/seeds" >"$OUT/fuzz.log" 2>&1
rc=$?
set -e
execs=$(grep -a '^stat::number_of_executed_units:' "$OUT/fuzz.log" | tail -1 | tr -dc 0-9)
cov=$(grep -ao 'cov: [0-9]*' "$OUT/fuzz.log" | tail -1 || true)
if [ "$rc" != 0 ]; then
  tail -60 "$OUT/fuzz.log"
  echo "kef_fuzz: FINDING after ${execs:-?} executions (exit $rc); inputs in $OUT/artifacts/"
  exit 1
fi
echo "kef_fuzz: ${execs:-?} executions in ${SECONDS_TO_RUN} s, ${cov:-cov: ?}, corpus of" \
  "$(ls "$OUT/corpus" | wc -l) inputs, no crash"
