#!/usr/bin/env bash
# Installs the Debian 12 packages Kiln needs, and nothing when they are all present.
set -euo pipefail
PACKAGES=(
  build-essential cmake git ccache     # toolchain (ccache: rebuilds in fresh clones reuse objects)
  libonnx-dev libonnx-testdata         # ONNX protobufs, checker, shape inference, text parser; conformance suite
  libprotobuf-dev protobuf-compiler
  libeigen3-dev libcli11-dev libyaml-cpp-dev libfmt-dev
  nlohmann-json3-dev                   # JSON inside archives and reports
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libpng-dev libjpeg-dev zlib1g-dev    # calibration images and .npz files
  python3-numpy python3-skimage        # test inputs from natural images, accuracy scripts
  python3-dev pybind11-dev python3-pytest  # the Python packages kiln and kilnrt, their tests
  python3-pil fonts-dejavu-core        # examples/real/make_sets.py renders text scenes with DejaVu
  g++-aarch64-linux-gnu qemu-user file # the runtime cross-built for aarch64, run under qemu (tests/cross)
  clang libclang-rt-14-dev             # ASan/UBSan + libFuzzer: the sanitizer and fuzz tiers (tools/sanitize)
  graphviz                             # dot lays out the graph of kiln profiler / kiln visualizer
  chromium                             # headless browser: the profiler report test (tests/compiler/profiler)
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm fetch the real models and the onnxruntime reference; any node >= 18 will do.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "bootstrap: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
