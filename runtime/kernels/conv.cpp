// Integer conv (and dw through depthwise.cpp) and fc: accumulation of (x - inZp) * w plus the
// bias, then the output stage per output channel.
//
// conv2d, per batch image and group: when the weights were packed (packConvWeights), every
// |x - inZp| fits int16 and no output channel's sum can leave int32, the packed GEMM (gemm.h):
// im2col column tiles as int16 pair panels, micro-kernels of 4 output channels x 16 columns,
// the output stage applied to each finished tile. Otherwise im2col by column tile +
// multiply-accumulate passes of four output channels in int32, or int64 for the channels whose
// sums could leave int32. Either way the results are exactly those of conv2dReference, the plain
// loop kept beside it (tests compare them on every path).
#include "runtime/kernels/conv_band.h"
#include "runtime/kernels/conv_loops.h"
#include "runtime/kernels/conv_panel.h"
#include "runtime/kernels/gemm.h"
#include "runtime/kernels/scratch.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::rt {

using loops::axpy;
using loops::axpy4;

namespace {

// Row r = (c, ky, kx) of the im2col matrix of one group, columns [t0, t0 + tl) (output positions
// (oy, ox)): x - zp, 0 where the window reads padding.
void im2colRow(const Act* planes, const ConvGeometry& g, int64_t r, int32_t zp, int64_t t0,
               int64_t tl, int32_t* dst) {
  loops::forEachIm2colRun(
      planes, g, r, t0, tl,
      [&](const Act* src, int64_t stride, int64_t col, int64_t n) {
        int32_t* d = dst + col;
        if (stride == 1) {
          for (int64_t i = 0; i < n; ++i) d[i] = src[i] - zp;
        } else {
          for (int64_t i = 0; i < n; ++i) d[i] = src[i * stride] - zp;
        }
      },
      [&](int64_t col, int64_t n) { std::fill(dst + col, dst + col + n, 0); });
}

// Columns [t0, t0 + tl) of the im2col matrix of one group, rows (ic, ky, kx) of stride tl.
void im2colTile(const Act* planes, const ConvGeometry& g, int64_t channels, int32_t zp, int64_t t0,
                int64_t tl, std::vector<int32_t>& col) {
  const int64_t rows = channels * g.kh * g.kw;
  col.resize(size_t(rows * tl));
  for (int64_t r = 0; r < rows; ++r) im2colRow(planes, g, r, zp, t0, tl, col.data() + r * tl);
}

template <typename Acc, typename W>
void accumulateRows(const W* w, int64_t rows, const int32_t* col, int64_t stride, int64_t len,
                    Acc* acc) {
  for (int64_t r = 0; r < rows; ++r) {
    const Acc wr = Acc(w[r]);
    if (wr == 0) continue;
    axpy(col + r * stride, len, wr, acc);
  }
}

// Four output channels at once over a tile of columns: each column value is loaded once for
// four multiply-accumulates (int32: every partial sum was proven to fit).
template <typename W>
void accumulate4(const W* w0, const W* w1, const W* w2, const W* w3, int64_t rows,
                 const int32_t* col, int64_t cols, int64_t t0, int64_t tl, int32_t* a0, int32_t* a1,
                 int32_t* a2, int32_t* a3) {
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t x0 = w0[r], x1 = w1[r], x2 = w2[r], x3 = w3[r];
    if ((x0 | x1 | x2 | x3) == 0) continue;
    axpy4(col + r * cols + t0, tl, x0, x1, x2, x3, a0, a1, a2, a3);
  }
}

