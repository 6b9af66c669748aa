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

bool packDotWeights(const WeightPtr& w, PackedWeights& p) {
  p.quads = (p.rows + 3) / 4;
  p.dot.assign(size_t(p.groups * p.blocks * p.quads * kMR * 4), 128);
  p.sumW.assign(size_t(p.groups * p.kg), 0);
  for (int64_t grp = 0; grp < p.groups; ++grp)
    for (int64_t j = 0; j < p.kg; ++j) {
      const int64_t oc = grp * p.kg + j;
      uint8_t* dst = p.dot.data() + (grp * p.blocks + j / kMR) * p.quads * kMR * 4 + j % kMR * 4;
      for (int64_t r = 0; r < p.rows; ++r) {
        const int64_t v = w[oc * p.rows + r];
        if (v < INT8_MIN || v > INT8_MAX) {
          p.quads = 0, p.dot.clear(), p.sumW.clear();
          return false;
        }
        dst[r / 4 * kMR * 4 + r % 4] = uint8_t(v + 128);
        p.sumW[size_t(oc)] += int32_t(v);
      }
    }
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

void panelDotPortable(const uint8_t* w, const uint8_t* x, int64_t quads, int64_t blocks,
                      const uint32_t* bias, int32_t* acc, int64_t ldacc) {
  for (int64_t cb = 0; cb < blocks; ++cb) {
    const uint8_t* xb = x + cb * quads * 64;
    for (int64_t j = 0; j < kNR; ++j) {
      uint32_t c[kMR] = {0, 0, 0, 0}, sum = 0;
      for (int64_t q = 0; q < quads; ++q)
        for (int64_t k = 0; k < 4; ++k) {
          const uint32_t xv = xb[q * 64 + j / 4 * 16 + j % 4 * 4 + k];
          sum += xv;
          for (int64_t m = 0; m < kMR; ++m) c[m] += xv * w[(q * kMR + m) * 4 + k];
        }
      for (int64_t m = 0; m < kMR; ++m)
        acc[m * ldacc + cb * kNR + j] = int32_t(bias[m] + c[m] - (sum << 7));
    }
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
    case KernelPath::NeonDot:
      return panelNeon(w, x, pairs, blocks, bias, acc, ldacc);
#endif
    default:
      return panelPortable(w, x, pairs, blocks, bias, acc, ldacc);
  }
}

}  // namespace kiln::rt::gemm
