// The pair panel of the packed conv GEMM built from the uint16 activation planes: each im2col row
// as int16 differences x - zp (16-bit subtraction, exact because the caller checked every
// |x - zp| <= INT16_MAX), then two rows interleaved into pair words. The AVX2 path does both 16
// values at a time (vpsubw; vpunpcklwd/vpunpckhwd), unit and stride-2 rows included; other paths
// run the plain loops. Every path writes the same words as gemm::pairWord on im2colRow's values.
#include "runtime/kernels/conv_panel.h"

#include <algorithm>
#include <cstring>

#include "runtime/kernels/conv_loops.h"
#include "runtime/kernels/gemm.h"
#include "runtime/kernels/scratch.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace kiln::rt::panels {

using gemm::kNR;

namespace {

// d[i] = x[i * stride] - zp for i < n (16-bit wrap: exact for the caller's values).
void subRunPortable(const Act* x, int64_t stride, int64_t n, int32_t zp, int16_t* d) {
  const uint16_t z = uint16_t(zp);
  if (stride == 1) {
    for (int64_t i = 0; i < n; ++i) d[i] = int16_t(uint16_t(x[i] - z));
  } else {
    for (int64_t i = 0; i < n; ++i) d[i] = int16_t(uint16_t(x[i * stride] - z));
  }
}

// dst[j] = pairWord(a[j], b[j]) for j < kNR.
void interleavePortable(const int16_t* a, const int16_t* b, int32_t* dst) {
  for (int64_t j = 0; j < kNR; ++j) dst[j] = gemm::pairWord(a[j], b[j]);
}

#if defined(__x86_64__) && defined(__GNUC__)
// subRunPortable with AVX2 for strides 1 and 2, 16 values per step; a run of at least 16 ends
// with one more step over its last 16 values (overlapping the previous one: the same values
// written twice) instead of a scalar tail. The stride-2 step at i reads x[2i] to x[2i + 31], so
// it may start at most at n - 17 (x[2 (n - 1)] is the last element read); x[2 (n - 1)] itself is
// then done alone.
__attribute__((target("avx2"))) inline __m256i sub16(const Act* x, __m256i z) {
  return _mm256_sub_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x)), z);
}

__attribute__((target("avx2"))) inline __m256i evenSub16(const Act* x, __m256i z) {
  const __m256i low = _mm256_set1_epi32(0xffff);
  const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
  const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 16));
  // The even elements, zero-extended to 32 bits, packed back (no saturation: < 2^16).
  const __m256i e = _mm256_packus_epi32(_mm256_and_si256(v0, low), _mm256_and_si256(v1, low));
  return _mm256_sub_epi16(_mm256_permute4x64_epi64(e, 0xD8), z);
}

__attribute__((target("avx2"))) inline void store16(int16_t* d, __m256i v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(d), v);
}

__attribute__((target("avx2"))) void subRunAvx2(const Act* x, int64_t stride, int64_t n, int32_t zp,
                                                int16_t* d) {
  const __m256i z = _mm256_set1_epi16(int16_t(uint16_t(zp)));
  if (stride == 1 && n >= 16) {
    for (int64_t i = 0; i + 16 <= n; i += 16) store16(d + i, sub16(x + i, z));
    store16(d + n - 16, sub16(x + n - 16, z));
    return;
  }
  if (stride == 2 && n >= 17) {
    for (int64_t i = 0; i + 17 <= n; i += 16) store16(d + i, evenSub16(x + 2 * i, z));
    store16(d + n - 17, evenSub16(x + 2 * (n - 17), z));
    subRunPortable(x + 2 * (n - 1), 2, 1, zp, d + n - 1);
    return;
  }
  subRunPortable(x, stride, n, zp, d);
}

