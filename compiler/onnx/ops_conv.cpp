// Conv -> conv (or dw when every input channel has its own group), ConvTranspose -> deconv.
#include "compiler/onnx/attr_checks.h"
#include "compiler/onnx/shape_helpers.h"

namespace kiln::onnx {

namespace {

Tensor biasOrZero(const NodeContext& c, int index, int64_t n) {
  Tensor b;
  b.shape = {n};
  if (c.hasInput(index)) {
    b = c.constant(index, "bias").toTensor();
    if (b.numel() != n)
      throw c.error("bias has " + std::to_string(b.numel()) + " values for " + std::to_string(n) +
                    " output channels");
    b.shape = {n};
  } else {
    b.data.assign(n, 0.f);
  }
  return b;
}

// The weights of a (transposed) convolution: 4-D, every dimension positive, the kernel within
// Kiln's window limit and equal to `kernel_shape` when the node gives it.
Tensor convWeights(const NodeContext& c) {
  Tensor w = c.constant(1, "weights").toTensor();
  if (w.shape.size() != 4)
    throw c.error(
        "weights (input 1): expected a 4-D tensor [Cout, Cin/group, kH, kW] for a 2-D "
        "convolution, found shape " +
        shapeStr(w.shape));
  for (int64_t d : w.shape)
    if (d < 1)
      throw c.error("weights (input 1): expected every dimension >= 1, found shape " +
                    shapeStr(w.shape));
  for (int i = 2; i < 4; ++i)
    if (w.shape[i] > kMaxWindow)
      throw c.error("weights (input 1): expected kernel sizes up to " + std::to_string(kMaxWindow) +
                    ", found shape " + shapeStr(w.shape));
  const std::vector<int64_t> k = {w.shape[2], w.shape[3]};
  const auto ks = intsAttr(c, "kernel_shape", k, 2, "one per spatial axis", 1, kMaxWindow);
  if (ks != k)
    throw c.error("attribute 'kernel_shape': expected the weights' kernel size " + shapeStr(k) +
                  ", found " + shapeStr(ks));
  return w;
}

// group: from 1 up to the input channels, dividing them.
int64_t convGroup(const NodeContext& c, const Shape& in) {
  const int64_t group = intAttr(c, "group", 1, 1, kMaxDim);
  if (in[1] % group)
    throw c.error("attribute 'group': expected a divisor of the " + std::to_string(in[1]) +
                  " input channels, found " + std::to_string(group));
  return group;
}

void importConv(NodeContext& c) {
  const Shape in = c.shape(0);
  require4d(c, in);
  const int64_t group = convGroup(c, in);
  Tensor w = convWeights(c);
  if (w.shape[0] % group)
    throw c.error("attribute 'group': expected a divisor of the weights' " +
                  std::to_string(w.shape[0]) + " output channels (shape " + shapeStr(w.shape) +
                  "), found " + std::to_string(group));
  if (w.shape[1] * group != in[1])
    throw c.error("weights (input 1) of shape " + shapeStr(w.shape) + ": expected " +
                  std::to_string(in[1] / group) + " input channels per group (input " +
                  shapeStr(in) + ", group " + std::to_string(group) + "), found " +
                  std::to_string(w.shape[1]));
  const std::vector<int64_t> k = {w.shape[2], w.shape[3]};
  const auto strides = spatialAttr(c, "strides", 1);
  const auto dil = spatialAttr(c, "dilations", 1);
  Layer l = makeLayer(group > 1 && group == in[1] ? LayerType::Dw : LayerType::Conv, {c.value(0)});
  l.attrs["strides"] = strides;
  l.attrs["dilations"] = dil;
  l.attrs["pads"] = windowPads(c, in, k, strides, dil);
  l.attrs["group"] = group;
  l.params["bias"] = biasOrZero(c, 2, w.shape[0]);
  l.params["kernel"] = std::move(w);
  c.setOutput(0, c.addLayer(std::move(l)));
}

void importConvTranspose(NodeContext& c) {
  const Shape in = c.shape(0);
  require4d(c, in);
  const int64_t group = convGroup(c, in);
  Tensor w = convWeights(c);
  if (w.shape[0] != in[1])
    throw c.error("weights (input 1) of shape " + shapeStr(w.shape) + ": expected " +
                  std::to_string(in[1]) + " input channels (input " + shapeStr(in) +
                  ") in dimension 0, found " + std::to_string(w.shape[0]));
  const auto s = spatialAttr(c, "strides", 1);
  const auto d = spatialAttr(c, "dilations", 1);
  auto outPad = spatialAttr(c, "output_padding", 0);
  for (int i = 0; i < 2; ++i)
    if (outPad[i] >= std::max(s[i], d[i]))
      throw c.error(
          "attribute 'output_padding': expected each value below its stride or "
          "dilation (strides " +
          shapeStr(s) + ", dilations " + shapeStr(d) + "), found " + shapeStr(outPad));
  std::vector<int64_t> pads = padsAttr(c);
  const std::string autoPad = autoPadAttr(c);
  std::vector<int64_t> outShape;
  if (c.hasAttr("output_shape")) {
    outShape = c.attrInts("output_shape", {});
    if (outShape.size() != 2 && outShape.size() != 4)
      throw c.error(
          "attribute 'output_shape': expected 2 values (the spatial output size) or 4, "
          "found " +
          std::to_string(outShape.size()) + ": " + shapeStr(outShape));
    for (int64_t v : outShape)
      if (v < 1 || v > kMaxDim)
        throw c.error("attribute 'output_shape': expected sizes from 1 to " +
                      std::to_string(kMaxDim) + ", found " + shapeStr(outShape));
  }
  if (!outShape.empty() || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (int i = 0; i < 2; ++i) {
      const int64_t target =
          !outShape.empty() ? outShape[outShape.size() - 2 + i] : in[2 + i] * s[i];
      const int64_t total =
          s[i] * (in[2 + i] - 1) + outPad[i] + ((w.shape[2 + i] - 1) * d[i] + 1) - target;
      if (total < 0) {
        // Larger outputs than the kernel covers come from extra output padding.
        outPad[i] += -total;
        pads[i] = pads[i + 2] = 0;
        continue;
      }
      const bool upper = autoPad != "SAME_LOWER";
      pads[i] = upper ? total / 2 : total - total / 2;
      pads[i + 2] = total - pads[i];
    }
  } else if (autoPad == "VALID") {
    pads = {0, 0, 0, 0};
  }
  Layer l = makeLayer(LayerType::Deconv, {c.value(0)});
  l.attrs["strides"] = s;
  l.attrs["dilations"] = d;
  l.attrs["pads"] = pads;
  l.attrs["output_padding"] = outPad;
  l.attrs["group"] = group;
  l.params["bias"] = biasOrZero(c, 2, w.shape[1] * group);
  l.params["kernel"] = std::move(w);
  c.setOutput(0, c.addLayer(std::move(l)));
}

}  // namespace

void registerConvOps(OpTable& t) {
  auto weightsConst = [](int i) { return i >= 1; };
  t["Conv"] = {importConv, weightsConst};
  t["ConvTranspose"] = {importConvTranspose, weightsConst};
}

}  // namespace kiln::onnx
