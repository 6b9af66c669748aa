#!/usr/bin/env bash
# kilnrt's command line on bad input: every error is one line "kilnrt: error: ..." that says what
# was wrong, exit code 1 (2 for command-line mistakes), never a crash. Also --help everywhere and
# the input formats infer accepts.
#
#   cli_errors.sh path/to/kilnrt DIR   (DIR holds digits_a8.kef and digits_a16.kef)
set -uo pipefail
KILNRT=${1:?usage: cli_errors.sh path/to/kilnrt DIR}
DIR=${2:?usage: cli_errors.sh path/to/kilnrt DIR}
A8=$DIR/digits_a8.kef
A16=$DIR/digits_a16.kef
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
PY=/usr/bin/python3
$PY -c 'import numpy' 2>/dev/null || { echo "SKIP: needs python3-numpy"; exit 77; }
$PY - "$W" <<'PY'
import numpy as np, sys
w = sys.argv[1]
x = np.random.default_rng(0).random((1, 1, 8, 8), dtype=np.float32)
np.save(f"{w}/good.npy", x)
np.save(f"{w}/batch.npy", np.repeat(x, 3, axis=0))
np.save(f"{w}/shape.npy", x[:, :, :7, :7].copy())
np.save(f"{w}/rank.npy", x[0])
np.save(f"{w}/f64.npy", x.astype(np.float64))
np.save(f"{w}/i32.npy", (x * 255).astype(np.int32))
np.save(f"{w}/u8.npy", (x * 255).astype(np.uint8))
np.save(f"{w}/u16.npy", (x * 65535).astype(np.uint16))
np.save(f"{w}/empty.npy", np.zeros((0, 1, 8, 8), np.float32))
PY
printf 'hello, not a kef\n' >"$W/text.kef"
: >"$W/empty.kef"
head -c 1000 "$A8" >"$W/truncated.kef"
cp "$A8" "$W/corrupt.kef"
printf '\xff' | dd of="$W/corrupt.kef" bs=1 seek=2000 conv=notrunc status=none
printf 'x' >"$W/afile"
mkfifo "$W/fifo.npy"
mkdir "$W/dir.npy"

passed=0
failed=0
# expect CODE "substring1|substring2|..." kilnrt ARGS...
expect() {
  local code=$1 want=$2
  shift 2
  "$KILNRT" "$@" >"$W/out" 2>"$W/err"
  local rc=$?
  local ok=1
  [ "$rc" = "$code" ] || ok=0
  if [ "$code" != 0 ]; then
    [ "$(wc -l <"$W/err")" = 1 ] || ok=0
    grep -q '^kilnrt: error: ' "$W/err" || ok=0
  fi
  local IFS='|'
  for s in $want; do
    grep -qF -- "$s" "$W/err" "$W/out" || ok=0
  done
  if [ $ok = 1 ]; then
    passed=$((passed + 1))
    echo "ok   [$rc] kilnrt $* :: $(head -c 300 "$W/err" | tr '\n' ' ')"
  else
    failed=$((failed + 1))
    echo "FAIL kilnrt $*: exit $rc (want $code), wanted '$want' in:"
    cat "$W/err" "$W/out" | head -20
  fi
}

