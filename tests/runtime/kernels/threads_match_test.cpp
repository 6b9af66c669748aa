// The kernels that split their output over a session's threads (eltwise, unary, resize, pooling)
// give the same bytes on 1, 2 and 3 threads, on shapes large enough to be cut into several ranges,
// with a table output stage (the vectorized run) and per-channel stages.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <mutex>
#include <random>

#include "runtime/kernels/conv_loops.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::test {
namespace {

struct StageData {
  std::vector<rt::Multiplier> mult;
  std::vector<int32_t> lut;
};

// A stage with `channels` multipliers; a table stage when `table`.
rt::OutputStage makeStage(std::mt19937& rng, int64_t channels, bool table, StageData& d) {
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  d.mult.resize(size_t(channels));
  for (auto& m : d.mult) m = {int32_t(pick(1 << 30, INT32_MAX)), int32_t(pick(30, 40))};
  rt::OutputStage s;
  s.mult = d.mult.data();
  s.perChannel = channels > 1;
  s.outZp = 17, s.qmin = 0, s.qmax = 255;
  if (table) {
    d.lut.resize(size_t(pick(16, 256)));
    for (auto& v : d.lut) v = int32_t(pick(0, 1 << 24));
    s.lut = d.lut.data(), s.lutSize = int32_t(d.lut.size());
    s.lutOffset = s.lutSize / 2, s.lutFracBits = 8, s.lutValueBits = 16;
  }
  return s;
}

// run(out) on no pool, then on pools of 2 and 3 threads: the same bytes.
void expectSameOnThreads(size_t n, const std::function<void(rt::Act*)>& run, const char* what) {
  std::vector<rt::Act> one(n, -1);
  run(one.data());
  for (int t : {2, 3}) {
    rt::ThreadPool pool(t);
    const rt::ThreadPool::Scope scope(&pool);
    std::vector<rt::Act> got(n, -2);
    run(got.data());
    ASSERT_EQ(got, one) << what << " on " << t << " threads";
  }
}

TEST(ThreadsMatch, EltwiseUnaryResizeSameBytesOnEveryThreadCount) {
  std::mt19937 rng(53);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  const std::vector<int64_t> shape{2, 8, 37, 41};  // 24 k elements: several ranges of 8 k
  const size_t total = size_t(2 * 8 * 37 * 41);
  std::vector<rt::Act> a(total), b(total);
  for (auto& v : a) v = int32_t(pick(0, 255));
  for (auto& v : b) v = int32_t(pick(0, 255));
  for (int table = 0; table < 2; ++table) {
    // Same-shape add/sub/mult/max (the linear path), and a per-channel operand by rows.
    for (int op = 0; op <= 3; ++op)
      for (int rows = 0; rows < 2; ++rows) {
        StageData d;
        rt::EltwiseParams p;
        p.op = rt::EltwiseOp(op);
        p.outShape = shape;
        p.strideA = {8 * 37 * 41, 37 * 41, 41, 1};
        p.strideB = rows ? std::vector<int64_t>{0, 1, 0, 0} : p.strideA;
        p.channelDim = rows ? 1 : -1;
        p.zpA = int32_t(pick(0, 255)), p.zpB = int32_t(pick(0, 255));
        p.multA = pick(1, 1 << 20), p.multB = pick(1, 1 << 20);
        p.out = makeStage(rng, rows ? 8 : 1, table == 1, d);
        expectSameOnThreads(
            total, [&](rt::Act* o) { rt::eltwise(p, a.data(), b.data(), o); }, "eltwise");
      }
    // Unary per channel (runs of 37 x 41) and over the whole tensor (one run).
    for (int perChannel = 0; perChannel < 2; ++perChannel) {
      StageData d;
      std::vector<int64_t> scale(8), bias(8);
      for (auto& v : scale) v = pick(1, 1 << 12);
      for (auto& v : bias) v = pick(-(1 << 20), 1 << 20);
      rt::UnaryParams p;
      p.shape = shape;
      p.channelDim = perChannel ? 1 : -1;
      p.inZp = int32_t(pick(0, 255));
      if (perChannel) p.scale = scale.data(), p.bias = bias.data();
      p.out = makeStage(rng, perChannel ? 8 : 1, table == 1, d);
      expectSameOnThreads(
          total, [&](rt::Act* o) { rt::unary(p, a.data(), o); }, "unary");
    }
    // Bilinear resize x4 of the last two dimensions.
    StageData d;
    rt::ResizeParams p;
    p.inShape = {1, 4, 20, 23};
    p.outShape = {1, 4, 80, 92};
    p.weightBits = 8;
    p.interpolated = {false, false, true, true};
    for (size_t k = 0; k < 4; ++k) {
      std::vector<int64_t> i0, i1, w1;
      for (int64_t o = 0; o < p.outShape[k]; ++o) {
        i0.push_back(k < 2 ? o : o / 4);
        i1.push_back(k < 2 ? o : std::min(o / 4 + 1, p.inShape[k] - 1));
        w1.push_back(pick(0, 256));
      }
      p.i0.push_back(i0), p.i1.push_back(i1), p.w1.push_back(w1);
    }
    p.inZp = 3;
    p.out = makeStage(rng, 1, table == 1, d);
    d.mult[0].shift = 31 + 16;
    expectSameOnThreads(
        size_t(4 * 80 * 92), [&](rt::Act* o) { rt::resize(p, a.data(), o); }, "resize");
  }
}

TEST(ThreadsMatch, PoolingSameBytesOnEveryThreadCount) {
  std::mt19937 rng(59);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  std::vector<rt::Act> x(size_t(2 * 16 * 37 * 41));
  for (auto& v : x) v = int32_t(pick(0, 255));
  // Max and average 3x3 windows, stride 2, padding 1, over 32 planes.
  std::vector<rt::Multiplier> countMult(10);
  for (auto& m : countMult) m = {int32_t(pick(1 << 30, INT32_MAX)), 33};
  for (int isMax = 0; isMax < 2; ++isMax) {
    rt::PoolParams p;
    rt::ConvGeometry& g = p.g;
    g.n = 2, g.c = g.k = 16, g.h = 37, g.w = 41, g.kh = g.kw = 3, g.sh = g.sw = 2;
    g.pt = g.pl = g.pb = g.pr = 1;
    g.oh = (37 + 2 - 3) / 2 + 1, g.ow = (41 + 2 - 3) / 2 + 1;
    p.isMax = isMax == 1;
    p.inZp = 7;
    p.countMult = countMult.data();
    p.out.mult = countMult.data();
    p.out.outZp = 3, p.out.qmax = 255;
    expectSameOnThreads(
        size_t(2 * 16 * g.oh * g.ow), [&](rt::Act* o) { rt::pool2d(p, x.data(), o); }, "pool");
  }
  // Global average over 37 x 41 positions of 32 planes.
  const rt::Multiplier m{int32_t(pick(1 << 30, INT32_MAX)), 41};
  rt::OutputStage st;
  st.mult = &m;
  st.outZp = 5, st.qmax = 255;
  expectSameOnThreads(
      32, [&](rt::Act* o) { rt::globalAvgPool(32, 37 * 41, 9, st, x.data(), o); },
      "global average pool");
}

// balancedParts: whole rounds of the threads (unless there are fewer items than threads), parts
// of at most `most` items, and the fewest such.
TEST(ThreadsMatch, BalancedPartsGiveEveryThreadTheSameShare) {
  EXPECT_EQ(rt::balancedParts(100, 7), 15);  // no pool: the fewest parts of at most 7
  EXPECT_EQ(rt::balancedParts(0, 7), 1);
  for (int threads : {2, 3}) {
    rt::ThreadPool pool(threads);
    const rt::ThreadPool::Scope scope(&pool);
    for (int64_t n : {1, 2, 5, 25, 100, 160, 1600})
      for (int64_t most : {1, 4, 10, 32, 512, 5000}) {
        const int64_t parts = rt::balancedParts(n, most);
        ASSERT_LE(parts, n) << n << " " << most;
        if (parts < n) {
          EXPECT_EQ(parts % threads, 0) << n << " " << most << " on " << threads;
          EXPECT_LE((n + parts - 1) / parts, most) << n << " " << most << " on " << threads;
          if (parts > threads) {  // one round fewer would take larger parts
            EXPECT_GT((n + parts - threads - 1) / (parts - threads), most)
                << n << " " << most << " on " << threads;
          }
        }
      }
  }
  // PP-OCRv4 det 640's 40 x 40 convs: 100 blocks of 16 columns, 192 KB panels of 32 blocks,
  // were cut into 3 tiles of 32 blocks and one of 4 (one thread did 64 of 100); now 4 of 25.
  rt::ThreadPool pool(2);
  const rt::ThreadPool::Scope scope(&pool);
  EXPECT_EQ(rt::balancedParts(100, 32), 4);
}

// parallelRanges: consecutive ranges covering [0, n) once, in whole rounds of the threads when
// there are more ranges than threads.
TEST(ThreadsMatch, ParallelRangesCoverInWholeRounds) {
  for (int threads : {2, 3}) {
    rt::ThreadPool pool(threads);
    const rt::ThreadPool::Scope scope(&pool);
    for (int64_t n : {1, 2, 3, 5, 7, 10, 13, 100})
      for (int64_t grain : {1, 2, 3}) {
        std::mutex mu;
        std::vector<std::pair<int64_t, int64_t>> ranges;
        rt::parallelRanges(n, grain, [&](int64_t b, int64_t e) {
          const std::lock_guard<std::mutex> lock(mu);
          ranges.emplace_back(b, e);
        });
        std::sort(ranges.begin(), ranges.end());
        int64_t next = 0;
        for (const auto& r : ranges) {
          ASSERT_EQ(r.first, next) << n << " " << grain << " on " << threads;
          ASSERT_LT(r.first, r.second);
          next = r.second;
        }
        EXPECT_EQ(next, n);
        const int64_t parts = int64_t(ranges.size());
        if (parts > threads) {
          EXPECT_EQ(parts % threads, 0) << n << " " << grain << " on " << threads;
        }
      }
  }
}

// The accumulator check's input scan on the pool: the same largest |x - zp| as the plain scan on
// 1, 2 and 3 threads, the extreme value at the start, the end, a range boundary or nowhere.
TEST(ThreadsMatch, MaxAbsDiffOnThreadsEqualsScan) {
  std::mt19937 rng(61);
  for (int64_t n : {int64_t(1), int64_t(70000), int64_t(3) << 16, int64_t(500001)}) {
    std::vector<rt::Act> x(static_cast<size_t>(n));
    for (auto& v : x) v = rt::Act(100 + rng() % 50);
    for (int64_t at : {int64_t(-1), int64_t(0), n / 2, n - 1}) {
      if (at >= 0) x[size_t(at)] = at % 2 ? 65535 : 0;
      for (int32_t zp : {0, 120, 65535}) {
        const int64_t want = rt::loops::maxAbsDiff(x.data(), n, zp);
        for (int threads : {1, 2, 3}) {
          rt::ThreadPool pool(threads);
          const rt::ThreadPool::Scope scope(threads > 1 ? &pool : nullptr);
          ASSERT_EQ(rt::loops::maxAbsDiffOnThreads(x.data(), n, zp), want)
              << n << " " << at << " " << zp << " on " << threads;
        }
      }
    }
  }
}

}  // namespace
}  // namespace kiln::test
