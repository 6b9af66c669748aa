// Float kernels: one function per layer family, over FloatBuffers. The activation fused into a
// layer is applied by the executor afterwards (applyFusedActivation).
#pragma once

#include "emulator/float_executor.h"

namespace kiln::floatk {

using Inputs = std::vector<const FloatBuffer*>;

void conv(const Layer& l, const Inputs& in, FloatBuffer& out);          // conv, dw
void deconv(const Layer& l, const Inputs& in, FloatBuffer& out);
void fc(const Layer& l, const Inputs& in, FloatBuffer& out);
void matmul(const Layer& l, const Inputs& in, FloatBuffer& out);
void elementwise(const Layer& l, const Inputs& in, FloatBuffer& out);   // ew_*
void normalization(const Layer& l, const Inputs& in, FloatBuffer& out);
void pool(const Layer& l, const Inputs& in, FloatBuffer& out);          // maxpool, avgpool
void globalAvgPool(const Layer& l, const Inputs& in, FloatBuffer& out);
void reduce(const Layer& l, const Inputs& in, FloatBuffer& out);        // reduce_*
void concat(const Layer& l, const Inputs& in, FloatBuffer& out);
void slice(const Layer& l, const Inputs& in, FloatBuffer& out);
void pad(const Layer& l, const Inputs& in, FloatBuffer& out);
void resize(const Layer& l, const Inputs& in, FloatBuffer& out);
void softmax(const Layer& l, const Inputs& in, FloatBuffer& out);
void layerNorm(const Layer& l, const Inputs& in, FloatBuffer& out);
void depthToSpace(const Layer& l, const Inputs& in, FloatBuffer& out);
void spaceToDepth(const Layer& l, const Inputs& in, FloatBuffer& out);

/// Applies l.activation in place (PRelu slopes broadcast from the prelu_slope parameter).
void applyFusedActivation(const Layer& l, FloatBuffer& buf);

/// For broadcasting: the strides of `s` seen from an output of rank `rank` (0 on broadcast dims).
std::vector<int64_t> broadcastStrides(const Shape& s, size_t rank, const Shape& out);

}  // namespace kiln::floatk
