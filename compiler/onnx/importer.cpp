// The import driver: graph inputs, cuts (start/end nodes), unsupported-operator reporting, the
// node loop with constant folding, outputs, then the import passes.
#include "compiler/onnx/importer.h"

#include <algorithm>
#include <set>
#include <sstream>

#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include "common/file_io.h"
#include "common/strings.h"
#include "compiler/ir/macs.h"
#include "compiler/onnx/attr_checks.h"
#include "compiler/onnx/node_context.h"
#include "compiler/passes/pipeline.h"

namespace kiln::onnx {

namespace {

int defaultOpset(const ::onnx::ModelProto& m) {
  for (const auto& o : m.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") return int(o.version());
  return 0;
}

std::string dimsText(const ::onnx::TypeProto& t) {
  std::string s = "[";
  const auto& dims = t.tensor_type().shape().dim();
  for (int i = 0; i < dims.size(); ++i) {
    if (i) s += ", ";
    if (dims[i].has_dim_value() && dims[i].dim_value() > 0)
      s += std::to_string(dims[i].dim_value());
    else
      s += dims[i].dim_param().empty() ? "?" : dims[i].dim_param();
  }
  return s + "]";
}

// The shape of a value from its TypeProto; empty optional when some dimension is not fixed.
bool fixedShape(const ::onnx::TypeProto& t, Shape& out) {
  if (!t.has_tensor_type() || !t.tensor_type().has_shape()) return false;
  out.clear();
  for (const auto& d : t.tensor_type().shape().dim()) {
    if (!d.has_dim_value() || d.dim_value() <= 0) return false;
    out.push_back(d.dim_value());
  }
  return true;
}

struct Cut {
  std::vector<int> activeNodes;      // node indices to import, in order
  std::vector<std::string> inputs;   // value names that become input layers
  std::vector<std::string> outputs;  // value names that become output layers
};

int nodeIndex(const ::onnx::GraphProto& g, const std::string& name) {
  for (int i = 0; i < g.node_size(); ++i)
    if (g.node(i).name() == name) return i;
  return -1;
}

Error unknownNode(const ::onnx::GraphProto& g, const std::string& name, const char* flag) {
  std::vector<std::string> names;
  for (const auto& n : g.node()) names.push_back(n.name());
  return Error(std::string(flag) + ": the model has no node named '" + name +
               "'. Closest node names: " + join(closestNames(names, name, 5), ", "));
}

Cut computeCut(const ::onnx::GraphProto& g, const std::set<std::string>& initializers,
               const ImportOptions& o) {
  Cut cut;
  // Outputs: the end nodes' outputs, or the graph's outputs.
  if (o.endNodes.empty()) {
    for (const auto& out : g.output()) cut.outputs.push_back(out.name());
  } else {
    for (const auto& n : o.endNodes) {
      const int i = nodeIndex(g, n);
      if (i < 0) throw unknownNode(g, n, "--end-node-names");
      for (const auto& out : g.node(i).output())
        if (!out.empty()) cut.outputs.push_back(out);
    }
  }
  // Inputs: the start nodes' non-constant inputs, or the graph's inputs.
  std::set<std::string> stopAt;
  std::set<int> startIdx;
  for (const auto& n : o.startNodes) {
    const int i = nodeIndex(g, n);
    if (i < 0) throw unknownNode(g, n, "--start-node-names");
    startIdx.insert(i);
  }
  std::map<std::string, int> producer;
  for (int i = 0; i < g.node_size(); ++i)
    for (const auto& out : g.node(i).output()) producer[out] = i;
  // Values produced by constant-only subgraphs are not inputs even when a start node reads them.
  std::set<std::string> constLike(initializers.begin(), initializers.end());
  for (const auto& n : g.node()) {
    bool allConst = true;
    for (const auto& in : n.input())
      if (!in.empty() && !constLike.count(in)) allConst = false;
    if (allConst)
      for (const auto& out : n.output()) constLike.insert(out);
  }
  for (int i : startIdx)
    for (const auto& in : g.node(i).input())
      if (!in.empty() && !constLike.count(in) && !stopAt.count(in)) {
        stopAt.insert(in);
        cut.inputs.push_back(in);
      }
  if (o.startNodes.empty())
    for (const auto& in : g.input())
      if (!initializers.count(in.name())) cut.inputs.push_back(in.name());
  // Backward closure from the outputs.
  std::set<int> active;
  std::vector<std::string> work = cut.outputs;
  std::set<std::string> seen;
  while (!work.empty()) {
    const std::string v = work.back();
    work.pop_back();
    if (!seen.insert(v).second || stopAt.count(v)) continue;
    auto it = producer.find(v);
    if (it == producer.end()) continue;
    if (!active.insert(it->second).second) continue;
    for (const auto& in : g.node(it->second).input())
      if (!in.empty()) work.push_back(in);
  }
  cut.activeNodes.assign(active.begin(), active.end());
  // Keep only the inputs something active reads (a graph input may be unused after a cut).
  std::set<std::string> read;
  for (int i : cut.activeNodes)
    for (const auto& in : g.node(i).input()) read.insert(in);
  for (const auto& out : cut.outputs) read.insert(out);
  std::vector<std::string> used;
  for (const auto& in : cut.inputs)
    if (read.count(in)) used.push_back(in);
  cut.inputs = used;
  return cut;
}

// Unsupported nodes among the active ones; fills the suggested end nodes.
std::vector<int> findUnsupported(const ::onnx::GraphProto& g, const Cut& cut) {
  std::vector<int> bad;
  for (int i : cut.activeNodes) {
    const auto& n = g.node(i);
    const bool stdDomain = n.domain().empty() || n.domain() == "ai.onnx";
    if (!stdDomain || !opTable().count(n.op_type())) bad.push_back(i);
  }
  return bad;
}

std::vector<std::string> suggestEndNodes(const ::onnx::GraphProto& g, const Cut& cut,
                                         const std::vector<int>& bad) {
  std::map<std::string, int> producer;
  for (int i = 0; i < g.node_size(); ++i)
    for (const auto& out : g.node(i).output()) producer[out] = i;
  // Nodes downstream of an unsupported node cannot stay.
  std::set<int> tainted(bad.begin(), bad.end());
  for (int i : cut.activeNodes) {
    for (const auto& in : g.node(i).input()) {
      auto it = producer.find(in);
      if (it != producer.end() && tainted.count(it->second)) tainted.insert(i);
    }
  }
  std::vector<std::string> ends;
  auto addEnd = [&](int i) {
    const std::string& n = g.node(i).name();
    if (std::find(ends.begin(), ends.end(), n) == ends.end()) ends.push_back(n);
  };
  for (int b : bad)
    for (const auto& in : g.node(b).input()) {
      auto it = producer.find(in);
      if (it != producer.end() && !tainted.count(it->second)) addEnd(it->second);
    }
  for (const auto& out : cut.outputs) {
    auto it = producer.find(out);
    if (it != producer.end() && !tainted.count(it->second)) addEnd(it->second);
  }
  return ends;
}

void addInputs(const ::onnx::ModelProto& model, const Cut& cut, const ImportOptions& o, Graph& g,
               std::map<std::string, ImportValue>& values) {
  const auto& graph = model.graph();
  std::map<std::string, const ::onnx::TypeProto*> types;
  for (const auto& v : graph.input()) types[v.name()] = &v.type();
  ::onnx::ModelProto inferred;
  if (!o.startNodes.empty()) {
    // Intermediate values become inputs: ask ONNX shape inference for their shapes.
    inferred = model;
    for (auto& in : *inferred.mutable_graph()->mutable_input()) {
      auto it = o.tensorShapes.find(in.name());
      if (it == o.tensorShapes.end()) continue;
      auto* shape = in.mutable_type()->mutable_tensor_type()->mutable_shape();
      shape->clear_dim();
      for (int64_t d : it->second) shape->add_dim()->set_dim_value(d);
    }
    try {
      ::onnx::shape_inference::InferShapes(inferred);
    } catch (const std::exception&) {
    }
    for (const auto& v : inferred.graph().value_info()) types[v.name()] = &v.type();
  }
  std::vector<std::string> dynamic;
  for (const auto& name : cut.inputs) {
    Shape shape;
    auto given = o.tensorShapes.find(name);
    const ::onnx::TypeProto* t = types.count(name) ? types[name] : nullptr;
    if (t && t->has_tensor_type()) {
      const int et = t->tensor_type().elem_type();
      if (et != ::onnx::TensorProto::FLOAT && et != 0)
        throw Error("input '" + name + "' has element type " + dtypeName(et) +
                    "; Kiln networks take float32 inputs (cut the graph after the conversion "
                    "with --start-node-names)");
    }
    if (given != o.tensorShapes.end()) {
      shape = given->second;
      if (t && t->tensor_type().has_shape() &&
          t->tensor_type().shape().dim_size() != int(shape.size()))
        throw Error("--tensor-shapes " + name + "=" + shapeStr(shape) + ": the model's input has " +
                    std::to_string(t->tensor_type().shape().dim_size()) + " dimensions " +
                    dimsText(*t));
      checkTensorShape("--tensor-shapes " + name, shape);
    } else if (!t || !fixedShape(*t, shape)) {
      dynamic.push_back("'" + name + "' " + (t ? dimsText(*t) : std::string("[unknown]")));
      continue;
    } else {
      checkTensorShape("input '" + name + "'", shape);
    }
    Layer l;
    l.type = LayerType::InputLayer;
    l.originalNames = {name};
    l.attrs["onnx_name"] = name;
    l.attrs["user_shape"] = shape;
    l.outputShapes = {shape};
    ImportValue v;
    v.ref = {g.add(std::move(l)), 0};
    values[name] = v;
  }
  for (const auto& [name, shape] : o.tensorShapes)
    if (std::find(cut.inputs.begin(), cut.inputs.end(), name) == cut.inputs.end())
      throw Error("--tensor-shapes names '" + name + "', which is not an input of the network (" +
                  join(cut.inputs, ", ") + ")");
  if (!dynamic.empty())
    throw Error("input " + join(dynamic, ", ") + (dynamic.size() > 1 ? " have" : " has") +
                " dynamic dimensions; Kiln compiles fixed shapes. Fix them with --tensor-shapes, "
                "e.g. --tensor-shapes " +
                cut.inputs.front() + "=[1,3,640,640]");
}

}  // namespace

std::pair<std::string, Shape> parseTensorShapeArg(const std::string& arg) {
  const size_t eq = arg.rfind('=');
  auto bad = [&]() {
    return Error("--tensor-shapes '" + arg + "': expected NAME=[d0,d1,...], e.g. x=[1,3,640,640]");
  };
  if (eq == std::string::npos || eq == 0) throw bad();
  std::string dims = arg.substr(eq + 1);
  if (dims.size() < 2 || dims.front() != '[' || dims.back() != ']') throw bad();
  dims = dims.substr(1, dims.size() - 2);
  Shape shape;
  std::stringstream ss(dims);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    // Say which dimension is wrong: -1 (dynamic) and 0 are what users try first.
    const bool digits = !item.empty() && item.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || item.size() > 9 || std::stoll(item) == 0)
      throw Error("--tensor-shapes '" + arg + "': dimension " + std::to_string(shape.size()) +
                  " is '" + item +
                  "'; expected a positive integer below 10^9 (every dimension fixed, e.g. " +
                  arg.substr(0, eq) + "=[1,3,640,640])");
    shape.push_back(std::stoll(item));
  }
  if (shape.empty()) throw bad();
  return {arg.substr(0, eq), shape};
}