out=$W/o
# Runtime errors: exit 1, one line naming the file, the stream, expected and found.
expect 1 "shape.npy|input 'input'|[1, 1, 8, 8]|[1, 1, 7, 7]" infer "$A8" --input-files "$W/shape.npy" --output-dir "$out"
expect 1 "rank.npy|[1, 1, 8, 8]|[1, 8, 8]" infer "$A8" --input-files "$W/rank.npy" --output-dir "$out"
expect 1 "f64.npy|float32|float64" infer "$A8" --input-files "$W/f64.npy" --output-dir "$out"
expect 1 "i32.npy|int32" infer "$A8" --input-files "$W/i32.npy" --output-dir "$out"
expect 1 "good.npy|--input-format-type uint8|float32" infer "$A8" --input-files "$W/good.npy" --output-dir "$out" --input-format-type uint8
expect 1 "u16.npy|uint8 on the device|narrowed" infer "$A8" --input-files "$W/u16.npy" --output-dir "$out"
expect 1 "empty.npy|no sample" infer "$A8" --input-files "$W/empty.npy" --output-dir "$out"
expect 1 "1 input(s)|--input-files gave 2" infer "$A8" --input-files "$W/good.npy" "$W/good.npy" --output-dir "$out"
expect 1 "missing.npy" infer "$A8" --input-files "$W/missing.npy" --output-dir "$out"
# Issue 12: a FIFO blocked forever; a directory gave "basic_filebuf::underflow ... Is a directory".
expect 1 "fifo.npy: expected a regular file, found a FIFO (named pipe)" infer "$A8" --input-files "$W/fifo.npy" --output-dir "$out"
expect 1 "dir.npy: expected a regular file, found a directory" infer "$A8" --input-files "$W/dir.npy" --output-dir "$out"
expect 1 "missing.kef|cannot open" infer "$W/missing.kef" --input-files "$W/good.npy" --output-dir "$out"
expect 1 "text.kef|not a Kiln executable" parse "$W/text.kef"
expect 1 "good.npy|not a Kiln executable" run "$W/good.npy"
expect 1 "empty.kef|empty" parse "$W/empty.kef"
expect 1 "truncated.kef" infer "$W/truncated.kef" --input-files "$W/good.npy" --output-dir "$out"
expect 1 "corrupt.kef|checksum" benchmark "$W/corrupt.kef"
expect 1 "$DIR|not a regular file" parse "$DIR"
expect 1 "afile|not a directory" infer "$A8" --input-files "$W/good.npy" --output-dir "$W/afile"
expect 1 "uint16 on the device|--user-format-type uint8" infer "$A16" --input-files "$W/good.npy" --output-dir "$out" --user-format-type uint8
# Command-line mistakes: exit 2.
expect 2 "unknown command 'frobnicate'" frobnicate
expect 2 "unknown option '--nope'|--help" infer "$A8" --nope
expect 2 "--output-dir is required" infer "$A8" --input-files "$W/good.npy"
expect 2 "--output-dir is empty|would write into /" infer "$A8" --input-files "$W/good.npy" --output-dir ""
expect 2 "unknown command 'infr'|did you mean infer?" infr "$A8"
expect 2 "unknown option '--jsn'|did you mean --json?" parse "$A8" --jsn
expect 2 "missing FILE.kef|put FILE.kef first" infer --input-files "$W/good.npy" "$A8" --output-dir "$out"
expect 2 "--frames-count expects an integer|abc" run "$A8" --frames-count abc
expect 2 "--frames-count must be between" run "$A8" --frames-count 0
expect 2 "--rounds must be between" benchmark "$A8" "$A16" --rounds 0
expect 2 "--user-format-type expects one of|int4" infer "$A8" --input-files "$W/good.npy" --output-dir "$out" --user-format-type int4
expect 2 "unexpected argument" parse "$A8" "$A16"
expect 2 "missing FILE.kef" benchmark
expect 2 "no command given"
# --help on every command: exit 0, an explanation.
for c in parse infer run benchmark; do expect 0 "usage: kilnrt $c" $c --help; done
expect 0 "commands:" --help
# What does work: uint8 device integers, uint16 widened into a 16-bit stream (with a warning),
# a batch, float32 given explicitly.
expect 0 "logits" infer "$A8" --input-files "$W/u8.npy" --output-dir "$out"
expect 0 "warning|widened" infer "$A16" --input-files "$W/u8.npy" --output-dir "$out"
expect 0 "[3, 10]" infer "$A16" --input-files "$W/batch.npy" --output-dir "$out" --input-format-type float32
expect 0 "Throughput|FPS|Latency|peak RSS|(of 20 frames)" run "$A8" --frames-count 20 --measure-latency --profile
expect 0 "\"fps\"" run "$A16" --frames-count 5 --json --input-files "$W/batch.npy"
# Inputs are read from the files at every frame (sample i mod N), device integers too.
expect 0 "3 sample(s) from --input-files (float32)" run "$A8" --frames-count 7 --input-files "$W/batch.npy"
expect 0 "1 sample(s) from --input-files (uint8)" run "$A8" --frames-count 2 --input-files "$W/u8.npy"
head -c 200 "$W/good.npy" >"$W/short.npy"
expect 1 "short.npy|needs 256 bytes of data, the file has" run "$A8" --input-files "$W/short.npy"
expect 1 "shape.npy|expects shape [1, 1, 8, 8]" run "$A8" --input-files "$W/shape.npy"
expect 0 "random (auto)" run "$A16" --frames-count 2 --input-format-type auto --user-format-type auto
expect 0 "Model switching|5 rounds of 4 frames|switch cost|(sd |rounds |percentiles of 20 frames" benchmark "$A8" "$A16" --frames-count 20
expect 0 "one round: no spread" benchmark "$A8" "$A16" --frames-count 2 --rounds 1
# -t SECONDS: a time-based run that says how many frames ran.
expect 0 "frames|ran in 0.2 s|Model switching" benchmark "$A8" "$A16" -t 0.2
expect 2 "-t expects a number of seconds in (0, 86400]|'abc'" benchmark "$A8" -t abc
expect 2 "give either --frames-count or -t" benchmark "$A8" -t 1 --frames-count 5
expect 0 "Input streams|qp_scale|Layers|Plan|MAC-equivalents per frame|work" parse "$A16"
expect 0 "Profile|conv2|ms/frame" infer "$A8" --input-files "$W/batch.npy" --output-dir "$out" --profile
# --json output parses as JSON and has the figures.
for args in "parse $A16 --json" "run $A8 --frames-count 3 --measure-latency --profile --json" \
  "benchmark $A8 $A16 --frames-count 3 --json" "benchmark $A8 -t 0.1 --json"; do
  # shellcheck disable=SC2086
  if "$KILNRT" $args | $PY -c '
import json, sys
d = json.load(sys.stdin)
if "layers" in d:
    assert d["work"] == sum(l["work"] for l in d["layers"]) > 0
if "latency_ms" in d:
    assert d["latency_ms"]["frames"] == 3
if "seconds" in d and "models" in d:
    m = d["models"][0]
    assert m["frames"] >= 1 and m["frames"] == m["latency_ms"]["frames"]
    assert m["wall_seconds"] >= d["seconds"] and 0 < m["seconds"] <= m["wall_seconds"]
if "switching" in d:
    s = d["switching"]
    assert s["rounds"] == 5 and len(s["round_switch_costs_ms"]) == 5
    assert s["switch_cost_min_ms"] <= s["switch_cost_ms"] <= s["switch_cost_max_ms"]
    assert s["within_noise"] == (abs(s["switch_cost_ms"]) < s["switch_cost_sd_ms"])
'; then
    passed=$((passed + 1)); echo "ok   kilnrt $args: valid JSON"
  else
    failed=$((failed + 1)); echo "FAIL kilnrt $args: not valid JSON"
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
