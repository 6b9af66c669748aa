// The pair-row depthwise kernel (depthwise_pairs.h): building a channel's pair rows in a ring of
// input rows, the output rows in bands, the portable micro-kernels and the path dispatch. The AVX2
// and NEON micro-kernels are in depthwise_pairs_simd.cpp.
#include "runtime/kernels/depthwise_pairs.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "runtime/kernels/conv_panel.h"
#include "runtime/kernels/gemm.h"

namespace kiln::rt::dw {

template <typename W>
void weightPairs(const ConvGeometry& g, const W* w, int64_t pairCount, PairScratch& s) {
  const int64_t nr = g.kh * pairCount;
  s.wPairs.resize(size_t(nr));
  s.wOdd.resize(size_t(nr));
  for (int64_t ky = 0; ky < g.kh; ++ky) {
    // Tap kx of this window row, 0 outside the window.
    auto tap = [&](int64_t kx) { return kx >= 0 && kx < g.kw ? int32_t(w[ky * g.kw + kx]) : 0; };
    for (int64_t t = 0; t < pairCount; ++t) {
      s.wPairs[size_t(ky * pairCount + t)] = gemm::pairWord(tap(2 * t), tap(2 * t + 1));
      s.wOdd[size_t(ky * pairCount + t)] = gemm::pairWord(tap(2 * t - 1), tap(2 * t));
    }
  }
}

template <typename T, typename W>
void depthwisePairsChannel(const ConvParams& p, const T* plane, const W* w, int64_t channel,
                           PairScratch& s, Act* out) {
  const ConvGeometry& g = p.g;
  if (planeFits(g)) return depthwisePlaneChannel(p, plane, w, channel, s, out);
  // Column stride 1, dilation 1: the even/odd split. Output columns
  // 2i and 2i + 1 both read the padded row's words D[i + t] = (xr[2i + 2t], xr[2i + 2t + 1]),
  // with the weight pairs (w[2t], w[2t + 1]) and (w[2t - 1], w[2t]) (kw / 2 + 1 pairs, 0 beyond
  // the window): the row is the int16 subtraction only, as for stride 2, and no pair words are
  // built.
  const bool evenOdd = g.sw == 1 && g.dw == 1;
  const int64_t pairCount = evenOdd ? g.kw / 2 + 1 : (g.kw + 1) / 2;
  // evenOdd: `half` output column pairs (16 columns per step, kBlock pairs at least).
  const int64_t half = (g.ow + 1) / 2;
  const int64_t width =
      evenOdd ? 2 * ((half + kBlock - 1) / kBlock * kBlock) : (g.ow + kBlock - 1) / kBlock * kBlock;
  // Tap pair t reads the word q[ox * sw + 2t * dw] of the row's pair words
  // q[j] = (xr[j], xr[j + dw]), xr the padded row (xr[j] = x(iy, j - pl) - zp, 0 outside the row):
  // with q split into sw phases (phase ph holds q[ph], q[ph + sw], ...), that is word
  // ox + (2t * dw) / sw of phase (2t * dw) % sw, a contiguous run. One word per input column
  // whatever the window: the pair rows of the header are offsets into these phase rows.
  const int64_t maxOff = evenOdd ? pairCount - 1 : (2 * (pairCount - 1) * g.dw) / g.sw;
  const int64_t phaseLen = (evenOdd ? width / 2 : width) + maxOff;
  // sw = 2, dw = 1: every tap pair reads phase 0, whose words q[2i] = (xr[2i], xr[2i + 1]) are
  // the padded int16 row itself (little-endian: the low half is the first value). Built straight
  // into the ring: the row's values [pl, pl + n) (the later ones are never read), zeros around.
  // The even/odd split reads the same words.
  const bool direct = evenOdd || (g.sw == 2 && g.dw == 1);
  const int64_t qLen = phaseLen * g.sw;
  const int64_t q16 = (qLen + 15) / 16 * 16;
  const int64_t slotLen = direct ? (phaseLen + 15) / 16 * 16 : g.sw == 1 ? q16 : qLen;
  const int64_t directN = std::clamp<int64_t>(2 * phaseLen - g.pl, 0, g.w);
  // The ring has a power of two >= (kh - 1) * dh + 1 slots (a mask instead of a division per row).
  int64_t slots = 1;
  while (slots < (g.kh - 1) * g.dh + 1) slots *= 2;
  // A layout depends on the geometry and the mode only; for the same one as the last channel the
  // zeros are still in place (see PairScratch::laidOut).
  const int kind = evenOdd ? 2 : direct ? 1 : 0;
  if (kind != s.laidOutKind || std::memcmp(&g, &s.laidOut, sizeof g) != 0) {
    s.laidOut = g;
    s.laidOutKind = kind;
    if (direct) {
      s.ring.assign(size_t(slots * slotLen), 0);  // the padding columns stay 0
    } else {
      s.ring.resize(size_t(slots * slotLen));
      s.rowX16.assign(size_t(std::max(g.pl + g.w, q16 + g.dw)), 0);  // zero outside [pl, pl + w)
      if (g.sw > 1) s.q.resize(size_t(q16));
    }
    s.zero.assign(size_t(slotLen), 0);  // read at any tap offset, as a ring slot
  }
  s.ringRow.assign(size_t(slots), -1);
  // The pair words of input row iy into ring slot r (see below).
  auto buildRow = [&](int64_t iy, int32_t* r) {
    const T* src = plane + iy * g.w;
    if (direct) {
      rowMinusZp(p.path, src, directN, p.inZp, reinterpret_cast<int16_t*>(r) + g.pl);
      return;
    }
    rowMinusZp(p.path, src, g.w, p.inZp, s.rowX16.data() + g.pl);
    if (g.sw == 1) {
      pairWords(p.path, s.rowX16.data(), g.dw, qLen, r);
      return;
    }
    int32_t* q = s.q.data();
    pairWords(p.path, s.rowX16.data(), g.dw, qLen, q);
    for (int64_t ph = 0; ph < g.sw; ++ph)
      for (int64_t i = 0; i < phaseLen; ++i) r[ph * phaseLen + i] = q[i * g.sw + ph];
  };
  // Weight pairs (ky, t) and, per output row, the pair rows they multiply.
  const int64_t nr = g.kh * pairCount;
  weightPairs(g, w, pairCount, s);
  s.rowPtr.resize(size_t(nr));
  // Where tap pair t's run starts within a row's words.
  s.tapOff.resize(size_t(pairCount));
  for (int64_t t = 0; t < pairCount; ++t) {
    const int64_t tap = 2 * t * g.dw;
    s.tapOff[size_t(t)] = direct ? t : (tap % g.sw) * phaseLen + tap / g.sw;  // evenOdd: direct
  }
  const int64_t bandRows = std::clamp<int64_t>(kBandValues / g.ow, 1, g.oh);
  s.acc.resize(size_t(bandRows * g.ow + width));
  // The per-row loop reads these locals only (no reloads through the scratch after each store).
  const int64_t kh = g.kh, dh = g.dh, h = g.h, ow = g.ow, mask = slots - 1;
  const int64_t* tapOff = s.tapOff.data();
  int64_t* ringRow = s.ringRow.data();
  int32_t* ring = s.ring.data();
  const int32_t* zero = s.zero.data();
  const int32_t** rowPtr = s.rowPtr.data();
  const int32_t* wPairs = s.wPairs.data();
  const int32_t* wOdd = s.wOdd.data();
  int32_t* acc = s.acc.data();
  const int32_t bias = int32_t(p.bias[channel]);
  for (int64_t b0 = 0; b0 < g.oh; b0 += bandRows) {
    const int64_t b1 = std::min(g.oh, b0 + bandRows);
    for (int64_t oy = b0; oy < b1; ++oy) {
      const int32_t** ptr = rowPtr;
      int64_t iy = oy * g.sh - g.pt;
      for (int64_t ky = 0; ky < kh; ++ky, ptr += pairCount, iy += dh) {
        const int32_t* row = zero;  // rows of padding
        if (iy >= 0 && iy < h) {
          // Row iy's ring slot, built when first needed. The rows one output row reads lie
          // within (kh - 1) * dh + 1 <= slots consecutive rows (distinct slots), and the window
          // only moves down: a row is replaced only by one at least `slots` further down, when no
          // later output row reads it. Each row is built once.
          const int64_t slot = iy & mask;
          int32_t* r = ring + slot * slotLen;
          if (ringRow[slot] != iy) {
            ringRow[slot] = iy;
            buildRow(iy, r);
          }
          row = r;
        }
        if (evenOdd) {
          rowPtr[ky] = row;  // the micro-kernel adds the tap pair's offset t
          continue;
        }
        for (int64_t t = 0; t < pairCount; ++t) ptr[t] = row + tapOff[t];
      }
      // Rows are written in order, each width long: a row's padding columns land on the next
      // row's place before it is written (the slack holds the band's last row's).
      if (evenOdd)
        pairRowsEvenOdd(p.path, rowPtr, wPairs, wOdd, kh, pairCount, width / 2, bias,
                        acc + (oy - b0) * ow);
      else
        pairRows(p.path, rowPtr, wPairs, nr, width, bias, acc + (oy - b0) * ow);
    }
    applyStage(p.out, acc, (b1 - b0) * ow, channel, out + b0 * ow);
  }
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

void pairRowsEvenOddPortable(const int32_t* const* rows, const int32_t* we, const int32_t* wo,
                             int64_t nk, int64_t np, int64_t half, int32_t bias, int32_t* acc) {
  for (int64_t ox = 0; ox < 2 * half; ++ox) acc[ox] = bias;
  for (int64_t r = 0; r < nk * np; ++r) {
    const int32_t elo = int16_t(uint32_t(we[r]) & 0xffff), ehi = int16_t(uint32_t(we[r]) >> 16);
    const int32_t olo = int16_t(uint32_t(wo[r]) & 0xffff), ohi = int16_t(uint32_t(wo[r]) >> 16);
    const int32_t* row = rows[r / np] + r % np;
    for (int64_t i = 0; i < half; ++i) {
      const int32_t xlo = int16_t(uint32_t(row[i]) & 0xffff);
      const int32_t xhi = int16_t(uint32_t(row[i]) >> 16);
      acc[2 * i] += xlo * elo + xhi * ehi;
      acc[2 * i + 1] += xlo * olo + xhi * ohi;
    }
  }
}

void pairRowsEvenOdd(KernelPath path, const int32_t* const* rows, const int32_t* we,
                     const int32_t* wo, int64_t nk, int64_t np, int64_t half, int32_t bias,
                     int32_t* acc) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (path == KernelPath::Avx2) return pairRowsEvenOddAvx2(rows, we, wo, nk, np, half, bias, acc);
#endif
#if defined(__aarch64__)
  if (path == KernelPath::Neon || path == KernelPath::NeonDot)
    return pairRowsEvenOddNeon(rows, we, wo, nk, np, half, bias, acc);
#endif
  (void)path;
  pairRowsEvenOddPortable(rows, we, wo, nk, np, half, bias, acc);
}

void pairWordsPortable(const int16_t* x, int64_t d, int64_t n, int32_t* q) {
  const int64_t n16 = (n + 15) / 16 * 16;
  for (int64_t j = 0; j < n16; ++j) q[j] = gemm::pairWord(x[j], x[j + d]);
}

void pairWords(KernelPath path, const int16_t* x, int64_t d, int64_t n, int32_t* q) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (path == KernelPath::Avx2) return pairWordsAvx2(x, d, n, q);
#endif
  (void)path;
  pairWordsPortable(x, d, n, q);
}

// The activation types: the arena's Act (uint16), and int32 / uint8 for tests and future per-tensor
// storage.
#define KILN_DW_PAIRS(T, W)                                                                 \
  template void depthwisePairsChannel<T, W>(const ConvParams&, const T*, const W*, int64_t, \
                                            PairScratch&, Act*);
#define KILN_DW_PAIRS_W(T) \
  KILN_DW_PAIRS(T, int8_t) KILN_DW_PAIRS(T, int16_t) KILN_DW_PAIRS(T, int32_t)
template void weightPairs<int8_t>(const ConvGeometry&, const int8_t*, int64_t, PairScratch&);
template void weightPairs<int16_t>(const ConvGeometry&, const int16_t*, int64_t, PairScratch&);
template void weightPairs<int32_t>(const ConvGeometry&, const int32_t*, int64_t, PairScratch&);
KILN_DW_PAIRS_W(int32_t)
KILN_DW_PAIRS_W(uint16_t)
KILN_DW_PAIRS_W(uint8_t)
#undef KILN_DW_PAIRS_W
#undef KILN_DW_PAIRS

}  // namespace kiln::rt::dw
