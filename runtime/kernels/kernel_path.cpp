// Run-time choice of the micro-kernel path: what the CPU reports, or KILN_KERNEL_PATH.
#include "runtime/kernels/kernel_path.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>

#if defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)  // the Linux kernel's bit for FEAT_DotProd
#endif
#endif

namespace kiln::rt {

const char* kernelPathName(KernelPath p) {
  switch (p) {
    case KernelPath::Avx2:
      return "avx2";
    case KernelPath::Neon:
      return "neon";
    case KernelPath::NeonDot:
      return "neon-dot";
    default:
      return "portable";
  }
}

std::vector<KernelPath> supportedKernelPaths() {
  std::vector<KernelPath> paths{KernelPath::Portable};
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx2")) paths.push_back(KernelPath::Avx2);
#elif defined(__aarch64__)
  paths.push_back(KernelPath::Neon);  // NEON (Advanced SIMD) is part of every AArch64 CPU
  // The dot-product instructions (Armv8.2 FEAT_DotProd: Cortex-A76 / Raspberry Pi 5, qemu's
  // -cpu max), as the kernel reports them.
  if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) paths.push_back(KernelPath::NeonDot);
#endif
  return paths;
}

KernelPath selectKernelPath() {
  const std::vector<KernelPath> paths = supportedKernelPaths();
  const char* forced = std::getenv("KILN_KERNEL_PATH");
  if (!forced || !*forced) return paths.back();
  std::string names;
  for (KernelPath p : paths) {
    if (std::strcmp(forced, kernelPathName(p)) == 0) return p;
    names += std::string(names.empty() ? "" : ", ") + kernelPathName(p);
  }
  throw std::invalid_argument(std::string("KILN_KERNEL_PATH=") + forced +
                              ": not a kernel path this CPU runs (expected one of: " + names + ")");
}

}  // namespace kiln::rt
