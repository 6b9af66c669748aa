// The pair-row depthwise kernel (depthwise_pairs.h): building the pair rows of a channel, the
// portable row micro-kernel and the path dispatch. The AVX2 and NEON row kernels are in
// depthwise_pairs_simd.cpp.
#include "runtime/kernels/depthwise_pairs.h"

#include <algorithm>
#include <type_traits>

#include "runtime/kernels/conv_panel.h"
#include "runtime/kernels/gemm.h"

namespace kiln::rt::dw {

// The pair rows of a channel stored as Act (see depthwisePairsChannel), 16 words at a time:
// the padded row as int16 x - zp (exact: the caller checked |x - zp| <= INT16_MAX), then words
// j to j + 15 interleaved from the row at j and at j + dw. A row's last step may write up to 15
// words past qLen: into the next row's place, written after it, or the slack after the last row.
void buildPairRows16(const ConvParams& p, const Act* plane, int64_t qLen, int64_t phaseLen,
                     PairScratch& s) {
  const ConvGeometry& g = p.g;
  const int64_t q16 = (qLen + 15) / 16 * 16;
  s.rowX16.assign(size_t(std::max(g.pl + g.w, q16 + g.dw)), 0);  // zero outside [pl, pl + w)
  s.pairs.resize(size_t(g.h * qLen + 16));
  s.q.resize(size_t(q16));
  const int16_t* lo = s.rowX16.data();
  for (int64_t iy = 0; iy < g.h; ++iy) {
    panels::subRun(p.path, plane + iy * g.w, 1, g.w, p.inZp, s.rowX16.data() + g.pl);
    int32_t* row = s.pairs.data() + iy * qLen;  // sw phases of phaseLen words
    int32_t* q = g.sw == 1 ? row : s.q.data();
    for (int64_t j = 0; j < qLen; j += 16)
      panels::interleave16(p.path, lo + j, lo + j + g.dw, q + j);
    if (g.sw > 1)
      for (int64_t ph = 0; ph < g.sw; ++ph)
        for (int64_t i = 0; i < phaseLen; ++i) row[ph * phaseLen + i] = q[i * g.sw + ph];
  }
}

template <typename T, typename W>
void depthwisePairsChannel(const ConvParams& p, const T* plane, const W* w, int64_t channel,
                           PairScratch& s, Act* out) {
  const ConvGeometry& g = p.g;
  const int64_t pairCount = (g.kw + 1) / 2;
  const int64_t width = (g.ow + kBlock - 1) / kBlock * kBlock;
  // Tap pair t reads the word q[ox * sw + 2t * dw] of the row's pair words
  // q[j] = (xr[j], xr[j + dw]), xr the padded row (xr[j] = x(iy, j - pl) - zp, 0 outside the row):
  // with q split into sw phases (phase ph holds q[ph], q[ph + sw], ...), that is word
  // ox + (2t * dw) / sw of phase (2t * dw) % sw, a contiguous run. One word per input column
  // whatever the window: the pair rows of the header are offsets into these phase rows.
  const int64_t maxOff = (2 * (pairCount - 1) * g.dw) / g.sw;
  const int64_t phaseLen = width + maxOff;
  const int64_t qLen = phaseLen * g.sw;
  const int64_t rowLen = std::max(g.pl + g.w, qLen + g.dw);
  s.zero.assign(size_t(phaseLen), 0);
  s.acc.resize(size_t(g.oh * g.ow + width));
  if constexpr (std::is_same_v<T, Act>) {
    buildPairRows16(p, plane, qLen, phaseLen, s);
  } else {
    s.rowX.assign(size_t(rowLen), 0);
    s.pairs.resize(size_t(g.h * qLen));
    s.q.resize(size_t(qLen));
    const int32_t zp = p.inZp;
    for (int64_t iy = 0; iy < g.h; ++iy) {
      const T* src = plane + iy * g.w;
      int32_t* xr = s.rowX.data() + g.pl;
      for (int64_t ix = 0; ix < g.w; ++ix) xr[ix] = int32_t(src[ix]) - zp;
      const int32_t *lo = s.rowX.data(), *hi = lo + g.dw;
      int32_t* row = s.pairs.data() + iy * qLen;  // sw phases of phaseLen words
      int32_t* q = g.sw == 1 ? row : s.q.data();
      for (int64_t j = 0; j < qLen; ++j)
        q[j] = int32_t((uint32_t(lo[j]) & 0xffffu) | (uint32_t(hi[j]) << 16));
      if (g.sw > 1)
        for (int64_t ph = 0; ph < g.sw; ++ph)
          for (int64_t i = 0; i < phaseLen; ++i) row[ph * phaseLen + i] = q[i * g.sw + ph];
    }
  }
  // Weight pairs (ky, t) and, per output row, the pair rows they multiply.
  const int64_t nr = g.kh * pairCount;
  s.wPairs.resize(size_t(nr));
  s.rowPtr.resize(size_t(nr));
  const W* wc = w;
  for (int64_t ky = 0; ky < g.kh; ++ky)
    for (int64_t t = 0; t < pairCount; ++t) {
      const int32_t a = int32_t(wc[ky * g.kw + 2 * t]);
      const int32_t b = 2 * t + 1 < g.kw ? int32_t(wc[ky * g.kw + 2 * t + 1]) : 0;
      s.wPairs[size_t(ky * pairCount + t)] = gemm::pairWord(a, b);
    }
  // Where tap pair t's run starts within a row's phases.
  s.tapOff.resize(size_t(pairCount));
  for (int64_t t = 0; t < pairCount; ++t) {
    const int64_t tap = 2 * t * g.dw;
    s.tapOff[size_t(t)] = (tap % g.sw) * phaseLen + tap / g.sw;
  }
  const int32_t bias = int32_t(p.bias[channel]);
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    const int32_t** ptr = s.rowPtr.data();
    for (int64_t ky = 0; ky < g.kh; ++ky, ptr += pairCount) {
      const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
      if (iy < 0 || iy >= g.h) {
        std::fill(ptr, ptr + pairCount, s.zero.data());
        continue;
      }
      const int32_t* row = s.pairs.data() + iy * qLen;
      for (int64_t t = 0; t < pairCount; ++t) ptr[t] = row + s.tapOff[size_t(t)];
    }
    // Rows are written in order, each width long: a row's padding columns land on the next
    // row's place before it is written (the slack holds the last row's).
    pairRows(p.path, s.rowPtr.data(), s.wPairs.data(), nr, width, bias, s.acc.data() + oy * g.ow);
  }
  applyStage(p.out, s.acc.data(), g.oh * g.ow, channel, out);
}