__attribute__((target("avx2"))) void interleaveAvx2(const int16_t* a, const int16_t* b,
                                                    int32_t* dst) {
  static_assert(kNR == 16, "one ymm of int16 per row");
  const __m256i va = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
  const __m256i vb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
  const __m256i lo = _mm256_unpacklo_epi16(va, vb);  // columns 0-3 | 8-11
  const __m256i hi = _mm256_unpackhi_epi16(va, vb);  // columns 4-7 | 12-15
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm256_permute2x128_si256(lo, hi, 0x20));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 8), _mm256_permute2x128_si256(lo, hi, 0x31));
}

// pairRun's 16 words from a[0, 16) and b[0, 16) (vb: b's values minus zp, or 0).
__attribute__((target("avx2"))) inline void pair16(__m256i va, __m256i vb, int32_t* dst) {
  const __m256i lo = _mm256_unpacklo_epi16(va, vb);  // columns 0-3 | 8-11
  const __m256i hi = _mm256_unpackhi_epi16(va, vb);  // columns 4-7 | 12-15
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm256_permute2x128_si256(lo, hi, 0x20));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 8), _mm256_permute2x128_si256(lo, hi, 0x31));
}

// pairRun with AVX2 for strides 1 and 2, 16 words per step, ending with one step over the last
// 16 words (overlapping the previous one) instead of a scalar tail; false (nothing done) for
// other strides and runs too short for a step. The stride-2 step at i reads elements 2i to
// 2i + 31 (see evenSub16): it starts at most at n - 17, and element 2 (n - 1) is done alone.
__attribute__((target("avx2"))) bool pairRunAvx2(const Act* a, const Act* b, int64_t stride,
                                                 int64_t n, int32_t zp, int32_t* dst) {
  const __m256i z = _mm256_set1_epi16(int16_t(uint16_t(zp)));
  const __m256i zero = _mm256_setzero_si256();
  if (stride == 1 && n >= 16) {
    for (int64_t i = 0; i + 16 <= n; i += 16)
      pair16(sub16(a + i, z), b ? sub16(b + i, z) : zero, dst + i);
    pair16(sub16(a + n - 16, z), b ? sub16(b + n - 16, z) : zero, dst + n - 16);
    return true;
  }
  if (stride == 2 && n >= 17) {
    for (int64_t i = 0; i + 17 <= n; i += 16)
      pair16(evenSub16(a + 2 * i, z), b ? evenSub16(b + 2 * i, z) : zero, dst + i);
    const int64_t last = n - 17;
    pair16(evenSub16(a + 2 * last, z), b ? evenSub16(b + 2 * last, z) : zero, dst + last);
    const uint16_t zs = uint16_t(zp);
    const int64_t e = 2 * (n - 1);
    dst[n - 1] = gemm::pairWord(int16_t(uint16_t(a[e] - zs)), b ? int16_t(uint16_t(b[e] - zs)) : 0);
    return true;
  }
  return false;
}
#endif

// A 1 x 1 conv of stride 1 without padding reads its input as it is: im2col row r, columns
// [t0, t0 + tl), is channel plane r from t0 on.
bool pointwise(const ConvGeometry& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.pb == 0 &&
         g.pr == 0;
}

