// Histogram::addFinite's counting loop: each value's bin, as the scalar rule says, computed eight
// at a time with AVX2 where the CPU has it (x86-64, chosen at run time), and counted in four
// tables so that runs of values in one bin (a ReLU's zeros) do not wait on each other's stores.
// The counts are integers: the same for any way of splitting the work.
#include <algorithm>
#include <cstring>
#include <vector>

#include "common/cpu_features.h"
#include "compiler/quant/calibration_stats.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace kiln::quant {

namespace {

constexpr int K = Histogram::kBins;
// Table slots: [0, 2K] as Histogram::counts, 2K + 1 for NaN (not counted).
constexpr int kNanSlot = 2 * K + 1, kSlots = 2 * K + 2;
constexpr size_t kBlock = 512;  // values whose slots are computed before they are counted

// The slot of one value: the rule of docs/arithmetic.md's histogram, as first written.
inline int32_t slotOf(float x, float sp, float sn, float top) {
  float f = x > 0 ? x * sp : -x * sn;
  f = f < top ? f : top;  // float rounding at the last edge; NaN lands here too
  const int j = int(f);
  if (x != x) return kNanSlot;
  return x > 0 ? K + 1 + j : (x < 0 ? K - 1 - j : K);
}

void slotsPortable(const float* v, size_t n, float sp, float sn, float top, int32_t* out) {
  for (size_t i = 0; i < n; ++i) out[i] = slotOf(v[i], sp, sn, top);
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) void slotsAvx2(const float* v, size_t n, float sp, float sn,
                                               float top, int32_t* out) {
  const __m256 vsp = _mm256_set1_ps(sp), vsn = _mm256_set1_ps(sn), vtop = _mm256_set1_ps(top);
  const __m256 zero = _mm256_setzero_ps(), sign = _mm256_set1_ps(-0.0f);
  const __m256i base = _mm256_set1_epi32(K), one = _mm256_set1_epi32(1),
                nan = _mm256_set1_epi32(kNanSlot);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(v + i);
    const __m256 pos = _mm256_cmp_ps(x, zero, _CMP_GT_OQ), neg = _mm256_cmp_ps(x, zero, _CMP_LT_OQ);
    const __m256 unordered = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    // f = x > 0 ? x * sp : -x * sn; f = f < top ? f : top (minps returns top on NaN, as the
    // scalar comparison does).
    __m256 f =
        _mm256_blendv_ps(_mm256_mul_ps(_mm256_xor_ps(x, sign), vsn), _mm256_mul_ps(x, vsp), pos);
    f = _mm256_min_ps(f, vtop);
    const __m256i j = _mm256_cvttps_epi32(f);
    const __m256i up = _mm256_add_epi32(_mm256_add_epi32(base, one), j);
    const __m256i down = _mm256_sub_epi32(_mm256_sub_epi32(base, one), j);
    __m256i slot = _mm256_blendv_epi8(base, up, _mm256_castps_si256(pos));
    slot = _mm256_blendv_epi8(slot, down, _mm256_castps_si256(neg));
    slot = _mm256_blendv_epi8(slot, nan, _mm256_castps_si256(unordered));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), slot);
  }
  slotsPortable(v + i, n - i, sp, sn, top, out + i);
}

#endif

}  // namespace

void Histogram::countValues(const float* v, size_t n, float sp, float sn) {
  constexpr float top = float(K - 1);
  thread_local std::vector<uint32_t> tables;
  tables.assign(size_t(4 * kSlots), 0);
  uint32_t* t[4] = {tables.data(), tables.data() + kSlots, tables.data() + 2 * kSlots,
                    tables.data() + 3 * kSlots};
  int32_t slot[kBlock];
  // Folded into counts at least every 2^30 values, so no table entry can wrap.
  size_t sinceFold = 0;
  auto fold = [&] {
    for (int s = 0; s <= 2 * K; ++s) {
      counts[size_t(s)] += uint64_t(t[0][s]) + t[1][s] + t[2][s] + t[3][s];
      t[0][s] = t[1][s] = t[2][s] = t[3][s] = 0;
    }
    sinceFold = 0;
  };
  for (size_t i0 = 0; i0 < n; i0 += kBlock) {
    const size_t m = std::min(kBlock, n - i0);
#if defined(__x86_64__)
    if (hostHasAvx2())
      slotsAvx2(v + i0, m, sp, sn, top, slot);
    else
#endif
      slotsPortable(v + i0, m, sp, sn, top, slot);
    size_t j = 0;
    for (; j + 4 <= m; j += 4) {
      ++t[0][slot[j]];
      ++t[1][slot[j + 1]];
      ++t[2][slot[j + 2]];
      ++t[3][slot[j + 3]];
    }
    for (; j < m; ++j) ++t[0][slot[j]];
    sinceFold += m;
    if (sinceFold >= (size_t(1) << 30)) fold();
  }
  fold();
}

}  // namespace kiln::quant
