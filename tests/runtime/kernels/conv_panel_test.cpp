// The packed conv's pair panel (conv_panel.h) against the im2col definition, and the packed conv
// against conv2dReference on planes wide enough for the 16-column SIMD runs (unit and stride-2
// rows, padding, dilation), with 16-bit activations at the edges of |x - zp| <= 32767, on every
// kernel path and on 1 and 2 threads.
#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "runtime/kernels/conv_panel.h"
#include "runtime/kernels/gemm.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::test {
namespace {

using Pick = std::function<int64_t(int64_t, int64_t)>;

// A random geometry with planes up to 80 wide; pointwise every third call.
bool randomGeometry(const Pick& pick, int trial, rt::ConvGeometry& g) {
  g.groups = 1, g.n = 1, g.c = pick(1, 5), g.k = pick(1, 9);
  g.h = pick(1, 7), g.w = pick(1, 80);
  g.kh = pick(1, 3), g.kw = pick(1, 3), g.sh = pick(1, 2), g.sw = pick(1, 3);
  g.dh = pick(1, 2), g.dw = pick(1, 2);
  g.pt = pick(0, 2), g.pl = pick(0, 2), g.pb = pick(0, 2), g.pr = pick(0, 2);
  if (trial % 3 == 0) {
    g.kh = g.kw = g.sh = g.sw = 1;
    g.pt = g.pl = g.pb = g.pr = 0;
  }
  if (trial % 4 == 1) g.sw = 2;  // the stride-2 gather
  const int64_t effH = g.dh * (g.kh - 1) + 1, effW = g.dw * (g.kw - 1) + 1;
  if (g.h + g.pt + g.pb < effH || g.w + g.pl + g.pr < effW) return false;
  g.oh = (g.h + g.pt + g.pb - effH) / g.sh + 1;
  g.ow = (g.w + g.pl + g.pr - effW) / g.sw + 1;
  return true;
}

// Activations with every |x - zp| <= 32767: zp at 0, mid-range or 65535 (16-bit tensors), or a
// byte zero point with byte values; a quarter of the values at the extremes.
int32_t randomActs(const Pick& pick, int trial, std::vector<rt::Act>& x) {
  const int kind = trial % 4;
  const int32_t zp = kind == 0 ? 0 : kind == 1 ? 32768 : kind == 2 ? 65535 : int32_t(pick(0, 255));
  const int64_t lo = kind == 3 ? 0 : std::max<int64_t>(0, zp - 32767);
  const int64_t hi = kind == 3 ? 255 : std::min<int64_t>(65535, zp + 32767);
  for (auto& v : x) v = rt::Act(pick(0, 3) == 0 ? (pick(0, 1) ? lo : hi) : pick(lo, hi));
  return zp;
}

std::vector<rt::KernelPath> paths() {
  return rt::supportedKernelPaths();
}

TEST(PanelMatch, PairPanelEqualsIm2colOnEveryPath) {
  std::mt19937 rng(101);
  const Pick pick = [&](int64_t lo, int64_t hi) {
    return lo + int64_t(rng() % uint64_t(hi - lo + 1));
  };
  int checked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    rt::ConvGeometry g;
    if (!randomGeometry(pick, trial, g)) continue;
    std::vector<rt::Act> x(size_t(g.c * g.h * g.w));
    const int32_t zp = randomActs(pick, trial, x);
    const int64_t rows = g.c * g.kh * g.kw, pairs = (rows + 1) / 2, cols = g.oh * g.ow;
    const int64_t t0 = pick(0, cols - 1), tl = pick(1, cols - t0);
    const int64_t blocks = (tl + rt::gemm::kNR - 1) / rt::gemm::kNR;
    // The definition: row r = (c, ky, kx), column t0 + j = (oy, ox); 0 beyond rows and tl.
    auto value = [&](int64_t r, int64_t j) -> int32_t {
      if (r >= rows || j >= tl) return 0;
      const int64_t c = r / (g.kh * g.kw), ky = r / g.kw % g.kh, kx = r % g.kw;
      const int64_t oy = (t0 + j) / g.ow, ox = (t0 + j) % g.ow;
      const int64_t iy = oy * g.sh - g.pt + ky * g.dh, ix = ox * g.sw - g.pl + kx * g.dw;
      if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) return 0;
      return int32_t(x[size_t((c * g.h + iy) * g.w + ix)]) - zp;
    };
    std::vector<int32_t> want(size_t(pairs * blocks * rt::gemm::kNR));
    for (int64_t cb = 0; cb < blocks; ++cb)
      for (int64_t q = 0; q < pairs; ++q)
        for (int64_t j = 0; j < rt::gemm::kNR; ++j) {
          const int64_t col = cb * rt::gemm::kNR + j;
          want[size_t((cb * pairs + q) * rt::gemm::kNR + j)] =
              rt::gemm::pairWord(value(2 * q, col), value(2 * q + 1, col));
        }
    for (rt::KernelPath path : paths()) {
      std::vector<int16_t> r0, r1;
      std::vector<int32_t> pan(want.size() + 5, -1);
      rt::panels::pairPanel(path, x.data(), g, rows, pairs, zp, t0, tl, r0, r1, pan);
      // The panel is the first words of the scratch, which never shrinks.
      ASSERT_GE(pan.size(), want.size());
      pan.resize(want.size());
      ASSERT_EQ(pan, want) << "trial " << trial << " path " << rt::kernelPathName(path);
    }
    ++checked;
  }
  EXPECT_GT(checked, 150);
}

