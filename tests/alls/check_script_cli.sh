#!/usr/bin/env bash
# kiln check-script end to end: a clean script exits 0; an extra ')' is a warning naming
# file:line:col; an unknown key, a bad value and a planner error exit 1 with file:line:col
# errors; --strict makes not-applied commands errors; --json reports the same; a directory is
# walked; a bad --hw-arch is a usage error (2).
set -euo pipefail
KILN=${1:?usage: check_script_cli.sh path/to/kiln}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() {  # expect_rc CODE command...
  local want=$1; shift
  set +e; "$@" >out.txt 2>err.txt; local rc=$?; set -e
  [ "$rc" = "$want" ] || { cat out.txt err.txt; fail "$* exited $rc, expected $want"; }
}

mkdir -p scripts/sub
cat > scripts/clean.alls <<'ALLS'
normalization1 = normalization([0, 0, 0], [255, 255, 255])
model_optimization_config(calibration, batch_size=8, calibset_size=64)
performance_param(fps=None)
resources_param(max_utilization=1.0000000000000007)
ALLS
cat > scripts/sub/paren.alls <<'ALLS'
{net/matmul1: [a, b], net/matmul2: [c]} = defuse_block(matmul1, defuse_count=4)
post_quantization_optimization(finetune, policy=enabled, loss_layer_names=[conv93, conv84]))
context_switch_param(mode=manual)
resources_param(max_utilization=1.125)
ALLS
printf 'quantization_param(conv1, precision_mode=a8_w8, bias_modes=x)\n' > bad_key.alls
printf 'model_optimization_flavor(optimization_level=7)\n' > bad_value.alls
printf 'resources_param(max_memory_utilization=2.5)\n' > bad_plan.alls

expect_rc 0 "$KILN" check-script scripts/clean.alls
[ ! -s err.txt ] || { cat err.txt; fail "clean.alls gave diagnostics"; }
grep -q "checked 1 script(s): 0 with errors" out.txt || fail "summary of clean.alls"

expect_rc 0 "$KILN" check-script --hw-arch hailo8l scripts/sub/paren.alls
grep -q "scripts/sub/paren.alls:2:92: warning: one ')' too many" err.txt || { cat err.txt; fail "extra paren warning"; }
grep -q "paren.alls:3:1: warning: context_switch_param mode=manual is planned as mode=allowed" err.txt || { cat err.txt; fail "mode=manual note"; }
grep -q "max_utilization=1.125 is planned as 1" err.txt || { cat err.txt; fail "clamp note"; }
grep -q "post_quantization_optimization(finetune) (line 2) is parsed, not applied" err.txt || fail "finetune not applied"
# --strict: the not-applied commands are errors; the extra ')' and the clamps stay warnings.
expect_rc 1 "$KILN" check-script --strict scripts/sub/paren.alls
grep -q "paren.alls:2:1: error: post_quantization_optimization(finetune)" err.txt || { cat err.txt; fail "strict error"; }
grep -q "paren.alls:2:92: warning: one ')' too many" err.txt || fail "strict keeps the paren warning"

expect_rc 1 "$KILN" check-script bad_key.alls
grep -q "bad_key.alls:1:49: error: unknown key 'bias_modes' for quantization_param; did you mean bias_mode?" err.txt || { cat err.txt; fail "unknown key"; }
expect_rc 1 "$KILN" check-script bad_value.alls
grep -q "bad_value.alls:1:46: error: bad value '7' for optimization_level" err.txt || { cat err.txt; fail "bad value"; }
expect_rc 1 "$KILN" check-script bad_plan.alls
grep -q "bad_plan.alls:1:40: error: max_memory_utilization expects" err.txt || { cat err.txt; fail "planner error"; }

# A directory: both scripts, in sorted order; JSON says the same.
expect_rc 0 "$KILN" check-script scripts
grep -q "checked 2 script(s): 0 with errors (0 errors), 1 with commands Kiln parses but does not apply" out.txt || { cat out.txt; fail "directory summary"; }
expect_rc 1 "$KILN" check-script --json scripts bad_key.alls
/usr/bin/python3 - out.txt <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
files = [f["file"] for f in j["files"]]
assert files == ["scripts/clean.alls", "scripts/sub/paren.alls", "bad_key.alls"], files
assert j["passed"] is False
assert j["summary"]["files_with_errors"] == 1
assert j["summary"]["not_applied_files_by_command"]["post_quantization_optimization(finetune)"] == 1
d = j["files"][2]["diagnostics"][0]
assert (d["severity"], d["line"], d["col"]) == ("error", 1, 49), d
PY

expect_rc 2 "$KILN" check-script --hw-arch hailo9 scripts/clean.alls
grep -qi "hailo9" err.txt || { cat err.txt; fail "bad --hw-arch message"; }
expect_rc 1 "$KILN" check-script missing.alls
grep -q "missing.alls" err.txt || fail "missing file message"
echo "check-script CLI: all checks passed"
