// The float emulator's tensor value: a dense float32 tensor in row-major order.
#pragma once

#include <vector>

#include "compiler/ir/types.h"

namespace kiln {

/// A dense float32 tensor in row-major order.
struct FloatBuffer {
  Shape shape;
  std::vector<float> data;
};

}  // namespace kiln