// The pair words of rows a and b (b null: 0) for `blocks` whole column blocks, block cb at
// dst + cb * stride: pairPanel's words of a pointwise conv, in one pass (no int16 rows between).
void pointwiseBlocksPortable(const Act* a, const Act* b, int64_t blocks, int32_t zp, int64_t stride,
                             int32_t* dst) {
  for (int64_t cb = 0; cb < blocks; ++cb)
    for (int64_t j = 0; j < kNR; ++j) {
      const int64_t i = cb * kNR + j;
      dst[cb * stride + j] = gemm::pairWord(a[i] - zp, b ? b[i] - zp : 0);
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) void pointwiseBlocksAvx2(const Act* a, const Act* b, int64_t blocks,
                                                         int32_t zp, int64_t stride, int32_t* dst) {
  const __m256i z = _mm256_set1_epi16(int16_t(uint16_t(zp)));
  const __m256i zero = _mm256_setzero_si256();
  for (int64_t cb = 0; cb < blocks; ++cb)
    pair16(sub16(a + cb * kNR, z), b ? sub16(b + cb * kNR, z) : zero, dst + cb * stride);
}
#endif

// pairPanel for a pointwise conv: whole blocks straight from the planes, the last partial block
// (columns past tl: 0) through a zero-padded copy.
void pointwisePanel(KernelPath path, const Act* planes, const ConvGeometry& g, int64_t rows,
                    int64_t pairs, int32_t zp, int64_t t0, int64_t tl, int32_t* pan) {
  auto blocksOf = pointwiseBlocksPortable;
#if defined(__x86_64__) && defined(__GNUC__)
  if (path == KernelPath::Avx2) blocksOf = pointwiseBlocksAvx2;
#endif
  const int64_t hw = g.h * g.w, full = tl / kNR, rest = tl - full * kNR;
  const int64_t stride = pairs * kNR;
  for (int64_t q = 0; q < pairs; ++q) {
    const Act* a = planes + 2 * q * hw + t0;
    const Act* b = 2 * q + 1 < rows ? a + hw : nullptr;
    blocksOf(a, b, full, zp, stride, pan + q * kNR);
    if (rest == 0) continue;
    // The padding columns read x = zp (pair word 0).
    Act ta[kNR], tb[kNR];
    for (int64_t j = 0; j < kNR; ++j) {
      ta[j] = j < rest ? a[full * kNR + j] : Act(zp);
      tb[j] = j < rest && b ? b[full * kNR + j] : Act(zp);
    }
    blocksOf(ta, b ? tb : nullptr, 1, zp, stride, pan + full * stride + q * kNR);
  }
}

// d[0, n) = 0 where up to 15 values past n may be overwritten too (the caller's slack, or values
// written later): a run of at most 16, the usual padding of one or two columns, is one
// fixed-size store instead of a memset call.
inline void zeroRun(int16_t* d, int64_t n) {
  if (n <= 16)
    std::memset(d, 0, 16 * sizeof(int16_t));
  else
    std::fill(d, d + n, int16_t(0));
}

}  // namespace

void subRun(KernelPath path, const Act* x, int64_t stride, int64_t n, int32_t zp, int16_t* d) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (path == KernelPath::Avx2) return subRunAvx2(x, stride, n, zp, d);
#endif
  (void)path;
  subRunPortable(x, stride, n, zp, d);
}

void interleave16(KernelPath path, const int16_t* a, const int16_t* b, int32_t* dst) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (path == KernelPath::Avx2) return interleaveAvx2(a, b, dst);
#endif
  (void)path;
  interleavePortable(a, b, dst);
}

void pairRun(KernelPath path, const Act* a, const Act* b, int64_t stride, int64_t n, int32_t zp,
             int32_t* dst) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (path == KernelPath::Avx2 && pairRunAvx2(a, b, stride, n, zp, dst)) return;
#endif
  (void)path;
  const uint16_t z = uint16_t(zp);
  for (int64_t i = 0; i < n; ++i)
    dst[i] = gemm::pairWord(int16_t(uint16_t(a[i * stride] - z)),
                            b ? int16_t(uint16_t(b[i * stride] - z)) : 0);
}

void im2colRow16(KernelPath path, const Act* planes, const ConvGeometry& g, int64_t r, int32_t zp,
                 int64_t t0, int64_t tl, int16_t* dst) {
  // Left padding is written before the run (the run overwrites what zeroRun wrote past it),
  // right padding after: what zeroRun writes past a segment belongs to the next one or the slack.
  loops::forEachIm2colRun(
      planes, g, r, t0, tl,
      [&](const Act* src, int64_t stride, int64_t col, int64_t n) {
        subRun(path, src, stride, n, zp, dst + col);
      },
      [&](int64_t col, int64_t n) { zeroRun(dst + col, n); });
}

