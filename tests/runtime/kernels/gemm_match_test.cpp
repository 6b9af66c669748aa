// The packed GEMM's micro-kernels (gemm.h) against their definition, the int64 sum of the pair
// products plus the bias: panel (4 x 16) and panelWide (4 x 24) on every kernel path, on panels
// laid out as the band path reads them (several taps at offsets, channel pairs a stride apart,
// blocks side by side) with 8- and 16-bit values at their extremes.
#include <gtest/gtest.h>

#include <random>

#include "runtime/kernels/gemm.h"

namespace kiln::test {
namespace {

namespace gemm = rt::gemm;

// The expected acc of one micro-kernel call: bias[m] + sum over taps t, pairs i of the two
// int16 products of weight word w[(t * perTap + i) * kMR + m] and panel word
// x[cb * blockStride + tapOffset[t] + i * pairStride + j].
std::vector<int64_t> definition(const std::vector<int32_t>& w, const std::vector<int32_t>& x,
                                const gemm::PanelLayout& l, int64_t blocks, int64_t nr,
                                const int32_t* bias) {
  auto lo = [](int32_t v) { return int64_t(int16_t(uint32_t(v) & 0xffff)); };
  auto hi = [](int32_t v) { return int64_t(int16_t(uint32_t(v) >> 16)); };
  std::vector<int64_t> want(size_t(gemm::kMR * blocks * nr));
  for (int64_t m = 0; m < gemm::kMR; ++m)
    for (int64_t cb = 0; cb < blocks; ++cb)
      for (int64_t j = 0; j < nr; ++j) {
        int64_t s = bias[m];
        for (int64_t t = 0; t < l.taps; ++t)
          for (int64_t i = 0; i < l.pairsPerTap; ++i) {
            const int32_t wv = w[size_t((t * l.pairsPerTap + i) * gemm::kMR + m)];
            const int32_t xv =
                x[size_t(cb * l.blockStride + l.tapOffset[t] + i * l.pairStride + j)];
            s += lo(wv) * lo(xv) + hi(wv) * hi(xv);
          }
        want[size_t(m * blocks * nr + cb * nr + j)] = s;
      }
  return want;
}

TEST(GemmMatch, MicroKernelsEqualTheirDefinitionOnEveryPath) {
  std::mt19937 rng(211);
  auto pick = [&](int64_t a, int64_t b) { return a + int64_t(rng() % uint64_t(b - a + 1)); };
  for (int trial = 0; trial < 60; ++trial) {
    // Either 16-bit panel values with 8-bit weights or the reverse, a quarter at the extremes:
    // every sum stays well inside int32 (at most 9 taps x 5 pairs x 2 products of < 2^22).
    const bool wideX = trial % 2 == 0;
    const int64_t xLo = wideX ? -32767 : -255, xHi = -xLo;
    const int64_t wLo = wideX ? INT8_MIN : INT16_MIN, wHi = wideX ? INT8_MAX : INT16_MAX;
    auto value = [&](int64_t a, int64_t b) {
      return int32_t(pick(0, 3) == 0 ? (pick(0, 1) ? a : b) : pick(a, b));
    };
    gemm::PanelLayout l;
    l.taps = pick(1, 9), l.pairsPerTap = pick(1, 5);
    const int64_t blocks = pick(1, 4);
    std::vector<int32_t> w(size_t(l.taps * l.pairsPerTap * gemm::kMR));
    for (auto& v : w) v = gemm::pairWord(value(wLo, wHi), value(wLo, wHi));
    int32_t bias[gemm::kMR];
    for (auto& b : bias) b = int32_t(pick(-1000000, 1000000));
    for (int64_t nr : {gemm::kNR, gemm::kNRWide}) {
      // Blocks side by side (blockStride nr), taps at random offsets, pairs a plane apart.
      l.blockStride = nr, l.pairStride = blocks * nr + pick(0, 40);
      std::vector<int64_t> offsets(size_t(l.taps));
      for (auto& o : offsets) o = pick(0, 30);
      l.tapOffset = offsets.data();
      std::vector<int32_t> x(size_t(31 + l.pairsPerTap * l.pairStride + blocks * nr));
      for (auto& v : x) v = gemm::pairWord(value(xLo, xHi), value(xLo, xHi));
      const std::vector<int64_t> want = definition(w, x, l, blocks, nr, bias);
      for (rt::KernelPath path : rt::supportedKernelPaths()) {
        const int64_t ld = blocks * nr;
        std::vector<int32_t> acc(size_t(gemm::kMR * ld), -7);
        if (nr == gemm::kNR)
          gemm::panel(path, w.data(), x.data(), l, blocks, bias, acc.data(), ld);
        else
          gemm::panelWide(path, w.data(), x.data(), l, blocks, bias, acc.data(), ld);
        for (size_t k = 0; k < acc.size(); ++k)
          ASSERT_EQ(acc[k], want[k]) << "trial " << trial << " nr " << nr << " path "
                                     << rt::kernelPathName(path) << " index " << k;
      }
    }
  }
}

}  // namespace
}  // namespace kiln::test