// The band (pairBand) against its definition: strides 1 to 3, padding, odd channel counts,
// phase rows above and below the input, 16-bit edge values, on every path.
TEST(PanelMatch, PairBandEqualsDefinitionOnEveryPath) {
  std::mt19937 rng(107);
  const Pick pick = [&](int64_t lo, int64_t hi) {
    return lo + int64_t(rng() % uint64_t(hi - lo + 1));
  };
  for (int trial = 0; trial < 200; ++trial) {
    rt::ConvGeometry g;
    g.c = pick(1, 5), g.h = pick(1, 9), g.w = pick(1, 70);
    g.sh = pick(1, 3), g.sw = trial % 3 == 0 ? 2 : pick(1, 3);
    g.pt = pick(0, 3), g.pl = pick(0, 3), g.pb = pick(0, 3), g.pr = pick(0, 3);
    std::vector<rt::Act> x(size_t(g.c * g.h * g.w));
    const int32_t zp = randomActs(pick, trial, x);
    const int64_t wq = (g.pl + g.w + g.pr + g.sw - 1) / g.sw;
    const int64_t row0 = pick(0, 4), rowsIn = pick(1, 6), stride = rowsIn * wq + pick(0, 20);
    auto value = [&](int64_t c, int64_t iy, int64_t ix) -> int32_t {
      if (c >= g.c || iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) return 0;
      return int32_t(x[size_t((c * g.h + iy) * g.w + ix)]) - zp;
    };
    const int64_t pairs = (g.c + 1) / 2, phases = g.sh * g.sw;
    std::vector<int32_t> want(size_t(pairs * phases * stride), 0);
    for (int64_t i = 0; i < pairs; ++i)
      for (int64_t ry = 0; ry < g.sh; ++ry)
        for (int64_t rx = 0; rx < g.sw; ++rx)
          for (int64_t r = 0; r < rowsIn; ++r)
            for (int64_t j = 0; j < wq; ++j) {
              const int64_t iy = (row0 + r) * g.sh + ry - g.pt, ix = j * g.sw + rx - g.pl;
              want[size_t(((i * g.sh + ry) * g.sw + rx) * stride + r * wq + j)] =
                  rt::gemm::pairWord(value(2 * i, iy, ix), value(2 * i + 1, iy, ix));
            }
    for (rt::KernelPath path : paths()) {
      std::vector<int32_t> band(want.size(), -1);
      rt::panels::pairBand(path, x.data(), g, g.c, zp, row0, rowsIn, wq, stride, band);
      ASSERT_EQ(band, want) << "trial " << trial << " path " << rt::kernelPathName(path);
    }
  }
}