std::vector<std::string> supportedOps() {
  std::vector<std::string> ops;
  for (const auto& [name, imp] : opTable()) ops.push_back(name);
  return ops;
}

bool requiresConstantInput(const std::string& opType, int index) {
  auto it = opTable().find(opType);
  return it != opTable().end() && it->second.constInputs(index);
}

Graph importModel(const ::onnx::ModelProto& original, const std::string& baseDir,
                  const ImportOptions& opts, ImportReport* report) {
  // Nodes without a name get "<OpType>_<index>", so messages and original_names can point at them.
  bool unnamed = false;
  for (const auto& n : original.graph().node()) unnamed |= n.name().empty();
  ::onnx::ModelProto named;
  if (unnamed) {
    named = original;
    for (int i = 0; i < named.graph().node_size(); ++i) {
      auto* n = named.mutable_graph()->mutable_node(i);
      if (n->name().empty()) n->set_name(n->op_type() + "_" + std::to_string(i));
    }
  }
  const ::onnx::ModelProto& model = unnamed ? named : original;
  ImportReport localReport;
  ImportReport& rep = report ? *report : localReport;
  const auto& og = model.graph();
  const int opset = defaultOpset(model);
  rep.onnxNodes = og.node_size();

  std::set<std::string> initNames;
  for (const auto& t : og.initializer()) initNames.insert(t.name());
  ImportOptions o = opts;
  checkModelNames(og);
  checkUtf8(o.netNameField.empty() ? "the network name" : o.netNameField, o.netName);
  if (og.output_size() == 0 && o.endNodes.empty())
    throw Error(
        "the graph has no outputs: expected at least one graph output (or "
        "--end-node-names), found none; there would be nothing to compute");
  Cut cut = computeCut(og, initNames, o);
  const std::vector<int> bad = findUnsupported(og, cut);
  if (!bad.empty()) {
    const std::vector<std::string> ends = suggestEndNodes(og, cut, bad);
    std::string list;
    for (int b : bad) {
      const auto& n = og.node(b);
      list += "\n  - node '" + n.name() + "': op " + (n.domain().empty() ? "" : n.domain() + ".") +
              n.op_type() + ", opset " + std::to_string(opset);
    }
    if (!o.acceptSuggestedCuts || ends.empty())
      throw Error("the model has " + std::to_string(bad.size()) +
                  " node(s) with operators Kiln cannot map:" + list +
                  "\nCut the graph before them and run the rest on the host:" +
                  (ends.empty() ? std::string(" no cut keeps any output.")
                                : "\n  --end-node-names " + join(ends, " ") +
                                      "\n(or add -y to apply this cut)"));
    o.endNodes = ends;
    rep.appliedEndNodes = ends;
    rep.notes.push_back("unsupported operators:" + list + "\napplied --end-node-names " +
                        join(ends, " "));
    cut = computeCut(og, initNames, o);
  }

  Graph g;
  g.name = o.netName;
  std::map<std::string, ImportValue> values;
  for (const auto& t : og.initializer()) {
    ImportValue v;
    v.isConst = true;
    v.constant = fromProto(t, baseDir, "'" + t.name() + "'");
    values[t.name()] = std::move(v);
  }
  addInputs(model, cut, o, g, values);

  for (int idx : cut.activeNodes) {
    const ::onnx::NodeProto& node = og.node(idx);
    NodeContext ctx(g, values, node, opset);
    for (int i = 0; i < ctx.numInputs(); ++i)
      if (ctx.hasInput(i) && !values.count(node.input(i)))
        throw ctx.error("input '" + node.input(i) + "' is not produced by any earlier node");
    try {
      if (foldNode(ctx)) {
        ++rep.foldedNodes;
        continue;
      }
      opTable().at(node.op_type()).import(ctx);
    } catch (const NodeError&) {
      throw;
    } catch (const Error& e) {
      throw ctx.error(e.what());  // say which node it was
    }
    for (int i = 0; i < ctx.numOutputs(); ++i)
      if (!node.output(i).empty() && !values.count(node.output(i)))
        throw ctx.error("Kiln does not produce output " + std::to_string(i) + " ('" +
                        node.output(i) + "') of this node");
  }

  std::set<std::string> outputsDone;
  for (const auto& name : cut.outputs) {
    if (!outputsDone.insert(name).second) continue;
    auto it = values.find(name);
    if (it == values.end()) throw Error("graph output '" + name + "' is not produced by any node");
    ValueRef ref = it->second.ref;
    if (it->second.isConst) {
      Layer c;
      c.type = LayerType::ConstInput;
      c.originalNames = {name};
      c.params["value"] = it->second.constant.toTensor();
      c.outputShapes = {it->second.constant.shape};
      ref = {g.add(std::move(c)), 0};
    }
    Layer l;
    l.type = LayerType::OutputLayer;
    l.originalNames = {name};
    l.attrs["onnx_name"] = name;
    l.inputs = {ref};
    l.outputShapes = {g.shapeOf(ref)};
    g.add(std::move(l));
  }
  if (o.runImportPasses) passes::runImportPipeline(g, &rep.notes);
  // MAC and parameter totals must stay countable (kiln parser and kiln info print them).
  int64_t macs = 0, params = 0;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    macs = checkedAdd(macs, layerMacs(g, g.layers[i]), "the network's MAC count");
    params = checkedAdd(params, g.paramCount(int(i)), "the network's parameter count");
  }
  return g;
}

Graph importFile(const std::string& path, const ImportOptions& opts, ImportReport* report) {
  const ::onnx::ModelProto model = loadModel(path);
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  ImportOptions o = opts;
  if (o.netName.empty()) {
    o.netName = files::stem(path);
    o.netNameField = "the network name (taken from the file name)";
  }
  try {
    return importModel(model, dir, o, report);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

}  // namespace kiln::onnx
