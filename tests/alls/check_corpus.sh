#!/usr/bin/env bash
# The public model-script corpus (../shared/alls-corpus beside the checkout, as CI has it: the
# 236 scripts of the Model Zoo's v2.18 release): every file parses, validates and is read by the
# resource planner with no error (kiln check-script). Skips (77) only when the folder is absent.
# The summary it prints counts the files with commands Kiln parses but does not apply.
set -euo pipefail
KILN=${1:?usage: check_corpus.sh path/to/kiln [corpus-dir]}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=${2:-$ROOT/../shared/alls-corpus}
if [ ! -d "$CORPUS" ]; then
  echo "skipped: no corpus folder at $CORPUS"
  exit 77
fi
expected=$(find "$CORPUS" -name '*.alls' -type f | wc -l)
out=$("$KILN" check-script --quiet "$CORPUS") || {
  echo "$out"
  echo "FAIL: kiln check-script found errors in the corpus" >&2
  exit 1
}
echo "$out"
# Every file was checked, and none had an error.
grep -q "^checked $expected script(s): 0 with errors" <<<"$out" || {
  echo "FAIL: expected 'checked $expected script(s): 0 with errors'" >&2
  exit 1
}
# The JSON report agrees and every file is in it.
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$KILN" check-script --json "$CORPUS" >"$WORK/check.json"
/usr/bin/python3 - "$WORK/check.json" "$expected" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert j["passed"] is True, "passed is false"
assert len(j["files"]) == n, (len(j["files"]), n)
assert j["summary"]["files_with_errors"] == 0
assert all(f["errors"] == 0 for f in j["files"])
print("json:", j["summary"]["files_with_not_applied"], "of", n, "files with not-applied commands")
PY
