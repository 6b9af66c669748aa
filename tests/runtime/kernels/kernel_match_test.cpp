// Optimized integer kernels against their reference loops, bit for bit, on random geometries,
// both accumulator widths (8-bit data stays in int32, 16-bit data needs int64).
#include <gtest/gtest.h>

#include <random>

#include "runtime/kernels/gemm.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::test {
namespace {

// The paths whose packed GEMM is checked: every path this CPU runs and, off aarch64, neon-dot too:
// its byte panels, weight form and modulo-2^32 bias then run panelDot's portable twin, so the
// dot-product arithmetic is checked on every host (the instructions themselves in the cross tier,
// under qemu -cpu max).
std::vector<rt::KernelPath> packPaths() {
  std::vector<rt::KernelPath> paths = rt::supportedKernelPaths();
#if !defined(__aarch64__)
  paths.push_back(rt::KernelPath::NeonDot);
#endif
  return paths;
}

TEST(KernelMatch, Conv2dEqualsReference) {
  std::mt19937 rng(7);
  auto pick = [&](int lo, int hi) { return int64_t(lo + int(rng() % unsigned(hi - lo + 1))); };
  int executed = 0;
  for (int trial = 0; trial < 120; ++trial) {
    rt::ConvParams p;
    rt::ConvGeometry& g = p.g;
    const bool wide = trial % 2 == 1;
    const bool depthwise = trial % 3 == 0;
    g.n = 1, g.c = pick(1, 6), g.h = pick(1, 9), g.w = pick(1, 9);
    g.kh = pick(1, 3), g.kw = pick(1, 3), g.sh = pick(1, 2), g.sw = pick(1, 2), g.dh = pick(1, 2),
    g.dw = pick(1, 2);
    g.pt = pick(0, 2), g.pl = pick(0, 2), g.pb = pick(0, 2), g.pr = pick(0, 2);
    if (trial % 5 == 1) {  // pointwise (1x1, stride 1, no padding): im2col's contiguous rows
      g.kh = g.kw = g.sh = g.sw = 1;
      g.pt = g.pl = g.pb = g.pr = 0;
    }
    g.groups = depthwise ? g.c : 1;
    g.k = depthwise ? g.c : pick(1, 11);  // 4-channel blocks and a remainder
    const int64_t effH = g.dh * (g.kh - 1) + 1, effW = g.dw * (g.kw - 1) + 1;
    if (g.h + g.pt + g.pb < effH || g.w + g.pl + g.pr < effW) continue;
    g.oh = (g.h + g.pt + g.pb - effH) / g.sh + 1;
    g.ow = (g.w + g.pl + g.pr - effW) / g.sw + 1;
    const int64_t qmax = wide ? 65535 : 255, wmax = wide ? 32767 : 127;
    p.inZp = int32_t(pick(0, int(qmax)));
    p.inBits = wide ? 16 : 8;  // 8 bits: the range bounds |x - zp| (no scan)
    std::vector<rt::Act> x(size_t(g.c * g.h * g.w));
    std::vector<int32_t> w(size_t(g.k * (g.c / g.groups) * g.kh * g.kw));
    for (auto& v : x) v = int32_t(pick(0, int(qmax)));
    for (auto& v : w) v = int32_t(pick(-int(wmax), int(wmax)));
    std::vector<int64_t> bias(size_t(g.k));
    for (auto& b : bias) b = pick(-100000, 100000) * (wide ? 100000 : 1);
    std::vector<rt::Multiplier> mult(size_t(g.k));
    for (auto& m : mult)
      m = {int32_t(pick(1 << 30, INT32_MAX)), int32_t(pick(wide ? 40 : 25, wide ? 50 : 36))};
    std::vector<int8_t> w8(w.begin(), w.end());
    p.weights = w.data();
    if (!wide && trial % 4 == 0) p.weights = w8.data();  // weights stored as int8
    p.bias = bias.data();
    p.out.mult = mult.data();
    p.out.perChannel = true;
    p.out.outZp = int32_t(qmax / 2);
    p.out.qmax = int32_t(qmax);
    std::vector<rt::Act> a(size_t(g.k * g.oh * g.ow)), b(a.size());
    rt::conv2d(p, x.data(), a.data());
    rt::conv2dReference(p, x.data(), b.data());
    ASSERT_EQ(a, b) << "trial " << trial;
    // The packed GEMM on every path (it falls back to the loops where the int16 / int32 bounds
    // do not hold: the wide trials).
    for (rt::KernelPath path : packPaths()) {
      p.path = path;
      const auto packed = rt::packConvWeights(p);
      p.packed = packed.get();
      std::fill(a.begin(), a.end(), -1);
      rt::conv2d(p, x.data(), a.data());
      ASSERT_EQ(a, b) << "trial " << trial << " path " << rt::kernelPathName(path);
    }
    ++executed;
  }
  EXPECT_GT(executed, 60);
}

// The packed GEMM against the reference on larger random shapes with edge values: activations
// at 0 and 255, weights at -128 and 127 (and int16 extremes), zero points at both ends, groups,
// odd row counts (a half pair), column counts that leave partial 16-column blocks, channel counts
// that leave partial 4-channel blocks, and biases beyond int32.
TEST(KernelMatch, PackedConvEqualsReferenceOnEveryPath) {
  std::mt19937 rng(23);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  int packedTrials = 0;
  for (int trial = 0; trial < 80; ++trial) {
    rt::ConvParams p;
    rt::ConvGeometry& g = p.g;
    g.groups = trial % 4 == 1 ? pick(2, 3) : 1;
    g.n = pick(1, 2), g.c = g.groups * pick(1, 9), g.h = pick(1, 23), g.w = pick(1, 23);
    g.k = g.groups * pick(1, 13);
    g.kh = pick(1, 5), g.kw = pick(1, 5), g.sh = pick(1, 3), g.sw = pick(1, 3), g.dh = pick(1, 2),
    g.dw = pick(1, 2);
    g.pt = pick(0, 2), g.pl = pick(0, 2), g.pb = pick(0, 2), g.pr = pick(0, 2);
    if (trial % 3 == 2) {  // pointwise (1x1, stride 1, no padding): im2col's contiguous rows
      g.kh = g.kw = g.sh = g.sw = 1;
      g.pt = g.pl = g.pb = g.pr = 0;
    }
    const int64_t effH = g.dh * (g.kh - 1) + 1, effW = g.dw * (g.kw - 1) + 1;
    if (g.h + g.pt + g.pb < effH || g.w + g.pl + g.pr < effW) continue;
    if (g.groups == g.c && g.k == g.c) continue;  // depthwise: its own kernel
    g.oh = (g.h + g.pt + g.pb - effH) / g.sh + 1;
    g.ow = (g.w + g.pl + g.pr - effW) / g.sw + 1;
    const int edge = trial % 5;  // 0: random; 1, 2: extremes; 3: 16-bit weights; 4: wide bias
    const int64_t wmax = edge >= 3 ? 32767 : 127;
    p.inZp = int32_t(edge == 1 ? 0 : edge == 2 ? 255 : pick(0, 255));
    std::vector<rt::Act> x(size_t(g.n * g.c * g.h * g.w));
    std::vector<int32_t> w(size_t(g.k * (g.c / g.groups) * g.kh * g.kw));
    for (auto& v : x) v = int32_t(edge == 1 || edge == 2 ? (pick(0, 1) ? 255 : 0) : pick(0, 255));
    for (auto& v : w)
      v = int32_t(edge == 1 || edge == 2 || edge == 4 ? (pick(0, 1) ? wmax : -wmax - 1)
                                                      : pick(-wmax - 1, wmax));
    if (edge == 4) x.assign(x.size(), 255), p.inZp = 0;
    std::vector<int64_t> bias(size_t(g.k));
    for (auto& b : bias) b = pick(-100000, 100000);
    // Biases beyond int32 on every other channel: added in int64 after the GEMM.
    if (edge == 4)
      for (size_t k = 0; k < bias.size(); k += 2)
        bias[k] = (pick(0, 1) ? 1 : -1) * pick(int64_t(1) << 31, int64_t(1) << 40);
    std::vector<rt::Multiplier> mult(size_t(g.k));
    for (auto& m : mult)
      m = {int32_t(pick(1 << 30, INT32_MAX)), int32_t(edge == 4 ? pick(40, 50) : pick(25, 44))};
    std::vector<int8_t> w8(w.begin(), w.end());
    std::vector<int16_t> w16(w.begin(), w.end());
    p.weights = wmax == 127 ? rt::WeightPtr(w8.data()) : rt::WeightPtr(w16.data());
    p.bias = bias.data();
    p.out.mult = mult.data();
    p.out.perChannel = true;
    p.out.outZp = 128;
    p.out.qmax = 255;
    std::vector<rt::Act> ref(size_t(g.n * g.k * g.oh * g.ow)), got(ref.size());
    rt::conv2dReference(p, x.data(), ref.data());
    for (rt::KernelPath path : packPaths()) {
      p.path = path;  // packed per path: neon-dot adds the byte form of int8 weights
      const auto packed = rt::packConvWeights(p);
      ASSERT_TRUE(packed) << "trial " << trial;
      p.packed = packed.get();
      ASSERT_EQ(path == rt::KernelPath::NeonDot && wmax == 127, !packed->dot.empty());
      std::fill(got.begin(), got.end(), -1);
      rt::conv2d(p, x.data(), got.data());
      ASSERT_EQ(got, ref) << "trial " << trial << " path " << rt::kernelPathName(path);
    }
    ++packedTrials;
  }
  EXPECT_GT(packedTrials, 40);
}

TEST(KernelMatch, Deconv2dEqualsReference) {
  std::mt19937 rng(11);
  auto pick = [&](int lo, int hi) { return int64_t(lo + int(rng() % unsigned(hi - lo + 1))); };
  for (int trial = 0; trial < 100; ++trial) {
    rt::ConvParams p;
    rt::ConvGeometry& g = p.g;
    const bool wide = trial % 2 == 1;
    g.groups = trial % 5 == 0 ? 2 : 1;
    g.n = pick(1, 2), g.c = g.groups * pick(1, 4), g.h = pick(1, 7), g.w = pick(1, 7);
    // Every 7th trial a plane of more than 16 k outputs: several bands of output rows.
    if (trial % 7 == 3) g.n = 1, g.h = pick(40, 70), g.w = pick(90, 140);
    g.k = g.groups * pick(1, 4);
    g.kh = pick(1, 4), g.kw = pick(1, 4), g.sh = pick(1, 3), g.sw = pick(1, 3), g.dh = pick(1, 2),
    g.dw = pick(1, 2);
    g.pt = pick(0, 2), g.pl = pick(0, 2), g.pb = pick(0, 2), g.pr = pick(0, 2);
    g.oh = (g.h - 1) * g.sh - g.pt - g.pb + g.dh * (g.kh - 1) + 1 + pick(0, 1);
    g.ow = (g.w - 1) * g.sw - g.pl - g.pr + g.dw * (g.kw - 1) + 1 + pick(0, 1);
    if (g.oh < 1 || g.ow < 1) continue;
    const int64_t qmax = wide ? 65535 : 255, wmax = wide ? 32767 : 127;
    p.inZp = int32_t(pick(0, int(qmax)));
    p.inBits = wide ? 16 : 8;  // 8 bits: the range bounds |x - zp| (no scan)
    std::vector<rt::Act> x(size_t(g.n * g.c * g.h * g.w));
    std::vector<int32_t> w(size_t(g.c * (g.k / g.groups) * g.kh * g.kw));
    for (auto& v : x) v = int32_t(pick(0, int(qmax)));
    for (auto& v : w) v = int32_t(pick(-int(wmax), int(wmax)));
    std::vector<int64_t> bias(size_t(g.k));
    for (auto& b : bias) b = pick(-100000, 100000) * (wide ? 100000 : 1);
    std::vector<rt::Multiplier> mult(size_t(g.k));
    for (auto& m : mult)
      m = {int32_t(pick(1 << 30, INT32_MAX)), int32_t(pick(wide ? 40 : 25, wide ? 50 : 36))};
    std::vector<int16_t> w16(w.begin(), w.end());
    p.weights = trial % 3 == 0 ? rt::WeightPtr(w16.data()) : rt::WeightPtr(w.data());
    p.bias = bias.data();
    p.out.mult = mult.data();
    p.out.perChannel = true;
    p.out.outZp = int32_t(qmax / 2);
    p.out.qmax = int32_t(qmax);
    std::vector<rt::Act> a(size_t(g.n * g.k * g.oh * g.ow)), b(a.size());
    rt::deconv2d(p, x.data(), a.data());
    rt::deconv2dReference(p, x.data(), b.data());
    ASSERT_EQ(a, b) << "trial " << trial;
    // (output channel, band of rows) tasks split over pools of 2 and 3 threads: the same bytes.
    for (int threads : {2, 3}) {
      rt::ThreadPool pool(threads);
      const rt::ThreadPool::Scope scope(&pool);
      std::fill(a.begin(), a.end(), -1);
      rt::deconv2d(p, x.data(), a.data());
      ASSERT_EQ(a, b) << "trial " << trial << " on " << threads << " threads";
    }
  }
}

// The linear fast path of eltwise (same-shape or scalar operands) against the definition, per op.
TEST(KernelMatch, EltwiseLinearPathEqualsDefinition) {
  std::mt19937 rng(5);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  for (int op = 0; op <= 6; ++op)
    for (int scalarB = 0; scalarB < 2; ++scalarB) {
      rt::EltwiseParams p;
      p.op = rt::EltwiseOp(op);
      p.outShape = {1, 3, 5, 7};
      p.strideA = {0, 35, 7, 1};
      p.strideB = scalarB ? std::vector<int64_t>{0, 0, 0, 0} : p.strideA;
      p.zpA = int32_t(pick(0, 255)), p.zpB = int32_t(pick(0, 255));
      p.multA = pick(1, 1 << 20), p.multB = pick(1, 1 << 20), p.divShift = 8, p.equalOne = 200;
      const rt::Multiplier m{int32_t(pick(1 << 30, INT32_MAX)), int32_t(pick(30, 40))};
      p.out.mult = &m;
      p.out.outZp = 17, p.out.qmax = 255;
      std::vector<rt::Act> a(105), b(scalarB ? 1 : 105), got(105);
      for (auto& v : a) v = int32_t(pick(0, 255));
      for (auto& v : b) v = int32_t(pick(0, 255));
      rt::eltwise(p, a.data(), b.data(), got.data());
      for (size_t k = 0; k < a.size(); ++k) {
        const int64_t x = a[k] - p.zpA, y = b[scalarB ? 0 : k] - p.zpB;
        int64_t want = 0;
        switch (p.op) {
          case rt::EltwiseOp::Add:
            want = p.out.apply(x * p.multA + y * p.multB, 0);
            break;
          case rt::EltwiseOp::Sub:
            want = p.out.apply(x * p.multA - y * p.multB, 0);
            break;
          case rt::EltwiseOp::Mult:
            want = p.out.apply(x * y, 0);
            break;
          case rt::EltwiseOp::Max:
            want = p.out.apply(std::max(x * p.multA, y * p.multB), 0);
            break;
          case rt::EltwiseOp::Min:
            want = p.out.apply(std::min(x * p.multA, y * p.multB), 0);
            break;
          case rt::EltwiseOp::Equal:
            want = x * p.multA == y * p.multB ? p.equalOne : p.out.outZp;
            break;
          case rt::EltwiseOp::Div:
            want = p.out.apply(y == 0 ? (x * p.multA >= 0 ? int64_t(1) << 40 : -(int64_t(1) << 40))
                                      : rt::divRound(x * p.multA, y * 256),
                               0);
            break;
        }
        ASSERT_EQ(got[k], want) << "op " << op << " element " << k;
      }
    }
}

}  // namespace
}  // namespace kiln::test