// One group of one batch image with the multiply-accumulate loops.
template <typename W>
void convGroupLoops(const ConvParams& p, const W* weights, int64_t n, int64_t grp, const Act* in,
                    Act* out) {
  const ConvGeometry& g = p.g;
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
  const int64_t rows = cg * g.kh * g.kw, cols = g.oh * g.ow;
  // Column tiles whose im2col rows stay in cache (about 256 KB) while every output channel
  // passes over them.
  const int64_t tile = std::min<int64_t>(cols, std::max<int64_t>(64, (int64_t(1) << 16) / rows));
  std::vector<int32_t> col;
  std::vector<int32_t> acc32(static_cast<size_t>(4 * tile));
  std::vector<int64_t> acc64(static_cast<size_t>(tile));
  std::vector<char> fits32(static_cast<size_t>(kg));
  const Act* planes = in + (n * g.c + grp * cg) * g.h * g.w;
  const int64_t maxX = loops::inputMaxAbsDiff(p, planes, cg * g.h * g.w);
  for (int64_t j = 0; j < kg; ++j) {
    const int64_t oc = grp * kg + j;
    const W* w = weights + oc * rows;
    int64_t sumAbsW = 0;
    for (int64_t r = 0; r < rows; ++r) sumAbsW += std::abs(int64_t(w[r]));
    fits32[size_t(j)] = sumAbsW * maxX + std::abs(p.bias[oc]) < (int64_t(1) << 31);
  }
  for (int64_t t0 = 0; t0 < cols; t0 += tile) {
    const int64_t tl = std::min(tile, cols - t0);
    im2colTile(planes, g, cg, p.inZp, t0, tl, col);
    int64_t j = 0;
    while (j < kg) {
      const int64_t oc = grp * kg + j;
      if (j + 4 <= kg && fits32[size_t(j)] && fits32[size_t(j + 1)] && fits32[size_t(j + 2)] &&
          fits32[size_t(j + 3)]) {
        int32_t* a = acc32.data();
        for (int64_t b = 0; b < 4; ++b)
          std::fill(a + b * tile, a + b * tile + tl, int32_t(p.bias[oc + b]));
        accumulate4(weights + oc * rows, weights + (oc + 1) * rows, weights + (oc + 2) * rows,
                    weights + (oc + 3) * rows, rows, col.data(), tl, 0, tl, a, a + tile,
                    a + 2 * tile, a + 3 * tile);
        for (int64_t b = 0; b < 4; ++b) {
          Act* o = out + (n * g.k + oc + b) * cols + t0;
          applyStage(p.out, a + b * tile, tl, oc + b, o);
        }
        j += 4;
        continue;
      }
      const W* w = weights + oc * rows;
      Act* o = out + (n * g.k + oc) * cols + t0;
      if (fits32[size_t(j)]) {
        std::fill(acc32.begin(), acc32.begin() + tl, int32_t(p.bias[oc]));
        accumulateRows(w, rows, col.data(), tl, tl, acc32.data());
        applyStage(p.out, acc32.data(), tl, oc, o);
      } else {
        std::fill(acc64.begin(), acc64.begin() + tl, p.bias[oc]);
        accumulateRows(w, rows, col.data(), tl, tl, acc64.data());
        applyStage(p.out, acc64.data(), tl, oc, o);
      }
      ++j;
    }
  }
}

// The largest |x - zp| of the group's input when the packed GEMM is exact for it, else -1:
// |x - zp| fits int16 and every output channel's sum of products fits int32 (then so does every
// partial sum, in any order). A bias that would take the sum out of int32 is added in int64
// after the GEMM (channelBiasFits).
int64_t packedPathMaxX(const ConvParams& p, const gemm::PackedWeights& pw, const Act* planes,
                       int64_t grp) {
  const ConvGeometry& g = p.g;
  const int64_t maxX = loops::inputMaxAbsDiff(p, planes, g.c / g.groups * g.h * g.w);
  if (maxX > INT16_MAX) return -1;
  for (int64_t j = 0; j < pw.kg; ++j)
    if (pw.sumAbsW[size_t(grp * pw.kg + j)] * maxX >= (int64_t(1) << 31)) return -1;
  return maxX;
}

// The dot-product panel of columns [t0, t0 + tl) (gemm.h, panelDot): raw bytes x = (x - zp)
// + zp (zp where the window reads padding), 0 in rows beyond the reduction and in columns beyond
// tl. The caller checked that every x and zp lie in [0, 255].
void dotPanel(const ConvParams& p, const Act* planes, int64_t rows, int64_t quads, int64_t t0,
              int64_t tl, int64_t blocks, std::vector<int32_t>& r, std::vector<uint8_t>& pan) {
  using gemm::kNR;
  const int64_t width = blocks * kNR;
  pan.resize(size_t(quads * 64 * blocks));
  r.resize(size_t(width));
  for (int64_t q = 0; q < quads; ++q)
    for (int64_t kk = 0; kk < 4; ++kk) {
      const int64_t row = 4 * q + kk;
      int32_t add = p.inZp;
      if (row < rows) {
        im2colRow(planes, p.g, row, p.inZp, t0, tl, r.data());
        std::fill(r.begin() + tl, r.end(), -p.inZp);
      } else {
        std::fill(r.begin(), r.end(), 0);
        add = 0;
      }
      for (int64_t cb = 0; cb < blocks; ++cb) {
        uint8_t* dst = pan.data() + (cb * quads + q) * 64 + kk;
        const int32_t* src = r.data() + cb * kNR;
        for (int64_t j = 0; j < kNR; ++j) dst[j / 4 * 16 + j % 4 * 4] = uint8_t(src[j] + add);
      }
    }
}

