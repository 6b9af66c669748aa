#!/usr/bin/env bash
# Install the pinned onnxruntime-node (CPU) used by tools/ort/ort_run.js into
# ${KILN_ORT_DIR:-$HOME/.cache/kiln/ort}. Idempotent.
# Exit codes: 0 ok (installed or already present), 77 registry unreachable
# (skipped), 1 other failure.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEST="${KILN_ORT_DIR:-$HOME/.cache/kiln/ort}"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "tools/ort/setup.sh: skipped: node/npm not installed (apt-get install nodejs npm)" >&2
  exit 77
fi

WANT="$(node -p "require('$HERE/package.json').dependencies['onnxruntime-node']")"

# Smoke test: load the native binding and run a 1-node Relu model on the CPU EP.
check() {
  ( cd "$DEST" && node -e '
    const ort = require("onnxruntime-node");
    const m = Buffer.from("CAcSBGtpbG46MwoMCgF4EgF5IgRSZWx1EgF0Wg8KAXgSCgoICAESBAoCCAJiDwoBeRIKCggIARIECgIIAkIECgAQDQ==", "base64");
    (async () => {
      const s = await ort.InferenceSession.create(m, { intraOpNumThreads: 1, interOpNumThreads: 1 });
      const r = await s.run({ x: new ort.Tensor("float32", Float32Array.from([-1, 2]), [2]) });
      const y = r.y.data;
      if (y[0] !== 0 || y[1] !== 2) throw new Error("bad result " + y);
      if (ort.env.versions.node !== process.argv[1]) throw new Error("version " + ort.env.versions.node);
    })().catch((e) => { console.error(e.message); process.exit(1); });
  ' "$WANT" ) >/dev/null 2>&1
}

if [ -f "$DEST/package.json" ] && cmp -s "$HERE/package.json" "$DEST/package.json" && check; then
  echo "onnxruntime-node $WANT already installed in $DEST"
  exit 0
fi

mkdir -p "$DEST"
cp "$HERE/package.json" "$DEST/package.json"
if [ -f "$HERE/package-lock.json" ]; then
  cp "$HERE/package-lock.json" "$DEST/package-lock.json"
  NPM_CMD=(npm ci)
else
  NPM_CMD=(npm install)
fi

LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
# --ignore-scripts: onnxruntime-node's install script downloads CUDA/TensorRT
# binaries from GitHub; the CPU libonnxruntime.so ships inside the npm tarball.
if ! (cd "$DEST" && "${NPM_CMD[@]}" --ignore-scripts --no-audit --no-fund) >"$LOG" 2>&1; then
  if grep -Eq 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|network|socket hang up|E50[0-9]' "$LOG"; then
    echo "tools/ort/setup.sh: skipped onnxruntime-node $WANT: npm registry unreachable ($(grep -Eom1 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|network|socket hang up|E50[0-9]' "$LOG"))" >&2
    exit 77
  fi
  echo "tools/ort/setup.sh: npm install of onnxruntime-node $WANT failed:" >&2
  cat "$LOG" >&2
  exit 1
fi

if ! check; then
  echo "tools/ort/setup.sh: onnxruntime-node $WANT installed in $DEST but its CPU library fails to load/run" >&2
  exit 1
fi
echo "onnxruntime-node $WANT installed in $DEST"
