// The row kernels of resize (nearest and linear), pad and the eltwise run forms against their
// reference loops or definition, bit for bit, on random shapes with edge values (zero points and
// activations at the ends of the 8- and 16-bit ranges, multipliers beyond int32), on no pool and
// on pools of 2 and 3 threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <random>

#include "runtime/kernels/kernels.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::test {
namespace {

using Pick = std::function<int64_t(int64_t, int64_t)>;

// run(out) on no pool and on pools of 2 and 3 threads, each against want.
void expectOnThreads(const std::vector<rt::Act>& want, const std::function<void(rt::Act*)>& run,
                     const std::string& what) {
  for (int t : {1, 2, 3}) {
    rt::ThreadPool pool(t);
    const rt::ThreadPool::Scope scope(t > 1 ? &pool : nullptr);
    std::vector<rt::Act> got(want.size(), 0xBEEF);
    run(got.data());
    ASSERT_EQ(got, want) << what << " on " << t << " thread(s)";
  }
}

// A value of an activation range: often an end of it.
int32_t edgeValue(const Pick& pick, int32_t top) {
  const int64_t k = pick(0, 5);
  return k == 0 ? 0 : k == 1 ? top : int32_t(pick(0, top));
}

// Source taps of one dimension: nearest at an integer factor (o / f), linear at a factor
// (half-pixel: the two neighbours and a weight), or random taps (down- and upscaling).
void taps(const Pick& pick, int kind, int64_t in, int64_t out, int32_t bits,
          std::vector<int64_t>& i0, std::vector<int64_t>& i1, std::vector<int64_t>& w1) {
  const int64_t one = int64_t(1) << bits;
  for (int64_t o = 0; o < out; ++o) {
    if (kind == 0) {
      const int64_t s = std::min(in - 1, o * in / out);
      i0.push_back(s), i1.push_back(s), w1.push_back(0);
    } else if (kind == 1) {
      // x = (o + 0.5) * in / out - 0.5 in Q(bits), clamped to the image.
      const int64_t q = std::max<int64_t>(0, ((2 * o + 1) * in * one / out - one) / 2);
      const int64_t s = std::min(in - 1, q / one);
      i0.push_back(s), i1.push_back(std::min(in - 1, s + 1)), w1.push_back(q % one);
    } else {
      i0.push_back(pick(0, in - 1)), i1.push_back(pick(0, in - 1)), w1.push_back(pick(0, one));
    }
  }
}

TEST(OpsMatch, ResizeRowKernelsEqualReferenceOnEveryThreadCount) {
  std::mt19937 rng(61);
  const Pick pick = [&](int64_t lo, int64_t hi) {
    return lo + int64_t(rng() % uint64_t(hi - lo + 1));
  };
  for (int trial = 0; trial < 60; ++trial) {
    rt::ResizeParams p;
    const int64_t f = pick(1, 4);
    p.inShape = {pick(1, 2), pick(1, 5), pick(1, 40), pick(1, 40)};
    const bool up = trial % 3 != 2;
    p.outShape = {p.inShape[0], p.inShape[1], up ? p.inShape[2] * f : pick(1, 40),
                  up ? p.inShape[3] * f : pick(1, 40)};
    p.weightBits = int32_t(pick(1, 12));
    // kinds: nearest (no dimension interpolates), linear in both, in one of the two, random taps.
    const int kind = trial % 4;
    p.interpolated = {false, false, kind == 1 || kind == 3, kind == 1 || kind == 2 || kind == 3};
    for (size_t d = 0; d < 4; ++d) {
      std::vector<int64_t> i0, i1, w1;
      const int k = d < 2 ? 0 : kind == 3 || !up ? 2 : p.interpolated[d] ? 1 : 0;
      taps(pick, k, p.inShape[d], p.outShape[d], p.weightBits, i0, i1, w1);
      p.i0.push_back(i0), p.i1.push_back(i1), p.w1.push_back(w1);
    }
    const bool wide = trial % 2 == 1;
    const int32_t top = wide ? 65535 : 255;
    p.inZp = edgeValue(pick, top);
    const int lin = int(p.interpolated[2]) + int(p.interpolated[3]);
    const rt::Multiplier m{int32_t(pick(1 << 30, INT32_MAX)),
                           int32_t(pick(29, 33)) + lin * p.weightBits};
    p.out.mult = &m;
    p.out.outZp = edgeValue(pick, top);
    p.out.qmax = top;
    std::vector<rt::Act> x(size_t(p.inShape[0] * p.inShape[1] * p.inShape[2] * p.inShape[3]));
    for (auto& v : x) v = rt::Act(edgeValue(pick, top));
    std::vector<rt::Act> want(
        size_t(p.outShape[0] * p.outShape[1] * p.outShape[2] * p.outShape[3]));
    rt::resizeReference(p, x.data(), want.data());
    for (rt::KernelPath path : rt::supportedKernelPaths()) {  // the fused stage's AVX2 run
      p.path = path;
      expectOnThreads(
          want, [&](rt::Act* o) { rt::resize(p, x.data(), o); },
          "resize trial " + std::to_string(trial) + " " + rt::kernelPathName(path));
    }
  }
}

TEST(OpsMatch, PadRowCopiesEqualReferenceOnEveryThreadCount) {
  std::mt19937 rng(67);
  const Pick pick = [&](int64_t lo, int64_t hi) {
    return lo + int64_t(rng() % uint64_t(hi - lo + 1));
  };
  for (int trial = 0; trial < 90; ++trial) {
    const size_t r = size_t(pick(1, 4));
    const auto mode = rt::PadMode(trial % 3);
    std::vector<int64_t> in(r), out(r), pads(2 * r);
    for (size_t d = 0; d < r; ++d) {
      in[d] = pick(1, d + 1 == r ? 200 : 12);
      const int64_t most = mode == rt::PadMode::Reflect ? std::min<int64_t>(in[d] - 1, 4) : 4;
      // Often no pad on the last dimension (the row copy in every mode).
      const bool none = d + 1 == r && pick(0, 2) == 0;
      pads[d] = none ? 0 : pick(0, most), pads[r + d] = none ? 0 : pick(0, most);
      out[d] = in[d] + pads[d] + pads[r + d];
    }
    int64_t nin = 1, nout = 1;
    for (size_t d = 0; d < r; ++d) nin *= in[d], nout *= out[d];
    const int32_t top = trial % 2 ? 65535 : 255;
    std::vector<rt::Act> x(static_cast<size_t>(nin));
    for (auto& v : x) v = rt::Act(edgeValue(pick, top));
    const int32_t value = edgeValue(pick, top);
    std::vector<rt::Act> want(static_cast<size_t>(nout));
    rt::padReference(in, out, pads, mode, value, x.data(), want.data());
    expectOnThreads(
        want, [&](rt::Act* o) { rt::pad(in, out, pads, mode, value, x.data(), o); },
        "pad trial " + std::to_string(trial));
  }
}

// add/sub/mult with each operand read along the rows or broadcast (strides 1 or 0 on the last
// dimension, and a per-channel operand), multipliers within and beyond int32.
TEST(OpsMatch, EltwiseRunFormsEqualDefinitionOnEveryThreadCount) {
  std::mt19937 rng(71);
  const Pick pick = [&](int64_t lo, int64_t hi) {
    return lo + int64_t(rng() % uint64_t(hi - lo + 1));
  };
  for (int trial = 0; trial < 96; ++trial) {
    rt::EltwiseParams p;
    p.op = rt::EltwiseOp(trial % 3);
    const int layout = trial / 3 % 4;  // 0: same shape, 1: b per channel, 2: a per channel,
                                       // 3: b a scalar
    const int64_t c = pick(1, 6), h = pick(1, 30), w = pick(1, 300);
    p.outShape = {1, c, h, w};
    const std::vector<int64_t> full{c * h * w, h * w, w, 1}, chan{0, 1, 0, 0}, none{0, 0, 0, 0};
    p.strideA = layout == 2 ? chan : full;
    p.strideB = layout == 1 ? chan : layout == 3 ? none : full;
    p.channelDim = trial % 2 ? 1 : -1;
    const bool wide = trial / 12 % 2 == 1;
    const int32_t top = wide ? 65535 : 255;
    p.zpA = edgeValue(pick, top), p.zpB = edgeValue(pick, top);
    const bool big = trial / 24 % 2 == 1;
    p.multA = pick(1, big ? int64_t(1) << 36 : 1 << 20) * (pick(0, 3) == 0 ? -1 : 1);
    p.multB = pick(1, big ? int64_t(1) << 36 : 1 << 20);
    std::vector<rt::Multiplier> m(static_cast<size_t>(c));
    for (auto& v : m) v = {int32_t(pick(1 << 30, INT32_MAX)), int32_t(pick(30, 62))};
    p.out.mult = m.data();
    p.out.perChannel = p.channelDim == 1;
    p.out.outZp = edgeValue(pick, top), p.out.qmax = top;
    const size_t n = size_t(c * h * w);
    std::vector<rt::Act> a(layout == 2 ? size_t(c) : n), b(layout == 1 ? size_t(c) : n);
    if (layout == 3) b.resize(1);
    for (auto& v : a) v = rt::Act(edgeValue(pick, top));
    for (auto& v : b) v = rt::Act(edgeValue(pick, top));
    std::vector<rt::Act> want(n);
    for (size_t k = 0; k < n; ++k) {
      const int64_t ch = int64_t(k) / (h * w);
      const int64_t x = a[layout == 2 ? size_t(ch) : k] - p.zpA;
      const int64_t y = b[layout == 1 ? size_t(ch) : layout == 3 ? 0 : k] - p.zpB;
      const int64_t acc = p.op == rt::EltwiseOp::Add   ? x * p.multA + y * p.multB
                          : p.op == rt::EltwiseOp::Sub ? x * p.multA - y * p.multB
                                                       : x * y;
      want[k] = rt::Act(p.out.apply(acc, p.channelDim == 1 ? ch : 0));
    }
    expectOnThreads(
        want, [&](rt::Act* o) { rt::eltwise(p, a.data(), b.data(), o); },
        "eltwise trial " + std::to_string(trial));
  }
}

}  // namespace
}  // namespace kiln::test