void pairRowsPortable(const int32_t* const* rows, const int32_t* w, int64_t nr, int64_t width,
                      int32_t bias, int32_t* acc) {
  for (int64_t ox = 0; ox < width; ++ox) acc[ox] = bias;
  for (int64_t r = 0; r < nr; ++r) {
    const int32_t wlo = int16_t(uint32_t(w[r]) & 0xffff), whi = int16_t(uint32_t(w[r]) >> 16);
    const int32_t* row = rows[r];
    for (int64_t ox = 0; ox < width; ++ox) {
      const int32_t xlo = int16_t(uint32_t(row[ox]) & 0xffff);
      const int32_t xhi = int16_t(uint32_t(row[ox]) >> 16);
      acc[ox] += xlo * wlo + xhi * whi;
    }
  }
}

void pairRows(KernelPath path, const int32_t* const* rows, const int32_t* w, int64_t nr,
              int64_t width, int32_t bias, int32_t* acc) {
  switch (path) {
#if defined(__x86_64__) && defined(__GNUC__)
    case KernelPath::Avx2:
      return pairRowsAvx2(rows, w, nr, width, bias, acc);
#endif
#if defined(__aarch64__)
    case KernelPath::Neon:
    case KernelPath::NeonDot:
      return pairRowsNeon(rows, w, nr, width, bias, acc);
#endif
    default:
      return pairRowsPortable(rows, w, nr, width, bias, acc);
  }
}

// The activation types: the arena's Act (uint16), and int32 / uint8 for tests and future per-tensor
// storage.
#define KILN_DW_PAIRS(T, W)                                                                 \
  template void depthwisePairsChannel<T, W>(const ConvParams&, const T*, const W*, int64_t, \
                                            PairScratch&, Act*);
#define KILN_DW_PAIRS_W(T) \
  KILN_DW_PAIRS(T, int8_t) KILN_DW_PAIRS(T, int16_t) KILN_DW_PAIRS(T, int32_t)
KILN_DW_PAIRS_W(int32_t)
KILN_DW_PAIRS_W(uint16_t)
KILN_DW_PAIRS_W(uint8_t)
#undef KILN_DW_PAIRS_W
#undef KILN_DW_PAIRS

}  // namespace kiln::rt::dw
