// The small-operation fast paths against their definitions, bit for bit, on every kernel path this
// CPU runs and on 1 and 2 threads:
//   the fused same-shape add/sub run (eltwise_fused.cpp: int16 pairs, int32 products, the scalar
//     loop) against OutputStage::apply on the int64 accumulator, 8- and 16-bit operands, zero
//     points at both ends, multipliers at the int16 / int32 limits, lengths off the vector width;
//   global_avg_pool's uint32 block sums against the int64 sum;
//   the 2x2 stride-2 max pool rows against pool2dReference, transposes' 8 x 8 blocks and narrow
//     column splits against transposeReference;
//   concat's copies of identity stages (stageIsIdentity) against the stage applied per element;
//   the arena host conversions (host_convert_run.cpp) against quantizeFloat / dequantizeToFloat,
//     with NaN, infinities, signed zeros, denormals, values beyond the limits and exact halves.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>

#include "runtime/engine/host_convert.h"
#include "runtime/engine/host_convert_run.h"
#include "runtime/kernels/eltwise_fused.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::test {
namespace {

// run() with each supported path on no pool and on a pool of 2 threads.
void onPathsAndThreads(const std::function<void(rt::KernelPath, const std::string&)>& run) {
  for (rt::KernelPath path : rt::supportedKernelPaths())
    for (int t : {1, 2}) {
      rt::ThreadPool pool(t);
      const rt::ThreadPool::Scope scope(t > 1 ? &pool : nullptr);
      run(path, std::string(rt::kernelPathName(path)) + " on " + std::to_string(t) + " thread(s)");
    }
}

TEST(SmallOpsMatch, FusedAddSubEqualsDefinition) {
  std::mt19937 rng(101);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  int fused = 0, pairs = 0, splits = 0, products = 0;
  for (int trial = 0; trial < 300; ++trial) {
    rt::EltwiseParams p;
    p.op = trial % 3 == 0 ? rt::EltwiseOp::Sub : rt::EltwiseOp::Add;
    p.bitsA = trial % 8 == 1 ? 16 : 8, p.bitsB = trial % 5 == 1 ? 16 : 8;
    const int64_t topA = (int64_t(1) << p.bitsA) - 1, topB = (int64_t(1) << p.bitsB) - 1;
    const int64_t n = pick(1, 3000);
    p.outShape = {1, n};
    p.strideA = p.strideB = {0, 1};
    const int zk = int(pick(0, 3));
    p.zpA = int32_t(zk == 0 ? 0 : zk == 1 ? topA : pick(0, topA));
    p.zpB = int32_t(pick(0, 2) == 0 ? topB : pick(0, topB));
    // Multiplier magnitudes: within int16 (pairs), up to the int32 accumulator bound, beyond it.
    const int kind = trial % 4;
    const int64_t mMax = kind == 0   ? 32767
                         : kind == 1 ? (int64_t(1) << 22)
                         : kind == 2 ? 2047
                                     : (1 << 26);
    p.multA = pick(0, 1) ? mMax : pick(1, mMax);
    p.multB = pick(0, 3) == 0 ? -pick(1, mMax) : pick(1, mMax);
    const rt::Multiplier m{int32_t(pick(1 << 30, INT32_MAX)), int32_t(pick(20, 52))};
    p.out.mult = &m;
    p.out.outZp = int32_t(pick(0, 1) ? 0 : pick(0, 255));
    p.out.qmin = int32_t(pick(0, 1) ? 0 : pick(0, 100));
    p.out.qmax = int32_t(pick(0, 1) ? 255 : pick(150, 65535));
    std::vector<rt::Act> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
    for (auto& v : a) v = rt::Act(pick(0, 5) == 0 ? (pick(0, 1) ? topA : 0) : pick(0, topA));
    for (auto& v : b) v = rt::Act(pick(0, 5) == 0 ? (pick(0, 1) ? topB : 0) : pick(0, topB));
    std::vector<rt::Act> want(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) {
      const int64_t x = int64_t(a[size_t(k)]) - p.zpA, y = int64_t(b[size_t(k)]) - p.zpB;
      const int64_t acc =
          p.op == rt::EltwiseOp::Sub ? x * p.multA - y * p.multB : x * p.multA + y * p.multB;
      want[size_t(k)] = rt::Act(p.out.apply(acc, 0));
    }
    rt::AddRequant r;
    if (rt::addRequantSetup(p, r)) {
      ++fused;
      pairs += r.pairs16 && r.narrowOut;
      splits += r.split16 && r.narrowOut;
      products += !r.pairs16 && !r.split16 && r.narrowOut;
    }
    onPathsAndThreads([&](rt::KernelPath path, const std::string& what) {
      p.path = path;
      std::vector<rt::Act> got(size_t(n), 0xBEEF);
      rt::eltwise(p, a.data(), b.data(), got.data());
      ASSERT_EQ(got, want) << "trial " << trial << " " << what;
    });
  }
  // Every form ran: the int16 pairs, the split multipliers, the int32 products, the unfused path.
  EXPECT_GT(pairs, 20);
  EXPECT_GT(splits, 10);
  EXPECT_GT(products, 20);
  EXPECT_LT(fused, 290);
}

// Operands broadcast along rows ([1, C, H, W] against [1, C, 1, 1], per-channel stages) or scalar,
// and the per-channel affine unary: the affine run acc = (x - zp) k + c.
TEST(SmallOpsMatch, AffineRunsEqualDefinition) {
  std::mt19937 rng(113);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  for (int trial = 0; trial < 150; ++trial) {
    const int64_t c = pick(1, 6), h = pick(1, 9), w = pick(1, 70), total = c * h * w;
    const int bits = trial % 4 == 3 ? 16 : 8;
    const int64_t top = (int64_t(1) << bits) - 1;
    const int64_t mMax = trial % 3 == 0 ? (int64_t(1) << 22) : trial % 3 == 1 ? 4000 : (1 << 28);
    std::vector<rt::Multiplier> mult(static_cast<size_t>(c));
    for (auto& m : mult) m = {int32_t(pick(1 << 30, INT32_MAX)), int32_t(pick(20, 50))};
    rt::OutputStage st;
    st.mult = mult.data();
    st.outZp = int32_t(pick(0, 255)), st.qmin = 0, st.qmax = int32_t(pick(0, 1) ? 255 : top);
    const size_t count = static_cast<size_t>(total);
    std::vector<rt::Act> x(count), got(count), want(count);
    for (auto& v : x) v = rt::Act(pick(0, 4) == 0 ? (pick(0, 1) ? top : 0) : pick(0, top));
    // eltwise: b per channel (rows) or scalar (one linear run); a on the other side now and then.
    rt::EltwiseParams p;
    p.op = rt::EltwiseOp(pick(0, 2));
    const bool scalar = pick(0, 2) == 0, swap = pick(0, 1) == 1;
    std::vector<rt::Act> y(scalar ? 1 : size_t(c));
    for (auto& v : y) v = rt::Act(pick(0, 255));
    p.outShape = {1, c, h, w};
    const std::vector<int64_t> full = {0, h * w, w, 1};
    const std::vector<int64_t> bcast =
        scalar ? std::vector<int64_t>{0, 0, 0, 0} : std::vector<int64_t>{0, 1, 0, 0};
    p.strideA = swap ? bcast : full, p.strideB = swap ? full : bcast;
    p.zpA = int32_t(pick(0, swap ? 255 : top)), p.zpB = int32_t(pick(0, swap ? top : 255));
    p.bitsA = swap ? 8 : bits, p.bitsB = swap ? bits : 8;
    p.multA = pick(-mMax, mMax), p.multB = pick(1, mMax);
    p.out = st;
    p.out.perChannel = !scalar;
    p.channelDim = scalar ? -1 : 1;
    const rt::Act* a = swap ? y.data() : x.data();
    const rt::Act* b = swap ? x.data() : y.data();
    for (int64_t k = 0; k < total; ++k) {
      const int64_t ch = k / (h * w);
      const int64_t ia = swap ? (scalar ? 0 : ch) : k, ib = swap ? k : (scalar ? 0 : ch);
      const int64_t u = int64_t(a[ia]) - p.zpA, v = int64_t(b[ib]) - p.zpB;
      const int64_t acc = p.op == rt::EltwiseOp::Mult  ? u * v
                          : p.op == rt::EltwiseOp::Sub ? u * p.multA - v * p.multB
                                                       : u * p.multA + v * p.multB;
      want[size_t(k)] = rt::Act(p.out.apply(acc, scalar ? 0 : ch));
    }
    onPathsAndThreads([&](rt::KernelPath path, const std::string& what) {
      p.path = path;
      std::fill(got.begin(), got.end(), rt::Act(0xBEEF));
      rt::eltwise(p, a, b, got.data());
      ASSERT_EQ(got, want) << "eltwise trial " << trial << " " << what;
    });
    // unary: per-channel scale and bias, within and beyond int32 accumulators.
    rt::UnaryParams u;
    u.shape = {1, c, h, w};
    u.channelDim = 1;
    u.inZp = int32_t(pick(0, top)), u.inBits = bits;
    std::vector<int64_t> scale(static_cast<size_t>(c)), bias(static_cast<size_t>(c));
    for (auto& v : scale) v = pick(-mMax, mMax);
    for (auto& v : bias) v = pick(-mMax, mMax) * (trial % 5 == 0 ? 1000 : 1);
    u.scale = scale.data(), u.bias = bias.data();
    u.out = st;
    u.out.perChannel = true;
    for (int64_t k = 0; k < total; ++k) {
      const int64_t ch = k / (h * w);
      want[size_t(k)] = rt::Act(
          u.out.apply((int64_t(x[size_t(k)]) - u.inZp) * scale[size_t(ch)] + bias[size_t(ch)], ch));
    }
    onPathsAndThreads([&](rt::KernelPath path, const std::string& what) {
      u.path = path;
      std::fill(got.begin(), got.end(), rt::Act(0xBEEF));
      rt::unary(u, x.data(), got.data());
      ASSERT_EQ(got, want) << "unary trial " << trial << " " << what;
    });
  }
}

// The NCHW <-> NHWC transposes: the 8 x 8 blocks with ragged edges, and the narrow-column splits
// (an interleaved image's 2, 3 or 4 channels), against the per-element loop.
TEST(SmallOpsMatch, TransposeBlocksEqualReference) {
  std::mt19937 rng(127);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  for (int trial = 0; trial < 60; ++trial) {
    const int64_t n = trial % 3 == 0 ? pick(1, 3) : 1;
    const int64_t c = trial % 4 == 0 ? pick(2, 4) : pick(1, 100);
    const int64_t hw = pick(1, 300);
    const bool toPlanar = pick(0, 1) == 1;  // NHWC -> NCHW, else NCHW -> NHWC
    const std::vector<int64_t> shape =
        toPlanar ? std::vector<int64_t>{n, hw, c} : std::vector<int64_t>{n, c, hw};
    const std::vector<int64_t> perm = {0, 2, 1};
    std::vector<rt::Act> x(static_cast<size_t>(n * c * hw));
    for (auto& v : x) v = rt::Act(pick(0, 65535));
    std::vector<rt::Act> want(x.size());
    rt::transposeReference(shape, perm, x.data(), want.data());
    onPathsAndThreads([&](rt::KernelPath path, const std::string& what) {
      std::vector<rt::Act> got(x.size(), 0xBEEF);
      rt::transpose(shape, perm, x.data(), got.data(), path);
      ASSERT_EQ(got, want) << "trial " << trial << " " << what;
    });
  }
}

// global_avg_pool's block sums against sum(x - zp) in int64, with planes beyond one block.
TEST(SmallOpsMatch, GlobalAvgPoolEqualsDefinition) {
  std::mt19937 rng(131);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  for (int trial = 0; trial < 30; ++trial) {
    const int64_t nc = pick(1, 9), inner = trial % 5 == 0 ? pick(32768, 100000) : pick(1, 3000);
    const int64_t top = trial % 2 ? 65535 : 255;
    const int32_t zp = int32_t(trial % 3 == 0 ? top : pick(0, top));
    const rt::Multiplier m{int32_t(pick(1 << 30, INT32_MAX)), int32_t(pick(30, 50))};
    rt::OutputStage st;
    st.mult = &m, st.outZp = int32_t(pick(0, 255)), st.qmax = int32_t(top);
    std::vector<rt::Act> x(static_cast<size_t>(nc * inner));
    for (auto& v : x) v = rt::Act(pick(0, 3) == 0 ? top : pick(0, top));
    std::vector<rt::Act> want(static_cast<size_t>(nc));
    for (int64_t i = 0; i < nc; ++i) {
      int64_t acc = 0;
      for (int64_t k = 0; k < inner; ++k) acc += int64_t(x[size_t(i * inner + k)]) - zp;
      want[size_t(i)] = rt::Act(st.apply(acc, 0));
    }
    onPathsAndThreads([&](rt::KernelPath, const std::string& what) {
      std::vector<rt::Act> got(want.size(), 0xBEEF);
      rt::globalAvgPool(nc, inner, zp, st, x.data(), got.data());
      ASSERT_EQ(got, want) << "trial " << trial << " " << what;
    });
  }
}

TEST(SmallOpsMatch, MaxPool2x2EqualsReference) {
  std::mt19937 rng(103);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  for (int trial = 0; trial < 80; ++trial) {
    rt::PoolParams p;
    rt::ConvGeometry& g = p.g;
    g.n = pick(1, 2), g.c = g.k = pick(1, 5), g.h = pick(2, 40), g.w = pick(2, 80);
    g.kh = g.kw = g.sh = g.sw = 2, g.dh = g.dw = 1;
    g.oh = g.h / 2, g.ow = g.w / 2;
    // An odd size leaves a last row / column no window reads (floor mode).
    const int64_t qmax = trial % 2 ? 65535 : 255;
    p.isMax = true;
    p.inZp = int32_t(pick(0, qmax));
    std::vector<rt::Act> x(size_t(g.n * g.c * g.h * g.w));
    for (auto& v : x) v = rt::Act(pick(0, 4) == 0 ? (pick(0, 1) ? qmax : 0) : pick(0, qmax));
    std::vector<rt::Act> want(size_t(g.n * g.c * g.oh * g.ow));
    rt::pool2dReference(p, x.data(), want.data());
    onPathsAndThreads([&](rt::KernelPath path, const std::string& what) {
      p.path = path;
      std::vector<rt::Act> got(want.size(), 0xBEEF);
      rt::pool2d(p, x.data(), got.data());
      ASSERT_EQ(got, want) << "trial " << trial << " " << what;
    });
  }
}

TEST(SmallOpsMatch, ConcatCopiesOnlyIdentityStages) {
  std::mt19937 rng(107);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  const rt::Multiplier one{1 << 30, 30}, unit{1, 0}, near{(1 << 30) + 1, 30};
  rt::OutputStage s;
  s.mult = &one, s.outZp = 7, s.qmin = 0, s.qmax = 255;
  EXPECT_TRUE(rt::stageIsIdentity(s, 7, 8));
  EXPECT_FALSE(rt::stageIsIdentity(s, 8, 8));   // zero points differ
  EXPECT_FALSE(rt::stageIsIdentity(s, 7, 16));  // the clamp cuts 16-bit values
  s.mult = &near;
  EXPECT_FALSE(rt::stageIsIdentity(s, 7, 8));
  s.mult = &unit;
  EXPECT_TRUE(rt::stageIsIdentity(s, 7, 8));
  s.multNeg = &one;
  EXPECT_FALSE(rt::stageIsIdentity(s, 7, 8));
  // Identity and rescaling inputs mixed, along every axis: copies give the stage's values.
  for (int trial = 0; trial < 40; ++trial) {
    const std::vector<int64_t> shape = {pick(1, 3), pick(1, 9), pick(1, 30)};
    const int64_t axis = pick(0, 2);
    const size_t inputs = size_t(pick(1, 4));
    std::vector<std::vector<int64_t>> shapes(inputs, shape);
    std::vector<std::vector<rt::Act>> data(inputs);
    std::vector<const rt::Act*> ins;
    std::vector<int32_t> zps;
    std::vector<rt::Multiplier> mults(inputs);
    std::vector<rt::OutputStage> stages(inputs);
    std::vector<bool> copy(inputs);
    for (size_t i = 0; i < inputs; ++i) {
      shapes[i][size_t(axis)] = pick(1, 5);
      data[i].resize(size_t(shapes[i][0] * shapes[i][1] * shapes[i][2]));
      for (auto& v : data[i]) v = rt::Act(pick(0, 255));
      ins.push_back(data[i].data());
      zps.push_back(int32_t(pick(0, 255)));
      const bool id = pick(0, 1) == 1;
      mults[i] = id ? one : rt::Multiplier{int32_t(pick(1 << 30, INT32_MAX)), 31};
      stages[i].mult = &mults[i];
      stages[i].outZp = id ? zps[i] : int32_t(pick(0, 255));
      stages[i].qmax = 255;
      copy[i] = rt::stageIsIdentity(stages[i], zps[i], 8);
      ASSERT_EQ(copy[i], id);
    }
    std::vector<rt::Act> want, got;
    std::vector<int64_t> outShape = shape;
    outShape[size_t(axis)] = 0;
    for (const auto& s2 : shapes) outShape[size_t(axis)] += s2[size_t(axis)];
    want.resize(size_t(outShape[0] * outShape[1] * outShape[2]));
    got.assign(want.size(), 0xBEEF);
    // The definition: every element through its input's stage.
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= shape[size_t(d)];
    for (int64_t d = axis + 1; d < 3; ++d) inner *= shape[size_t(d)];
    size_t at = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (size_t i = 0; i < inputs; ++i) {
        const int64_t len = shapes[i][size_t(axis)] * inner;
        for (int64_t e = 0; e < len; ++e)
          want[at++] = rt::Act(stages[i].apply(int64_t(data[i][size_t(o * len + e)]) - zps[i], 0));
      }
    for (rt::KernelPath path : rt::supportedKernelPaths()) {
      std::fill(got.begin(), got.end(), rt::Act(0xBEEF));
      rt::concatAxis(shapes, axis, ins, zps, stages, got.data(), copy, path);
      ASSERT_EQ(got, want) << "trial " << trial << " " << rt::kernelPathName(path);
    }
  }
}

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

TEST(SmallOpsMatch, HostConversionsEqualTheScalarLoops) {
  std::mt19937 rng(109);
  const float inf = std::numeric_limits<float>::infinity();
  const float edges[] = {0.f, -0.f, std::nanf(""), inf, -inf, 1e-40f, -1e-40f, 0.5f, -2.5f, 1e30f};
  for (int trial = 0; trial < 120; ++trial) {
    rt::StreamDesc s;
    s.bits = trial % 2 ? 8 : 16;
    const int64_t qmax = (int64_t(1) << s.bits) - 1;
    s.scale = std::ldexp(1.0 + double(rng() % 1000) / 997.0, -int(rng() % 12));
    s.zeroPoint = trial % 7 == 0 ? 0 : trial % 11 == 0 ? qmax : int64_t(rng() % uint32_t(qmax + 1));
    rt::limvals(s.scale, s.zeroPoint, s.bits, s.limMin, s.limMax);
    // Large enough to be split over threads now and then, lengths off the vector width.
    const size_t n = size_t(trial % 5 == 0 ? 40000 + rng() % 9 : rng() % 300);
    const float span = float(s.scale * double(qmax)) * 1.2f;
    std::uniform_real_distribution<float> u(-span, span);
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = rng() % 25 == 0 ? edges[rng() % 10] : u(rng);
    for (size_t i = 0; i < n; i += 13)  // exact halves of a step: rounding ties
      x[i] = float((double(int64_t(rng() % uint32_t(qmax))) + 0.5 - double(s.zeroPoint)) * s.scale);
    std::vector<rt::Act> want(n), q(n);
    rt::quantizeFloat(x.data(), int64_t(n), s, want.data());
    for (auto& v : q) v = rt::Act(rng() % uint32_t(qmax + 1));
    std::vector<float> fwant(n);
    rt::dequantizeToFloat(q.data(), int64_t(n), s, fwant.data());
    onPathsAndThreads([&](rt::KernelPath path, const std::string& what) {
      std::vector<rt::Act> got(n, 0xBEEF);
      rt::quantizeToArena(path, x.data(), int64_t(n), s, got.data());
      ASSERT_EQ(got, want) << "trial " << trial << " " << what;
      std::vector<float> fgot(n, -1.f);
      rt::dequantizeFromArena(path, q.data(), int64_t(n), s, fgot.data());
      for (size_t i = 0; i < n; ++i)
        ASSERT_EQ(bitsOf(fgot[i]), bitsOf(fwant[i])) << "trial " << trial << " " << what;
    });
  }
}

}  // namespace
}  // namespace kiln::test
