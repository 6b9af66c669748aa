// What an operator importer sees of one ONNX node: its inputs (constant or not), attributes, and
// helpers to add layers and bind outputs. Shared by the ops_*.cpp files.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "compiler/ir/graph.h"
#include "compiler/onnx/const_tensor.h"

#include <onnx/onnx_pb.h>

namespace onnx {
class NodeProto;
class AttributeProto;
}  // namespace onnx

namespace kiln::onnx {

/// A value of the ONNX graph during import: a constant, or the output of a Kiln layer.
struct ImportValue {
  bool isConst = false;
  ConstTensor constant;
  ValueRef ref;
};

/// An Error that already names its node (what NodeContext::error returns). The import loop
/// adds the node to any other Error raised while importing or folding it.
class NodeError : public Error {
 public:
  using Error::Error;
};

class NodeContext {
 public:
  NodeContext(Graph& g, std::map<std::string, ImportValue>& values, const ::onnx::NodeProto& node,
              int opset);

  const ::onnx::NodeProto& node() const { return node_; }
  int opset() const { return opset_; }
  const std::string& opType() const;
  const std::string& name() const;

  /// Number of inputs, counting empty (omitted optional) ones.
  int numInputs() const;
  /// Input i exists and is not an omitted optional input.
  bool hasInput(int i) const;
  bool isConst(int i) const;
  /// The constant at input i; an Error naming the node and `role` when it is not constant.
  const ConstTensor& constant(int i, const char* role) const;
  /// The runtime value at input i; a constant becomes a const_input layer.
  ValueRef value(int i);
  /// Shape of input i (constant or not).
  Shape shape(int i) const;
  int numOutputs() const;

  /// Attribute accessors: the value, or `dflt` when the node does not have the attribute. An
  /// Error when the attribute has another type (a float list where integers are expected…).
  /// Range checks are in attr_checks.h.
  bool hasAttr(const std::string& n) const;
  int64_t attrInt(const std::string& n, int64_t dflt) const;
  double attrFloat(const std::string& n, double dflt) const;
  std::string attrString(const std::string& n, const std::string& dflt) const;
  std::vector<int64_t> attrInts(const std::string& n, const std::vector<int64_t>& dflt) const;
  std::vector<double> attrFloats(const std::string& n, const std::vector<double>& dflt) const;
  /// The tensor attribute `n` (e.g. Constant's value).
  ConstTensor attrTensor(const std::string& n) const;

  /// Adds a layer made from this node (original name set, shapes inferred) and returns output 0.
  /// An Error when an output shape is empty or beyond Kiln's size limits.
  ValueRef addLayer(Layer l);
  /// Binds ONNX output i to a runtime value or a constant.
  void setOutput(int i, ValueRef v);
  void setOutput(int i, ConstTensor c);

  /// An Error that names the node: "node 'Conv_3' (Conv, opset 11): what".
  NodeError error(const std::string& what) const;
  Graph& graph() { return g_; }

 private:
  const ImportValue& input(int i) const;
  const ::onnx::AttributeProto* attr(const std::string& n) const;
  /// attr(n), checked to be of `type` (an ::onnx::AttributeProto_AttributeType).
  const ::onnx::AttributeProto* typedAttr(const std::string& n, int type) const;

  Graph& g_;
  std::map<std::string, ImportValue>& values_;
  const ::onnx::NodeProto& node_;
  int opset_;
};

/// An operator importer. `constInputs` tells which inputs must be constants.
struct OpImporter {
  std::function<void(NodeContext&)> import;
  std::function<bool(int)> constInputs = [](int) { return false; };
};

/// Registration: each ops_*.cpp adds its operators to the table.
using OpTable = std::map<std::string, OpImporter>;
void registerConvOps(OpTable& t);
void registerLinearOps(OpTable& t);
void registerElementwiseOps(OpTable& t);
void registerActivationOps(OpTable& t);
void registerPoolOps(OpTable& t);
void registerTensorOps(OpTable& t);
void registerNormOps(OpTable& t);
void registerFoldOps(OpTable& t);
const OpTable& opTable();

/// Constant folding: computes the outputs of `ctx`'s node when all inputs are constants and the
/// operator has an exact folder. Returns false when it does not fold.
bool foldNode(NodeContext& ctx);

/// Normalises a possibly negative axis for a tensor of `rank`; Error when out of range.
int64_t normAxis(const NodeContext& ctx, int64_t axis, int64_t rank);

}  // namespace kiln::onnx
