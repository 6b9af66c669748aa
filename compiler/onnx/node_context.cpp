#include "compiler/onnx/node_context.h"

#include <onnx/onnx_pb.h>

#include "compiler/onnx/attr_checks.h"

namespace kiln::onnx {

NodeContext::NodeContext(Graph& g, std::map<std::string, ImportValue>& values,
                         const ::onnx::NodeProto& node, int opset)
    : g_(g), values_(values), node_(node), opset_(opset) {}

const std::string& NodeContext::opType() const {
  return node_.op_type();
}
const std::string& NodeContext::name() const {
  return node_.name();
}
int NodeContext::numInputs() const {
  return node_.input_size();
}
bool NodeContext::hasInput(int i) const {
  return i < node_.input_size() && !node_.input(i).empty();
}
int NodeContext::numOutputs() const {
  return node_.output_size();
}

NodeError NodeContext::error(const std::string& what) const {
  return NodeError("node '" + node_.name() + "' (" + node_.op_type() + ", opset " +
                   std::to_string(opset_) + "): " + what);
}

const ImportValue& NodeContext::input(int i) const {
  if (!hasInput(i)) throw error("input " + std::to_string(i) + " is missing");
  auto it = values_.find(node_.input(i));
  if (it == values_.end())
    throw error("input '" + node_.input(i) + "' is not produced by any node");
  return it->second;
}

bool NodeContext::isConst(int i) const {
  return hasInput(i) && input(i).isConst;
}

const ConstTensor& NodeContext::constant(int i, const char* role) const {
  const ImportValue& v = input(i);
  if (!v.isConst)
    throw error("input " + std::to_string(i) + " (" + role + ", '" + node_.input(i) +
                "') must be a constant, but it is computed at run time; Kiln needs it fixed at "
                "compile time");
  return v.constant;
}

ValueRef NodeContext::value(int i) {
  const ImportValue& v = input(i);
  if (!v.isConst) return v.ref;
  // Materialise the constant as a const_input layer once, and remember it.
  if (v.constant.numel() > (int64_t(1) << 28)) throw error("constant input is too large");
  Layer l;
  l.type = LayerType::ConstInput;
  l.originalNames = {node_.input(i)};
  l.params["value"] = v.constant.toTensor();
  l.outputShapes = {v.constant.shape};
  const ValueRef ref{g_.add(std::move(l)), 0};
  ImportValue& stored = values_[node_.input(i)];
  stored.isConst = false;
  stored.ref = ref;
  stored.constant = ConstTensor();
  return ref;
}

Shape NodeContext::shape(int i) const {
  const ImportValue& v = input(i);
  return v.isConst ? v.constant.shape : g_.shapeOf(v.ref);
}

const ::onnx::AttributeProto* NodeContext::attr(const std::string& n) const {
  for (const auto& a : node_.attribute())
    if (a.name() == n) return &a;
  return nullptr;
}

namespace {
const char* attrTypeName(int t) {
  using A = ::onnx::AttributeProto;
  switch (t) {
    case A::FLOAT:
      return "a float";
    case A::INT:
      return "an integer";
    case A::STRING:
      return "a string";
    case A::TENSOR:
      return "a tensor";
    case A::GRAPH:
      return "a graph";
    case A::FLOATS:
      return "a list of floats";
    case A::INTS:
      return "a list of integers";
    case A::STRINGS:
      return "a list of strings";
    default:
      return "another type";
  }
}
}  // namespace

const ::onnx::AttributeProto* NodeContext::typedAttr(const std::string& n, int type) const {
  const auto* a = attr(n);
  // Old exporters leave the type UNDEFINED; the value fields decide then.
  if (a && a->type() != ::onnx::AttributeProto::UNDEFINED && a->type() != type)
    throw error("attribute '" + n + "': expected " + attrTypeName(type) + ", found " +
                attrTypeName(a->type()));
  return a;
}

bool NodeContext::hasAttr(const std::string& n) const {
  return attr(n) != nullptr;
}

int64_t NodeContext::attrInt(const std::string& n, int64_t dflt) const {
  const auto* a = typedAttr(n, ::onnx::AttributeProto::INT);
  return a ? a->i() : dflt;
}

double NodeContext::attrFloat(const std::string& n, double dflt) const {
  const auto* a = typedAttr(n, ::onnx::AttributeProto::FLOAT);
  return a ? double(a->f()) : dflt;
}

std::string NodeContext::attrString(const std::string& n, const std::string& dflt) const {
  const auto* a = typedAttr(n, ::onnx::AttributeProto::STRING);
  return a ? a->s() : dflt;
}

std::vector<int64_t> NodeContext::attrInts(const std::string& n,
                                           const std::vector<int64_t>& dflt) const {
  const auto* a = typedAttr(n, ::onnx::AttributeProto::INTS);
  if (!a) return dflt;
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

std::vector<double> NodeContext::attrFloats(const std::string& n,
                                            const std::vector<double>& dflt) const {
  const auto* a = typedAttr(n, ::onnx::AttributeProto::FLOATS);
  if (!a) return dflt;
  return std::vector<double>(a->floats().begin(), a->floats().end());
}

ConstTensor NodeContext::attrTensor(const std::string& n) const {
  const auto* a = attr(n);
  if (!a || !a->has_t()) throw error("attribute '" + n + "' is missing or not a tensor");
  return fromProto(a->t(), "", node_.name() + "." + n);
}

ValueRef NodeContext::addLayer(Layer l) {
  if (l.originalNames.empty()) l.originalNames = {node_.name()};
  std::vector<Shape> in;
  for (const ValueRef& v : l.inputs) in.push_back(g_.shapeOf(v));
  try {
    l.outputShapes = inferShapes(l, in);
  } catch (const Error& e) {
    throw error(e.what());
  }
  for (size_t k = 0; k < l.outputShapes.size(); ++k) {
    const Shape& s = l.outputShapes[k];
    std::string inputs;
    for (const Shape& i : in) inputs += (inputs.empty() ? "" : ", ") + shapeStr(i);
    // ONNX defines empty slices (and Concat drops empty inputs); anywhere else a 0-sized
    // dimension means the attributes do not fit the input (a window larger than the image…).
    const int64_t minDim = l.type == LayerType::Slice ? 0 : 1;
    for (int64_t d : s)
      if (d < minDim)
        throw error("the " + std::string(typeWord(l.type)) + " layer it becomes would have the " +
                    "empty output shape " + shapeStr(s) + " from input(s) " + inputs +
                    ": expected every output dimension >= " + std::to_string(minDim) +
                    " (check the attributes against the input shape)");
    try {
      checkTensorShape("output " + std::to_string(k), s, minDim);
    } catch (const Error& e) {
      throw error(e.what());
    }
  }
  return {g_.add(std::move(l)), 0};
}

void NodeContext::setOutput(int i, ValueRef v) {
  if (i >= node_.output_size() || node_.output(i).empty()) return;
  ImportValue iv;
  iv.ref = v;
  values_[node_.output(i)] = iv;
}

void NodeContext::setOutput(int i, ConstTensor c) {
  if (i >= node_.output_size() || node_.output(i).empty()) return;
  ImportValue iv;
  iv.isConst = true;
  iv.constant = std::move(c);
  values_[node_.output(i)] = std::move(iv);
}

int64_t normAxis(const NodeContext& ctx, int64_t axis, int64_t rank) {
  // ONNX accepts [-rank, rank-1]; a rank-0 input has no axis at all, and every caller indexes
  // the shape with the result, so a scalar is an error here rather than axis 0.
  if (rank < 1)
    throw ctx.error("axis " + std::to_string(axis) +
                    " given for a rank-0 (scalar) input: expected an input with at least one axis");
  if (axis < -rank || axis >= rank)
    throw ctx.error("axis " + std::to_string(axis) + " is out of range: expected an axis from " +
                    std::to_string(-rank) + " to " + std::to_string(rank - 1) + " for the rank-" +
                    std::to_string(rank) + " input");
  return axis < 0 ? axis + rank : axis;
}

const OpTable& opTable() {
  static const OpTable table = [] {
    OpTable t;
    registerConvOps(t);
    registerLinearOps(t);
    registerElementwiseOps(t);
    registerActivationOps(t);
    registerPoolOps(t);
    registerTensorOps(t);
    registerNormOps(t);
    registerFoldOps(t);
    return t;
  }();
  return table;
}

}  // namespace kiln::onnx