namespace kiln::test {
namespace {

// The run forms of the output stage (hoisted clamp and table branches, the vectorized int32
// clamp, int64 runs narrowed when they fit) against OutputStage::apply, element by element.
TEST(KernelMatch, StageRunsEqualApply) {
  std::mt19937 rng(31);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  for (int trial = 0; trial < 300; ++trial) {
    const int kind = trial % 3;  // 0: clamp, 1: table, 2: negative multiplier
    rt::OutputStage s;
    // Rescaled values stay within 2^52 (validation keeps them within 2^62).
    const rt::Multiplier m{int32_t(pick(1 << 30, INT32_MAX)),
                           int32_t(pick(trial % 2 ? 20 : 0, 62))};
    const rt::Multiplier neg{int32_t(pick(1 << 30, INT32_MAX)), int32_t(pick(20, 62))};
    std::vector<int32_t> lut(size_t(pick(2, 300)));
    int32_t frac = int32_t(pick(0, 24));
    int32_t valueBits = int32_t(pick(0, 32 - frac));  // the loader's limits
    // Table entries up to the loader's 2^30 (and the extremes 0 and 2^30 themselves); every
    // fourth trial the real shapes (8/16-bit outputs: few fraction and value bits, entries up to
    // 2^22), every eighth with the largest entry at the 32-bit table run's limit
    // (lutMax << frac + rounding half = INT32_MAX).
    int64_t lutTop = trial % 4 < 2 ? (int64_t(1) << 20) : (int64_t(1) << 30);
    if (trial % 4 == 3) {
      frac = int32_t(pick(0, 8)), valueBits = int32_t(pick(0, 8));
      const int64_t yShift = frac + valueBits, half = yShift ? int64_t(1) << (yShift - 1) : 0;
      lutTop = trial % 8 == 7 ? (INT32_MAX - half) >> frac : pick(1, int64_t(1) << 22);
    }
    for (auto& v : lut) v = int32_t(pick(0, lutTop));
    lut[0] = 0, lut.back() = int32_t(lutTop);
    s.mult = &m;
    s.outZp = int32_t(trial % 7 == 5 ? pick(0, 65535) : pick(0, 255));  // 16-bit zero points too
    s.qmin = int32_t(pick(0, 10)), s.qmax = int32_t(pick(200, 65535));
    if (kind == 1) {
      s.lut = lut.data(), s.lutSize = int32_t(lut.size());
      s.lutOffset = int32_t(pick(0, s.lutSize));
      s.lutFracBits = frac, s.lutValueBits = valueBits;
      // The loader's table maximum (the 32-bit run where it allows), unknown on some trials.
      s.lutMax = trial % 5 == 0 ? -1 : int32_t(lutTop);
    }
    if (kind == 2) s.multNeg = &neg;
    const int64_t n = pick(1, 700);
    const int64_t range = trial % 2 ? (int64_t(1) << 40) : (int64_t(1) << 30);
    const size_t len = static_cast<size_t>(n);
    std::vector<int64_t> acc64(len);
    std::vector<int32_t> acc32(len);
    for (int64_t i = 0; i < n; ++i) {
      acc64[size_t(i)] = pick(-range, range);
      acc32[size_t(i)] = int32_t(pick(INT32_MIN / 2, INT32_MAX / 2));
    }
    // The int32 extremes (the vectorized table run's largest products), where they fit.
    acc32[0] = INT32_MIN;
    if (n > 1) acc32[1] = INT32_MAX;
    if (n > 2) acc32[2] = 0;
    if (m.shift > 30) acc64[0] = int64_t(1) << 40;  // an int64 run that does not fit int32
    std::vector<rt::Act> got(len), want(len);
    rt::applyStage(s, acc64.data(), n, 0, got.data());
    for (int64_t i = 0; i < n; ++i) want[size_t(i)] = rt::Act(s.apply(acc64[size_t(i)], 0));
    ASSERT_EQ(got, want) << "int64 trial " << trial;
    rt::applyStage(s, acc32.data(), n, 0, got.data());
    for (int64_t i = 0; i < n; ++i) want[size_t(i)] = rt::Act(s.apply(acc32[size_t(i)], 0));
    ASSERT_EQ(got, want) << "int32 trial " << trial;
  }
}

// The table run on pairs (OutputStage::lutPairs: one gather of (entry, difference) and a
// vpmaddwd) against OutputStage::apply: real 8/16-bit table shapes and the limits of its
// preconditions (entries up to 32767 beside 0, 14 fraction bits, shifts from 31 where the
// position just fits int32, offsets up to that limit, int32 accumulator extremes), and stages
// beyond them (more fraction bits, smaller shifts, entries past int16) that take the other runs.
TEST(KernelMatch, StagePairTableEqualsApply) {
  std::mt19937 rng(41);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  int pairRuns = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const bool beyond = trial % 5 == 4;
    std::vector<int32_t> lut(size_t(pick(1, 1100)));
    const int64_t top = trial % 3 == 0 ? INT16_MAX : pick(1, beyond ? 40000 : INT16_MAX);
    for (auto& v : lut) v = int32_t(pick(0, top));
    if (lut.size() > 3) lut[1] = 0, lut[2] = int32_t(top);  // the largest differences
    const std::vector<uint32_t> pairs = rt::lutPairTable(lut.data(), int64_t(lut.size()));
    ASSERT_EQ(pairs.empty(), top > INT16_MAX);
    rt::OutputStage s;
    const int32_t frac = int32_t(pick(0, beyond ? 20 : 14));
    const int32_t valueBits = int32_t(pick(0, std::min(12, 32 - frac)));
    const rt::Multiplier m{int32_t(pick(1, INT32_MAX)), int32_t(pick(beyond ? 20 : 31, 62))};
    // lutOffset << frac up to the limit 2^31 - 1 - 2^(62 - shift) - 1 (and past it when beyond).
    const int64_t room = INT32_MAX - (int64_t(1) << (62 - std::max(m.shift, 31))) - 1;
    const int64_t maxOffset =
        std::min<int64_t>(int64_t(1) << 30, std::max<int64_t>(0, room) >> frac);
    s.mult = &m;
    s.lut = lut.data(), s.lutSize = int32_t(lut.size()), s.lutMax = int32_t(top);
    s.lutPairs = pairs.empty() ? nullptr : pairs.data();
    s.lutOffset =
        int32_t(trial % 4 == 1 ? maxOffset : pick(0, std::min<int64_t>(maxOffset, 4 * s.lutSize)));
    s.lutFracBits = frac, s.lutValueBits = valueBits;
    s.qmin = int32_t(pick(0, 10)), s.qmax = int32_t(trial % 2 ? 255 : pick(200, 65535));
    const int64_t n = pick(1, 300);
    std::vector<int32_t> acc(static_cast<size_t>(n));
    for (auto& a : acc)
      a = int32_t(trial % 3 == 2 ? pick(-100000, 100000) : pick(INT32_MIN, INT32_MAX));
    acc[0] = INT32_MIN;
    if (n > 1) acc[1] = INT32_MAX;
    std::vector<rt::Act> got(static_cast<size_t>(n)), want(got.size());
    rt::applyStage(s, acc.data(), n, 0, got.data());
    for (int64_t i = 0; i < n; ++i) want[size_t(i)] = rt::Act(s.apply(acc[size_t(i)], 0));
    ASSERT_EQ(got, want) << "trial " << trial;
    pairRuns += s.lutPairs && frac <= 14 && m.shift >= 31;
  }
  EXPECT_GT(pairRuns, 150);
}

}  // namespace
}  // namespace kiln::test