// Columns [t0, t0 + tl) of one group of one batch image with the packed GEMM (packedPathMaxX
// gave maxX): the panel (block cb, pair q, column j at (cb * pairs + q) * kNR + j), then every
// block of output channels over it, each finished tile through the output stage. With `dot`,
// the byte panel and the dot-product micro-kernel instead (same integers).
void convTilePacked(const ConvParams& p, int64_t n, int64_t grp, const Act* planes, int64_t maxX,
                    bool dot, int64_t t0, int64_t tl, Act* out) {
  using gemm::kMR;
  using gemm::kNR;
  const ConvGeometry& g = p.g;
  const gemm::PackedWeights& pw = *p.packed;
  const int64_t kg = pw.kg, pairs = pw.pairs, cols = g.oh * g.ow;
  const int64_t blocks = (tl + kNR - 1) / kNR, width = blocks * kNR;
  // Scratch of this thread, kept between calls (no allocation and zeroing per tile); the
  // panel's columns beyond tl are zeroed below, the rest is written before it is read.
  thread_local std::vector<int32_t> pan, acc, r0;
  thread_local std::vector<int16_t> h0, h1;
  thread_local std::vector<uint8_t> bytes;
  growTo(acc, size_t(kMR * width));
  if (dot) {
    dotPanel(p, planes, pw.rows, pw.quads, t0, tl, blocks, r0, bytes);
  } else {
    panels::pairPanel(p.path, planes, g, pw.rows, pairs, p.inZp, t0, tl, h0, h1, pan);
  }
  const gemm::PanelLayout layout = gemm::PanelLayout::contiguous(pairs);
  for (int64_t blk = 0; blk < pw.blocks; ++blk) {
    int32_t bias[kMR];
    packed::blockBias(p, pw, grp, blk, maxX, bias);
    const int64_t m1 = std::min(kMR, kg - blk * kMR);
    if (dot) {
      // bias - zp * sum w, modulo 2^32 (see panelDot).
      uint32_t biasDot[kMR] = {0, 0, 0, 0};
      for (int64_t m = 0; m < m1; ++m)
        biasDot[m] = uint32_t(bias[m]) -
                     uint32_t(p.inZp) * uint32_t(pw.sumW[size_t(grp * kg + blk * kMR + m)]);
      gemm::panelDot(pw.dotBlock(grp, blk), bytes.data(), pw.quads, blocks, biasDot, acc.data(),
                     width);
    } else {
      gemm::panel(p.path, pw.block(grp, blk), pan.data(), layout, blocks, bias, acc.data(), width);
    }
    for (int64_t m = 0; m < m1; ++m) {
      const int64_t oc = grp * kg + blk * kMR + m;
      packed::stageRun(p, pw, oc, maxX, acc.data() + m * width, tl,
                       out + (n * g.k + oc) * cols + t0);
    }
  }
}

// Whether the group's input takes the dot-product path: the path is neon-dot, the weights have
// their byte form, and every activation and the zero point are bytes.
bool dotPathFits(const ConvParams& p, const Act* planes) {
  if (p.path != KernelPath::NeonDot || p.packed->dot.empty()) return false;
  if (p.inZp < 0 || p.inZp > 255) return false;
  const ConvGeometry& g = p.g;
  int32_t lo = 0, hi = 0;
  loops::minMax(planes, g.c / g.groups * g.h * g.w, lo, hi);
  return lo >= 0 && hi <= 255;
}

// One group of one batch image with the packed GEMM, in column tiles whose panel (pairs x tile
// words) stays in L2 (about 192 KB) while every block of output channels passes over it; the
// tiles are independent, so they are spread over the threads (at least one tile per thread).
void convGroupPacked(const ConvParams& p, int64_t n, int64_t grp, int64_t maxX, bool dot,
                     const Act* in, Act* out) {
  using gemm::kNR;
  const ConvGeometry& g = p.g;
  const int64_t cols = g.oh * g.ow, pairs = p.packed->pairs;
  const Act* planes = in + (n * g.c + grp * (g.c / g.groups)) * g.h * g.w;
  // Tiles of whole column blocks, as many per thread (balancedParts).
  const int64_t colBlocks = (cols + kNR - 1) / kNR;
  const int64_t tiles = balancedParts(colBlocks, std::max<int64_t>(1, 49152 / pairs / kNR));
  parallelFor(tiles, [&](int64_t t) {
    const int64_t t0 = t * colBlocks / tiles * kNR;
    const int64_t t1 = std::min(cols, (t + 1) * colBlocks / tiles * kNR);
    convTilePacked(p, n, grp, planes, maxX, dot, t0, t1 - t0, out);
  });
}

