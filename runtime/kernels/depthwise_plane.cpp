// The whole-plane form of the depthwise even/odd split (depthwise_pairs.h, planeFits): for small
// planes with column and row stride 1 and column dilation 1. The padded rows of x - zp lie end
// to end in one array of pitch P pair words (2P int16 values >= pl + w + pr, zeros around the
// input), so output (oy, ox) of window row ky reads the words from (oy + ky * dh) * P + ox / 2:
// for a band of output rows, "virtual" output column oy * 2P + ox is one run, and one call of
// pairRowsEvenOdd with one pointer per window row computes the whole band. The 2P - ow virtual
// columns at the end of each output row read the start of the next padded row; they are dropped
// before the output stage. A valid output's taps outside its window have weight 0 (the pairs of
// weightPairs), so what those read does not matter, and every sum is the one of the ring form:
// the same integers as conv2dReference. Each input row is converted once per channel, and the
// per-row work of the ring form (ring slots, row pointers, one micro-kernel call per row) is gone:
// on BlazeFace's 8 x 8 to 64 x 64 planes that was most of the depthwise instructions.
#include <algorithm>
#include <cstring>

#include "runtime/kernels/depthwise_pairs.h"

namespace kiln::rt::dw {

namespace {

// Pair words per padded row: 2P int16 values hold pl + w + pr.
int64_t planePitch(const ConvGeometry& g) {
  return (g.pl + g.w + g.pr + 1) / 2;
}

// Words of the plane array: the padded rows, then room for the last band's rounding to kBlock
// and the tap offsets (zeros, never written).
int64_t planeWords(const ConvGeometry& g) {
  return (g.pt + g.h + g.pb) * planePitch(g) + 2 * kBlock + g.kw;
}

}  // namespace

bool planeFits(const ConvGeometry& g) {
  return g.sw == 1 && g.dw == 1 && g.sh == 1 && planeWords(g) <= kPlaneWords;
}

template <typename T, typename W>
void depthwisePlaneChannel(const ConvParams& p, const T* plane, const W* w, int64_t channel,
                           PairScratch& s, Act* out) {
  const ConvGeometry& g = p.g;
  const int64_t pitch = planePitch(g), vrow = 2 * pitch;  // words, virtual columns per row
  const int64_t pairCount = g.kw / 2 + 1;
  // The layout (zeros everywhere but the input's place) depends on the geometry only: a channel
  // with the same one as the last keeps it, and overwrites the input's place (PairScratch).
  constexpr int kKind = 3;
  if (kKind != s.laidOutKind || std::memcmp(&g, &s.laidOut, sizeof g) != 0) {
    s.laidOut = g;
    s.laidOutKind = kKind;
    s.ring.assign(size_t(planeWords(g)), 0);
  }
  int32_t* words = s.ring.data();
  for (int64_t iy = 0; iy < g.h; ++iy)
    rowMinusZp(p.path, plane + iy * g.w, g.w, p.inZp,
               reinterpret_cast<int16_t*>(words + (g.pt + iy) * pitch) + g.pl);
  weightPairs(g, w, pairCount, s);
  s.rowPtr.resize(size_t(g.kh));
  const int64_t bandRows = std::clamp<int64_t>(kBandValues / vrow, 1, g.oh);
  // A band's virtual columns, rounded up to the micro-kernel's 2 kBlock.
  s.acc.resize(size_t((bandRows * pitch + kBlock - 1) / kBlock * kBlock * 2));
  int32_t* acc = s.acc.data();
  const int32_t bias = int32_t(p.bias[channel]);
  for (int64_t b0 = 0; b0 < g.oh; b0 += bandRows) {
    const int64_t rows = std::min(bandRows, g.oh - b0);
    for (int64_t ky = 0; ky < g.kh; ++ky) s.rowPtr[size_t(ky)] = words + (b0 + ky * g.dh) * pitch;
    const int64_t half = (rows * pitch + kBlock - 1) / kBlock * kBlock;
    pairRowsEvenOdd(p.path, s.rowPtr.data(), s.wPairs.data(), s.wOdd.data(), g.kh, pairCount, half,
                    bias, acc);
    // Drop each row's virtual columns past ow (moving rows down: the destination starts before
    // the source), then one output stage for the band (one call per row measured slower).
    if (vrow != g.ow)
      for (int64_t r = 1; r < rows; ++r)
        std::memmove(acc + r * g.ow, acc + r * vrow, size_t(g.ow) * sizeof(int32_t));
    applyStage(p.out, acc, rows * g.ow, channel, out + b0 * g.ow);
  }
}

#define KILN_DW_PLANE(T, W)                                                                 \
  template void depthwisePlaneChannel<T, W>(const ConvParams&, const T*, const W*, int64_t, \
                                            PairScratch&, Act*);
#define KILN_DW_PLANE_W(T) \
  KILN_DW_PLANE(T, int8_t) KILN_DW_PLANE(T, int16_t) KILN_DW_PLANE(T, int32_t)
KILN_DW_PLANE_W(int32_t)
KILN_DW_PLANE_W(uint16_t)
KILN_DW_PLANE_W(uint8_t)
#undef KILN_DW_PLANE_W
#undef KILN_DW_PLANE

}  // namespace kiln::rt::dw
