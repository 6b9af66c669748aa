#include "emulator/quant_executor.h"

#include <cmath>

#include "emulator/quant_layer.h"

namespace kiln {

IntBuffer quantizeInput(const FloatBuffer& x, const QuantInfo& q) {
  const double lo = double(-q.zeroPoint) * q.scale, hi = double(q.qmax() - q.zeroPoint) * q.scale;
  IntBuffer out;
  out.shape = x.shape;
  out.data.resize(x.data.size());
  const float flo = float(lo), fhi = float(hi), fscale = float(q.scale), fzp = float(q.zeroPoint);
  for (size_t i = 0; i < x.data.size(); ++i) {
    float v = x.data[i];
    if (std::isnan(v)) v = 0.f;
    v = std::min(std::max(v, flo), fhi);
    const float r = std::nearbyint(v / fscale + fzp);  // default rounding mode: half to even
    out.data[i] = int32_t(std::min<float>(std::max<float>(r, 0.f), float(q.qmax())));
  }
  return out;
}

FloatBuffer dequantize(const IntBuffer& b, const QuantInfo& q) {
  FloatBuffer out;
  out.shape = b.shape;
  out.data.resize(b.data.size());
  const float scale = float(q.scale);
  for (size_t i = 0; i < b.data.size(); ++i) out.data[i] = float(b.data[i] - q.zeroPoint) * scale;
  return out;
}

std::vector<IntBuffer> runQuantized(const Graph& g, const std::vector<FloatBuffer>& inputs,
                                    std::vector<IntBuffer>* all) {
  const auto inIds = g.inputLayers();
  if (inputs.size() != inIds.size())
    throw Error("the network has " + std::to_string(inIds.size()) + " inputs, " +
                std::to_string(inputs.size()) + " given");
  for (const Layer& l : g.layers)
    if (l.outputQuant.empty())
      throw Error("layer " + l.name + " is not quantized: run kiln optimize first");
  std::vector<int> lastUse(g.layers.size(), -1);
  for (size_t i = 0; i < g.layers.size(); ++i)
    for (const ValueRef& v : g.layers[i].inputs) lastUse[v.layer] = int(i);
  std::vector<IntBuffer> buf(g.layers.size());
  for (size_t k = 0; k < inIds.size(); ++k) {
    const Layer& l = g.at(inIds[k]);
    if (inputs[k].shape != l.attrInts("user_shape"))
      throw Error("input '" + l.attrString("onnx_name") + "' expects shape " +
                  shapeStr(l.attrInts("user_shape")) + ", got " + shapeStr(inputs[k].shape));
    const FloatBuffer x =
        l.hasAttr("perm") ? transposeBuffer(inputs[k], l.attrInts("perm")) : inputs[k];
    buf[inIds[k]] = quantizeInput(x, l.outputQuant[0]);
  }
  std::vector<IntBuffer> outputs;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const Layer& l = g.layers[i];
    if (l.type != LayerType::InputLayer) {
      std::vector<const IntBuffer*> in;
      for (const ValueRef& v : l.inputs) in.push_back(&buf[v.layer]);
      runQuantLayer(g, l, in, buf[i]);
    }
    if (l.type == LayerType::OutputLayer) outputs.push_back(buf[i]);
    if (!all)
      for (const ValueRef& v : l.inputs)
        if (lastUse[v.layer] == int(i)) buf[v.layer] = IntBuffer();
  }
  if (all) *all = std::move(buf);
  return outputs;
}

}  // namespace kiln
