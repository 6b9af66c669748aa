// Integer element-wise layers (two operands with broadcasting, and unary/per-channel affine).
#include "kernels/kernels.h"

#include <algorithm>

namespace kiln::rt {

namespace {

int64_t channelOf(const std::vector<int64_t>& idx, int64_t dim) {
  return dim < 0 ? 0 : idx[dim];
}

}  // namespace

void eltwise(const EltwiseParams& p, const int32_t* a, const int32_t* b, int32_t* out) {
  const size_t r = p.outShape.size();
  int64_t total = 1;
  for (int64_t d : p.outShape) total *= d;
  std::vector<int64_t> idx(r, 0);
  int64_t ia = 0, ib = 0;
  for (int64_t k = 0; k < total; ++k) {
    const int64_t x = int64_t(a[ia]) - p.zpA, y = int64_t(b[ib]) - p.zpB;
    const int64_t c = channelOf(idx, p.channelDim);
    int32_t v = 0;
    switch (p.op) {
      case EltwiseOp::Add:
        v = p.out.apply(x * p.multA + y * p.multB, c);
        break;
      case EltwiseOp::Sub:
        v = p.out.apply(x * p.multA - y * p.multB, c);
        break;
      case EltwiseOp::Mult:
        v = p.out.apply(x * y, c);
        break;
      case EltwiseOp::Max:
        v = p.out.apply(std::max(x * p.multA, y * p.multB), c);
        break;
      case EltwiseOp::Min:
        v = p.out.apply(std::min(x * p.multA, y * p.multB), c);
        break;
      case EltwiseOp::Equal:
        v = x * p.multA == y * p.multB ? p.equalOne : p.out.outZp;
        break;
      case EltwiseOp::Div: {
        // A zero divisor saturates toward the numerator's sign (the float result is ±inf).
        const int64_t num = x * p.multA;
        const int64_t q = y == 0 ? (num >= 0 ? (int64_t(1) << 40) : -(int64_t(1) << 40))
                                 : divRound(num, y * (int64_t(1) << p.divShift));
        v = p.out.apply(q, c);
        break;
      }
    }
    out[k] = v;
    for (int d = int(r) - 1; d >= 0; --d) {
      ia += p.strideA[d];
      ib += p.strideB[d];
      if (++idx[d] < p.outShape[d]) break;
      ia -= p.strideA[d] * p.outShape[d];
      ib -= p.strideB[d] * p.outShape[d];
      idx[d] = 0;
    }
  }
}

void unary(const UnaryParams& p, const int32_t* in, int32_t* out) {
  const size_t r = p.shape.size();
  int64_t total = 1, inner = 1, channels = 1;
  for (int64_t d : p.shape) total *= d;
  if (p.channelDim >= 0) {
    channels = p.shape[p.channelDim];
    for (size_t d = p.channelDim + 1; d < r; ++d) inner *= p.shape[d];
  }
  for (int64_t k = 0; k < total; ++k) {
    const int64_t c = p.channelDim >= 0 ? (k / inner) % channels : 0;
    int64_t acc = int64_t(in[k]) - p.inZp;
    if (p.scale) acc *= p.scale[c];
    if (p.bias) acc += p.bias[c];
    out[k] = p.out.apply(acc, c);
  }
}

}  // namespace kiln::rt