namespace kiln::test {
namespace {

// pad's row-wise copy against the per-element loop, every mode, ranks 1 to 4.
TEST(KernelMatch, PadEqualsReference) {
  std::mt19937 rng(37);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  for (int trial = 0; trial < 150; ++trial) {
    const size_t r = size_t(pick(1, 4));
    const auto mode = rt::PadMode(trial % 3);
    std::vector<int64_t> in(r), out(r), pads(2 * r);
    for (size_t d = 0; d < r; ++d) {
      in[d] = pick(1, 6);
      const int64_t most = mode == rt::PadMode::Reflect ? in[d] - 1 : 3;
      pads[d] = pick(0, most), pads[r + d] = pick(0, most);
      out[d] = in[d] + pads[d] + pads[r + d];
    }
    int64_t nin = 1, nout = 1;
    for (size_t d = 0; d < r; ++d) nin *= in[d], nout *= out[d];
    std::vector<rt::Act> x(static_cast<size_t>(nin));
    for (auto& v : x) v = int32_t(pick(0, 255));
    std::vector<rt::Act> a(size_t(nout), -1), b(size_t(nout), -2);
    rt::pad(in, out, pads, mode, 77, x.data(), a.data());
    rt::padReference(in, out, pads, mode, 77, x.data(), b.data());
    ASSERT_EQ(a, b) << "trial " << trial;
  }
}

// resize over the last two dimensions against the general loop: nearest and linear taps, up- and
// downscaling, 8- and 16-bit values.
TEST(KernelMatch, ResizeEqualsReference) {
  std::mt19937 rng(41);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  for (int trial = 0; trial < 100; ++trial) {
    rt::ResizeParams p;
    p.inShape = {pick(1, 2), pick(1, 3), pick(1, 9), pick(1, 9)};
    p.outShape = {p.inShape[0], p.inShape[1], pick(1, 17), pick(1, 17)};
    p.weightBits = int32_t(pick(1, 12));
    p.interpolated = {false, false, trial % 4 != 0, trial % 3 != 0};
    for (size_t d = 0; d < 4; ++d) {
      std::vector<int64_t> i0, i1, w1;
      for (int64_t o = 0; o < p.outShape[d]; ++o) {
        const bool copy = d < 2;
        i0.push_back(copy ? o : pick(0, p.inShape[d] - 1));
        i1.push_back(copy ? o : pick(0, p.inShape[d] - 1));
        w1.push_back(pick(0, int64_t(1) << p.weightBits));
      }
      p.i0.push_back(i0), p.i1.push_back(i1), p.w1.push_back(w1);
    }
    const bool wide = trial % 2 == 1;
    p.inZp = int32_t(pick(0, wide ? 65535 : 255));
    const rt::Multiplier m{int32_t(pick(1 << 30, INT32_MAX)), 31 + 2 * p.weightBits};
    p.out.mult = &m;
    p.out.outZp = 9;
    p.out.qmax = wide ? 65535 : 255;
    std::vector<rt::Act> x(size_t(p.inShape[0] * p.inShape[1] * p.inShape[2] * p.inShape[3]));
    for (auto& v : x) v = int32_t(pick(0, wide ? 65535 : 255));
    const size_t n = size_t(p.outShape[0] * p.outShape[1] * p.outShape[2] * p.outShape[3]);
    std::vector<rt::Act> a(n, -1), b(n, -2);
    rt::resize(p, x.data(), a.data());
    rt::resizeReference(p, x.data(), b.data());
    ASSERT_EQ(a, b) << "trial " << trial;
  }
}

}  // namespace
}  // namespace kiln::test

