// The band path of the packed conv GEMM (conv_band.h). A stride-1 conv reads, for output row oy
// and tap (ky, kx), input row oy - pt + ky * dh shifted by kx * dw - pl: once a band of input
// rows is laid out as channel-pair planes widened by the padding (pairBand, one pass over the
// input), the im2col panel of any tap is that band at a fixed offset. The micro-kernels read it
// there (gemm::PanelLayout), so the k * k copies of an im2col panel are never written. Output
// position (oy, ox) of the band is column (oy - oy0) * wp + ox; the wp - ow columns at the end of
// each row (kernel positions past the padded row) are computed and dropped.
#include "runtime/kernels/conv_band.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "runtime/kernels/conv_panel.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::rt::packed {

using gemm::kMR;
using gemm::kNR;

namespace {

// Words of one band (all its channel-pair planes): about 192 KB, so that it stays in L2 while
// every block of output channels passes over it.
constexpr int64_t kBandWords = 49152;

// Output rows [oy0, oy0 + rows) of one group of one batch image.
void convBand(const ConvParams& p, int64_t n, int64_t grp, const Act* planes, int64_t maxX,
              const std::vector<int64_t>& tapOffset, int64_t oy0, int64_t rows, Act* out) {
  const ConvGeometry& g = p.g;
  const gemm::PackedWeights& pw = *p.packed;
  const int64_t wp = g.pl + g.w + g.pr, rowsIn = rows + (g.kh - 1) * g.dh;
  const int64_t cols = (rows - 1) * wp + g.ow, blocks = (cols + kNR - 1) / kNR;
  const int64_t width = blocks * kNR;
  // The last block reads at most 15 words past rowsIn * wp (see pairBand): zeros.
  const int64_t planeStride = rowsIn * wp + kNR;
  thread_local std::vector<int32_t> band, acc;
  panels::pairBand(p.path, planes, g, g.c / g.groups, p.inZp, oy0 - g.pt, rowsIn, planeStride,
                   band);
  acc.resize(size_t(kMR * width));
  gemm::PanelLayout layout;
  layout.blockStride = kNR, layout.pairStride = planeStride;
  layout.pairsPerTap = pw.pairs / pw.taps, layout.taps = pw.taps;
  layout.tapOffset = tapOffset.data();
  const int64_t outCols = g.oh * g.ow;
  for (int64_t blk = 0; blk < pw.blocks; ++blk) {
    int32_t bias[kMR];
    blockBias(p, pw, grp, blk, maxX, bias);
    gemm::panel(p.path, pw.block(grp, blk), band.data(), layout, blocks, bias, acc.data(), width);
    const int64_t m1 = std::min(kMR, pw.kg - blk * kMR);
    for (int64_t m = 0; m < m1; ++m) {
      const int64_t oc = grp * pw.kg + blk * kMR + m;
      Act* o = out + (n * g.k + oc) * outCols + oy0 * g.ow;
      const int32_t* a = acc.data() + m * width;
      if (wp == g.ow) {  // no dropped columns: the rows are one run
        stageRun(p, pw, oc, maxX, a, rows * g.ow, o);
      } else {
        for (int64_t r = 0; r < rows; ++r)
          stageRun(p, pw, oc, maxX, a + r * wp, g.ow, o + r * g.ow);
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
  return g.sh == 1 && g.sw == 1 && p.packed && p.packed->taps > 1 && p.packed->taps == g.kh * g.kw;
}

void convGroupBand(const ConvParams& p, int64_t n, int64_t grp, int64_t maxX, const Act* in,
                   Act* out) {
  const ConvGeometry& g = p.g;
  const gemm::PackedWeights& pw = *p.packed;
  const int64_t cg = g.c / g.groups, wp = g.pl + g.w + g.pr, halo = (g.kh - 1) * g.dh;
  const Act* planes = in + (n * g.c + grp * cg) * g.h * g.w;
  std::vector<int64_t> tapOffset(size_t(g.kh * g.kw));
  for (int64_t ky = 0; ky < g.kh; ++ky)
    for (int64_t kx = 0; kx < g.kw; ++kx)
      tapOffset[size_t(ky * g.kw + kx)] = ky * g.dh * wp + kx * g.dw;
  // Rows per band: the band within kBandWords, at least one band per thread.
  const int64_t perRow = (pw.pairs / pw.taps) * wp;
  const int64_t byCache = std::max<int64_t>(1, kBandWords / perRow - halo);
  const int64_t threads = currentThreads();
  const int64_t rows = std::min(byCache, (g.oh + threads - 1) / threads);
  const int64_t bands = (g.oh + rows - 1) / rows;
  parallelFor(bands, [&](int64_t b) {
    const int64_t oy0 = b * rows;
    convBand(p, n, grp, planes, maxX, tapOffset, oy0, std::min(rows, g.oh - oy0), out);
  });
}

}  // namespace kiln::rt::packed
