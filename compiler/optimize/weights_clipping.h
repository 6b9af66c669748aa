// weights_clipping: pre_quantization_optimization(weights_clipping, layers=..., mode=...,
// clipping_values=[lo, hi]) clips a layer's float weights before they are quantized, so that its
// per-channel weight scale (docs/arithmetic.md §2) follows the clipped range instead of a few
// outliers. The bounds become the layer's weights_clip_lo / weights_clip_hi attributes (one per
// output channel), which quant::clippedKernel applies wherever the weights are quantized.
#pragma once

#include <string>
#include <vector>

#include "compiler/ir/graph.h"
#include "compiler/quant/prepare.h"

namespace kiln::optimize {

/// How a statement clips: manual [lo, hi] (absolute), percentile [p_lo, p_hi] of the layer's
/// weight values, mmse (each output channel's bound minimises its weights' squared quantization
/// error, clipping plus rounding) or mmse_if4b (mmse for layers with 4-bit weights only).
enum class WeightsClipMode { Manual, Percentile, Mmse, MmseIf4b };

/// Sets the clipping of layer `l` (conv, dw, deconv or fc): Manual and Percentile bounds are fixed
/// now, from the weights as they are; Mmse and MmseIf4b are resolved by
/// resolveWeightsClipping once the weight bits are known. Returns a description for the report
/// ("conv3: weights clipped to [-1.8, 1.8]").
std::string setWeightsClipping(Layer& l, WeightsClipMode mode, double lo, double hi);

/// The mmse bounds of every layer the script asked for (after equalization, with the bits the
/// precision assigns); returns one line per layer for the log, e.g. "conv3: mmse clipping at
/// 0.91 of max|w| on average over 32 channel(s)".
std::vector<std::string> resolveWeightsClipping(Graph& g, const quant::PrepareOptions& precision);

/// The mmse bound of one channel: the t in {max|w| (1 - k/100), k = 0..80} whose grid
/// s = t / qmax gives the least sum of (w - s clamp(round(w / s), ±qmax))², the largest on ties.
double mmseClipBound(const float* w, size_t n, size_t stride, int64_t qmax);

}  // namespace kiln::optimize
