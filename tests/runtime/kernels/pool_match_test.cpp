// The separable max pool (runtime/kernels/pool.cpp) against the per-window reference loop, bit
// for bit, on 1 and 2 threads: random geometries with every stride, dilation and padding up to 3
// and ceil-mode overhangs (output sizes beyond the floor size, so that windows read only padding),
// values at both ends of the 8- and 16-bit ranges.
#include <gtest/gtest.h>

#include <random>

#include "runtime/kernels/kernels.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::test {
namespace {

TEST(PoolMatch, MaxPoolEqualsReferenceOnEveryThreadCount) {
  std::mt19937 rng(37);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + int64_t(rng() % uint64_t(hi - lo + 1)); };
  int executed = 0, onlyPadding = 0;
  for (int trial = 0; trial < 200; ++trial) {
    rt::PoolParams p;
    rt::ConvGeometry& g = p.g;
    g.n = pick(1, 2), g.c = g.k = pick(1, 4), g.h = pick(1, 19), g.w = pick(1, 19);
    g.kh = pick(1, 4), g.kw = pick(1, 4), g.sh = pick(1, 3), g.sw = pick(1, 3), g.dh = pick(1, 2),
    g.dw = pick(1, 2);
    g.pt = pick(0, 3), g.pl = pick(0, 3), g.pb = pick(0, 3), g.pr = pick(0, 3);
    const int64_t effH = g.dh * (g.kh - 1) + 1, effW = g.dw * (g.kw - 1) + 1;
    if (g.h + g.pt + g.pb < effH || g.w + g.pl + g.pr < effW) continue;
    g.oh = (g.h + g.pt + g.pb - effH) / g.sh + 1 + pick(0, 1);  // + ceil-mode overhang
    g.ow = (g.w + g.pl + g.pr - effW) / g.sw + 1 + pick(0, 1);
    const int64_t qmax = trial % 2 ? 65535 : 255;
    p.isMax = true;
    p.inZp = int32_t(pick(0, qmax));
    std::vector<rt::Act> x(size_t(g.n * g.c * g.h * g.w));
    for (auto& v : x) v = rt::Act(trial % 3 == 0 ? (pick(0, 1) ? qmax : 0) : pick(0, qmax));
    std::vector<rt::Act> ref(size_t(g.n * g.c * g.oh * g.ow));
    rt::pool2dReference(p, x.data(), ref.data());
    onlyPadding += std::count(ref.begin(), ref.end(), p.inZp) > 0;
    for (int threads : {1, 2}) {
      rt::ThreadPool pool(threads);
      const rt::ThreadPool::Scope scope(threads > 1 ? &pool : nullptr);
      std::vector<rt::Act> got(ref.size(), rt::Act(0xFFFF));
      rt::pool2d(p, x.data(), got.data());
      ASSERT_EQ(got, ref) << "trial " << trial << " on " << threads << " threads";
    }
    ++executed;
  }
  EXPECT_GT(executed, 120);
  EXPECT_GT(onlyPadding, 0);
}

}  // namespace
}  // namespace kiln::test
