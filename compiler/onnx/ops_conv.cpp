// Conv -> conv (or dw when every input channel has its own group), ConvTranspose -> deconv.
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

void importConv(NodeContext& c) {
  const Shape in = c.shape(0);
  require4d(c, in);
  Tensor w = c.constant(1, "weights").toTensor();
  if (w.shape.size() != 4) throw c.error("weights must be 4-D, got " + shapeStr(w.shape));
  const int64_t group = c.attrInt("group", 1);
  const std::vector<int64_t> k = {w.shape[2], w.shape[3]};
  const auto strides = c.attrInts("strides", {1, 1});
  const auto dil = c.attrInts("dilations", {1, 1});
  if (strides.size() != 2 || dil.size() != 2)
    throw c.error("strides/dilations must have 2 entries");
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
  Tensor w = c.constant(1, "weights").toTensor();
  if (w.shape.size() != 4) throw c.error("weights must be 4-D, got " + shapeStr(w.shape));
  const int64_t group = c.attrInt("group", 1);
  const auto s = c.attrInts("strides", {1, 1});
  const auto d = c.attrInts("dilations", {1, 1});
  auto outPad = c.attrInts("output_padding", {0, 0});
  if (s.size() != 2 || d.size() != 2 || outPad.size() != 2)
    throw c.error("strides/dilations/output_padding must have 2 entries");
  std::vector<int64_t> pads = c.attrInts("pads", {0, 0, 0, 0});
  const std::string autoPad = c.attrString("auto_pad", "NOTSET");
  const auto outShape = c.attrInts("output_shape", {});
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
