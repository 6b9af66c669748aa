// Weight packing, the portable micro-kernel and the path dispatch of the packed GEMM (gemm.h).
#include "runtime/kernels/gemm.h"

#include <utility>

namespace kiln::rt::gemm {

bool packWeights(const WeightPtr& w, int64_t groups, int64_t kg, int64_t rows, bool transposed,
                 PackedWeights& out) {
  out = PackedWeights{};
  PackedWeights p;
  p.groups = groups, p.kg = kg, p.rows = rows;
  p.pairs = (rows + 1) / 2;
  p.blocks = (kg + kMR - 1) / kMR;
  p.data.assign(size_t(groups * p.blocks * p.pairs * kMR), 0);
  p.sumAbsW.assign(size_t(groups * kg), 0);
  for (int64_t grp = 0; grp < groups; ++grp)
    for (int64_t j = 0; j < kg; ++j) {
      int32_t* dst = p.data.data() + (grp * p.blocks + j / kMR) * p.pairs * kMR + j % kMR;
      const int64_t oc = grp * kg + j;
      auto at = [&](int64_t r) -> int64_t {
        if (r >= rows) return 0;
        return transposed ? w[r * kg + j] : w[oc * rows + r];
      };
      for (int64_t q = 0; q < p.pairs; ++q) {
        const int64_t lo = at(2 * q), hi = at(2 * q + 1);
        if (lo < INT16_MIN || lo > INT16_MAX || hi < INT16_MIN || hi > INT16_MAX) return false;
        dst[q * kMR] = pairWord(int32_t(lo), int32_t(hi));
        p.sumAbsW[size_t(oc)] += (lo < 0 ? -lo : lo) + (hi < 0 ? -hi : hi);
      }
    }
  out = std::move(p);
  return true;
}

void panelPortable(const int32_t* w, const int32_t* x, int64_t pairs, int64_t blocks,
                   const int32_t* bias, int32_t* acc, int64_t ldacc) {
  for (int64_t cb = 0; cb < blocks; ++cb) {
    const int32_t* xb = x + cb * pairs * kNR;
    int32_t c[kMR][kNR];
    for (int64_t m = 0; m < kMR; ++m)
      for (int64_t j = 0; j < kNR; ++j) c[m][j] = bias[m];
    for (int64_t q = 0; q < pairs; ++q) {
      int32_t xlo[kNR], xhi[kNR];
      for (int64_t j = 0; j < kNR; ++j) {
        xlo[j] = int16_t(uint32_t(xb[q * kNR + j]) & 0xffff);
        xhi[j] = int16_t(uint32_t(xb[q * kNR + j]) >> 16);
      }
      for (int64_t m = 0; m < kMR; ++m) {
        const int32_t wlo = int16_t(uint32_t(w[q * kMR + m]) & 0xffff);
        const int32_t whi = int16_t(uint32_t(w[q * kMR + m]) >> 16);
        for (int64_t j = 0; j < kNR; ++j) c[m][j] += xlo[j] * wlo + xhi[j] * whi;
      }
    }
    for (int64_t m = 0; m < kMR; ++m)
      for (int64_t j = 0; j < kNR; ++j) acc[m * ldacc + cb * kNR + j] = c[m][j];
  }
}

void panel(KernelPath path, const int32_t* w, const int32_t* x, int64_t pairs, int64_t blocks,
           const int32_t* bias, int32_t* acc, int64_t ldacc) {
  switch (path) {
#if defined(__x86_64__) && defined(__GNUC__)
    case KernelPath::Avx2:
      return panelAvx2(w, x, pairs, blocks, bias, acc, ldacc);
#endif
#if defined(__aarch64__)
    case KernelPath::Neon:
      return panelNeon(w, x, pairs, blocks, bias, acc, ldacc);
#endif
    default:
      return panelPortable(w, x, pairs, blocks, bias, acc, ldacc);
  }
}

}  // namespace kiln::rt::gemm
