// The pair-row depthwise kernel (runtime/kernels/depthwise_pairs.h) against conv2dReference, bit
// for bit, on every kernel path this CPU runs and on 1 and 2 threads: random geometries with every
// stride, dilation and padding up to 3, windows up to 7 x 7 (odd widths leave a half pair),
// output widths that leave partial 8- and 16-column blocks, column stride 2 with dilation 1 (the
// rows read as they are), column stride 1 with dilation 1 (the even/odd split), planes of several
// bands of output rows (the ring of input rows wraps many times), and edge values (activations at 0
// and the top of their range, weights at both int8 / int16 extremes, zero points at both ends,
// table and leaky output stages), plus channels that must leave the pair kernel (16-bit activations
// far from the zero point, weights beyond int16, sums beyond int32) and take the int64 loops.
#include <gtest/gtest.h>

#include <random>

#include "runtime/kernels/kernels.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::test {
namespace {

TEST(DepthwiseMatch, PairKernelEqualsReferenceOnEveryPathAndThreadCount) {
  std::mt19937 rng(91);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  int executed = 0;
  for (int trial = 0; trial < 240; ++trial) {
    rt::ConvParams p;
    rt::ConvGeometry& g = p.g;
    const int edge = trial % 6;  // 0: random; 1, 2: extremes; 3: int16 weights; 4: 16-bit; 5: wide
    g.n = pick(1, 2), g.c = pick(1, 5), g.h = pick(1, 27), g.w = pick(1, 37);
    if (trial % 5 == 2) g.w = pick(40, 90);  // rows of several 16-word steps
    g.groups = g.k = g.c;
    g.kh = pick(1, 7), g.kw = pick(1, 7), g.sh = pick(1, 3), g.sw = pick(1, 3), g.dh = pick(1, 3),
    g.dw = pick(1, 3);
    g.pt = pick(0, 3), g.pl = pick(0, 3), g.pb = pick(0, 3), g.pr = pick(0, 3);
    if (trial % 4 == 0) g.kh = g.kw = pick(0, 1) ? 3 : 5, g.dh = g.dw = 1;  // the usual windows
    if (trial % 3 == 1) g.sw = 2, g.dw = 1;  // rows read in place (any sh, dh, window)
    if (trial % 3 == 2) g.sw = 1, g.dw = 1;  // the even/odd split (any sh, dh, window)
    if (trial % 8 == 6)
      g.n = 1, g.groups = g.k = g.c = pick(1, 3), g.h = pick(40, 80), g.w = pick(50, 150);
    // Planes beyond dw::kPlaneWords: stride 1 takes the ring of input rows, not the whole plane.
    if (trial % 16 == 14) g.h = pick(120, 160), g.w = pick(160, 220), g.sh = g.sw = g.dw = 1;
    // A 16-bit plane of more than 64 k values (trials 46, 94, …: edge 4): its |x - zp| scan has
    // several ranges, and must not ask the pool the channels already run on (it waited forever).
    if (trial % 48 == 46) g.n = 1, g.groups = g.k = g.c = 2, g.h = pick(258, 270), g.w = 260;
    const int64_t effH = g.dh * (g.kh - 1) + 1, effW = g.dw * (g.kw - 1) + 1;
    if (g.h + g.pt + g.pb < effH || g.w + g.pl + g.pr < effW) continue;
    g.oh = (g.h + g.pt + g.pb - effH) / g.sh + 1;
    g.ow = (g.w + g.pl + g.pr - effW) / g.sw + 1;
    const bool sixteen = edge >= 4;
    const int64_t qmax = sixteen ? 65535 : 255;
    const int64_t wmax = edge == 3 || edge == 4 ? 32767 : edge == 5 ? 100000 : 127;
    p.inZp = int32_t(edge == 1 ? 0 : edge == 2 ? qmax : pick(0, qmax));
    p.inBits = sixteen ? 16 : 8;  // 8 bits: the range bounds |x - zp| (no scan)
    std::vector<rt::Act> x(size_t(g.n * g.c * g.h * g.w));
    std::vector<int32_t> w(size_t(g.c * g.kh * g.kw));
    const bool extremes = edge == 1 || edge == 2;
    for (auto& v : x) v = rt::Act(extremes ? (pick(0, 1) ? qmax : 0) : pick(0, qmax));
    for (auto& v : w)
      v = int32_t(extremes ? (pick(0, 1) ? wmax : -wmax - 1) : pick(-wmax - 1, wmax));
    std::vector<int64_t> bias(size_t(g.k));
    for (auto& b : bias) b = pick(-100000, 100000) * (edge == 5 ? 1000000 : 1);
    std::vector<rt::Multiplier> mult(size_t(g.k)), neg(size_t(g.k));
    for (auto& m : mult) m = {int32_t(pick(1 << 30, INT32_MAX)), int32_t(pick(20, 50))};
    for (auto& m : neg) m = {int32_t(pick(1 << 30, INT32_MAX)), int32_t(pick(30, 50))};
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
    if (trial % 7 == 3) p.out.multNeg = neg.data();  // leaky / prelu
    if (trial % 7 == 5) {                            // a table activation
      p.out.lut = lut.data(), p.out.lutSize = 64, p.out.lutOffset = 32;
      p.out.lutFracBits = 6, p.out.lutValueBits = 8;
    }
    std::vector<rt::Act> ref(size_t(g.n * g.k * g.oh * g.ow));
    rt::conv2dReference(p, x.data(), ref.data());
    for (rt::KernelPath path : rt::supportedKernelPaths()) {
      p.path = path;
      for (int threads : {1, 2}) {
        rt::ThreadPool pool(threads);
        const rt::ThreadPool::Scope scope(threads > 1 ? &pool : nullptr);
        std::vector<rt::Act> got(ref.size(), rt::Act(0xFFFF));
        rt::conv2d(p, x.data(), got.data());
        ASSERT_EQ(got, ref) << "trial " << trial << " path " << rt::kernelPathName(path) << " on "
                            << threads << " threads";
      }
    }
    ++executed;
  }
  EXPECT_GT(executed, 100);
}

}  // namespace
}  // namespace kiln::test
