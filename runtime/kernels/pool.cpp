// Integer pooling: max works on the quantized values directly (same scale in and out); average
// sums (x - inZp) and divides inside the multiplier chosen for the window's element count.
#include <algorithm>
#include <vector>

#include "common/cpu_features.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/thread_pool.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace kiln::rt {

namespace {

// One plane of a max pool, separably: per output row, the element-wise max of the window's valid
// input rows into an int32 row padded with INT32_MIN (reading padding or the ceil-mode overhang),
// then per output column the max over the window's columns of that row. Activations are never
// INT32_MIN, so a window that reads only padding is the one left at INT32_MIN: it gives inZp,
// as in pool2dPlane. The same values as pool2dPlane (max is exact in any order).
void maxPoolPlane(const PoolParams& p, const Act* in, Act* out, int64_t nc,
                  std::vector<int32_t>& row) {
  const ConvGeometry& g = p.g;
  const Act* plane = in + nc * g.h * g.w;
  Act* o = out + nc * g.oh * g.ow;
  const int64_t len = std::max(g.pl + g.w, (g.ow - 1) * g.sw + (g.kw - 1) * g.dw + 1);
  row.assign(size_t(len), INT32_MIN);
  int32_t* r = row.data() + g.pl;
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    bool any = false;
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
      if (iy < 0 || iy >= g.h) continue;
      const Act* src = plane + iy * g.w;
      if (!any) {
        std::copy(src, src + g.w, r);
        any = true;
      } else {
        for (int64_t ix = 0; ix < g.w; ++ix) r[ix] = std::max(r[ix], int32_t(src[ix]));
      }
    }
    Act* dst = o + oy * g.ow;
    if (!any) {
      std::fill(dst, dst + g.ow, Act(p.inZp));
      continue;
    }
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      const int32_t* win = row.data() + ox * g.sw;
      int32_t best = win[0];
      for (int64_t kx = 1; kx < g.kw; ++kx) best = std::max(best, win[kx * g.dw]);
      dst[ox] = Act(best == INT32_MIN ? p.inZp : best);
    }
  }
}

// Whether a max pool is 2x2 with stride 2 and every window inside the input (no padding read,
// no ceil-mode overhang): BlazeFace's and most detectors' downsampling pools.
bool isMax2x2(const PoolParams& p) {
  const ConvGeometry& g = p.g;
  return p.isMax && g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.dh == 1 && g.dw == 1 &&
         g.pt == 0 && g.pl == 0 && 2 * g.oh <= g.h && 2 * g.ow <= g.w;
}

// dst[ox] = the max of r0[2 ox], r0[2 ox + 1], r1[2 ox], r1[2 ox + 1] (max is exact in any order).
void max2x2Row(const Act* r0, const Act* r1, int64_t ow, Act* dst) {
  for (int64_t ox = 0; ox < ow; ++ox)
    dst[ox] = std::max(std::max(r0[2 * ox], r0[2 * ox + 1]), std::max(r1[2 * ox], r1[2 * ox + 1]));
}

#if defined(__x86_64__) && defined(__GNUC__)
// max2x2Row sixteen outputs per step: the vertical max of 32 inputs (vpmaxuw), the max of each
// pair in the low half of its 32-bit lane, the low halves packed (vpackusdw: values < 2^16) and
// the two 128-bit lanes put back in order. Returns how many outputs it did.
__attribute__((target("avx2"))) int64_t max2x2RowAvx2(const Act* r0, const Act* r1, int64_t ow,
                                                      Act* dst) {
  const __m256i low = _mm256_set1_epi32(0xFFFF);
  int64_t ox = 0;
  for (; ox + 16 <= ow; ox += 16) {
    const auto* a = reinterpret_cast<const __m256i*>(r0 + 2 * ox);
    const auto* b = reinterpret_cast<const __m256i*>(r1 + 2 * ox);
    __m256i v0 = _mm256_max_epu16(_mm256_loadu_si256(a), _mm256_loadu_si256(b));
    __m256i v1 = _mm256_max_epu16(_mm256_loadu_si256(a + 1), _mm256_loadu_si256(b + 1));
    v0 = _mm256_and_si256(_mm256_max_epu16(v0, _mm256_srli_epi32(v0, 16)), low);
    v1 = _mm256_and_si256(_mm256_max_epu16(v1, _mm256_srli_epi32(v1, 16)), low);
    const __m256i v = _mm256_permute4x64_epi64(_mm256_packus_epi32(v0, v1), 0xD8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + ox), v);
  }
  return ox;
}
#endif

