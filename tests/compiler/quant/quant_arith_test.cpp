// The requantization arithmetic against a double-precision reference on edge values: powers of
// two ±1, both signs, the int32/int64 limits the kernels can reach, and fixed-seed random draws.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compiler/emulator/quant_executor.h"
#include "compiler/quant/quant_math.h"
#include "runtime/engine/host_convert.h"
#include "runtime/kernels/requantize.h"

namespace kiln::test {
namespace {

// floor(acc * m / 2^shift + 1/2) by exact integer division (not shifts): the quotient is
// truncated toward zero, then corrected to the floor.
int64_t reference(int64_t acc, int32_t m, int32_t shift) {
  const __int128 num = (__int128)acc * m + ((__int128)1 << (shift - 1));
  const __int128 den = (__int128)1 << shift;
  __int128 q = num / den;
  if (num % den != 0 && num < 0) q -= 1;
  return (int64_t)q;
}

// The same in long double where it is exact (|acc * m| < 2^63), as a second witness.
bool fitsLongDouble(int64_t acc, int32_t m) {
  return std::fabs((long double)acc * (long double)m) < std::ldexp((long double)1, 63);
}

// The result must fit int64 for the comparison to mean anything.
bool inDomain(int64_t acc, int32_t m, int32_t shift) {
  return std::fabs((long double)acc * (long double)m / std::ldexp((long double)1, shift)) <
         std::ldexp((long double)1, 62);
}

TEST(Requantize, WorkedExampleFromTheDocs) {
  // -6 × 0.25 = -1.5: a tie, rounds toward +infinity.
  EXPECT_EQ(rt::requantize(-6, 1 << 30, 32), -1);
  EXPECT_EQ(rt::requantize(6, 1 << 30, 32), 2);    // 1.5 -> 2
  EXPECT_EQ(rt::requantize(-5, 1 << 30, 32), -1);  // -1.25 -> -1
  EXPECT_EQ(rt::requantize(-7, 1 << 30, 32), -2);  // -1.75 -> -2
}

TEST(Requantize, EdgeValuesMatchReference) {
  std::vector<int64_t> accs = {0,
                               1,
                               -1,
                               INT32_MAX,
                               INT32_MIN,
                               int64_t(INT32_MAX) + 1,
                               (int64_t(1) << 46) - 1,
                               -(int64_t(1) << 46)};
  for (int b = 0; b < 46; ++b)
    for (int64_t d : {-1, 0, 1}) {
      accs.push_back((int64_t(1) << b) + d);
      accs.push_back(-(int64_t(1) << b) + d);
    }
  const std::vector<int32_t> mults = {1 << 30, (1 << 30) + 1, INT32_MAX, INT32_MAX - 1, 1518500250};
  for (int64_t acc : accs)
    for (int32_t m : mults)
      for (int32_t shift : {1, 15, 30, 31, 32, 40, 50, 62}) {
        if (!inDomain(acc, m, shift)) continue;
        ASSERT_EQ(rt::requantize(acc, m, shift), reference(acc, m, shift))
            << "acc " << acc << " m " << m << " shift " << shift;
        if (fitsLongDouble(acc, m)) {
          const long double x = (long double)acc * m / std::ldexp((long double)1, shift);
          ASSERT_EQ(rt::requantize(acc, m, shift), (int64_t)std::floor(x + 0.5L));
        }
      }
}

TEST(Requantize, RandomDrawsMatchReference) {
  std::mt19937_64 rng(1234);
  std::uniform_int_distribution<int64_t> acc(-(int64_t(1) << 44), int64_t(1) << 44);
  std::uniform_int_distribution<int32_t> m(1 << 30, INT32_MAX);
  std::uniform_int_distribution<int32_t> shift(1, 62);
  for (int i = 0; i < 200000; ++i) {
    const int64_t a = acc(rng);
    const int32_t mm = m(rng), s = shift(rng);
    if (!inDomain(a, mm, s)) continue;
    ASSERT_EQ(rt::requantize(a, mm, s), reference(a, mm, s));
  }
}

TEST(Requantize, DivRoundTiesTowardPlusInfinity) {
  for (int64_t num = -50; num <= 50; ++num)
    for (int64_t den : {-7, -4, -3, -2, -1, 1, 2, 3, 4, 7}) {
      const long double x = (long double)num / (long double)den;
      ASSERT_EQ(rt::divRound(num, den), (int64_t)std::floor(x + 0.5L)) << num << "/" << den;
    }
}

TEST(QuantizeMultiplier, RepresentsTheRealValue) {
  for (double real : {1.0, 0.5, 0.25, 0.999999, 1e-3, 3.7e-6, 123.456, 2.0 / 3.0}) {
    const rt::Multiplier q = quant::quantizeMultiplier(real);
    EXPECT_GE(q.m, 1 << 30);
    const double back = double(q.m) / std::ldexp(1.0, q.shift);
    EXPECT_NEAR(back / real, 1.0, 1e-9) << real;
  }
  EXPECT_EQ(quant::quantizeMultiplier(0).m, 0);
  EXPECT_THROW(quant::quantizeMultiplier(-1), Error);
}

TEST(QuantFromRange, ZeroIsExactAndRangeCovered) {
  const QuantInfo q = quant::quantFromRange(-1.0, 3.0, 8);
  EXPECT_EQ(q.zeroPoint, 64);
  EXPECT_DOUBLE_EQ(quant::dequantizeValue(q.zeroPoint, q), 0.0);
  EXPECT_EQ(quant::quantizeValue(3.0, q), 255);
  EXPECT_EQ(quant::quantizeValue(-1.0, q), 0);
  const QuantInfo pos = quant::quantFromRange(0.5, 2.0, 16);  // widened to contain 0
  EXPECT_EQ(pos.zeroPoint, 0);
  EXPECT_EQ(pos.min, 0.0);
}

}  // namespace
}  // namespace kiln::test

