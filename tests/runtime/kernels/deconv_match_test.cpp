// Deconvolution (runtime/kernels/deconv.cpp and its packed GEMM path, deconv_packed.h) against
// deconv2dReference, bit for bit, on every kernel path this CPU runs and on 1, 2 and 3 threads:
// random geometries (windows up to 4 x 4, strides up to 3, dilations up to 2, paddings up to 2,
// an extra output row / column, groups), the usual 2 x 2 stride-2 upsampling, planes of several
// bands of output rows, and edge values (activations at 0 and the top of their range, weights at
// both int8 / int16 extremes, zero points at both ends, a table output stage), plus groups that
// must leave the GEMM (16-bit activations far from the zero point, weights beyond int16, sums
// beyond int32) and take the multiply-accumulate loops. Also the interleaved add of the stride-2
// col2im against its definition on every path.
#include <gtest/gtest.h>

#include <random>

#include "runtime/kernels/deconv_packed.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::test {
namespace {

TEST(DeconvMatch, PackedAndLoopsEqualReferenceOnEveryPathAndThreadCount) {
  std::mt19937 rng(23);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  int executed = 0;
  for (int trial = 0; trial < 150; ++trial) {
    rt::ConvParams p;
    rt::ConvGeometry& g = p.g;
    const int edge = trial % 6;  // 0: random; 1, 2: extremes; 3: int16 weights; 4: 16-bit; 5: wide
    g.groups = trial % 5 == 0 ? 2 : 1;
    g.n = pick(1, 2), g.c = g.groups * pick(1, 5), g.h = pick(1, 9), g.w = pick(1, 23);
    g.k = g.groups * pick(1, 5);
    g.kh = pick(1, 4), g.kw = pick(1, 4), g.sh = pick(1, 3), g.sw = pick(1, 3), g.dh = pick(1, 2),
    g.dw = pick(1, 2);
    g.pt = pick(0, 2), g.pl = pick(0, 2), g.pb = pick(0, 2), g.pr = pick(0, 2);
    if (trial % 3 == 0)
      g.kh = g.kw = g.sh = g.sw = 2, g.dh = g.dw = 1, g.pt = g.pl = g.pb = g.pr = 0;
    if (trial % 4 == 1) g.sw = 2, g.dw = 1;  // the interleaved col2im, with any window and pads
    if (trial % 7 == 3) g.n = 1, g.h = pick(30, 60), g.w = pick(60, 140);  // several bands
    g.oh = (g.h - 1) * g.sh - g.pt - g.pb + g.dh * (g.kh - 1) + 1 + pick(0, 1);
    g.ow = (g.w - 1) * g.sw - g.pl - g.pr + g.dw * (g.kw - 1) + 1 + pick(0, 1);
    if (g.oh < 1 || g.ow < 1) continue;
    const bool sixteen = edge >= 4;
    const int64_t qmax = sixteen ? 65535 : 255;
    const int64_t wmax = edge == 3 || edge == 4 ? 32767 : edge == 5 ? 100000 : 127;
    p.inZp = int32_t(edge == 1 ? 0 : edge == 2 ? qmax : pick(0, qmax));
    p.inBits = sixteen ? 16 : 8;  // 8 bits: the range bounds |x - zp| (no scan)
    const bool extremes = edge == 1 || edge == 2;
    std::vector<rt::Act> x(size_t(g.n * g.c * g.h * g.w));
    std::vector<int32_t> w(size_t(g.c * (g.k / g.groups) * g.kh * g.kw));
    for (auto& v : x) v = rt::Act(extremes ? (pick(0, 1) ? qmax : 0) : pick(0, qmax));
    for (auto& v : w)
      v = int32_t(extremes ? (pick(0, 1) ? wmax : -wmax - 1) : pick(-wmax - 1, wmax));
    std::vector<int64_t> bias(size_t(g.k));
    for (auto& b : bias) b = pick(-100000, 100000) * (edge == 5 ? 1000000 : 1);
    std::vector<rt::Multiplier> mult(size_t(g.k));
    for (auto& m : mult) m = {int32_t(pick(1 << 30, INT32_MAX)), int32_t(pick(20, 50))};
    std::vector<int32_t> lut(64);
    for (auto& v : lut) v = int32_t(pick(0, 1 << 20));
    std::vector<int8_t> w8(w.begin(), w.end());
    std::vector<int16_t> w16(w.begin(), w.end());
    p.weights = wmax == 127     ? rt::WeightPtr(w8.data())
                : wmax == 32767 ? rt::WeightPtr(w16.data())
                                : rt::WeightPtr(w.data());
    p.bias = bias.data();
    p.out.mult = mult.data();
    p.out.perChannel = true;
    p.out.outZp = int32_t(qmax / 2);
    p.out.qmax = int32_t(qmax);
    if (trial % 7 == 5) {  // a table activation
      p.out.lut = lut.data(), p.out.lutSize = 64, p.out.lutOffset = 32;
      p.out.lutFracBits = 6, p.out.lutValueBits = 8;
    }
    std::vector<rt::Act> ref(size_t(g.n * g.k * g.oh * g.ow));
    rt::deconv2dReference(p, x.data(), ref.data());
    for (rt::KernelPath path : rt::supportedKernelPaths()) {
      p.path = path;
      for (int threads : {1, 2, 3}) {
        rt::ThreadPool pool(threads);
        const rt::ThreadPool::Scope scope(threads > 1 ? &pool : nullptr);
        std::vector<rt::Act> got(ref.size(), rt::Act(0xFFFF));
        rt::deconv2d(p, x.data(), got.data());
        ASSERT_EQ(got, ref) << "trial " << trial << " path " << rt::kernelPathName(path) << " on "
                            << threads << " threads";
      }
    }
    ++executed;
  }
  EXPECT_GT(executed, 100);
}

TEST(DeconvMatch, InterleavedAddEqualsDefinitionOnEveryPath) {
  std::mt19937 rng(7);
  for (int64_t len : {0, 1, 7, 8, 9, 16, 23, 40}) {
    std::vector<int32_t> a(static_cast<size_t>(len)), b(static_cast<size_t>(len));
    std::vector<int32_t> dst(static_cast<size_t>(2 * len + 3));
    for (auto& v : a) v = int32_t(rng());
    for (auto& v : b) v = int32_t(rng());
    for (auto& v : dst) v = int32_t(rng() % 1000000);
    std::vector<int32_t> want = dst;
    for (int64_t i = 0; i < len; ++i) {
      want[size_t(2 * i + 1)] = int32_t(uint32_t(want[size_t(2 * i + 1)]) + uint32_t(a[size_t(i)]));
      want[size_t(2 * i + 2)] = int32_t(uint32_t(want[size_t(2 * i + 2)]) + uint32_t(b[size_t(i)]));
    }
    for (rt::KernelPath path : rt::supportedKernelPaths()) {
      std::vector<int32_t> got = dst;
      // Wrapping adds: the kernels' sums never wrap (the callers' bound); these random ones may.
      rt::deconvpk::addInterleaved(path, a.data(), b.data(), len, got.data() + 1);
      EXPECT_EQ(got, want) << "len " << len << " path " << rt::kernelPathName(path);
    }
  }
}

}  // namespace
}  // namespace kiln::test