void pairPanel(KernelPath path, const Act* planes, const ConvGeometry& g, int64_t rows,
               int64_t pairs, int32_t zp, int64_t t0, int64_t tl, std::vector<int16_t>& r0,
               std::vector<int16_t>& r1, std::vector<int32_t>& pan) {
  const int64_t blocks = (tl + kNR - 1) / kNR, width = blocks * kNR;
  growTo(pan, size_t(pairs * width));
  if (pointwise(g)) return pointwisePanel(path, planes, g, rows, pairs, zp, t0, tl, pan.data());
  growTo(r0, size_t(width + 16));  // im2colRow16's slack
  growTo(r1, size_t(width + 16));
  auto interleave = interleavePortable;
#if defined(__x86_64__) && defined(__GNUC__)
  if (path == KernelPath::Avx2) interleave = interleaveAvx2;
#endif
  for (int64_t q = 0; q < pairs; ++q) {
    // Columns tl to width are 0 (zeroRun may write there, so every row).
    im2colRow16(path, planes, g, 2 * q, zp, t0, tl, r0.data());
    if (width > tl) std::fill(r0.begin() + tl, r0.begin() + width, int16_t(0));
    if (2 * q + 1 < rows)
      im2colRow16(path, planes, g, 2 * q + 1, zp, t0, tl, r1.data());
    else
      std::fill(r1.begin(), r1.begin() + tl, int16_t(0));
    if (width > tl) std::fill(r1.begin() + tl, r1.begin() + width, int16_t(0));
    for (int64_t cb = 0; cb < blocks; ++cb)
      interleave(r0.data() + cb * kNR, r1.data() + cb * kNR, pan.data() + (cb * pairs + q) * kNR);
  }
}

void pairBand(KernelPath path, const Act* planes, const ConvGeometry& g, int64_t channels,
              int32_t zp, int64_t row0, int64_t rowsIn, int64_t wq, int64_t phaseStride,
              std::vector<int32_t>& band) {
  const int64_t pairs = (channels + 1) / 2, phases = g.sh * g.sw;
  growTo(band, size_t(pairs * phases * phaseStride));  // every word is written below
  for (int64_t i = 0; i < pairs; ++i) {
    const Act* a = planes + 2 * i * g.h * g.w;
    const Act* b = 2 * i + 1 < channels ? a + g.h * g.w : nullptr;
    for (int64_t ry = 0; ry < g.sh; ++ry)
      for (int64_t rx = 0; rx < g.sw; ++rx) {
        int32_t* plane = band.data() + ((i * g.sh + ry) * g.sw + rx) * phaseStride;
        // Phase columns j read input column j * sw + rx - pl: [j0, j1) lie inside the row.
        const int64_t j0 = std::min(wq, std::max<int64_t>(0, (g.pl - rx + g.sw - 1) / g.sw));
        const int64_t j1 = std::max(j0, std::min(wq, (g.w + g.pl - rx + g.sw - 1) / g.sw));
        const int64_t x0 = j0 * g.sw + rx - g.pl;
        // Strides 1 without left or right padding: consecutive input rows are one run.
        const bool joined = g.sh == 1 && g.sw == 1 && j0 == 0 && j1 == wq && wq == g.w;
        int64_t r = 0;
        while (r < rowsIn) {
          int32_t* d = plane + r * wq;
          const int64_t iy = (row0 + r) * g.sh + ry - g.pt;
          if (iy < 0 || iy >= g.h) {
            std::fill(d, d + wq, 0);
            ++r;
            continue;
          }
          if (joined) {
            const int64_t rows = std::min(rowsIn - r, g.h - iy);
            const int64_t off = iy * g.w;
            pairRun(path, a + off, b ? b + off : nullptr, 1, rows * g.w, zp, d);
            r += rows;
            continue;
          }
          const int64_t off = iy * g.w + x0;
          std::fill(d, d + j0, 0);
          pairRun(path, a + off, b ? b + off : nullptr, g.sw, j1 - j0, zp, d + j0);
          std::fill(d + j1, d + wq, 0);
          ++r;
        }
        std::fill(plane + rowsIn * wq, plane + phaseStride, 0);
      }
  }
}

}  // namespace kiln::rt::panels
