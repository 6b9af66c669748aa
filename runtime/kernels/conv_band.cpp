// The band path of the packed conv GEMM (conv_band.h). A conv reads, for output row oy and tap
// (ky, kx), padded input row oy * sh + ky * dh at columns ox * sw + kx * dw: once a band of the
// input is laid out as channel-pair planes widened by the padding and split into sh x sw phases
// (pairBand, one pass over the input), the im2col panel of any tap is that band at a fixed
// offset. The micro-kernels read it there (gemm::PanelLayout), so the kh * kw copies of an
// im2col panel are never written. Output (oy, ox) of the band is column (oy - oy0) * wq + ox;
// the wq - ow columns at the end of each row (positions past the padded row) are computed and
// dropped.
#include "runtime/kernels/conv_band.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "runtime/kernels/conv_panel.h"
#include "runtime/kernels/scratch.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::rt::packed {

using gemm::kMR;
using gemm::kNR;

namespace {

// Words of one band (all its channel-pair planes): about 192 KB, so that it stays in L2 while
// every block of output channels passes over it.
constexpr int64_t kBandWords = 49152;

// The band layout of one conv (pairBand): wq columns per phase row, qy rows below the first for
// the lowest tap, and each tap's offset within a band of phases phaseStride words apart.
struct BandShape {
  int64_t wq = 0, halo = 0;
  std::vector<int64_t> tapRow, tapCol;  // (ry * sw + rx) phase and qy * wq + qx per tap
};

BandShape bandShape(const ConvGeometry& g) {
  BandShape b;
  b.wq = (g.pl + g.w + g.pr + g.sw - 1) / g.sw;
  b.halo = (g.kh - 1) * g.dh / g.sh;
  for (int64_t ky = 0; ky < g.kh; ++ky)
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      const int64_t y = ky * g.dh, x = kx * g.dw;
      b.tapRow.push_back(y % g.sh * g.sw + x % g.sw);
      b.tapCol.push_back(y / g.sh * b.wq + x / g.sw);
    }
  return b;
}

// Output rows [oy0, oy0 + rows) of one group of one batch image.
void convBand(const ConvParams& p, int64_t n, int64_t grp, const Act* planes, int64_t maxX,
              const BandShape& shape, int64_t oy0, int64_t rows, Act* out) {
  const ConvGeometry& g = p.g;
  const gemm::PackedWeights& pw = *p.packed;
  const int64_t wq = shape.wq, rowsIn = rows + shape.halo;
  // Blocks of nr columns: panelWide's 24 where it has its own form, else panel's 16.
  const int64_t nr = gemm::bandColumns(p.path);
  const int64_t cols = (rows - 1) * wq + g.ow, blocks = (cols + nr - 1) / nr;
  const int64_t width = blocks * nr;
  // The last block reads at most nr - 1 words past rowsIn * wq of a phase (see pairBand): zeros.
  const int64_t phaseStride = rowsIn * wq + nr;
  thread_local std::vector<int32_t> band, acc;
  thread_local std::vector<int64_t> tapOffset;
  panels::pairBand(p.path, planes, g, g.c / g.groups, p.inZp, oy0, rowsIn, wq, phaseStride, band);
  growTo(acc, size_t(kMR * width));
  tapOffset.resize(shape.tapRow.size());
  for (size_t t = 0; t < tapOffset.size(); ++t)
    tapOffset[t] = shape.tapRow[t] * phaseStride + shape.tapCol[t];
  gemm::PanelLayout layout;
  layout.blockStride = nr, layout.pairStride = g.sh * g.sw * phaseStride;
  layout.pairsPerTap = pw.pairs / pw.taps, layout.taps = pw.taps;
  layout.tapOffset = tapOffset.data();
  const int64_t outCols = g.oh * g.ow;
  for (int64_t blk = 0; blk < pw.blocks; ++blk) {
    int32_t bias[kMR];
    blockBias(p, pw, grp, blk, maxX, bias);
    if (nr == gemm::kNRWide)
      gemm::panelWide(p.path, pw.block(grp, blk), band.data(), layout, blocks, bias, acc.data(),
                      width);
    else
      gemm::panel(p.path, pw.block(grp, blk), band.data(), layout, blocks, bias, acc.data(), width);
    const int64_t m1 = std::min(kMR, pw.kg - blk * kMR);
    for (int64_t m = 0; m < m1; ++m) {
      const int64_t oc = grp * pw.kg + blk * kMR + m;
      Act* o = out + (n * g.k + oc) * outCols + oy0 * g.ow;
      const int32_t* a = acc.data() + m * width;
      if (wq == g.ow) {  // no dropped columns: the rows are one run
        stageRun(p, pw, oc, maxX, a, rows * g.ow, o);
      } else {
        for (int64_t r = 0; r < rows; ++r)
          stageRun(p, pw, oc, maxX, a + r * wq, g.ow, o + r * g.ow);
      }
    }
  }
}

}  // namespace

bool channelBiasFits(const ConvParams& p, const gemm::PackedWeights& pw, int64_t oc, int64_t maxX) {
  return pw.sumAbsW[size_t(oc)] * maxX + std::abs(p.bias[oc]) < (int64_t(1) << 31);
}

void blockBias(const ConvParams& p, const gemm::PackedWeights& pw, int64_t grp, int64_t blk,
               int64_t maxX, int32_t* bias) {
  for (int64_t m = 0; m < kMR; ++m) {
    const int64_t j = blk * kMR + m, oc = grp * pw.kg + j;
    bias[m] = j < pw.kg && channelBiasFits(p, pw, oc, maxX) ? int32_t(p.bias[oc]) : 0;
  }
}

void stageRun(const ConvParams& p, const gemm::PackedWeights& pw, int64_t oc, int64_t maxX,
              const int32_t* a, int64_t n, Act* o) {
  if (channelBiasFits(p, pw, oc, maxX)) return applyStage(p.out, a, n, oc, o);
  thread_local std::vector<int64_t> wide;
  wide.assign(a, a + n);
  for (int64_t& v : wide) v += p.bias[oc];
  applyStage(p.out, wide.data(), n, oc, o);
}

bool bandFits(const ConvParams& p) {
  const ConvGeometry& g = p.g;
  if (!p.packed || p.packed->taps != g.kh * g.kw) return false;
  return p.packed->taps > 1 || gemm::bandColumns(p.path) == gemm::kNRWide;
}

void convGroupBand(const ConvParams& p, int64_t n, int64_t grp, int64_t maxX, const Act* in,
                   Act* out) {
  const ConvGeometry& g = p.g;
  const gemm::PackedWeights& pw = *p.packed;
  const int64_t cg = g.c / g.groups;
  const Act* planes = in + (n * g.c + grp * cg) * g.h * g.w;
  const BandShape shape = bandShape(g);
  // Rows per band: the band within kBandWords, the same number of bands per thread.
  const int64_t perRow = (pw.pairs / pw.taps) * g.sh * g.sw * shape.wq;
  const int64_t byCache = std::max<int64_t>(1, kBandWords / perRow - shape.halo);
  const int64_t bands = balancedParts(g.oh, byCache);
  parallelFor(bands, [&](int64_t b) {
    const int64_t oy0 = b * g.oh / bands;
    convBand(p, n, grp, planes, maxX, shape, oy0, (b + 1) * g.oh / bands - oy0, out);
  });
}

}  // namespace kiln::rt::packed
