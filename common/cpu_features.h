// What the host CPU can run, asked once per process (x86-64 only; false elsewhere). The
// compiler's AVX2 clones (histograms, min/max scans, host conversions, noise sums) choose on it.
#pragma once

namespace kiln {

inline bool hostHasAvx2() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool ok = [] {
    __builtin_cpu_init();
    return bool(__builtin_cpu_supports("avx2"));
  }();
  return ok;
#else
  return false;
#endif
}

}  // namespace kiln
