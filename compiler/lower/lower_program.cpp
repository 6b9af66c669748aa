// Graph -> rt::Program. One operation per layer (input layers with a layout change add a
// transpose); the integer parameters come from the layer's qparams as prepared by the optimizer.
// The ints/consts layout of each opcode is documented beside its kernel in runtime/engine/ops_*.
#include "compiler/lower/lower_program.h"

#include <map>

#include "runtime/engine/host_convert.h"
#include "runtime/engine/op_kernel.h"
#include "runtime/kernels/kernels.h"

namespace kiln {

namespace {

using rt::ConstType;
using rt::OpCode;

class Lowering {
 public:
  explicit Lowering(const Graph& g) : g_(g) {}

  LoweredProgram run(const LowerOptions& opts);
  LoweredProgram runLayer(int id);

 private:
  const Graph& g_;
  LoweredProgram out_;
  std::vector<int> def_;

  rt::Program& prog() { return out_.owned.program; }

  uint32_t addTensor(const Shape& shape, int bits, int definingOp) {
    prog().tensors.push_back({shape, bits, 0});
    def_.push_back(definingOp);
    return uint32_t(prog().tensors.size() - 1);
  }
  uint32_t tensorOf(ValueRef v) const { return uint32_t(out_.layerTensor.at(v.layer)); }
  int32_t zpOf(ValueRef v) const {
    return int32_t(g_.at(v.layer).outputQuant.at(v.port).zeroPoint);
  }

  template <typename T>
  uint32_t addConst(ConstType t, const std::vector<int64_t>& v) {
    return out_.owned.addConst(t, std::vector<T>(v.begin(), v.end()));
  }
  uint32_t i64(const IntTensor& t) { return addConst<int64_t>(ConstType::I64, t.data); }
  uint32_t i32(const IntTensor& t) { return addConst<int32_t>(ConstType::I32, t.data); }
  uint32_t weights(const IntTensor& t) {
    if (t.bits <= 8) return addConst<int8_t>(ConstType::I8, t.data);
    if (t.bits <= 16) return addConst<int16_t>(ConstType::I16, t.data);
    return addConst<int32_t>(ConstType::I32, t.data);
  }

  // Appends the output stage (6 ints, 3 consts) of layer l.
  void stage(const Layer& l, rt::OpDesc& op) {
    auto misc = l.qparam("stage_misc").data;
    misc.resize(rt::kStageInts, 0);
    op.ints.insert(op.ints.end(), misc.begin(), misc.end());
    op.consts.push_back(i32(l.qparam("stage_mult")));
    op.consts.push_back(l.qparams.count("stage_mult_neg") ? i32(l.qparam("stage_mult_neg"))
                                                          : rt::kNoConst);
    op.consts.push_back(l.qparams.count("stage_lut") ? i32(l.qparam("stage_lut")) : rt::kNoConst);
  }
  void noStage(rt::OpDesc& op) {
    op.ints.insert(op.ints.end(), rt::kStageInts, 0);
    op.consts.insert(op.consts.end(), rt::kStageConsts, rt::kNoConst);
  }

  void emit(rt::OpDesc op, int layer, const Shape& outShape, int bits) {
    op.output = addTensor(outShape, bits, int(prog().ops.size()));
    prog().ops.push_back(std::move(op));
    out_.opLayer.push_back(layer);
  }

