// Softmax, layer norm, reduce and matmul split their outputs over the session's pool: on random
// shapes (tiny ones that stay serial, large ones cut into several parts) with edge values (0 and
// the 8/16-bit maximum, zero points at the extremes), the kernels on 1 and 2 threads give the
// bytes of the single-thread reference loops below (the loops the kernels had before threads;
// reduce's is reduceReference, one pass over the input).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "runtime/kernels/kernels.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::test {
namespace {

using rt::Act;

struct Rng {
  std::mt19937 g{91};
  int64_t pick(int64_t lo, int64_t hi) { return lo + int64_t(g() % uint64_t(hi - lo + 1)); }
  // Random activations of `bits` with runs of the extremes.
  std::vector<Act> acts(size_t n, int bits) {
    const int64_t qmax = (int64_t(1) << bits) - 1;
    std::vector<Act> v(n);
    for (auto& x : v) {
      const int64_t r = pick(0, 9);
      x = Act(r == 0 ? 0 : r == 1 ? qmax : pick(0, qmax));
    }
    return v;
  }
};

// A stage of `channels` multipliers with a random shift around `shift`.
struct Stage {
  std::vector<rt::Multiplier> mult;
  rt::OutputStage s;
  Stage(Rng& r, int64_t channels, int32_t shift, int bits) {
    mult.resize(size_t(channels));
    for (auto& m : mult)
      m = {int32_t(r.pick(1 << 30, INT32_MAX)), int32_t(r.pick(shift, shift + 4))};
    s.mult = mult.data();
    s.perChannel = channels > 1;
    s.qmax = int32_t((int64_t(1) << bits) - 1);
    s.outZp = int32_t(r.pick(0, s.qmax));
  }
};

void softmaxLoop(const rt::SoftmaxParams& p, const Act* in, Act* out) {
  for (int64_t o = 0; o < p.outer; ++o)
    for (int64_t i = 0; i < p.inner; ++i) {
      const Act* src = in + o * p.len * p.inner + i;
      Act* dst = out + o * p.len * p.inner + i;
      int32_t mx = src[0];
      for (int64_t k = 1; k < p.len; ++k) mx = std::max<int32_t>(mx, src[k * p.inner]);
      auto e = [&](int64_t k) -> int64_t {
        const int64_t d = int64_t(mx) - src[k * p.inner];
        return d < p.expTableSize ? p.expTable[d] : 0;
      };
      int64_t sum = 0;
      for (int64_t k = 0; k < p.len; ++k) sum += e(k);
      for (int64_t k = 0; k < p.len; ++k)
        dst[k * p.inner] = int32_t(rt::divRound(e(k) * p.outMax, sum));
    }
}

void layerNormLoop(const rt::LayerNormParams& p, const Act* in, Act* out) {
  for (int64_t r = 0; r < p.rows; ++r) {
    const Act* src = in + r * p.len;
    Act* dst = out + r * p.len;
    int64_t s1 = 0, s2 = 0;
    for (int64_t k = 0; k < p.len; ++k) {
      const int64_t x = int64_t(src[k]) - p.inZp;
      s1 += x;
      s2 += x * x;
    }
    const int64_t d = p.len * s2 - s1 * s1 + p.epsQ;
    const rt::Multiplier inv = d > 0 ? rt::invSqrtMultiplier(d, p.normBits) : rt::Multiplier{0, 0};
    for (int64_t k = 0; k < p.len; ++k) {
      const int64_t z = rt::requantize(p.len * (int64_t(src[k]) - p.inZp) - s1, inv);
      dst[k] = p.out.apply(z * p.gamma[k] + p.beta[k], k);
    }
  }
}

void matmulLoop(const rt::MatMulParams& p, const Act* a, const Act* b, Act* out) {
  int64_t nb = 1;
  for (int64_t d : p.batch) nb *= d;
  for (int64_t i = 0; i < nb; ++i) {
    int64_t rem = i, ia = 0, ib = 0;
    for (int64_t d = int64_t(p.batch.size()) - 1; d >= 0; --d) {
      const int64_t idx = rem % p.batch[size_t(d)];
      rem /= p.batch[size_t(d)];
      ia += idx * p.batchStrideA[size_t(d)];
      ib += idx * p.batchStrideB[size_t(d)];
    }
    for (int64_t row = 0; row < p.m; ++row)
      for (int64_t col = 0; col < p.n; ++col) {
        int64_t acc = 0;
        for (int64_t kk = 0; kk < p.k; ++kk)
          acc += (int64_t(a[ia * p.m * p.k + row * p.k + kk]) - p.zpA) *
                 (int64_t(b[ib * p.k * p.n + kk * p.n + col]) - p.zpB);
        out[i * p.m * p.n + row * p.n + col] = p.out.apply(acc, 0);
      }
  }
}

// kernel(out) on 1 and 2 threads equals reference(out).
template <typename K, typename R>
void expectMatches(size_t n, K kernel, R reference, const std::string& what) {
  std::vector<Act> want(n, 7);
  reference(want.data());
  for (int t : {1, 2}) {
    rt::ThreadPool pool(t);
    const rt::ThreadPool::Scope scope(&pool);
    std::vector<Act> got(n, 9);
    kernel(got.data());
    ASSERT_EQ(got, want) << what << " on " << t << " thread(s)";
  }
}

TEST(OpsThreads, SoftmaxMatchesTheLoop) {
  Rng r;
  for (int trial = 0; trial < 40; ++trial) {
    const bool big = trial % 2 == 1;
    const int bits = trial % 4 < 2 ? 8 : 16;
    rt::SoftmaxParams p;
    p.outer = r.pick(1, big ? 40 : 3), p.len = r.pick(1, big ? 300 : 9);
    p.inner = r.pick(1, big ? 64 : 3);
    std::vector<int32_t> table(size_t(r.pick(1, 300)));
    const double s = 0.001 * double(r.pick(1, 200));
    for (size_t d = 0; d < table.size(); ++d)
      table[d] = int32_t(std::lround(std::exp(-double(d) * s) * double(1 << 20)));
    p.expTable = table.data(), p.expTableSize = int64_t(table.size());
    p.outMax = int32_t((int64_t(1) << bits) - 1);
    const std::vector<Act> x = r.acts(size_t(p.outer * p.len * p.inner), bits);
    const size_t n = x.size();
    expectMatches(
        n, [&](Act* o) { rt::softmax(p, x.data(), o); },
        [&](Act* o) { softmaxLoop(p, x.data(), o); }, "softmax trial " + std::to_string(trial));
  }
}

TEST(OpsThreads, LayerNormMatchesTheLoop) {
  Rng r;
  for (int trial = 0; trial < 40; ++trial) {
    const bool big = trial % 2 == 1;
    const int bits = trial % 4 < 2 ? 8 : 16;
    rt::LayerNormParams p;
    p.rows = r.pick(1, big ? 600 : 4), p.len = r.pick(1, big ? 200 : 9);
    const int64_t qmax = (int64_t(1) << bits) - 1;
    p.inZp = int32_t(trial % 3 == 0 ? 0 : trial % 3 == 1 ? qmax : r.pick(0, qmax));
    p.epsQ = trial % 5 == 0 ? 0 : r.pick(1, 1000);
    p.normBits = int32_t(r.pick(12, 20));
    std::vector<int64_t> gamma(size_t(p.len)), beta(size_t(p.len));
    for (auto& g : gamma) g = r.pick(-(1 << 12), 1 << 12);
    for (auto& b : beta) b = r.pick(-(int64_t(1) << 30), int64_t(1) << 30);
    p.gamma = gamma.data(), p.beta = beta.data();
    Stage st(r, trial % 2 ? p.len : 1, p.normBits + 40 - bits, bits);
    p.out = st.s;
    const std::vector<Act> x = r.acts(size_t(p.rows * p.len), bits);
    expectMatches(
        x.size(), [&](Act* o) { rt::layerNorm(p, x.data(), o); },
        [&](Act* o) { layerNormLoop(p, x.data(), o); },
        "layer norm trial " + std::to_string(trial));
  }
}

TEST(OpsThreads, ReduceMatchesTheOnePassLoop) {
  Rng r;
  for (int trial = 0; trial < 60; ++trial) {
    const bool big = trial % 2 == 1;
    const int bits = trial % 4 < 2 ? 8 : 16;
    rt::ReduceParams p;
    const size_t rank = size_t(r.pick(1, 4));
    int64_t total = 1;
    for (size_t d = 0; d < rank; ++d) {
      p.inShape.push_back(r.pick(1, big ? 40 : 4));
      p.reduced.push_back(r.pick(0, 1) == 1);
      total *= p.inShape.back();
    }
    int64_t outCount = 1;
    for (size_t d = 0; d < rank; ++d) outCount *= p.reduced[d] ? 1 : p.inShape[d];
    p.isMax = trial % 3 == 0;
    const int64_t qmax = (int64_t(1) << bits) - 1;
    p.inZp = int32_t(trial % 3 == 1 ? qmax : trial % 3 == 2 ? 0 : r.pick(0, qmax));
    Stage st(r, 1, 31 + int32_t(std::log2(double(total) + 1)), bits);
    p.out = st.s;
    const std::vector<Act> x = r.acts(size_t(total), bits);
    expectMatches(
        size_t(outCount), [&](Act* o) { rt::reduce(p, x.data(), o); },
        [&](Act* o) { rt::reduceReference(p, x.data(), o); },
        "reduce trial " + std::to_string(trial));
  }
}

TEST(OpsThreads, MatMulMatchesTheLoop) {
  Rng r;
  for (int trial = 0; trial < 40; ++trial) {
    const bool big = trial % 2 == 1;
    const int bits = trial % 4 < 2 ? 8 : 16;
    rt::MatMulParams p;
    const size_t nbd = size_t(r.pick(0, 2));
    int64_t strideA = 1, strideB = 1;
    std::vector<int64_t> ea, eb;  // the operands' batch extents (1 on broadcast dimensions)
    for (size_t d = 0; d < nbd; ++d) {
      const int64_t e = r.pick(1, 3), kind = r.pick(0, 2);
      p.batch.push_back(e);
      ea.push_back(kind == 1 ? 1 : e);
      eb.push_back(kind == 2 ? 1 : e);
    }
    p.batchStrideA.assign(nbd, 0), p.batchStrideB.assign(nbd, 0);
    for (int d = int(nbd) - 1; d >= 0; --d) {
      p.batchStrideA[size_t(d)] = ea[size_t(d)] == 1 ? 0 : strideA;
      p.batchStrideB[size_t(d)] = eb[size_t(d)] == 1 ? 0 : strideB;
      strideA *= ea[size_t(d)], strideB *= eb[size_t(d)];
    }
    p.m = r.pick(1, big ? 70 : 3), p.k = r.pick(1, big ? 60 : 5), p.n = r.pick(1, big ? 50 : 3);
    const int64_t qmax = (int64_t(1) << bits) - 1;
    p.zpA = int32_t(trial % 3 == 0 ? 0 : trial % 3 == 1 ? qmax : r.pick(0, qmax));
    p.zpB = int32_t(trial % 3 == 0 ? qmax : r.pick(0, qmax));
    Stage st(r, 1, bits == 8 ? 36 : 52, bits);
    p.out = st.s;
    int64_t nb = 1;
    for (int64_t e : p.batch) nb *= e;
    const std::vector<Act> a = r.acts(size_t(strideA * p.m * p.k), bits);
    const std::vector<Act> b = r.acts(size_t(strideB * p.k * p.n), bits);
    expectMatches(
        size_t(nb * p.m * p.n), [&](Act* o) { rt::matmul(p, a.data(), b.data(), o); },
        [&](Act* o) { matmulLoop(p, a.data(), b.data(), o); },
        "matmul trial " + std::to_string(trial));
  }
}

}  // namespace
}  // namespace kiln::test
