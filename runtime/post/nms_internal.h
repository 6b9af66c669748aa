// What the NMS files share: a view of one output as cells x anchors x values, and the candidates
// the decoders produce.
#pragma once

#include <vector>

#include "runtime/post/nms.h"

namespace kiln::rt::nms {

/// One output seen by one decoder: H x W cells, A anchors per cell, P values per anchor. The
/// tensor is either a map ([1, A*P, H, W] NCHW or [1, H, W, A*P] NHWC: value (a, k) is channel
/// a*P + k) or rows ([1, N, K] or [N, K], K >= P: the decoder's cells start at row `rowOffset`,
/// row = rowOffset + cell*A + a, value k is column k), as the ONNX export concatenates them.
struct View {
  enum class Kind { Nchw, Nhwc, Rows } kind = Kind::Nchw;
  const float* data = nullptr;
  int64_t H = 0, W = 0, A = 1, P = 0, K = 0, rowOffset = 0;
  float at(int64_t cell, int64_t a, int64_t k) const {
    switch (kind) {
      case Kind::Nchw:
        return data[(a * P + k) * H * W + cell];
      case Kind::Nhwc:
        return data[cell * A * P + a * P + k];
      case Kind::Rows:
        return data[(rowOffset + cell * A + a) * K + k];
    }
    return 0;
  }
};

struct Views {
  View reg, cls;
};

/// The views of every decoder (data pointers from `outputs`); throws Error naming the decoder
/// when a shape does not fit the config.
std::vector<Views> layoutViews(const NmsConfig& c, const std::vector<NmsTensor>& outputs);

struct Candidate {
  float box[4];  // y_min, x_min, y_max, x_max, normalized
  float score;
  uint32_t cls;
  uint32_t order;  // decoding order: breaks score ties
};

/// Appends every decoded box with a class score >= the threshold, one candidate per class.
void decode(const NmsConfig& c, const std::vector<NmsTensor>& outputs, std::vector<Candidate>& out);

}  // namespace kiln::rt::nms
