#include "compiler/quant/quant_math.h"

#include "common/strings.h"

#include <cmath>
#include <cstdio>
#include <string>

namespace kiln::quant {

rt::Multiplier quantizeMultiplier(double real) {
  if (real == 0) return {0, 0};
  if (!std::isfinite(real) || real < 0 || real >= 2147483648.0)
    throw Error("the rescaling factor " + shortNumber(real) +
                " between its input and output scales is out of range (0 to 2^31)");
  int exp = 0;
  const double frac = std::frexp(real, &exp);  // real = frac * 2^exp, frac in [0.5, 1)
  int64_t m = std::llround(frac * 2147483648.0);
  if (m == (int64_t(1) << 31)) {
    m /= 2;
    ++exp;
  }
  int shift = 31 - exp;
  if (shift > 62) return {0, 0};  // below 2^-32: the result always rounds to 0
  if (shift < 0)
    throw Error("the rescaling factor " + shortNumber(real) +
                " between its input and output scales is too large");
  return {int32_t(m), shift};
}

QuantInfo quantFromRange(double min, double max, int bits) {
  QuantInfo q;
  q.bits = bits;
  q.min = std::min(min, 0.0);
  q.max = std::max(max, 0.0);
  if (!std::isfinite(q.min) || !std::isfinite(q.max))
    throw Error("non-finite range [" + shortNumber(min) + ", " + shortNumber(max) + "]");
  const double qmax = double(q.qmax());
  q.scale = (q.max - q.min) / qmax;
  if (!(q.scale > 0)) q.scale = 1.0 / qmax;  // a constant-zero tensor
  q.zeroPoint = std::llround(-q.min / q.scale);
  q.zeroPoint = std::max<int64_t>(0, std::min<int64_t>(q.qmax(), q.zeroPoint));
  return q;
}

int64_t quantizeValue(double x, const QuantInfo& q) {
  const double v = std::round(x / q.scale) + double(q.zeroPoint);
  if (!(v > 0)) return 0;
  return v > double(q.qmax()) ? q.qmax() : int64_t(v);
}

double dequantizeValue(int64_t v, const QuantInfo& q) {
  return double(v - q.zeroPoint) * q.scale;
}

int64_t weightQmax(int bits) {
  return (int64_t(1) << (bits - 1)) - 1;
}

}  // namespace kiln::quant
