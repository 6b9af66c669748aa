// Deconvolution through the packed conv GEMM (deconv_packed.h): the GEMM of a band of input rows,
// then each row's results added to the output positions of its tap (col2im) and the output stage.
#include "runtime/kernels/deconv_packed.h"

#include <algorithm>
#include <vector>

#include "runtime/kernels/conv_panel.h"
#include "runtime/kernels/gemm.h"
#include "runtime/kernels/thread_pool.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace kiln::rt::deconvpk {

using gemm::kMR;
using gemm::kNR;

namespace {

// GEMM results of one band (about 128 kB of int32, at least one input row), and the
// multiply-accumulates below which a task does not pay for a thread.
constexpr int64_t kTileValues = 32768;
constexpr int64_t kMinTaskMacs = 32768;

// ceil(a / b) for b > 0 and any a.
inline int64_t ceilDiv(int64_t a, int64_t b) {
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

// The input columns ix whose output column ix * sw + off lies in [0, ow): [ix0, ix1).
void tapColumns(const ConvGeometry& g, int64_t off, int64_t& ix0, int64_t& ix1) {
  ix0 = std::min(g.w, std::max<int64_t>(0, ceilDiv(-off, g.sw)));
  ix1 = std::max(ix0, std::min(g.w, ceilDiv(g.ow - off, g.sw)));
}

// dst[ix * sw + off] += src[ix] for ix in [ix0, ix1).
void addStrided(const int32_t* src, int64_t ix0, int64_t ix1, int64_t sw, int64_t off,
                int32_t* dst) {
  if (sw == 1) {
    for (int64_t ix = ix0; ix < ix1; ++ix) dst[ix + off] += src[ix];
    return;
  }
  for (int64_t ix = ix0; ix < ix1; ++ix) dst[ix * sw + off] += src[ix];
}

struct Scratch {
  std::vector<int16_t> r0, r1;  // pairPanel's rows
  std::vector<int32_t> pan;     // the pair panel of the band's input positions
  std::vector<int32_t> tmp;     // the GEMM rows (j, ky, kx) over those positions
  std::vector<int32_t> acc;     // one output channel's band
};

// The taps of row ky of output channel j added to the band's accumulators acc (rows [o0, o1)):
// tmp holds the GEMM rows for input rows [i0, i1), ldt apart.
void addTapRow(const ConvParams& p, const int32_t* tmp, int64_t ldt, int64_t j, int64_t ky,
               int64_t i0, int64_t i1, int64_t o0, int64_t o1, int32_t* acc) {
  const ConvGeometry& g = p.g;
  const int64_t taps = g.kh * g.kw;
  // Input rows whose output row iy * sh - pt + ky * dh lies in [o0, o1).
  const int64_t base = ky * g.dh - g.pt;
  const int64_t r0 = std::max(i0, ceilDiv(o0 - base, g.sh));
  const int64_t r1 = std::min(i1, ceilDiv(o1 - base, g.sh));
  for (int64_t iy = r0; iy < r1; ++iy) {
    int32_t* dst = acc + (iy * g.sh + base - o0) * g.ow;
    const int32_t* src = tmp + (j * taps + ky * g.kw) * ldt + (iy - i0) * g.w;
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      const int64_t off = kx * g.dw - g.pl;
      int64_t a0, a1;
      tapColumns(g, off, a0, a1);
      if (g.sw == 2 && g.dw == 1 && kx + 1 < g.kw) {
        // Taps kx and kx + 1 fill the even and odd columns of one run: interleaved, and each
        // tap's columns outside the other's range alone.
        int64_t b0, b1;
        tapColumns(g, off + 1, b0, b1);
        const int64_t c0 = std::max(a0, b0), c1 = std::max(c0, std::min(a1, b1));
        const int32_t* srcB = src + ldt;
        addInterleaved(p.path, src + c0, srcB + c0, c1 - c0, dst + 2 * c0 + off);
        addStrided(src, a0, std::min(c0, a1), 2, off, dst);
        addStrided(src, c1, a1, 2, off, dst);
        addStrided(srcB, b0, std::min(c0, b1), 2, off + 1, dst);
        addStrided(srcB, c1, b1, 2, off + 1, dst);
        src += 2 * ldt;
        ++kx;
        continue;
      }
      addStrided(src, a0, a1, g.sw, off, dst);
      src += ldt;
    }
  }
}

}  // namespace

