// Graph -> rt::Program. One operation per layer (input layers with a layout change add a
// transpose); the integer parameters come from the layer's qparams as prepared by the optimizer.
// Fields are written by name (rt::OpWriter, ops::X::field): their positions come from the table
// in runtime/engine/ops.def, the one the runtime reads them with.
#include "compiler/lower/lower_program.h"

#include <cctype>
#include <map>

#include "common/yuv.h"
#include "runtime/engine/host_convert.h"
#include "runtime/engine/op_table.h"
#include "runtime/kernels/kernels.h"

namespace kiln {

namespace {

using rt::ConstType;
using rt::OpCode;
using rt::OpWriter;
namespace ops = rt::ops;

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

  // Writes the output stage of layer l (its constants are added after the operation's own).
  void stage(const Layer& l, OpWriter& w) {
    auto misc = l.qparam("stage_misc").data;
    misc.resize(rt::kStageInts, 0);
    const uint32_t mult = i32(l.qparam("stage_mult"));
    const uint32_t neg =
        l.qparams.count("stage_mult_neg") ? i32(l.qparam("stage_mult_neg")) : rt::kNoConst;
    const uint32_t lut = l.qparams.count("stage_lut") ? i32(l.qparam("stage_lut")) : rt::kNoConst;
    w.setStage(misc, mult, neg, lut);
  }

  void emit(rt::OpDesc op, int layer, const Shape& outShape, int bits) {
    op.output = addTensor(outShape, bits, int(prog().ops.size()));
    prog().ops.push_back(std::move(op));
    out_.opLayer.push_back(layer);
  }