namespace kiln::test {
namespace {

// concat along a random axis against the definition (each element through its input's stage),
// 8- and 16-bit, table stages included, on every thread count.
TEST(OpsMatch, ConcatEqualsDefinitionOnEveryThreadCount) {
  std::mt19937 rng(73);
  const Pick pick = [&](int64_t lo, int64_t hi) {
    return lo + int64_t(rng() % uint64_t(hi - lo + 1));
  };
  for (int trial = 0; trial < 60; ++trial) {
    const size_t r = size_t(pick(1, 4));
    const int64_t axis = pick(0, int64_t(r) - 1);
    std::vector<int64_t> shape(r);
    for (auto& d : shape) d = pick(1, r == 1 ? 5000 : 40);
    const size_t inputs = size_t(pick(1, 4));
    const int32_t top = trial % 2 ? 65535 : 255;
    std::vector<std::vector<int64_t>> shapes(inputs, shape);
    std::vector<std::vector<rt::Act>> data(inputs);
    std::vector<const rt::Act*> ins;
    std::vector<int32_t> zps;
    std::vector<rt::Multiplier> mults(inputs);
    std::vector<rt::OutputStage> stages(inputs);
    for (size_t i = 0; i < inputs; ++i) {
      shapes[i][size_t(axis)] = pick(0, 6);  // an empty input now and then
      size_t n = 1;
      for (int64_t d : shapes[i]) n *= size_t(d);
      data[i].resize(n);
      for (auto& v : data[i]) v = rt::Act(edgeValue(pick, top));
      ins.push_back(data[i].data());
      zps.push_back(edgeValue(pick, top));
      mults[i] = {int32_t(pick(1 << 30, INT32_MAX)), int32_t(pick(29, 33))};
      stages[i].mult = &mults[i];
      stages[i].outZp = edgeValue(pick, top), stages[i].qmax = top;
    }
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= shape[size_t(d)];
    for (size_t d = size_t(axis) + 1; d < r; ++d) inner *= shape[d];
    std::vector<rt::Act> want;
    for (int64_t o = 0; o < outer; ++o)
      for (size_t i = 0; i < inputs; ++i) {
        const int64_t chunk = shapes[i][size_t(axis)] * inner;
        for (int64_t j = 0; j < chunk; ++j)
          want.push_back(rt::Act(stages[i].apply(data[i][size_t(o * chunk + j)] - zps[i], 0)));
      }
    if (want.empty()) continue;
    expectOnThreads(
        want, [&](rt::Act* o) { rt::concatAxis(shapes, axis, ins, zps, stages, o); },
        "concat trial " + std::to_string(trial));
  }
}

}  // namespace
}  // namespace kiln::test

namespace kiln::test {
namespace {

// transpose against the per-element loop: every permutation of ranks 1 to 4, size-1 dimensions
// now and then (merged away), planes large enough to split over threads.
TEST(OpsMatch, TransposeEqualsReferenceOnEveryThreadCount) {
  std::mt19937 rng(79);
  const Pick pick = [&](int64_t lo, int64_t hi) {
    return lo + int64_t(rng() % uint64_t(hi - lo + 1));
  };
  for (int trial = 0; trial < 120; ++trial) {
    const size_t r = size_t(pick(1, 4));
    std::vector<int64_t> shape(r), perm(r);
    for (auto& d : shape) d = pick(0, 3) == 0 ? 1 : pick(1, r <= 2 ? 300 : 40);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    size_t n = 1;
    for (int64_t d : shape) n *= size_t(d);
    std::vector<rt::Act> x(n);
    for (auto& v : x) v = rt::Act(pick(0, 65535));
    std::vector<rt::Act> want(n);
    rt::transposeReference(shape, perm, x.data(), want.data());
    expectOnThreads(
        want, [&](rt::Act* o) { rt::transpose(shape, perm, x.data(), o); },
        "transpose trial " + std::to_string(trial));
  }
}

}  // namespace
}  // namespace kiln::test
