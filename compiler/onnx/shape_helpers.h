// Shape rules shared by the constant folder and the layer importers (Reshape, Slice, Squeeze…),
// so that a folded constant and an imported layer always agree.
#pragma once

#include "compiler/onnx/node_context.h"

namespace kiln::onnx {

/// Reshape's target shape with 0 (copy) and -1 (infer) resolved.
Shape resolveReshape(const NodeContext& ctx, const Shape& in, const std::vector<int64_t>& spec,
                     bool allowZero);
/// Flatten to 2-D at `axis`.
Shape flattenShape(const NodeContext& ctx, const Shape& in, int64_t axis);
/// Unsqueeze / Squeeze result shapes (axes may be negative; empty squeeze axes = all 1-dims).
Shape unsqueezeShape(const NodeContext& ctx, const Shape& in, std::vector<int64_t> axes);
Shape squeezeShape(const NodeContext& ctx, const Shape& in, std::vector<int64_t> axes);

/// A slice normalised to one (start, end, step) per dimension, clamped like ONNX does.
struct SliceSpec {
  std::vector<int64_t> starts, ends, steps;
};
/// Reads Slice's starts/ends/axes/steps (attributes before opset 10, inputs after).
SliceSpec readSlice(const NodeContext& ctx, const Shape& in);

/// Axes from an attribute (before `inputSince`) or the constant input `inputIndex` (from it);
/// `present` tells whether any axes were given.
std::vector<int64_t> readAxes(const NodeContext& ctx, int inputIndex, int inputSince,
                              bool* present = nullptr);

/// Split's output sizes along `axis` (attribute before opset 13, input after, or equal parts).
std::vector<int64_t> splitSizes(const NodeContext& ctx, const Shape& in, int64_t axis);

/// Row-major strides of a shape.
std::vector<int64_t> stridesOf(const Shape& s);

}  // namespace kiln::onnx

namespace kiln::onnx {

/// A layer of type t reading `inputs` (helper for the importers).
Layer makeLayer(LayerType t, std::vector<ValueRef> inputs);

/// Begin/end pads (t, l, b, r) for a 2-D window op from `pads` / `auto_pad`.
std::vector<int64_t> windowPads(const NodeContext& ctx, const Shape& in,
                                const std::vector<int64_t>& kernel,
                                const std::vector<int64_t>& strides,
                                const std::vector<int64_t>& dilations);

/// Fails unless the input is a 4-D NCHW tensor (2-D spatial ops).
void require4d(const NodeContext& ctx, const Shape& in);

}  // namespace kiln::onnx
