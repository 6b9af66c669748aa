// Which implementation of the integer micro-kernels runs (docs/runtime.md "Kernel paths"). Every
// path computes the same integers (exact int32 sums of exact products, then the one
// requantize()), so the choice changes speed only, never a byte of output.
#pragma once

#include <string>
#include <vector>

namespace kiln::rt {

enum class KernelPath {
  Portable,  // plain C++ (any CPU; the compiler vectorizes what it can)
  Avx2,      // x86-64 AVX2: vpmaddwd on sign-extended 16-bit pairs
  Neon,      // aarch64 NEON: widening multiplies (smull) of 16-bit pairs
  NeonDot,   // aarch64 NEON with the dot-product instructions (udot): the 8-bit GEMM on bytes;
             // every other kernel takes the NEON code (isNeon)
};

/// Whether the path runs the NEON kernels (neon, neon-dot).
inline bool isNeon(KernelPath p) {
  return p == KernelPath::Neon || p == KernelPath::NeonDot;
}

const char* kernelPathName(KernelPath p);
/// The paths this CPU can run, portable first.
std::vector<KernelPath> supportedKernelPaths();
/// The path kernels prepared now will use: the best supported one, or the one named by the
/// environment variable KILN_KERNEL_PATH (portable, avx2, neon, neon-dot; an unknown or unsupported
/// name is an error thrown as kiln::Error). Read once per call; a Model calls it once at load.
KernelPath selectKernelPath();

}  // namespace kiln::rt