namespace kiln::test {
namespace {

// Broadcasting add/sub/mult by rows (a per-channel operand, per-channel stages) against the
// definition element by element.
TEST(KernelMatch, EltwiseBroadcastRowsEqualDefinition) {
  std::mt19937 rng(43);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  for (int op = 0; op <= 2; ++op)
    for (int channelStage = 0; channelStage < 2; ++channelStage) {
      rt::EltwiseParams p;
      p.op = rt::EltwiseOp(op);
      p.outShape = {2, 3, 5, 7};
      p.strideA = {105, 35, 7, 1};
      p.strideB = {0, 1, 0, 0};  // [1, 3, 1, 1]
      p.channelDim = channelStage ? 1 : -1;
      p.zpA = int32_t(pick(0, 255)), p.zpB = int32_t(pick(0, 255));
      p.multA = pick(1, 1 << 20), p.multB = pick(1, 1 << 20);
      std::vector<rt::Multiplier> m(3);
      for (auto& v : m) v = {int32_t(pick(1 << 30, INT32_MAX)), int32_t(pick(30, 40))};
      p.out.mult = m.data();
      p.out.perChannel = channelStage == 1;
      p.out.outZp = 17, p.out.qmax = 255;
      std::vector<rt::Act> a(210), b(3), got(210);
      for (auto& v : a) v = int32_t(pick(0, 255));
      for (auto& v : b) v = int32_t(pick(0, 255));
      rt::eltwise(p, a.data(), b.data(), got.data());
      for (size_t k = 0; k < a.size(); ++k) {
        const int64_t c = int64_t(k) / 35 % 3;
        const int64_t x = a[k] - p.zpA, y = b[size_t(c)] - p.zpB;
        const int64_t acc = op == 0   ? x * p.multA + y * p.multB
                            : op == 1 ? x * p.multA - y * p.multB
                                      : x * y;
        ASSERT_EQ(got[k], p.out.apply(acc, channelStage ? c : 0)) << "op " << op << " at " << k;
      }
    }
}

}  // namespace
}  // namespace kiln::test