void max2x2Plane(const PoolParams& p, const Act* in, Act* out, int64_t nc) {
  const ConvGeometry& g = p.g;
  const Act* plane = in + nc * g.h * g.w;
  Act* o = out + nc * g.oh * g.ow;
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    const Act *r0 = plane + 2 * oy * g.w, *r1 = r0 + g.w;
    Act* dst = o + oy * g.ow;
    int64_t done = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (p.path == KernelPath::Avx2 && hostHasAvx2()) done = max2x2RowAvx2(r0, r1, g.ow, dst);
#endif
    max2x2Row(r0 + 2 * done, r1 + 2 * done, g.ow - done, dst + done);
  }
}

// One plane (batch image x channel) of pool2d (the reference form; average pools run it).
void pool2dPlane(const PoolParams& p, const Act* in, Act* out, int64_t nc) {
  const ConvGeometry& g = p.g;
  const Act* plane = in + nc * g.h * g.w;
  Act* o = out + nc * g.oh * g.ow;
  const int64_t channel = nc % g.c;
  for (int64_t oy = 0; oy < g.oh; ++oy)
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      const int64_t y0 = oy * g.sh - g.pt, x0 = ox * g.sw - g.pl;
      int64_t acc = 0, count = 0;
      int32_t best = INT32_MIN;
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        const int64_t iy = y0 + ky * g.dh;
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const int64_t ix = x0 + kx * g.dw;
          if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
          const int32_t v = plane[iy * g.w + ix];
          best = std::max(best, v);
          acc += v - p.inZp;
          ++count;
        }
      }
      if (p.isMax) {
        o[oy * g.ow + ox] = count ? best : p.inZp;
        continue;
      }
      if (p.countIncludePad) {
        // The pads the ONNX window covers count, the ceil-mode overhang does not.
        const int64_t yEnd = std::min(y0 + g.kh, g.h + g.pb),
                      xEnd = std::min(x0 + g.kw, g.w + g.pr);
        count = (yEnd - y0) * (xEnd - x0);
      }
      OutputStage st = p.out;
      st.mult = &p.countMult[count];
      st.perChannel = false;
      o[oy * g.ow + ox] = count ? st.apply(acc, channel) : p.out.outZp;
    }
}

}  // namespace

void pool2d(const PoolParams& p, const Act* in, Act* out) {
  const ConvGeometry& g = p.g;
  const bool fast2x2 = isMax2x2(p);
  // Planes are independent: ranges of them on the session's threads.
  parallelRanges(g.n * g.c, std::max<int64_t>(1, 8192 / (g.oh * g.ow)), [&](int64_t b, int64_t e) {
    std::vector<int32_t> row;
    for (int64_t nc = b; nc < e; ++nc)
      if (fast2x2)
        max2x2Plane(p, in, out, nc);
      else if (p.isMax)
        maxPoolPlane(p, in, out, nc, row);
      else
        pool2dPlane(p, in, out, nc);
  });
}

void pool2dReference(const PoolParams& p, const Act* in, Act* out) {
  for (int64_t nc = 0; nc < p.g.n * p.g.c; ++nc) pool2dPlane(p, in, out, nc);
}

void globalAvgPool(int64_t nc, int64_t inner, int32_t inZp, const OutputStage& out, const Act* in,
                   Act* outBuf) {
  parallelRanges(nc, std::max<int64_t>(1, 8192 / inner), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      // sum(x - zp) = sum(x) - inner zp; sum(x) in uint32 blocks of 2^15 values (at most
      // 2^15 (2^16 - 1) < 2^31: exact), which the compiler vectorizes.
      int64_t acc = -inner * int64_t(inZp);
      const Act* x = in + i * inner;
      for (int64_t k0 = 0; k0 < inner; k0 += 32768) {
        const int64_t k1 = std::min(inner, k0 + 32768);
        uint32_t sum = 0;
        for (int64_t k = k0; k < k1; ++k) sum += x[k];
        acc += int64_t(sum);
      }
      outBuf[i] = out.apply(acc, 0);
    }
  });
}

}  // namespace kiln::rt