namespace kiln::test {
namespace {

// The emulation's input quantization (compiled for AVX2 too, chosen at run time) gives the
// runtime's host conversion's integers: ties to even, NaN, ±inf, the limits, 8 and 16 bits, at
// every position of a vector (lengths that are no multiple of 8).
TEST(QuantizeInput, MatchesTheRuntimesConversion) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-300.f, 300.f);
  for (const int bits : {8, 16}) {
    QuantInfo q;
    q.bits = bits;
    q.scale = bits == 8 ? 0.5 : 1.0 / 256;  // ties at every half step
    q.zeroPoint = bits == 8 ? 100 : 30000;
    FloatBuffer x;
    x.shape = {1, 1, 1, 1003};
    for (int i = 0; i < 1003; ++i) x.data.push_back(u(rng));
    const float special[] = {0.25f, 0.75f,  1.25f, -0.25f,   -0.75f,    0.f,     -0.f,
                             1e30f, -1e30f, NAN,   INFINITY, -INFINITY, 127.75f, -50.25f};
    for (size_t k = 0; k < std::size(special); ++k) x.data[k * 71 % 1003] = special[k];
    for (size_t k = 0; k < 200; ++k) x.data[k + 500] = float(int(k) - 100) * 0.25f;
    const IntBuffer got = quantizeInput(x, q);
    rt::StreamDesc s;
    s.bits = bits;
    s.scale = q.scale;
    s.zeroPoint = q.zeroPoint;
    rt::limvals(q.scale, q.zeroPoint, bits, s.limMin, s.limMax);
    std::vector<int32_t> want(x.data.size());
    for (size_t i = 0; i < x.data.size(); ++i) rt::quantizeFloat(&x.data[i], 1, s, &want[i]);
    EXPECT_EQ(got.data, want) << bits << " bits";
  }
}

}  // namespace
}  // namespace kiln::test
