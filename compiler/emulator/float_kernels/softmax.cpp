// softmax and layer_normalization in float (computed in double per row for stability).
#include <algorithm>
#include <cmath>

#include "compiler/emulator/float_kernels/kernels.h"

namespace kiln::float_kernels {

void softmax(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const FloatBuffer& x = *in[0];
  const int64_t axis = l.attrInt("axis");
  const bool coerce = l.attrInt("coerce_2d", 0) != 0;
  int64_t outer = 1, len = 1, inner = 1;
  for (int64_t d = 0; d < int64_t(x.shape.size()); ++d) {
    if (d < axis)
      outer *= x.shape[d];
    else if (d == axis || coerce)
      len *= x.shape[d];
    else
      inner *= x.shape[d];
  }
  out.data.resize(x.data.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float* src = x.data.data() + o * len * inner + i;
      float* dst = out.data.data() + o * len * inner + i;
      float mx = -INFINITY;
      for (int64_t k = 0; k < len; ++k) mx = std::max(mx, src[k * inner]);
      double sum = 0;
      for (int64_t k = 0; k < len; ++k) sum += std::exp(double(src[k * inner] - mx));
      for (int64_t k = 0; k < len; ++k)
        dst[k * inner] = float(std::exp(double(src[k * inner] - mx)) / sum);
    }
}

void layerNorm(const Layer& l, const Inputs& in, FloatBuffer& out) {
  const FloatBuffer& x = *in[0];
  const int64_t axis = l.attrInt("axis");
  const double eps = l.attrFloat("epsilon");
  const auto& scale = l.param("scale").data;
  const auto& bias = l.param("bias").data;
  int64_t len = 1;
  for (size_t d = axis; d < x.shape.size(); ++d) len *= x.shape[d];
  const int64_t rows = numel(x.shape) / len;
  out.data.resize(x.data.size());
  for (int64_t r = 0; r < rows; ++r) {
    const float* src = x.data.data() + r * len;
    float* dst = out.data.data() + r * len;
    double mean = 0, var = 0;
    for (int64_t k = 0; k < len; ++k) mean += src[k];
    mean /= double(len);
    for (int64_t k = 0; k < len; ++k) var += (src[k] - mean) * (src[k] - mean);
    var /= double(len);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t k = 0; k < len; ++k) dst[k] = float((src[k] - mean) * inv) * scale[k] + bias[k];
  }
}

}  // namespace kiln::float_kernels
