#include "emulator/float_executor.h"

#include "emulator/float/kernels.h"

namespace kiln {

FloatBuffer transposeBuffer(const FloatBuffer& in, const std::vector<int64_t>& perm) {
  FloatBuffer out;
  for (int64_t p : perm) out.shape.push_back(in.shape[p]);
  out.data.resize(in.data.size());
  const size_t r = perm.size();
  std::vector<int64_t> inStride(r, 1), srcStride(r);
  for (int i = int(r) - 2; i >= 0; --i) inStride[i] = inStride[i + 1] * in.shape[i + 1];
  for (size_t i = 0; i < r; ++i) srcStride[i] = inStride[perm[i]];
  std::vector<int64_t> idx(r, 0);
  int64_t src = 0;
  for (size_t k = 0; k < out.data.size(); ++k) {
    out.data[k] = in.data[src];
    for (int d = int(r) - 1; d >= 0; --d) {
      src += srcStride[d];
      if (++idx[d] < out.shape[d]) break;
      src -= srcStride[d] * out.shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

namespace {

void runLayer(const Layer& l, const floatk::Inputs& in, FloatBuffer& out) {
  using namespace floatk;
  out.shape = l.outputShapes.at(0);
  switch (l.type) {
    case LayerType::InputLayer: break;  // filled by the caller
    case LayerType::OutputLayer:
      out = l.hasAttr("perm") ? transposeBuffer(*in[0], l.attrInts("perm")) : *in[0];
      return;
    case LayerType::ConstInput: out.data = l.param("value").data; return;
    case LayerType::Conv:
    case LayerType::Dw: conv(l, in, out); break;
    case LayerType::Deconv: deconv(l, in, out); break;
    case LayerType::Fc: fc(l, in, out); break;
    case LayerType::MatMul: matmul(l, in, out); break;
    case LayerType::EwAdd:
    case LayerType::EwSub:
    case LayerType::EwMult:
    case LayerType::EwDiv:
    case LayerType::EwMax:
    case LayerType::EwMin:
    case LayerType::EwEqual: elementwise(l, in, out); break;
    case LayerType::MaxPool:
    case LayerType::AvgPool: pool(l, in, out); break;
    case LayerType::GlobalAvgPool: globalAvgPool(l, in, out); break;
    case LayerType::ReduceMean:
    case LayerType::ReduceMax:
    case LayerType::ReduceSum: reduce(l, in, out); break;
    case LayerType::Concat: concat(l, in, out); break;
    case LayerType::Resize: resize(l, in, out); break;
    case LayerType::Slice: slice(l, in, out); break;
    case LayerType::Reshape: out.data = in[0]->data; break;
    case LayerType::Transpose: out = transposeBuffer(*in[0], l.attrInts("perm")); break;
    case LayerType::Pad: pad(l, in, out); break;
    case LayerType::Softmax: softmax(l, in, out); break;
    case LayerType::LayerNormalization: layerNorm(l, in, out); break;
    case LayerType::Normalization: normalization(l, in, out); break;
    case LayerType::Activation: out.data = in[0]->data; break;
    case LayerType::DepthToSpace: depthToSpace(l, in, out); break;
    case LayerType::SpaceToDepth: spaceToDepth(l, in, out); break;
  }
  applyFusedActivation(l, out);
}

std::vector<FloatBuffer> run(const Graph& g, const std::vector<FloatBuffer>& inputs, bool keepAll,
                             std::vector<FloatBuffer>* all) {
  const auto inIds = g.inputLayers();
  if (inputs.size() != inIds.size())
    throw Error("the network has " + std::to_string(inIds.size()) + " inputs, " +
                std::to_string(inputs.size()) + " given");
  // Free each buffer after its last reader, so peak memory stays near the widest cut.
  std::vector<int> lastUse(g.layers.size(), -1);
  for (size_t i = 0; i < g.layers.size(); ++i)
    for (const ValueRef& v : g.layers[i].inputs) lastUse[v.layer] = int(i);
  std::vector<FloatBuffer> buf(g.layers.size());
  for (size_t k = 0; k < inIds.size(); ++k) {
    const Layer& l = g.at(inIds[k]);
    const Shape user = l.attrInts("user_shape");
    if (inputs[k].shape != user)
      throw Error("input '" + l.attrString("onnx_name") + "' expects shape " + shapeStr(user) +
                  ", got " + shapeStr(inputs[k].shape));
    buf[inIds[k]] = l.hasAttr("perm") ? transposeBuffer(inputs[k], l.attrInts("perm")) : inputs[k];
  }
  std::vector<FloatBuffer> outputs;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const Layer& l = g.layers[i];
    if (l.type != LayerType::InputLayer) {
      floatk::Inputs in;
      for (const ValueRef& v : l.inputs) in.push_back(&buf[v.layer]);
      runLayer(l, in, buf[i]);
    }
    if (l.type == LayerType::OutputLayer) outputs.push_back(buf[i]);
    if (!keepAll)
      for (const ValueRef& v : l.inputs)
        if (lastUse[v.layer] == int(i)) buf[v.layer] = FloatBuffer();
  }
  if (all) *all = std::move(buf);
  return outputs;
}

}  // namespace

std::vector<FloatBuffer> runFloat(const Graph& g, const std::vector<FloatBuffer>& inputs) {
  return run(g, inputs, false, nullptr);
}

std::vector<FloatBuffer> runFloatAllLayers(const Graph& g, const std::vector<FloatBuffer>& inputs) {
  std::vector<FloatBuffer> all;
  run(g, inputs, true, &all);
  return all;
}

}  // namespace kiln