// The band path on convs large enough for several bands per thread (the band's halo rows, the
// dropped columns past each row), dilations up to 5, strides 1 and 2, groups, output channel
// counts that leave partial 4-channel blocks, 1, 2 and 3 threads (bands of unequal row counts).
TEST(PanelMatch, BandConvEqualsReferenceOnEveryPathAndThreadCount) {
  std::mt19937 rng(109);
  const Pick pick = [&](int64_t lo, int64_t hi) {
    return lo + int64_t(rng() % uint64_t(hi - lo + 1));
  };
  int banded = 0;
  for (int trial = 0; trial < 12; ++trial) {
    rt::ConvParams p;
    rt::ConvGeometry& g = p.g;
    g.groups = trial % 4 == 3 ? 2 : 1;
    g.c = g.groups * 2 * pick(8, 40), g.k = g.groups * pick(1, 11);
    g.h = pick(12, 40), g.w = pick(20, 90);
    g.kh = pick(2, 3), g.kw = pick(1, 3), g.sh = trial % 3 == 2 ? 2 : 1, g.sw = g.sh;
    g.dh = trial % 5 == 4 ? 5 : pick(1, 2), g.dw = g.dh;
    g.pt = pick(0, 2) * g.dh, g.pl = pick(0, 2) * g.dw, g.pb = g.pt, g.pr = g.pl;
    const int64_t effH = g.dh * (g.kh - 1) + 1, effW = g.dw * (g.kw - 1) + 1;
    if (g.h + g.pt + g.pb < effH || g.w + g.pl + g.pr < effW) continue;
    g.oh = (g.h + g.pt + g.pb - effH) / g.sh + 1;
    g.ow = (g.w + g.pl + g.pr - effW) / g.sw + 1;
    std::vector<rt::Act> x(size_t(g.c * g.h * g.w));
    // Byte activations (zero points anywhere in [0, 255]): every sum fits int32, so the packed
    // path runs (16-bit ones are checked on smaller convs above).
    p.inZp = randomActs(pick, 3, x);
    std::vector<int8_t> w(size_t(g.k * (g.c / g.groups) * g.kh * g.kw));
    for (auto& v : w) v = int8_t(pick(0, 3) == 0 ? (pick(0, 1) ? 127 : -128) : pick(-128, 127));
    std::vector<int64_t> bias(size_t(g.k));
    for (auto& b : bias) b = pick(-100000, 100000);
    std::vector<rt::Multiplier> mult(size_t(g.k));
    for (auto& m : mult) m = {int32_t(pick(1 << 30, INT32_MAX)), int32_t(pick(36, 44))};
    p.weights = rt::WeightPtr(w.data());
    p.bias = bias.data();
    p.out.mult = mult.data();
    p.out.perChannel = true;
    p.out.outZp = 32768, p.out.qmax = 65535;
    std::vector<rt::Act> ref(size_t(g.k * g.oh * g.ow));
    rt::conv2dReference(p, x.data(), ref.data());
    for (rt::KernelPath path : paths()) {
      p.path = path;
      const auto packed = rt::packConvWeights(p);
      ASSERT_TRUE(packed);
      // The band path (neon-dot keeps row pairs beside its byte form).
      ASSERT_EQ(packed->taps, path == rt::KernelPath::NeonDot ? 1 : g.kh * g.kw);
      p.packed = packed.get();
      for (int threads : {1, 2, 3}) {
        rt::ThreadPool pool(threads);
        const rt::ThreadPool::Scope scope(threads > 1 ? &pool : nullptr);
        std::vector<rt::Act> got(ref.size(), 1);
        rt::conv2d(p, x.data(), got.data());
        ASSERT_EQ(got, ref) << "trial " << trial << " path " << rt::kernelPathName(path)
                            << " threads " << threads;
      }
    }
    ++banded;
  }
  EXPECT_GE(banded, 8);
}

TEST(PanelMatch, PackedConvOnWidePlanesEqualsReferenceOnEveryPathAndThreadCount) {
  std::mt19937 rng(103);
  const Pick pick = [&](int64_t lo, int64_t hi) {
    return lo + int64_t(rng() % uint64_t(hi - lo + 1));
  };
  int checked = 0;
  for (int trial = 0; trial < 60; ++trial) {
    rt::ConvParams p;
    rt::ConvGeometry& g = p.g;
    if (!randomGeometry(pick, trial, g)) continue;
    if (g.c == 1 && g.k == 1) g.k = 2;  // not depthwise
    std::vector<rt::Act> x(size_t(g.c * g.h * g.w));
    p.inZp = randomActs(pick, trial, x);
    std::vector<int8_t> w(size_t(g.k * g.c * g.kh * g.kw));
    for (auto& v : w) v = int8_t(pick(0, 3) == 0 ? (pick(0, 1) ? 127 : -128) : pick(-128, 127));
    std::vector<int64_t> bias(size_t(g.k));
    for (auto& b : bias) b = pick(-100000, 100000);
    std::vector<rt::Multiplier> mult(size_t(g.k));
    for (auto& m : mult) m = {int32_t(pick(1 << 30, INT32_MAX)), int32_t(pick(30, 44))};
    p.weights = rt::WeightPtr(w.data());
    p.bias = bias.data();
    p.out.mult = mult.data();
    p.out.perChannel = true;
    p.out.outZp = 32768, p.out.qmax = 65535;
    std::vector<rt::Act> ref(size_t(g.k * g.oh * g.ow));
    rt::conv2dReference(p, x.data(), ref.data());
    for (rt::KernelPath path : paths()) {
      p.path = path;
      const auto packed = rt::packConvWeights(p);
      ASSERT_TRUE(packed);
      p.packed = packed.get();
      for (int threads : {1, 2, 3}) {
        rt::ThreadPool pool(threads);
        const rt::ThreadPool::Scope scope(threads > 1 ? &pool : nullptr);
        std::vector<rt::Act> got(ref.size(), 1);
        rt::conv2d(p, x.data(), got.data());
        ASSERT_EQ(got, ref) << "trial " << trial << " g " << g.c << " " << g.h << "x" << g.w << " k"
                            << g.k << " " << g.kh << "x" << g.kw << " s" << g.sh << "," << g.sw
                            << " d" << g.dh << "," << g.dw << " p" << g.pt << g.pl << g.pb << g.pr
                            << " o" << g.oh << "x" << g.ow << " path " << rt::kernelPathName(path)
                            << " threads " << threads;
      }
    }
    ++checked;
  }
  EXPECT_GT(checked, 30);
}

}  // namespace
}  // namespace kiln::test