template <typename W>
void conv2dTyped(const ConvParams& p, const W* weights, const Act* in, Act* out) {
  const ConvGeometry& g = p.g;
  if (g.groups == g.c && g.k == g.c) return loops::depthwise2d(p, in, out);
  const int64_t cg = g.c / g.groups;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const Act* planes = in + (n * g.c + grp * cg) * g.h * g.w;
      const int64_t maxX = p.packed ? packedPathMaxX(p, *p.packed, planes, grp) : -1;
      if (maxX < 0)
        convGroupLoops(p, weights, n, grp, in, out);
      else if (dotPathFits(p, planes))
        convGroupPacked(p, n, grp, maxX, true, in, out);
      else if (packed::bandFits(p))
        packed::convGroupBand(p, n, grp, maxX, in, out);
      else
        convGroupPacked(p, n, grp, maxX, false, in, out);
    }
}

}  // namespace

std::shared_ptr<const gemm::PackedWeights> packConvWeights(const ConvParams& p) {
  const ConvGeometry& g = p.g;
  if (g.groups == g.c && g.k == g.c) return nullptr;  // depthwise2d
  auto pw = std::make_shared<gemm::PackedWeights>();
  const int64_t cg = g.c / g.groups, rows = cg * g.kh * g.kw;
  // k x k convs take the band path (conv_band.h), which reads channel pairs per tap. An odd
  // channel count pads every tap's last pair with a zero channel: with few channels that costs
  // more products than the band saves (measured on 3-channel first convs, stride 1 or 2).
  // neon-dot keeps the row quads of its byte form.
  const bool band = g.kh * g.kw > 1 && p.path != KernelPath::NeonDot && (cg % 2 == 0 || cg >= 9);
  const int64_t taps = band ? g.kh * g.kw : 1;
  if (!gemm::packWeights(p.weights, g.groups, g.k / g.groups, rows, taps, false, *pw))
    return nullptr;
  if (p.path == KernelPath::NeonDot) gemm::packDotWeights(p.weights, *pw);  // int8 weights only
  return pw;
}

void conv2d(const ConvParams& p, const Act* in, Act* out) {
  loops::withWeights(p.weights, [&](const auto* w) { conv2dTyped(p, w, in, out); });
}

void conv2dReference(const ConvParams& p, const Act* in, Act* out) {
  const ConvGeometry& g = p.g;
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t oc = 0; oc < g.k; ++oc) {
      const int64_t grp = oc / kg;
      const WeightPtr wk = p.weights + oc * cg * g.kh * g.kw;
      Act* o = out + (n * g.k + oc) * g.oh * g.ow;
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          int64_t acc = p.bias[oc];
          for (int64_t ic = 0; ic < cg; ++ic) {
            const Act* plane = in + (n * g.c + grp * cg + ic) * g.h * g.w;
            const WeightPtr wc = wk + ic * g.kh * g.kw;
            for (int64_t ky = 0; ky < g.kh; ++ky) {
              const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
              if (iy < 0 || iy >= g.h) continue;
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
                if (ix < 0 || ix >= g.w) continue;
                acc += int64_t(plane[iy * g.w + ix] - p.inZp) * wc[ky * g.kw + kx];
              }
            }
          }
          o[oy * g.ow + ox] = Act(p.out.apply(acc, oc));
        }
    }
}

void fullyConnected(const FcParams& p, const Act* in, Act* out) {
  for (int64_t m = 0; m < p.m; ++m)
    for (int64_t n = 0; n < p.n; ++n) {
      int64_t acc = p.bias[n];
      for (int64_t k = 0; k < p.k; ++k)
        acc += int64_t(in[m * p.k + k] - p.inZp) * p.weights[k * p.n + n];
      out[m * p.n + n] = Act(p.out.apply(acc, n));
    }
}

}  // namespace kiln::rt