  void lowerLayer(int id);
  template <class Op>
  void geometry(const Layer& l, const std::vector<int64_t>& kernel, OpWriter& w);
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

std::string upper(std::string s) {
  for (char& ch : s) ch = char(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

// The layout label of a 4-D stream: from the permutation between the user's layout and the IR
// (NCHW), else from the layers that read or write it; "" when nothing says.
std::string layoutOf(const Graph& g, int layer, const Shape& userShape,
                     const std::vector<int64_t>& permToIr) {
  if (userShape.size() != 4) return "";
  // A raw camera frame: its format is its layout (YUY2, NV12, ...; docs/runtime.md).
  yuv::Format camera;
  if (yuv::parseFormat(g.at(layer).attrString("raw_format", ""), camera))
    return upper(yuv::formatName(camera));
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

// The window fields conv, deconv and pool share.
template <class Op>
void Lowering::geometry(const Layer& l, const std::vector<int64_t>& kernel, OpWriter& w) {
  const auto& s = l.attrInts("strides");
  const auto d = l.attrInts("dilations", {1, 1});
  const auto& p = l.attrInts("pads");
  w.set(Op::kernel_h, kernel[0]).set(Op::kernel_w, kernel[1]);
  w.set(Op::stride_h, s[0]).set(Op::stride_w, s[1]);
  w.set(Op::dilation_h, d[0]).set(Op::dilation_w, d[1]);
  w.set(Op::pad_top, p[0]).set(Op::pad_left, p[1]).set(Op::pad_bottom, p[2]);
  w.set(Op::pad_right, p[3]);
}

void Lowering::lowerLayer(int id) {
  const Layer& l = g_.at(id);
  const Shape& outShape = l.outputShapes.at(0);
  const int bits = l.outputQuant.at(0).bits;
  rt::OpDesc op;
  op.name = l.name;
  for (const ValueRef& v : l.inputs) op.inputs.push_back(tensorOf(v));
  // The operation's code and fields are set through an OpWriter; finish emits it.
  auto finish = [&]() {
    emit(std::move(op), id, outShape, bits);
    out_.layerTensor[size_t(id)] = int(prog().tensors.size() - 1);
  };
  const size_t rank = l.inputs.empty() ? 0 : g_.shapeOf(l.inputs[0]).size();
  if (isBinaryElementwise(l.type)) {
    using F = ops::Eltwise;
    static const std::map<LayerType, rt::EltwiseOp> kOps = {
        {LayerType::EwAdd, rt::EltwiseOp::Add},    {LayerType::EwSub, rt::EltwiseOp::Sub},
        {LayerType::EwMult, rt::EltwiseOp::Mult},  {LayerType::EwDiv, rt::EltwiseOp::Div},
        {LayerType::EwMax, rt::EltwiseOp::Max},    {LayerType::EwMin, rt::EltwiseOp::Min},
        {LayerType::EwEqual, rt::EltwiseOp::Equal}};
    int64_t multA = 1, multB = 1, equalOne = 1;
    if (l.qparams.count("operand_mult"))
      multA = l.qparam("operand_mult").data[0], multB = l.qparam("operand_mult").data[1];
    if (l.qparams.count("equal_one")) equalOne = l.qparam("equal_one").data[0];
    OpWriter w(op, OpCode::Eltwise);
    w.set(F::op, int64_t(kOps.at(l.type)));
    w.set(F::zp_a, zpOf(l.inputs[0])).set(F::zp_b, zpOf(l.inputs[1]));
    w.set(F::mult_a, multA).set(F::mult_b, multB);
    w.set(F::div_shift, rt::EltwiseParams().divShift).set(F::equal_one, equalOne);
    w.set(F::channel_dim, -1);
    stage(l, w);
    return finish();
  }
  switch (l.type) {
    case LayerType::OutputLayer:
      if (l.hasAttr("perm")) {
        OpWriter(op, OpCode::Transpose, rank).setArray(ops::Transpose::perm, l.attrInts("perm"));
        Shape user;
        for (int64_t p : l.attrInts("perm")) user.push_back(g_.shapeOf(l.inputs[0])[size_t(p)]);
        emit(std::move(op), id, user, bits);
      } else {
        OpWriter(op, OpCode::Copy);
        emit(std::move(op), id, outShape, bits);
      }
      out_.layerTensor[size_t(id)] = int(prog().tensors.size() - 1);
      return;
    case LayerType::ConstInput:
      OpWriter(op, OpCode::Const).setConst(ops::Const::value, i32(l.qparam("value")));
      return finish();
    case LayerType::Reshape:
      OpWriter(op, OpCode::Copy);
      return finish();
    case LayerType::Transpose:
      OpWriter(op, OpCode::Transpose, rank).setArray(ops::Transpose::perm, l.attrInts("perm"));
      return finish();
    case LayerType::Slice:
      OpWriter(op, OpCode::Slice, rank)
          .setArray(ops::Slice::start, l.attrInts("starts"))
          .setArray(ops::Slice::step, l.attrInts("steps"));
      return finish();
    case LayerType::Pad: {
      using F = ops::Pad;
      const std::string& m = l.attrString("mode");
      const rt::PadMode mode = m == "reflect" ? rt::PadMode::Reflect
                               : m == "edge"  ? rt::PadMode::Edge
                                              : rt::PadMode::Constant;
      const auto& pads = l.attrInts("pads");  // begins, then ends (the output shape gives those)
      OpWriter(op, OpCode::Pad, rank)
          .set(F::mode, int64_t(mode))
          .set(F::value, l.qparam("pad_value").data[0])
          .setArray(F::pad_begin, {pads.begin(), pads.begin() + int64_t(outShape.size())});
      return finish();
    }
    case LayerType::Conv:
    case LayerType::Dw:
    case LayerType::Deconv: {
      using F = ops::Conv;  // deconv: the same fields
      const IntTensor& k = l.qparam("kernel");
      OpWriter w(op, l.type == LayerType::Deconv ? OpCode::Deconv : OpCode::Conv);
      geometry<F>(l, {k.shape[2], k.shape[3]}, w);
      w.set(F::groups, l.attrInt("group", 1)).set(F::in_zp, zpOf(l.inputs[0]));
      const uint32_t weightsId = weights(k);
      w.setConst(F::weights, weightsId).setConst(F::bias, i64(l.qparam("bias")));
      stage(l, w);
      return finish();
    }
    case LayerType::Fc: {
      using F = ops::Fc;
      const IntTensor& k = l.qparam("kernel");
      OpWriter w(op, OpCode::Fc);
      w.set(F::k, k.shape[0]).set(F::n, k.shape[1]).set(F::in_zp, zpOf(l.inputs[0]));
      const uint32_t weightsId = weights(k);
      w.setConst(F::weights, weightsId).setConst(F::bias, i64(l.qparam("bias")));
      stage(l, w);
      return finish();
    }
    case LayerType::Normalization: {
      using F = ops::Unary;
      OpWriter w(op, OpCode::Unary);
      w.set(F::channel_dim, 1).set(F::in_zp, zpOf(l.inputs[0]));
      const uint32_t scale = i64(l.qparam("kernel"));
      w.setConst(F::scale, scale).setConst(F::bias, i64(l.qparam("bias")));
      stage(l, w);
      return finish();
    }
    case LayerType::Activation: {
      using F = ops::Unary;  // no scale, no bias
      OpWriter w(op, OpCode::Unary);
      w.set(F::channel_dim, -1).set(F::in_zp, zpOf(l.inputs[0]));
      stage(l, w);
      return finish();
    }
    case LayerType::MaxPool:
    case LayerType::AvgPool: {
      using F = ops::Pool;
      OpWriter w(op, OpCode::Pool);
      geometry<F>(l, l.attrInts("kernel"), w);
      const bool isMax = l.type == LayerType::MaxPool;
      w.set(F::is_max, isMax ? 1 : 0);
      w.set(F::count_include_pad, l.attrInt("count_include_pad", 0) != 0 ? 1 : 0);
      w.set(F::in_zp, zpOf(l.inputs[0]));
      if (!isMax) stage(l, w);  // max keeps its input's quantization: no stage
      return finish();
    }
    case LayerType::GlobalAvgPool: {
      OpWriter w(op, OpCode::GlobalAvgPool);
      w.set(ops::GlobalAvgPool::in_zp, zpOf(l.inputs[0]));
      stage(l, w);
      return finish();
    }
    case LayerType::Concat: {
      std::vector<int64_t> zps;
      for (const ValueRef& v : l.inputs) zps.push_back(zpOf(v));
      OpWriter w(op, OpCode::Concat, l.inputs.size());
      w.set(ops::Concat::axis, l.attrInt("axis")).setArray(ops::Concat::zp, zps);
      stage(l, w);
      return finish();
    }
    case LayerType::Resize: {
      using F = ops::Resize;
      std::vector<int64_t> interpolated;
      for (int64_t f : l.qparam("resize_interp").data) interpolated.push_back(f != 0 ? 1 : 0);
      OpWriter w(op, OpCode::Resize, rank);
      w.set(F::weight_bits, rt::ResizeParams().weightBits).set(F::in_zp, zpOf(l.inputs[0]));
      w.setArray(F::interpolated, interpolated);
      const uint32_t i0 = i64(l.qparam("resize_i0")), i1 = i64(l.qparam("resize_i1"));
      w.setConst(F::i0, i0).setConst(F::i1, i1).setConst(F::w1, i64(l.qparam("resize_w1")));
      stage(l, w);
      return finish();
    }
    case LayerType::DepthToSpace:
      OpWriter(op, OpCode::DepthToSpace)
          .set(ops::DepthToSpace::blocksize, l.attrInt("blocksize"))
          .set(ops::DepthToSpace::crd, l.attrString("mode", "DCR") == "CRD" ? 1 : 0);
      return finish();
    case LayerType::SpaceToDepth:
      OpWriter(op, OpCode::SpaceToDepth).set(ops::SpaceToDepth::blocksize, l.attrInt("blocksize"));
      return finish();
    case LayerType::MatMul: {
      OpWriter w(op, OpCode::MatMul);
      w.set(ops::MatMul::zp_a, zpOf(l.inputs[0])).set(ops::MatMul::zp_b, zpOf(l.inputs[1]));
      stage(l, w);
      return finish();
    }
    case LayerType::ReduceMean:
    case LayerType::ReduceSum:
    case LayerType::ReduceMax: {
      using F = ops::Reduce;
      const bool isMax = l.type == LayerType::ReduceMax;
      std::vector<int64_t> reduced(rank, 0);
      for (int64_t a : l.attrInts("axes")) reduced[size_t(a)] = 1;
      OpWriter w(op, OpCode::Reduce, rank);
      w.set(F::is_max, isMax ? 1 : 0).set(F::in_zp, zpOf(l.inputs[0]));
      w.setArray(F::reduced, reduced);
      if (!isMax) stage(l, w);  // max keeps its input's quantization: no stage
      return finish();
    }
    case LayerType::Softmax: {
      using F = ops::Softmax;
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
      OpWriter(op, OpCode::Softmax)
          .set(F::outer, outer)
          .set(F::len, len)
          .set(F::inner, inner)
          .set(F::out_max, l.outputQuant.at(0).qmax())
          .setConst(F::exp_table, i32(l.qparam("softmax_exp")));
      return finish();
    }
    case LayerType::LayerNormalization: {
      using F = ops::LayerNorm;
      const Shape& s = g_.shapeOf(l.inputs[0]);
      int64_t len = 1;
      for (size_t d = size_t(l.attrInt("axis")); d < s.size(); ++d) len *= s[d];
      const auto& misc = l.qparam("layernorm_misc").data;
      OpWriter w(op, OpCode::LayerNorm);
      w.set(F::len, len).set(F::in_zp, zpOf(l.inputs[0]));
      w.set(F::eps_q, misc[0]).set(F::norm_bits, misc[1]);
      const uint32_t gamma = i64(l.qparam("kernel"));
      w.setConst(F::gamma, gamma).setConst(F::beta, i64(l.qparam("bias")));
      stage(l, w);
      return finish();
    }
    case LayerType::FormatConversion: {
      yuv::Format f;
      if (!yuv::parseFormat(l.attrString("format"), f))
        throw Error("layer " + l.name + ": unknown format '" + l.attrString("format") + "'");
      OpWriter(op, OpCode::FormatConversion).set(ops::FormatConversion::format, int64_t(f));
      return finish();
    }
    case LayerType::ColorConversion: {
      using F = ops::ColorConversion;
      yuv::ColorMatrix m;
      if (!yuv::colorMatrix(l.attrString("conversion"), m))
        throw Error("layer " + l.name + ": unknown conversion '" + l.attrString("conversion") +
                    "'");
      // The matrix reads pixel values: its input must be quantized as the values themselves.
      const QuantInfo& q = g_.at(l.inputs[0].layer).outputQuant.at(l.inputs[0].port);
      if (q.scale != 1.0 || q.zeroPoint != 0)
        throw Error("layer " + l.name + ": its input is not quantized as pixel values 0..255");
      OpWriter w(op, OpCode::ColorConversion);
      w.set(F::shift, m.shift)
          .set(F::offset_0, m.offset[0])
          .set(F::offset_1, m.offset[1])
          .set(F::offset_2, m.offset[2]);
      const size_t coeffs[9] = {F::m00, F::m01, F::m02, F::m10, F::m11,
                                F::m12, F::m20, F::m21, F::m22};
      for (int i = 0; i < 9; ++i) w.set(coeffs[i], m.m[i / 3][i % 3]);
      return finish();
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
      op.name = l.name;
      op.inputs = {t};
      OpWriter(op, OpCode::Transpose, perm.size()).setArray(ops::Transpose::perm, perm);
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
