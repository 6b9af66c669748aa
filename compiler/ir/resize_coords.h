// ONNX Resize coordinate rules, shared by the float emulator and the optimizer's integer tables,
// so both pick the same source positions.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

namespace kiln {

/// The source coordinate of output index `o` along one dimension (ONNX
/// coordinate_transformation_mode; `scale` is the scale the model gave, or out/in).
inline double resizeSourceCoord(const std::string& ctm, int64_t o, double scale, int64_t inLen,
                                int64_t outLen) {
  if (ctm == "align_corners") {
    // ONNX (reference and onnxruntime) take the resized length as inLen * scale, unrounded.
    const double lenResized = double(inLen) * scale;
    return lenResized <= 1.0 ? 0.0 : double(o) * double(inLen - 1) / (lenResized - 1.0);
  }
  if (ctm == "tf_half_pixel_for_nn") return (double(o) + 0.5) / scale;
  if (ctm == "asymmetric") return double(o) / scale;
  if (ctm == "pytorch_half_pixel") return outLen > 1 ? (double(o) + 0.5) / scale - 0.5 : 0.0;
  if (ctm == "half_pixel_symmetric") {
    const double adj = double(outLen) / (scale * double(inLen));
    const double center = double(inLen) / 2.0, offset = center * (1 - adj);
    return offset + (double(o) + 0.5) / scale - 0.5;
  }
  return (double(o) + 0.5) / scale - 0.5;  // half_pixel
}

/// The nearest source index for a coordinate (ONNX nearest_mode), before clamping.
inline int64_t resizeNearestIndex(const std::string& mode, double x) {
  if (mode == "floor") return int64_t(std::floor(x));
  if (mode == "ceil") return int64_t(std::ceil(x));
  const double f = std::floor(x);
  if (x - f == 0.5) return int64_t(mode == "round_prefer_ceil" ? f + 1 : f);
  return int64_t(std::round(x));
}

}  // namespace kiln
