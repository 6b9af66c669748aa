#!/usr/bin/env bash
# Runs one libFuzzer target of build-sanitize/ (tools/sanitize/build.sh) for a bounded time from
# its seeds, and prints how many inputs it executed.
#
#   tools/fuzz/run_fuzz.sh TARGET [SECONDS [RUNS]]   TARGET: kef onnx alls kar calib (default 45 s)
#
# With RUNS (what CI does), the run is reproducible: libFuzzer's -seed is fixed (KILN_FUZZ_SEED,
# default 1) and it stops after RUNS inputs, so a CI run explores exactly what a run here did;
# SECONDS then only bounds a slow machine. Without RUNS it explores for SECONDS from a random
# seed (KILN_FUZZ_SEED=0), for longer campaigns by hand.
#
# Seeds (copied into build-sanitize/fuzz/TARGET/seeds/ on each run):
#   kef    the hand-built sample programs (kiln_fuzz_seeds kef)
#   onnx   the digits CNN, the real models when cached (${KILN_MODELS_DIR:-~/.cache/kiln/models})
#          and the ONNX conformance models (/usr/share/libonnx-testdata/data/node/*/model.onnx)
#   alls   tests/data/alls-samples/ and ../shared/alls-corpus/ when present
#   kar    the digits CNN's archives from the sanitized `kiln parser` and `kiln optimize` (a8, a16)
#   calib  small .npy, .npz, PNG and JPEG files (kiln_fuzz_seeds calib)
# The inputs of fixed findings (tests/fuzz/regressions/TARGET/) run with the seeds. New inputs
# are kept in build-sanitize/fuzz/TARGET/corpus/ across runs. Failures: a crash, a
# sanitizer report, an exception other than Kiln's typed errors, an input running longer than
# -timeout (30 s) or a process above -rss_limit_mb (2048 MB). Exit 0: no finding; 1: a finding
# (the input is in build-sanitize/fuzz/TARGET/artifacts/; reproduce with
# `build-sanitize/tests/fuzz/kiln_fuzz_TARGET FILE`); 77: the sanitizer build is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET=${1:?usage: run_fuzz.sh kef|onnx|alls|kar|calib [SECONDS]}
SECONDS_TO_RUN=${2:-45}
RUNS=${3:-}
BOUND=(-max_total_time="$SECONDS_TO_RUN")
if [ -n "$RUNS" ]; then
  BOUND=(-runs="$RUNS" -seed="${KILN_FUZZ_SEED:-1}" -max_total_time="$((SECONDS_TO_RUN * 4))")
elif [ -n "${KILN_FUZZ_SEED:-}" ]; then
  BOUND+=(-seed="$KILN_FUZZ_SEED")
fi
B=${KILN_SANITIZE_DIR:-build-sanitize}
FUZZER="$B/tests/fuzz/kiln_fuzz_$TARGET"
if [ ! -x "$FUZZER" ]; then
  echo "fuzz_$TARGET: skipped: $FUZZER is not built (tools/sanitize/build.sh)"
  exit 77
fi
W="$B/fuzz/$TARGET"
rm -rf "$W/seeds"
[ -n "$RUNS" ] && rm -rf "$W/corpus"  # reproducible: the same start every time
mkdir -p "$W/seeds" "$W/corpus" "$W/artifacts"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The targets write each input as a file under TMPDIR: in memory when /dev/shm is there.
SCRATCH=$(mktemp -d /dev/shm/kiln_fuzz.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
export TMPDIR="$SCRATCH"

MAX_LEN=()
case "$TARGET" in
  kef)
    "$B/tests/fuzz/kiln_fuzz_seeds" kef "$W/seeds"
    MAX_LEN=(-max_len=32768)
    ;;
  calib)
    "$B/tests/fuzz/kiln_fuzz_seeds" calib "$W/seeds"
    MAX_LEN=(-max_len=16384)
    ;;
  alls)
    # The corpus is a seed source only when ../shared is beside the checkout (find on a missing
    # folder fails, and with pipefail that would end the script).
    SEED_DIRS=(tests/data/alls-samples)
    [ -d ../shared/alls-corpus ] && SEED_DIRS+=(../shared/alls-corpus)
    find "${SEED_DIRS[@]}" -name '*.alls' -type f |
      while read -r f; do cp "$f" "$W/seeds/$(basename "$(dirname "$f")")_$(basename "$f")"; done
    MAX_LEN=(-max_len=16384)
    ;;
  onnx)
    cp examples/digits/digits_cnn.onnx "$W/seeds/"
    for f in "${KILN_MODELS_DIR:-$HOME/.cache/kiln/models}"/*.onnx; do
      [ -f "$f" ] && cp "$f" "$W/seeds/real_$(basename "$f")"
    done
    for f in /usr/share/libonnx-testdata/data/node/*/model.onnx; do
      [ -f "$f" ] && cp "$f" "$W/seeds/$(basename "$(dirname "$f")").onnx"
    done
    ;;
  kar)
    D=examples/digits
    K="$B/compiler/kiln"
    "$K" parser onnx "$D/digits_cnn.onnx" --har-path "$W/seeds/digits.kar" >/dev/null
    "$K" optimize "$W/seeds/digits.kar" --calib-set-path "$D/calib.npy" --report-samples 2 \
      --output-har-path "$W/seeds/digits_a8.kar" >/dev/null 2>&1
    "$K" optimize "$W/seeds/digits.kar" --calib-set-path "$D/calib.npy" --report-samples 2 \
      --model-script "$D/digits_a16.alls" --output-har-path "$W/seeds/digits_a16.kar" >/dev/null 2>&1
    rm -f "$W/seeds/"*.json
    ;;
  *)
    echo "run_fuzz.sh: unknown target '$TARGET' (kef onnx alls kar calib)" >&2
    exit 2
    ;;
esac
# Inputs of fixed findings run first, with the seeds.
REGRESSIONS=()
[ -d "tests/fuzz/regressions/$TARGET" ] && REGRESSIONS=("tests/fuzz/regressions/$TARGET")
if [ -n "$RUNS" ]; then
  what="$RUNS inputs from seed ${KILN_FUZZ_SEED:-1} (at most $((SECONDS_TO_RUN * 4)) s)"
else
  what="$SECONDS_TO_RUN s"
fi
echo "fuzz_$TARGET: fuzzing $what from $(ls "$W/seeds" | wc -l) seeds (corpus $W/corpus)"
set +e
"$FUZZER" "${BOUND[@]}" -print_final_stats=1 "${MAX_LEN[@]}" \
  -timeout=30 -rss_limit_mb=2048 -artifact_prefix="$W/artifacts/" \
  "$W/corpus" "$W/seeds" "${REGRESSIONS[@]}" >"$W/fuzz.log" 2>&1
rc=$?
set -e
execs=$(grep -a '^stat::number_of_executed_units:' "$W/fuzz.log" | tail -1 | tr -dc 0-9)
cov=$(grep -ao 'cov: [0-9]*' "$W/fuzz.log" | tail -1 || true)
if [ "$rc" != 0 ]; then
  tail -80 "$W/fuzz.log"
  echo "fuzz_$TARGET: FINDING after ${execs:-?} executions (exit $rc); inputs in $W/artifacts/"
  exit 1
fi
echo "fuzz_$TARGET: ${execs:-?} executions, ${cov:-cov: ?}, corpus of" \
  "$(ls "$W/corpus" | wc -l) inputs, no finding"
