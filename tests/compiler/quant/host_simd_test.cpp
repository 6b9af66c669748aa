// The optimizer's SIMD loops against the scalar loops they replace, bit for bit, on random
// buffers with edge values (±0, NaN, ±inf, denormals, values at and beyond the quantization
// limits, exact halves) and lengths that are no multiple of the vector width:
//   quant::scanMinMax (min_max_scan.cpp) against `a = v < a ? v : a; b = v > b ? v : b`,
//   quantizeToInt / dequantizeFromInt (emulator/host_convert_simd.cpp) against
//   rt::quantizeFloat / rt::dequantizeToFloat (runtime/engine/host_convert.h).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "compiler/emulator/host_convert_simd.h"
#include "compiler/quant/min_max_scan.h"
#include "runtime/engine/host_convert.h"

namespace kiln::test {
namespace {

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Mostly ordinary values, with runs of one edge value now and then.
std::vector<float> edgeBuffer(std::mt19937& rng, size_t n, float scale) {
  const float inf = std::numeric_limits<float>::infinity();
  const float edges[] = {0.f, -0.f, std::nanf(""), inf, -inf, 1e-40f, -1e-40f, 0.5f, -2.5f, 1e30f};
  std::uniform_real_distribution<float> u(-scale, scale);
  std::uniform_int_distribution<int> pick(0, 30), which(0, 9);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = pick(rng) == 0 ? edges[which(rng)] : u(rng);
  return v;
}

TEST(HostSimd, ScanMinMaxMatchesTheScalarLoop) {
  std::mt19937 rng(7);
  const float inf = std::numeric_limits<float>::infinity();
  const float starts[][2] = {{inf, -inf}, {0.f, 0.f}, {-0.f, -0.f}, {-1.f, 1.f}, {5.f, -5.f}};
  for (int trial = 0; trial < 600; ++trial) {
    const size_t n = size_t(rng() % 700);
    std::vector<float> v = edgeBuffer(rng, n, trial % 3 == 0 ? 1e-3f : 10.f);
    if (trial % 4 == 0)  // a ReLU output: zeros of either sign and positives
      for (float& x : v) x = x < 0 ? (trial % 8 == 0 ? -0.f : 0.f) : x;
    if (trial % 5 == 0)  // all non-positive
      for (float& x : v) x = x > 0 ? -x : x;
    for (const auto& s : starts) {
      float a = s[0], b = s[1];
      for (float x : v) {
        a = x < a ? x : a;
        b = x > b ? x : b;
      }
      float lo = s[0], hi = s[1];
      quant::scanMinMax(v.data(), v.size(), lo, hi);
      ASSERT_EQ(bitsOf(lo), bitsOf(a)) << "n " << n << " trial " << trial;
      ASSERT_EQ(bitsOf(hi), bitsOf(b)) << "n " << n << " trial " << trial;
    }
  }
}

TEST(HostSimd, ConversionsMatchTheRuntime) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 400; ++trial) {
    const int bits = trial % 2 ? 8 : 16;
    const int64_t qmax = (int64_t(1) << bits) - 1;
    rt::StreamDesc s;
    s.bits = bits;
    s.scale = std::ldexp(1.0 + double(rng() % 1000) / 997.0, -int(rng() % 12));
    s.zeroPoint = int64_t(rng() % uint32_t(qmax + 1));
    if (trial % 7 == 0) s.zeroPoint = 0;
    if (trial % 11 == 0) s.zeroPoint = qmax;
    rt::limvals(s.scale, s.zeroPoint, s.bits, s.limMin, s.limMax);
    const size_t n = size_t(rng() % 300);
    const float span = float(s.scale * double(qmax)) * 1.2f;
    std::vector<float> x = edgeBuffer(rng, n, span);
    for (size_t i = 0; i < n; i += 13)  // exact halves of a step: rounding ties
      x[i] = float((double(int64_t(rng() % uint32_t(qmax))) + 0.5 - double(s.zeroPoint)) * s.scale);
    std::vector<int32_t> want(n), got(n);
    rt::quantizeFloat(x.data(), int64_t(n), s, want.data());
    quantizeToInt(x.data(), int64_t(n), s, got.data());
    ASSERT_EQ(got, want) << "trial " << trial;
    // Dequantization also of values outside the device range (the emulation's int32 buffers).
    std::vector<int32_t> q(n);
    for (size_t i = 0; i < n; ++i)
      q[i] = i % 17 == 0 ? int32_t(rng()) : int32_t(rng() % uint32_t(qmax + 1));
    std::vector<float> fw(n), fg(n);
    rt::dequantizeToFloat(q.data(), int64_t(n), s, fw.data());
    dequantizeFromInt(q.data(), int64_t(n), s, fg.data());
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(bitsOf(fg[i]), bitsOf(fw[i])) << "trial " << trial;
  }
}

}  // namespace
}  // namespace kiln::test