bool deconvGroupPacked(const ConvParams& p, int64_t n, int64_t grp, const Act* x, int64_t maxX,
                       Act* out) {
  const ConvGeometry& g = p.g;
  if (maxX > INT16_MAX) return false;
  const int64_t cg = g.c / g.groups, kg = g.k / g.groups, taps = g.kh * g.kw;
  const int64_t rowsM = kg * taps, ohw = g.oh * g.ow;
  // Weights [C/g][rowsM] of this group, read transposed: GEMM row m = (j, ky, kx).
  gemm::PackedWeights pw;
  if (!gemm::packWeights(p.weights + grp * cg * rowsM, 1, rowsM, cg, 1, true, pw)) return false;
  for (int64_t j = 0; j < kg; ++j) {
    int64_t sumAbsW = 0;
    for (int64_t t = 0; t < taps; ++t) sumAbsW += pw.sumAbsW[size_t(j * taps + t)];
    if (sumAbsW * maxX + std::abs(p.bias[grp * kg + j]) >= (int64_t(1) << 31)) return false;
  }
  // The group's input as a 1x1 conv: im2col rows are the channels, columns the positions.
  ConvGeometry g1;
  g1.c = cg, g1.h = g.h, g1.w = g.w, g1.k = rowsM, g1.oh = g.h, g1.ow = g.w;
  const int64_t rowsPadded = pw.blocks * kMR;
  // Bands of output rows reached by about kTileValues / (rows x width) input rows.
  const int64_t inRows = std::clamp<int64_t>(kTileValues / (rowsPadded * g.w), 1, g.h);
  const int64_t band = std::min(g.oh, inRows * g.sh);
  const int64_t bands = (g.oh + band - 1) / band;
  const int64_t taskMacs = std::max<int64_t>(1, inRows * g.w * rowsM * cg);
  const std::vector<int32_t> zeros(size_t(kMR), 0);
  const gemm::PanelLayout layout = gemm::PanelLayout::contiguous(pw.pairs);
  parallelRanges(bands, std::max<int64_t>(1, kMinTaskMacs / taskMacs), [&](int64_t t0, int64_t t1) {
    thread_local Scratch s;
    for (int64_t b = t0; b < t1; ++b) {
      const int64_t o0 = b * band, o1 = std::min(g.oh, o0 + band), n1 = (o1 - o0) * g.ow;
      // The input rows some tap of which lands in [o0, o1).
      const int64_t i0 = std::max<int64_t>(0, ceilDiv(o0 + g.pt - (g.kh - 1) * g.dh, g.sh));
      const int64_t i1 = std::min(g.h, ceilDiv(o1 + g.pt, g.sh));
      const int64_t tl = std::max<int64_t>(0, i1 - i0) * g.w;
      const int64_t blocks = (tl + kNR - 1) / kNR, ldt = blocks * kNR;
      if (tl > 0) {
        panels::pairPanel(p.path, x, g1, cg, pw.pairs, p.inZp, i0 * g.w, tl, s.r0, s.r1, s.pan);
        s.tmp.resize(size_t(rowsPadded * ldt));
        for (int64_t mb = 0; mb < pw.blocks; ++mb)
          gemm::panel(p.path, pw.block(0, mb), s.pan.data(), layout, blocks, zeros.data(),
                      s.tmp.data() + mb * kMR * ldt, ldt);
      }
      for (int64_t j = 0; j < kg; ++j) {
        const int64_t oc = grp * kg + j;
        s.acc.assign(size_t(n1), int32_t(p.bias[oc]));
        if (tl > 0)
          for (int64_t ky = 0; ky < g.kh; ++ky)
            addTapRow(p, s.tmp.data(), ldt, j, ky, i0, i1, o0, o1, s.acc.data());
        applyStage(p.out, s.acc.data(), n1, oc, out + (n * g.k + oc) * ohw + o0 * g.ow);
      }
    }
  });
  return true;
}

// Adds modulo 2^32, as vpaddd does: the callers' sums never wrap (their int32 bound), and the
// wrapping form keeps any input defined behaviour (the test feeds sums that do wrap).
void addInterleavedPortable(const int32_t* a, const int32_t* b, int64_t len, int32_t* dst) {
  for (int64_t i = 0; i < len; ++i) {
    dst[2 * i] = int32_t(uint32_t(dst[2 * i]) + uint32_t(a[i]));
    dst[2 * i + 1] = int32_t(uint32_t(dst[2 * i + 1]) + uint32_t(b[i]));
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) void addInterleavedAvx2(const int32_t* a, const int32_t* b,
                                                        int64_t len, int32_t* dst) {
  int64_t i = 0;
  for (; i + 8 <= len; i += 8) {
    const __m256i va = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i));
    const __m256i vb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i));
    const __m256i lo = _mm256_unpacklo_epi32(va, vb);  // a0 b0 a1 b1 | a4 b4 a5 b5
    const __m256i hi = _mm256_unpackhi_epi32(va, vb);  // a2 b2 a3 b3 | a6 b6 a7 b7
    __m256i* d = reinterpret_cast<__m256i*>(dst + 2 * i);
    _mm256_storeu_si256(
        d, _mm256_add_epi32(_mm256_loadu_si256(d), _mm256_permute2x128_si256(lo, hi, 0x20)));
    _mm256_storeu_si256(d + 1, _mm256_add_epi32(_mm256_loadu_si256(d + 1),
                                                _mm256_permute2x128_si256(lo, hi, 0x31)));
  }
  addInterleavedPortable(a + i, b + i, len - i, dst + 2 * i);
}
#endif

void addInterleaved(KernelPath path, const int32_t* a, const int32_t* b, int64_t len,
                    int32_t* dst) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (path == KernelPath::Avx2) return addInterleavedAvx2(a, b, len, dst);
#endif
  (void)path;
  addInterleavedPortable(a, b, len, dst);
}

}  // namespace kiln::rt::deconvpk
