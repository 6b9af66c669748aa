// Weight packing, the portable micro-kernel and the path dispatch of the packed GEMM (gemm.h).
#include "runtime/kernels/gemm.h"

#include <utility>

namespace kiln::rt::gemm {

bool packWeights(const WeightPtr& w, int64_t groups, int64_t kg, int64_t rows, int64_t taps,
                 bool transposed, PackedWeights& out) {
  out = PackedWeights{};
  PackedWeights p;
  p.groups = groups, p.kg = kg, p.rows = rows, p.taps = taps;
  // Channel pairs per tap (taps > 1; rows = channels * taps) or row pairs (taps == 1).
  const int64_t channels = rows / taps, perTap = (channels + 1) / 2;
  p.pairs = taps * perTap;
  p.blocks = (kg + kMR - 1) / kMR;
  p.data.assign(size_t(groups * p.blocks * p.pairs * kMR), 0);
  p.sumAbsW.assign(size_t(groups * kg), 0);
  for (int64_t grp = 0; grp < groups; ++grp)
    for (int64_t j = 0; j < kg; ++j) {
      int32_t* dst = p.data.data() + (grp * p.blocks + j / kMR) * p.pairs * kMR + j % kMR;
      const int64_t oc = grp * kg + j;
      // Row (channel c, tap t); 0 beyond the channels (an odd count's last pair).
      auto at = [&](int64_t c, int64_t t) -> int64_t {
        if (c >= channels) return 0;
        const int64_t r = c * taps + t;
        return transposed ? w[r * kg + j] : w[oc * rows + r];
      };
      for (int64_t t = 0; t < taps; ++t)
        for (int64_t i = 0; i < perTap; ++i) {
          const int64_t lo = at(2 * i, t), hi = at(2 * i + 1, t);
          if (lo < INT16_MIN || lo > INT16_MAX || hi < INT16_MIN || hi > INT16_MAX) return false;
          dst[(t * perTap + i) * kMR] = pairWord(int32_t(lo), int32_t(hi));
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

PanelLayout PanelLayout::contiguous(int64_t pairs) {
  static const int64_t kZero = 0;
  PanelLayout l;
  l.blockStride = pairs * kNR, l.pairStride = kNR, l.pairsPerTap = pairs, l.taps = 1;
  l.tapOffset = &kZero;
  return l;
}

namespace {

// The portable micro-kernel for blocks of NR columns (kNR: panel, kNRWide: panelWide).
template <int64_t NR>
void panelPortableN(const int32_t* w, const int32_t* x, const PanelLayout& l, int64_t blocks,
                    const int32_t* bias, int32_t* acc, int64_t ldacc) {
  for (int64_t cb = 0; cb < blocks; ++cb) {
    int32_t c[kMR][NR];
    for (int64_t m = 0; m < kMR; ++m)
      for (int64_t j = 0; j < NR; ++j) c[m][j] = bias[m];
    const int32_t* wq = w;
    for (int64_t t = 0; t < l.taps; ++t) {
      const int32_t* xq = x + cb * l.blockStride + l.tapOffset[t];
      for (int64_t i = 0; i < l.pairsPerTap; ++i, xq += l.pairStride, wq += kMR) {
        int32_t xlo[NR], xhi[NR];
        for (int64_t j = 0; j < NR; ++j) {
          xlo[j] = int16_t(uint32_t(xq[j]) & 0xffff);
          xhi[j] = int16_t(uint32_t(xq[j]) >> 16);
        }
        for (int64_t m = 0; m < kMR; ++m) {
          const int32_t wlo = int16_t(uint32_t(wq[m]) & 0xffff);
          const int32_t whi = int16_t(uint32_t(wq[m]) >> 16);
          for (int64_t j = 0; j < NR; ++j) c[m][j] += xlo[j] * wlo + xhi[j] * whi;
        }
      }
    }
    for (int64_t m = 0; m < kMR; ++m)
      for (int64_t j = 0; j < NR; ++j) acc[m * ldacc + cb * NR + j] = c[m][j];
  }
}

}  // namespace

void panelPortable(const int32_t* w, const int32_t* x, const PanelLayout& l, int64_t blocks,
                   const int32_t* bias, int32_t* acc, int64_t ldacc) {
  panelPortableN<kNR>(w, x, l, blocks, bias, acc, ldacc);
}

void panelWidePortable(const int32_t* w, const int32_t* x, const PanelLayout& l, int64_t blocks,
                       const int32_t* bias, int32_t* acc, int64_t ldacc) {
  panelPortableN<kNRWide>(w, x, l, blocks, bias, acc, ldacc);
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

void panel(KernelPath path, const int32_t* w, const int32_t* x, const PanelLayout& l,
           int64_t blocks, const int32_t* bias, int32_t* acc, int64_t ldacc) {
  switch (path) {
#if defined(__x86_64__) && defined(__GNUC__)
    case KernelPath::Avx2:
      return panelAvx2(w, x, l, blocks, bias, acc, ldacc);
#endif
#if defined(__aarch64__)
    case KernelPath::Neon:
    case KernelPath::NeonDot:
      return panelNeon(w, x, l, blocks, bias, acc, ldacc);
#endif
    default:
      return panelPortable(w, x, l, blocks, bias, acc, ldacc);
  }
}

int64_t bandColumns(KernelPath path) {
  return isNeon(path) ? kNR : kNRWide;
}

void panelWide(KernelPath path, const int32_t* w, const int32_t* x, const PanelLayout& l,
               int64_t blocks, const int32_t* bias, int32_t* acc, int64_t ldacc) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (path == KernelPath::Avx2) return panelWideAvx2(w, x, l, blocks, bias, acc, ldacc);
#endif
  (void)path;
  panelWidePortable(w, x, l, blocks, bias, acc, ldacc);
}

}  // namespace kiln::rt::gemm
