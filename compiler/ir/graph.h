// The Kiln IR: a graph of layers in topological order.
//
// Ownership: the Graph owns its layers (a vector, index = layer id); a layer owns its attributes
// and parameter tensors. An edge is a small value, ValueRef {producer layer, output port}; the
// archive and executables store these indices, never pointers. Tensors use the ONNX model's own
// layout (NCHW for images); an input layer may transpose the user's layout (NHWC) on the way in,
// and an output layer on the way out.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "compiler/ir/types.h"

namespace kiln {

/// One output of one layer.
struct ValueRef {
  int layer = -1;
  int port = 0;
  bool operator==(const ValueRef& o) const { return layer == o.layer && port == o.port; }
  bool operator!=(const ValueRef& o) const { return !(*this == o); }
  bool operator<(const ValueRef& o) const {
    return layer < o.layer || (layer == o.layer && port < o.port);
  }
};

/// A layer of the network.
struct Layer {
  std::string name;  // Kiln name: conv1, dw3, ew_add2 …
  LayerType type = LayerType::Activation;
  std::vector<std::string> originalNames;  // ONNX node names it came from
  std::vector<ValueRef> inputs;
  std::vector<Shape> outputShapes;  // one per output port
  Attributes attrs;
  Activation activation;                 // fused activation (None when absent)
  std::map<std::string, Tensor> params;  // float parameters by role: kernel, bias, …
  bool dead = false;                     // marked by passes; removed by Graph::compact()

  // Set by `kiln optimize` (empty in a parsed archive):
  std::vector<QuantInfo> outputQuant;        // one per output port
  std::string precision;                     // a8_w8, a16_w16, a8_w4 …
  std::string precisionSource;               // "default" or "model.alls:3"
  std::map<std::string, IntTensor> qparams;  // integer parameters by role

  bool hasAttr(const std::string& k) const { return attrs.count(k) != 0; }
  int64_t attrInt(const std::string& k) const;
  int64_t attrInt(const std::string& k, int64_t dflt) const;
  double attrFloat(const std::string& k) const;
  double attrFloat(const std::string& k, double dflt) const;
  const std::string& attrString(const std::string& k) const;
  std::string attrString(const std::string& k, const std::string& dflt) const;
  const std::vector<int64_t>& attrInts(const std::string& k) const;
  std::vector<int64_t> attrInts(const std::string& k, const std::vector<int64_t>& dflt) const;
  const std::vector<double>& attrFloats(const std::string& k) const;
  const Tensor& param(const std::string& role) const;
  bool hasParam(const std::string& role) const { return params.count(role) != 0; }
  const IntTensor& qparam(const std::string& role) const;
};

/// A network: layers in topological order. Inputs and outputs are the input_layer and
/// output_layer layers, in the order of the ONNX model's graph inputs and outputs.
class Graph {
 public:
  std::string name;
  std::vector<Layer> layers;

  /// Appends a layer and returns its id.
  int add(Layer l);
  Layer& at(int id) { return layers.at(id); }
  const Layer& at(int id) const { return layers.at(id); }
  const Shape& shapeOf(ValueRef v) const { return layers.at(v.layer).outputShapes.at(v.port); }

  std::vector<int> inputLayers() const;
  std::vector<int> outputLayers() const;
  /// The layers that read value v (a layer reading it twice appears twice).
  std::vector<int> consumers(ValueRef v) const;
  /// Number of reads of v.
  int useCount(ValueRef v) const;
  /// Redirects every read of `from` to `to`.
  void replaceAllUses(ValueRef from, ValueRef to);
  /// Removes dead layers and layers whose outputs nobody reads (except outputs), renumbering refs.
  void compact();
  /// Index of the layer with that Kiln name, or -1.
  int find(const std::string& name) const;
  /// Total parameter count of one layer (its MACs: layerMacs in macs.h).
  int64_t paramCount(int id) const;
};

/// Computes the output shapes of a layer from its input shapes and attributes. Throws Error when
/// the attributes do not fit the inputs.
std::vector<Shape> inferShapes(const Layer& l, const std::vector<Shape>& inputShapes);

/// Recomputes every layer's output shapes in order (after a pass changed attributes).
void reinferShapes(Graph& g);

/// Gives layers their Kiln names: type word + per-type counter, 1-based, in topological order.
void assignNames(Graph& g);

/// A text dump of the graph, one layer a line (for debugging passes and golden tests).
std::string dump(const Graph& g);

/// Broadcast shape of two shapes under NumPy rules; throws Error if incompatible.
Shape broadcastShapes(const Shape& a, const Shape& b);

/// Element strides of a tensor of shape `s` read as the broadcast shape `out` (right-aligned):
/// 0 on the dimensions it is broadcast along.
std::vector<int64_t> broadcastStrides(const Shape& s, const Shape& out);

}  // namespace kiln
