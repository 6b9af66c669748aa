// Float emulation of a Kiln graph ("native" target): runs every layer in float32 with Eigen.
#pragma once

#include <functional>
#include <vector>

#include "compiler/emulator/float_kernels/float_buffer.h"
#include "compiler/ir/graph.h"

namespace kiln {

/// Runs a graph on one sample (the graph's own shapes, batch included). Inputs are given in the
/// user's layout (the ONNX input shape), outputs are returned in the ONNX output layout, both in
/// the order of the graph's input and output layers.
std::vector<FloatBuffer> runFloat(const Graph& g, const std::vector<FloatBuffer>& inputs);

/// Runs the graph and also returns every layer's output (index = layer id), for per-layer
/// comparisons and debugging.
std::vector<FloatBuffer> runFloatAllLayers(const Graph& g, const std::vector<FloatBuffer>& inputs);
/// The same into `all`, whose buffers from an earlier call on the same graph are reused (no fresh
/// pages per sample).
void runFloatAllLayers(const Graph& g, const std::vector<FloatBuffer>& inputs,
                       std::vector<FloatBuffer>& all);

/// Called after each layer with its id, the value before its fused activation (null when the
/// layer has none) and its output. Used by calibration.
using LayerObserver = std::function<void(int, const FloatBuffer*, const FloatBuffer&)>;

/// runFloat that reports every layer's values to `observer`.
std::vector<FloatBuffer> runFloatObserved(const Graph& g, const std::vector<FloatBuffer>& inputs,
                                          const LayerObserver& observer);

/// Runs one layer alone on float inputs (IR layout, one per layer input): the noise analysis
/// re-runs only the layers downstream of a changed tensor.
void runFloatLayer(const Layer& l, const std::vector<const FloatBuffer*>& inputs, FloatBuffer& out);

/// Transposes `in` by `perm` (out dim i = in dim perm[i]).
FloatBuffer transposeBuffer(const FloatBuffer& in, const std::vector<int64_t>& perm);

}  // namespace kiln
