// Prepare: from calibration statistics and per-layer precision, compute every tensor's
// quantization (QuantInfo) and every layer's integer parameters (weights, biases, multipliers,
// clamps, tables). After it, the quantized graph runs on integers alone.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"
#include "compiler/quant/calibration_stats.h"
#include "compiler/quant/precision.h"

namespace kiln::quant {

struct PrepareOptions {
  std::map<int, LayerPrecision> precision;  // by layer id; absent = a8_w8 "default"
  bool output16 = false;                    // globals output_16bit: outputs in 16 bits
};

/// True when Kiln can quantize this layer: its type has an integer implementation
/// (isQuantizable, the kQuant column of layer_types.def) and the layer is within that
/// implementation's size limits.
bool canQuantize(const Layer& l);

/// True for the layers whose output is camera pixels, fixed at scale 1, zero point 0 (the values
/// 0..255 themselves) rather than calibrated: color_conversion, and an input layer that takes a
/// raw camera format (attribute raw_format, set by the script's input_conversion).
bool hasFixedPixelQuant(const Layer& l);

/// Bit width of every layer's output: the producer's output bits, raised to what any consumer
/// needs as input (16-bit is never narrowed), equal on both sides of a quantization-keeping layer.
std::vector<int> assignBits(const Graph& g, const PrepareOptions& opts);

/// Quantizes the graph in place. Throws Error listing every layer Kiln cannot quantize.
void prepareQuantization(Graph& g, const CalibStats& stats, const PrepareOptions& opts);

// Per-family preparation (prepare_*.cpp). `in` are the input tensors' quantizations.
void prepareLinear(Layer& l, const std::vector<QuantInfo>& in, const CalibStats& s, int id,
                   int weightBits);
/// The unit of a linear layer's accumulator per output channel, s_x * s_w[c] (as prepareLinear
/// sets it): the unit of its integer bias.
std::vector<double> linearAccScale(const Layer& l, double inScale, int weightBits);
/// weights_clipping: a conv, dw, deconv or fc layer with the attributes weights_clip_lo and
/// weights_clip_hi (one bound per output channel, set by kiln optimize) has its weights clipped
/// to them before they are quantized: the channel's scale is its largest clipped magnitude. The
/// kernel's values as they are quantized: clipped when the layer has those bounds.
std::vector<float> clippedKernel(const Layer& l);
/// The output channel of each element of a conv, dw, deconv, fc or normalization kernel.
std::vector<int64_t> weightChannels(const Layer& l, const Tensor& k);

/// For conv, dw, deconv and fc layers already prepared: a copy of `l` whose float kernel and bias
/// are its integer ones dequantized (weight rounding and bias correction included), so that it
/// runs in float as its integer version does before the output rounding. `inScale` is its input's
/// scale. Other layers are returned unchanged.
Layer withDequantizedWeights(const Layer& l, double inScale);
void prepareEltwise(Layer& l, const std::vector<QuantInfo>& in, const CalibStats& s, int id);
void prepareOther(Layer& l, const std::vector<QuantInfo>& in, const Graph& g, const CalibStats& s,
                  int id);

/// softmax (exponential table; the output quantization is fixed to [0, 1]) and
/// layer_normalization (epsilon, per-element gamma/beta, output stage).
void prepareNorm(Layer& l, const std::vector<QuantInfo>& in, const Graph& g, const CalibStats& s,
                 int id, int weightBits);

/// Softmax exponential table precision: entries round(exp(-d s_in) 2^kSoftmaxExpBits).
constexpr int kSoftmaxExpBits = 30;
/// Layer normalization: the normalized value's unit is 2^-kLayerNormBits.
constexpr int kLayerNormBits = 20;
/// Layer normalization rows longer than this are refused (the integer variance would overflow).
constexpr int64_t kLayerNormMaxLen = int64_t(1) << 14;

/// Fills the output stage parameters of a layer whose accumulator unit is worth accScale[c]
/// (qparams stage_mult, stage_mult_neg, stage_lut, stage_misc).
void prepareStage(Layer& l, const std::vector<double>& accScale, const Range& pre);

}  // namespace kiln::quant
