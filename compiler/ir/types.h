// Core value types of the Kiln IR: shapes, attributes, parameter tensors, activations, layer types.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "common/strings.h"

namespace kiln {

/// Errors the user can act on (bad input, unsupported model). The message is complete and says
/// what was expected and what was found; the CLI prints it as is.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Shape = std::vector<int64_t>;

/// Number of elements of a shape (1 for a scalar). Throws Error when the count does not fit in
/// int64 (a shape from a hostile model or archive).
int64_t numel(const Shape& s);

/// a * b and a + b, or an Error saying that `what` overflows 64-bit arithmetic (MAC and size
/// counts of absurd shapes).
int64_t checkedMul(int64_t a, int64_t b, const std::string& what);
int64_t checkedAdd(int64_t a, int64_t b, const std::string& what);

/// The layer types (see layer_types.def).
enum class LayerType {
#define KILN_LAYER(e, word, mn, mx, mac, props) e,
#include "compiler/ir/layer_types.def"
#undef KILN_LAYER
};
/// Kiln type word, e.g. "conv".
const char* typeWord(LayerType t);
/// Fewest inputs a layer of this type takes.
int minInputs(LayerType t);
/// Most inputs a layer of this type takes; -1 means any number.
int maxInputs(LayerType t);
/// Looks a type word up; returns false when unknown.
bool layerTypeFromWord(const std::string& word, LayerType& out);
/// Every layer type, in the order of layer_types.def.
std::vector<LayerType> allLayerTypes();

/// How a layer's work is counted (the MAC kind column of layer_types.def). The first kinds are
/// multiply-accumulates (layerMacs); the others count element operations (layerElementOps).
enum class MacKind {
  None,      ///< no arithmetic: input, output, constant, reshape
  Conv,      ///< output elements x kernel [Cout, Cin/g, kh, kw] window Cin/g * kh * kw
  Deconv,    ///< input elements x kernel [Cin, Cout/g, kh, kw] window Cout/g * kh * kw
  Fc,        ///< output elements x K of the kernel [K, N]
  MatMul,    ///< output elements x the shared dimension (the first input's last)
  Window,    ///< element operations: output elements x pooling window kh * kw
  InElems,   ///< element operations: one per input element (reductions, softmax, …)
  OutElems,  ///< element operations: one per output element
};
/// The MAC kind of a layer type.
MacKind macKind(LayerType t);
/// True for the layer types that multiply-accumulate (conv, dw, deconv, fc, matmul).
bool multipliesAccumulates(LayerType t);

/// True for the binary element-wise types: ew_add, ew_sub, ew_mult, ew_div, ew_max, ew_min,
/// ew_equal (NumPy broadcasting).
bool isBinaryElementwise(LayerType t);
/// True for the types that move or select values without changing them (output_layer, maxpool,
/// reshape, transpose, slice, pad, resize, reduce_max, depth_to_space, space_to_depth): their
/// output keeps the quantization of their first input exactly.
bool keepsInputQuantization(LayerType t);
/// True for the types with a `kernel` (weights) and a `bias` parameter: conv, dw, deconv, fc.
bool hasWeights(LayerType t);
/// True for the types that can apply a fused activation to their output.
bool canFuseActivation(LayerType t);
/// True for the types that have an integer implementation (a layer may still be refused for
/// its size; see quant::canQuantize).
bool isQuantizable(LayerType t);

/// Activation functions (see activation.def).
enum class ActKind {
#define KILN_ACT(e, name, formula) e,
#include "compiler/ir/activation.def"
#undef KILN_ACT
};
const char* actName(ActKind k);
bool actFromName(const std::string& name, ActKind& out);

/// An activation function with its scalar parameters; fused into a layer or standing alone in an
/// `activation` layer. PRelu's per-channel slopes live in the layer's `prelu_slope` parameter.
struct Activation {
  ActKind kind = ActKind::None;
  double alpha = 0;  // clip low, leaky/elu slope, hardsigmoid alpha, pow exponent
  double beta = 0;   // clip high, hardsigmoid beta
  bool operator==(const Activation& o) const {
    return kind == o.kind && alpha == o.alpha && beta == o.beta;
  }
};
/// Applies the activation to one value (PRelu takes its channel's slope).
float applyActivation(const Activation& a, float x, float preluSlope = 0.f);

/// A layer attribute value.
using AttrValue =
    std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;
using Attributes = std::map<std::string, AttrValue>;

/// A float32 parameter tensor (weights, biases, constants) owned by its layer.
struct Tensor {
  Shape shape;
  std::vector<float> data;
  int64_t numel() const { return kiln::numel(shape); }
};

/// Quantization of one tensor: real = (q - zeroPoint) * scale with q an unsigned integer of
/// `bits` bits (8 or 16). bits == 0 means the tensor is not quantized (a float archive).
struct QuantInfo {
  int bits = 0;
  double scale = 1.0;
  int64_t zeroPoint = 0;
  double min = 0, max = 0;  // the calibrated float range the parameters were derived from
  int64_t qmax() const { return (int64_t(1) << bits) - 1; }
  bool operator==(const QuantInfo& o) const {
    return bits == o.bits && scale == o.scale && zeroPoint == o.zeroPoint;
  }
};

/// An integer tensor prepared by the optimizer (quantized weights, biases, multipliers, tables).
/// Values are held as int64; `bits` and `isSigned` say how they are stored.
struct IntTensor {
  Shape shape;
  std::vector<int64_t> data;
  int bits = 32;
  bool isSigned = true;
  int64_t numel() const { return kiln::numel(shape); }
};

}  // namespace kiln
