#include "emulator/quant_layer.h"

#include <memory>

#include "kernels/kernels.h"

namespace kiln {

namespace {

// Owns what an rt::OutputStage points at.
struct Stage {
  std::vector<rt::Multiplier> mult, multNeg;
  std::vector<int32_t> lut;
  rt::OutputStage stage;

  explicit Stage(const Layer& l) {
    auto mults = [](const IntTensor& t) {
      std::vector<rt::Multiplier> m;
      for (int64_t i = 0; i < t.shape[0]; ++i)
        m.push_back({int32_t(t.data[2 * i]), int32_t(t.data[2 * i + 1])});
      return m;
    };
    if (l.qparams.count("stage_mult")) mult = mults(l.qparam("stage_mult"));
    if (l.qparams.count("stage_mult_neg")) multNeg = mults(l.qparam("stage_mult_neg"));
    if (l.qparams.count("stage_lut"))
      lut.assign(l.qparam("stage_lut").data.begin(), l.qparam("stage_lut").data.end());
    const auto& misc = l.qparam("stage_misc").data;
    stage.mult = mult.data();
    stage.multNeg = multNeg.empty() ? nullptr : multNeg.data();
    stage.perChannel = mult.size() > 1;
    stage.outZp = int32_t(misc[0]);
    stage.qmin = int32_t(misc[1]);
    stage.qmax = int32_t(misc[2]);
    stage.lut = lut.empty() ? nullptr : lut.data();
    stage.lutSize = int32_t(lut.size());
    stage.lutOffset = int32_t(misc[3]);
    if (misc.size() >= 6) {
      stage.lutFracBits = int32_t(misc[4]);
      stage.lutValueBits = int32_t(misc[5]);
    }
  }
};

std::vector<int32_t> narrow(const IntTensor& t) {
  return std::vector<int32_t>(t.data.begin(), t.data.end());
}

int32_t zpOf(const Graph& g, ValueRef v) {
  return int32_t(g.at(v.layer).outputQuant.at(v.port).zeroPoint);
}

rt::ConvGeometry geometry(const Layer& l, const Shape& in, const Shape& out, const Shape& k) {
  rt::ConvGeometry geo;
  geo.n = in[0], geo.c = in[1], geo.h = in[2], geo.w = in[3];
  geo.k = out[1], geo.oh = out[2], geo.ow = out[3];
  geo.kh = k[2], geo.kw = k[3];
  const auto& s = l.attrInts("strides");
  const auto d = l.attrInts("dilations", {1, 1});
  const auto& p = l.attrInts("pads");
  geo.sh = s[0], geo.sw = s[1], geo.dh = d[0], geo.dw = d[1];
  geo.pt = p[0], geo.pl = p[1], geo.pb = p[2], geo.pr = p[3];
  geo.groups = l.attrInt("group", 1);
  return geo;
}

void runEltwise(const Graph& g, const Layer& l, const std::vector<const IntBuffer*>& in,
                IntBuffer& out) {
  rt::EltwiseParams p;
  switch (l.type) {
    case LayerType::EwAdd:
      p.op = rt::EltwiseOp::Add;
      break;
    case LayerType::EwSub:
      p.op = rt::EltwiseOp::Sub;
      break;
    case LayerType::EwMult:
      p.op = rt::EltwiseOp::Mult;
      break;
    case LayerType::EwDiv:
      p.op = rt::EltwiseOp::Div;
      break;
    case LayerType::EwMax:
      p.op = rt::EltwiseOp::Max;
      break;
    case LayerType::EwMin:
      p.op = rt::EltwiseOp::Min;
      break;
    default:
      p.op = rt::EltwiseOp::Equal;
      break;
  }
  p.outShape = out.shape;
  p.strideA = broadcastStrides(in[0]->shape, out.shape);
  p.strideB = broadcastStrides(in[1]->shape, out.shape);
  p.zpA = zpOf(g, l.inputs[0]);
  p.zpB = zpOf(g, l.inputs[1]);
  if (l.qparams.count("operand_mult")) {
    p.multA = l.qparam("operand_mult").data[0];
    p.multB = l.qparam("operand_mult").data[1];
  }
  if (l.qparams.count("equal_one")) p.equalOne = int32_t(l.qparam("equal_one").data[0]);
  Stage st(l);
  p.out = st.stage;
  rt::eltwise(p, in[0]->data.data(), in[1]->data.data(), out.data.data());
}

}  // namespace

void runQuantLayer(const Graph& g, const Layer& l, const std::vector<const IntBuffer*>& in,
                   IntBuffer& out) {
  out.shape = l.outputShapes.at(0);
  out.data.assign(numel(out.shape), 0);
  if (isBinaryElementwise(l.type)) return runEltwise(g, l, in, out);
  switch (l.type) {
    case LayerType::InputLayer:
      return;
    case LayerType::OutputLayer:
      if (l.hasAttr("perm")) {
        out.shape.clear();
        for (int64_t p : l.attrInts("perm")) out.shape.push_back(in[0]->shape[p]);
        rt::transpose(in[0]->shape, l.attrInts("perm"), in[0]->data.data(), out.data.data());
      } else {
        out.data = in[0]->data;
      }
      return;
    case LayerType::ConstInput:
      out.data = narrow(l.qparam("value"));
      return;
    case LayerType::Reshape:
      out.data = in[0]->data;
      return;
    case LayerType::Transpose:
      rt::transpose(in[0]->shape, l.attrInts("perm"), in[0]->data.data(), out.data.data());
      return;
    case LayerType::Slice:
      rt::slice(in[0]->shape, out.shape, l.attrInts("starts"), l.attrInts("steps"),
                in[0]->data.data(), out.data.data());
      return;
    case LayerType::Pad: {
      const std::string& m = l.attrString("mode");
      const rt::PadMode mode = m == "reflect" ? rt::PadMode::Reflect
                               : m == "edge"  ? rt::PadMode::Edge
                                              : rt::PadMode::Constant;
      rt::pad(in[0]->shape, out.shape, l.attrInts("pads"), mode,
              int32_t(l.qparam("pad_value").data[0]), in[0]->data.data(), out.data.data());
      return;
    }
    case LayerType::Conv:
    case LayerType::Dw:
    case LayerType::Deconv: {
      rt::ConvParams p;
      p.g = geometry(l, in[0]->shape, out.shape, l.qparam("kernel").shape);
      p.inZp = zpOf(g, l.inputs[0]);
      const auto w = narrow(l.qparam("kernel"));
      p.weights = w.data();
      p.bias = l.qparam("bias").data.data();
      Stage st(l);
      p.out = st.stage;
      if (l.type == LayerType::Deconv)
        rt::deconv2d(p, in[0]->data.data(), out.data.data());
      else
        rt::conv2d(p, in[0]->data.data(), out.data.data());
      return;
    }
    case LayerType::Fc: {
      rt::FcParams p;
      const IntTensor& k = l.qparam("kernel");
      p.k = k.shape[0], p.n = k.shape[1], p.m = numel(in[0]->shape) / p.k;
      p.inZp = zpOf(g, l.inputs[0]);
      const auto w = narrow(k);
      p.weights = w.data();
      p.bias = l.qparam("bias").data.data();
      Stage st(l);
      p.out = st.stage;
      rt::fullyConnected(p, in[0]->data.data(), out.data.data());
      return;
    }
    case LayerType::Normalization:
    case LayerType::Activation: {
      rt::UnaryParams p;
      p.shape = out.shape;
      p.inZp = zpOf(g, l.inputs[0]);
      if (l.type == LayerType::Normalization) {
        p.channelDim = 1;
        p.scale = l.qparam("kernel").data.data();
        p.bias = l.qparam("bias").data.data();
      }
      Stage st(l);
      p.out = st.stage;
      rt::unary(p, in[0]->data.data(), out.data.data());
      return;
    }
    case LayerType::MaxPool:
    case LayerType::AvgPool: {
      rt::PoolParams p;
      const auto& k = l.attrInts("kernel");
      p.g = geometry(l, in[0]->shape, out.shape, {0, 0, k[0], k[1]});
      p.isMax = l.type == LayerType::MaxPool;
      p.countIncludePad = l.attrInt("count_include_pad", 0) != 0;
      p.inZp = zpOf(g, l.inputs[0]);
      std::unique_ptr<Stage> st;
      std::vector<rt::Multiplier> counts;
      if (!p.isMax) {
        st = std::make_unique<Stage>(l);
        counts.push_back({0, 0});  // count 0 never happens with a valid window
        counts.insert(counts.end(), st->mult.begin(), st->mult.end());
        p.countMult = counts.data();
        p.out = st->stage;
      }
      rt::pool2d(p, in[0]->data.data(), out.data.data());
      return;
    }
    case LayerType::GlobalAvgPool: {
      const Shape& s = in[0]->shape;
      Stage st(l);
      rt::globalAvgPool(s[0] * s[1], numel(s) / (s[0] * s[1]), zpOf(g, l.inputs[0]), st.stage,
                        in[0]->data.data(), out.data.data());
      return;
    }
    case LayerType::Concat: {
      Stage st(l);
      std::vector<rt::OutputStage> stages;
      std::vector<std::vector<int64_t>> shapes;
      std::vector<const int32_t*> ptrs;
      std::vector<int32_t> zps;
      for (size_t i = 0; i < in.size(); ++i) {
        rt::OutputStage s = st.stage;
        s.mult = &st.mult[i];
        s.perChannel = false;
        stages.push_back(s);
        shapes.push_back(in[i]->shape);
        ptrs.push_back(in[i]->data.data());
        zps.push_back(zpOf(g, l.inputs[i]));
      }
      rt::concatAxis(shapes, l.attrInt("axis"), ptrs, zps, stages, out.data.data());
      return;
    }
    case LayerType::Resize: {
      rt::ResizeParams p;
      p.inShape = in[0]->shape;
      p.outShape = out.shape;
      const auto& i0 = l.qparam("resize_i0").data;
      const auto& i1 = l.qparam("resize_i1").data;
      const auto& w1 = l.qparam("resize_w1").data;
      const auto& interp = l.qparam("resize_interp").data;
      size_t off = 0;
      for (size_t d = 0; d < out.shape.size(); ++d) {
        const size_t n = size_t(out.shape[d]);
        p.i0.emplace_back(i0.begin() + off, i0.begin() + off + n);
        p.i1.emplace_back(i1.begin() + off, i1.begin() + off + n);
        p.w1.emplace_back(w1.begin() + off, w1.begin() + off + n);
        p.interpolated.push_back(interp[d] != 0);
        off += n;
      }
      p.inZp = zpOf(g, l.inputs[0]);
      Stage st(l);
      p.out = st.stage;
      rt::resize(p, in[0]->data.data(), out.data.data());
      return;
    }
    case LayerType::DepthToSpace:
    case LayerType::SpaceToDepth: {
      const Shape& s = in[0]->shape;
      const int64_t b = l.attrInt("blocksize");
      if (l.type == LayerType::DepthToSpace)
        rt::depthToSpace(s[0], s[1], s[2], s[3], b, l.attrString("mode", "DCR") == "CRD",
                         in[0]->data.data(), out.data.data());
      else
        rt::spaceToDepth(s[0], s[1], s[2], s[3], b, in[0]->data.data(), out.data.data());
      return;
    }
    case LayerType::MatMul: {
      rt::MatMulParams p;
      const Shape &a = in[0]->shape, &b = in[1]->shape;
      p.m = a[a.size() - 2], p.k = a.back(), p.n = b.back();
      p.batch.assign(out.shape.begin(), out.shape.end() - 2);
      p.batchStrideA = broadcastStrides(Shape(a.begin(), a.end() - 2), p.batch);
      p.batchStrideB = broadcastStrides(Shape(b.begin(), b.end() - 2), p.batch);
      p.zpA = zpOf(g, l.inputs[0]);
      p.zpB = zpOf(g, l.inputs[1]);
      Stage st(l);
      p.out = st.stage;
      rt::matmul(p, in[0]->data.data(), in[1]->data.data(), out.data.data());
      return;
    }
    case LayerType::ReduceMean:
    case LayerType::ReduceSum:
    case LayerType::ReduceMax: {
      rt::ReduceParams p;
      p.inShape = in[0]->shape;
      p.reduced.assign(p.inShape.size(), false);
      for (int64_t a : l.attrInts("axes")) p.reduced[size_t(a)] = true;
      p.isMax = l.type == LayerType::ReduceMax;
      p.inZp = zpOf(g, l.inputs[0]);
      std::unique_ptr<Stage> st;
      if (!p.isMax) {
        st = std::make_unique<Stage>(l);
        p.out = st->stage;
      }
      rt::reduce(p, in[0]->data.data(), out.data.data());
      return;
    }
    case LayerType::Softmax: {
      rt::SoftmaxParams p;
      const Shape& s = in[0]->shape;
      const int64_t axis = l.attrInt("axis");
      const bool coerce = l.attrInt("coerce_2d", 0) != 0;
      for (int64_t d = 0; d < int64_t(s.size()); ++d) {
        if (d < axis)
          p.outer *= s[d];
        else if (d == axis || coerce)
          p.len *= s[d];
        else
          p.inner *= s[d];
      }
      const auto table = narrow(l.qparam("softmax_exp"));
      p.expTable = table.data();
      p.expTableSize = int64_t(table.size());
      p.outMax = int32_t(l.outputQuant.at(0).qmax());
      rt::softmax(p, in[0]->data.data(), out.data.data());
      return;
    }
    case LayerType::LayerNormalization: {
      rt::LayerNormParams p;
      const Shape& s = in[0]->shape;
      for (size_t d = size_t(l.attrInt("axis")); d < s.size(); ++d) p.len *= s[d];
      p.rows = numel(s) / p.len;
      p.inZp = zpOf(g, l.inputs[0]);
      const auto& misc = l.qparam("layernorm_misc").data;
      p.epsQ = misc[0];
      p.normBits = int32_t(misc[1]);
      p.gamma = l.qparam("kernel").data.data();
      p.beta = l.qparam("bias").data.data();
      Stage st(l);
      p.out = st.stage;
      rt::layerNorm(p, in[0]->data.data(), out.data.data());
      return;
    }
    default:
      break;  // binary element-wise layers are handled above
  }
  throw Error("layer " + l.name + " (" + typeWord(l.type) + ") has no integer implementation");
}

}  // namespace kiln