  void lowerLayer(int id);
  void geometry(const Layer& l, const std::vector<int64_t>& kernel, rt::OpDesc& op);
};

bool readsChannelsFirst(LayerType t) {
  return t == LayerType::Conv || t == LayerType::Dw || t == LayerType::Deconv ||
         t == LayerType::MaxPool || t == LayerType::AvgPool || t == LayerType::GlobalAvgPool;
}

// What the readers of a 4-D value say about its layout, looking through element-wise layers:
// 1 = channels first (a conv or pool reads it), 2 = channels last (a transpose to NCHW reads
// it), 0 = nothing.
int layoutHint(const Graph& g, int layer, int depth) {
  int hint = 0;
  for (int c : g.consumers({layer, 0})) {
    const Layer& u = g.at(c);
    int h = 0;
    if (readsChannelsFirst(u.type))
      h = 1;
    else if (u.type == LayerType::Transpose &&
             u.attrInts("perm") == std::vector<int64_t>{0, 3, 1, 2})
      h = 2;
    else if ((u.type == LayerType::Normalization || u.type == LayerType::Activation) && depth < 8)
      h = layoutHint(g, c, depth + 1);
    if (h != 0 && hint != 0 && h != hint) return 0;  // contradicting readers
    if (h != 0) hint = h;
  }
  return hint;
}

// The layout label of a 4-D stream: from the permutation between the user's layout and the IR
// (NCHW), else from the layers that read or write it; "" when nothing says.
std::string layoutOf(const Graph& g, int layer, const Shape& userShape,
                     const std::vector<int64_t>& permToIr) {
  if (userShape.size() != 4) return "";
  if (permToIr == std::vector<int64_t>{0, 3, 1, 2}) return "NHWC";
  if (!permToIr.empty() && permToIr != std::vector<int64_t>{0, 1, 2, 3}) return "";
  const Layer& l = g.at(layer);
  if (l.type == LayerType::OutputLayer)
    return readsChannelsFirst(g.at(l.inputs.at(0).layer).type) ? "NCHW" : "";
  const int hint = layoutHint(g, layer, 0);
  return hint == 1 ? "NCHW" : hint == 2 ? "NHWC" : "";
}

rt::StreamDesc streamOf(const Layer& l, uint32_t tensor, const Shape& shape,
                        const std::string& layout) {
  const QuantInfo& q = l.outputQuant.at(0);
  rt::StreamDesc s;
  s.name = l.attrString("onnx_name");
  s.tensor = tensor;
  s.shape = shape;
  s.layout = layout;
  s.bits = q.bits;
  s.scale = q.scale;
  s.zeroPoint = q.zeroPoint;
  rt::limvals(q.scale, q.zeroPoint, q.bits, s.limMin, s.limMax);
  return s;
}

void Lowering::geometry(const Layer& l, const std::vector<int64_t>& kernel, rt::OpDesc& op) {
  const auto& s = l.attrInts("strides");
  const auto d = l.attrInts("dilations", {1, 1});
  const auto& p = l.attrInts("pads");
  op.ints.insert(op.ints.end(),
                 {kernel[0], kernel[1], s[0], s[1], d[0], d[1], p[0], p[1], p[2], p[3]});
}

void Lowering::lowerLayer(int id) {
  const Layer& l = g_.at(id);
  const Shape& outShape = l.outputShapes.at(0);
  const int bits = l.outputQuant.at(0).bits;
  rt::OpDesc op;
  op.name = l.name;
  for (const ValueRef& v : l.inputs) op.inputs.push_back(tensorOf(v));
  auto finish = [&](OpCode code) {
    op.code = uint32_t(code);
    emit(std::move(op), id, outShape, bits);
    out_.layerTensor[size_t(id)] = int(prog().tensors.size() - 1);
  };
  if (isBinaryElementwise(l.type)) {
    static const std::map<LayerType, int64_t> kOps = {
        {LayerType::EwAdd, 0}, {LayerType::EwSub, 1}, {LayerType::EwMult, 2}, {LayerType::EwDiv, 3},
        {LayerType::EwMax, 4}, {LayerType::EwMin, 5}, {LayerType::EwEqual, 6}};
    int64_t multA = 1, multB = 1, equalOne = 1;
    if (l.qparams.count("operand_mult"))
      multA = l.qparam("operand_mult").data[0], multB = l.qparam("operand_mult").data[1];
    if (l.qparams.count("equal_one")) equalOne = l.qparam("equal_one").data[0];
    const rt::EltwiseParams defaults;
    op.ints = {kOps.at(l.type), zpOf(l.inputs[0]), zpOf(l.inputs[1]), multA,
               multB,           defaults.divShift, equalOne,          -1};
    stage(l, op);
    return finish(OpCode::Eltwise);
  }
  switch (l.type) {
    case LayerType::OutputLayer:
      if (l.hasAttr("perm")) {
        op.ints = l.attrInts("perm");
        Shape user;
        for (int64_t p : l.attrInts("perm")) user.push_back(g_.shapeOf(l.inputs[0])[size_t(p)]);
        op.code = uint32_t(OpCode::Transpose);
        emit(std::move(op), id, user, bits);
      } else {
        op.code = uint32_t(OpCode::Copy);
        emit(std::move(op), id, outShape, bits);
      }
      out_.layerTensor[size_t(id)] = int(prog().tensors.size() - 1);
      return;
    case LayerType::ConstInput:
      op.consts = {i32(l.qparam("value"))};
      return finish(OpCode::Const);
    case LayerType::Reshape:
      return finish(OpCode::Copy);
    case LayerType::Transpose:
      op.ints = l.attrInts("perm");
      return finish(OpCode::Transpose);
    case LayerType::Slice:
      op.ints = l.attrInts("starts");
      for (int64_t s : l.attrInts("steps")) op.ints.push_back(s);
      return finish(OpCode::Slice);
    case LayerType::Pad: {
      const std::string& m = l.attrString("mode");
      op.ints = {m == "reflect" ? 1 : m == "edge" ? 2 : 0, l.qparam("pad_value").data[0]};
      const auto& pads = l.attrInts("pads");
      op.ints.insert(op.ints.end(), pads.begin(), pads.begin() + int64_t(outShape.size()));
      return finish(OpCode::Pad);
    }
    case LayerType::Conv:
    case LayerType::Dw:
    case LayerType::Deconv: {
      const IntTensor& k = l.qparam("kernel");
      geometry(l, {k.shape[2], k.shape[3]}, op);
      op.ints.push_back(l.attrInt("group", 1));
      op.ints.push_back(zpOf(l.inputs[0]));
      op.consts = {weights(k), i64(l.qparam("bias"))};
      stage(l, op);
      return finish(l.type == LayerType::Deconv ? OpCode::Deconv : OpCode::Conv);
    }
    case LayerType::Fc: {
      const IntTensor& k = l.qparam("kernel");
      op.ints = {k.shape[0], k.shape[1], zpOf(l.inputs[0])};
      op.consts = {weights(k), i64(l.qparam("bias"))};
      stage(l, op);
      return finish(OpCode::Fc);
    }
    case LayerType::Normalization:
      op.ints = {1, zpOf(l.inputs[0])};
      op.consts = {i64(l.qparam("kernel")), i64(l.qparam("bias"))};
      stage(l, op);
      return finish(OpCode::Unary);
    case LayerType::Activation:
      op.ints = {-1, zpOf(l.inputs[0])};
      op.consts = {rt::kNoConst, rt::kNoConst};
      stage(l, op);
      return finish(OpCode::Unary);
    case LayerType::MaxPool:
    case LayerType::AvgPool: {
      geometry(l, l.attrInts("kernel"), op);
      const bool isMax = l.type == LayerType::MaxPool;
      op.ints.insert(op.ints.end(), {isMax ? 1 : 0, l.attrInt("count_include_pad", 0) != 0 ? 1 : 0,
                                     zpOf(l.inputs[0])});
      if (isMax)
        noStage(op);
      else
        stage(l, op);
      return finish(OpCode::Pool);
    }
    case LayerType::GlobalAvgPool:
      op.ints = {zpOf(l.inputs[0])};
      stage(l, op);
      return finish(OpCode::GlobalAvgPool);
    case LayerType::Concat:
      op.ints = {l.attrInt("axis")};
      for (const ValueRef& v : l.inputs) op.ints.push_back(zpOf(v));
      stage(l, op);
      return finish(OpCode::Concat);
    case LayerType::Resize: {
      op.ints = {rt::ResizeParams().weightBits, zpOf(l.inputs[0])};
      for (int64_t f : l.qparam("resize_interp").data) op.ints.push_back(f != 0 ? 1 : 0);
      op.consts = {i64(l.qparam("resize_i0")), i64(l.qparam("resize_i1")),
                   i64(l.qparam("resize_w1"))};
      stage(l, op);
      return finish(OpCode::Resize);
    }
    case LayerType::DepthToSpace:
      op.ints = {l.attrInt("blocksize"), l.attrString("mode", "DCR") == "CRD" ? 1 : 0};
      return finish(OpCode::DepthToSpace);
    case LayerType::SpaceToDepth:
      op.ints = {l.attrInt("blocksize")};
      return finish(OpCode::SpaceToDepth);
    case LayerType::MatMul:
      op.ints = {zpOf(l.inputs[0]), zpOf(l.inputs[1])};
      stage(l, op);
      return finish(OpCode::MatMul);
    case LayerType::ReduceMean:
    case LayerType::ReduceSum:
    case LayerType::ReduceMax: {
      const bool isMax = l.type == LayerType::ReduceMax;
      const Shape& in = g_.shapeOf(l.inputs[0]);
      op.ints = {isMax ? 1 : 0, zpOf(l.inputs[0])};
      std::vector<int64_t> reduced(in.size(), 0);
      for (int64_t a : l.attrInts("axes")) reduced[size_t(a)] = 1;
      op.ints.insert(op.ints.end(), reduced.begin(), reduced.end());
      if (isMax)
        noStage(op);
      else
        stage(l, op);
      return finish(OpCode::Reduce);
    }
    case LayerType::Softmax: {
      const Shape& s = g_.shapeOf(l.inputs[0]);
      const int64_t axis = l.attrInt("axis");
      const bool coerce = l.attrInt("coerce_2d", 0) != 0;
      int64_t outer = 1, len = 1, inner = 1;
      for (int64_t d = 0; d < int64_t(s.size()); ++d) {
        if (d < axis)
          outer *= s[size_t(d)];
        else if (d == axis || coerce)
          len *= s[size_t(d)];
        else
          inner *= s[size_t(d)];
      }
      op.ints = {outer, len, inner, l.outputQuant.at(0).qmax()};
      op.consts = {i32(l.qparam("softmax_exp"))};
      return finish(OpCode::Softmax);
    }
    case LayerType::LayerNormalization: {
      const Shape& s = g_.shapeOf(l.inputs[0]);
      int64_t len = 1;
      for (size_t d = size_t(l.attrInt("axis")); d < s.size(); ++d) len *= s[d];
      const auto& misc = l.qparam("layernorm_misc").data;
      op.ints = {len, zpOf(l.inputs[0]), misc[0], misc[1]};
      op.consts = {i64(l.qparam("kernel")), i64(l.qparam("bias"))};
      stage(l, op);
      return finish(OpCode::LayerNorm);
    }
    default:
      break;
  }
  throw Error("layer " + l.name + " (" + typeWord(l.type) + ") has no integer implementation");
}

LoweredProgram Lowering::run(const LowerOptions& opts) {
  for (const Layer& l : g_.layers)
    if (l.outputQuant.empty())
      throw Error("layer " + l.name + " is not quantized: run kiln optimize first");
  out_.layerTensor.assign(g_.layers.size(), -1);
  // Input streams: the user's layout; a transpose brings them to the IR layout.
  for (int id : g_.inputLayers()) {
    const Layer& l = g_.at(id);
    const Shape user = l.attrInts("user_shape");
    const std::vector<int64_t> perm =
        l.hasAttr("perm") ? l.attrInts("perm") : std::vector<int64_t>{};
    const uint32_t t = addTensor(user, l.outputQuant.at(0).bits, -1);
    prog().inputs.push_back(streamOf(l, t, user, layoutOf(g_, id, user, perm)));
    if (perm.empty()) {
      out_.layerTensor[size_t(id)] = int(t);
    } else {
      rt::OpDesc op;
      op.code = uint32_t(OpCode::Transpose);
      op.name = l.name;
      op.inputs = {t};
      op.ints = perm;
      emit(std::move(op), id, l.outputShapes.at(0), l.outputQuant.at(0).bits);
      out_.layerTensor[size_t(id)] = int(prog().tensors.size() - 1);
    }
  }
  for (size_t id = 0; id < g_.layers.size(); ++id)
    if (g_.layers[id].type != LayerType::InputLayer) lowerLayer(int(id));
  for (int id : g_.outputLayers()) {
    const Layer& l = g_.at(id);
    const uint32_t t = uint32_t(out_.layerTensor[size_t(id)]);
    std::vector<int64_t> toIr;  // the user layout's permutation back to the IR layout
    if (l.hasAttr("perm")) {
      const auto& p = l.attrInts("perm");
      toIr.assign(p.size(), 0);
      for (size_t i = 0; i < p.size(); ++i) toIr[size_t(p[i])] = int64_t(i);
    }
    const Shape& shape = prog().tensors[t].shape;
    prog().outputs.push_back(streamOf(l, t, shape, layoutOf(g_, id, shape, toIr)));
  }
  // Lifetimes, then the memory plan.
  const int end = int(prog().ops.size());
  std::vector<int> lastUse(prog().tensors.size(), -1);
  for (size_t i = 0; i < prog().ops.size(); ++i)
    for (uint32_t t : prog().ops[i].inputs) lastUse[t] = int(i);
  for (const auto& s : prog().outputs) lastUse[s.tensor] = end;
  if (opts.keepAll) std::fill(lastUse.begin(), lastUse.end(), end);
  prog().arenaElems = planMemory(prog().tensors, def_, lastUse);
  prog().contexts = {{0, uint32_t(prog().ops.size()), 0, 0}};
  return std::move(out_);
}

LoweredProgram Lowering::runLayer(int id) {
  const Layer& l = g_.at(id);
  if (l.outputQuant.empty())
    throw Error("layer " + l.name + " is not quantized: run kiln optimize first");
  out_.layerTensor.assign(g_.layers.size(), -1);
  for (const ValueRef& v : l.inputs)
    if (out_.layerTensor[size_t(v.layer)] < 0)
      out_.layerTensor[size_t(v.layer)] =
          int(addTensor(g_.shapeOf(v), g_.at(v.layer).outputQuant.at(size_t(v.port)).bits, -1));
  lowerLayer(id);
  std::vector<int> keep(prog().tensors.size(), int(prog().ops.size()));
  prog().arenaElems = planMemory(prog().tensors, def_, keep);
  return std::move(out_);
}

}  // namespace

LoweredProgram lowerProgram(const Graph& g, const LowerOptions& opts) {
  return Lowering(g).run(opts);
}

LoweredProgram lowerSingleLayer(const Graph& g, int layer) {
  return Lowering(g).runLayer(layer);
}

}  // namespace kiln
