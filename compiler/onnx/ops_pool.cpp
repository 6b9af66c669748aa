// MaxPool -> maxpool, AveragePool -> avgpool, GlobalAveragePool -> global_avg_pool,
// GlobalMaxPool -> reduce_max over the spatial axes.
#include "compiler/onnx/attr_checks.h"
#include "compiler/onnx/shape_helpers.h"

namespace kiln::onnx {

namespace {

OpImporter window(LayerType t) {
  OpImporter imp;
  imp.import = [t](NodeContext& c) {
    const Shape in = c.shape(0);
    require4d(c, in);
    if (c.numOutputs() > 1 && !c.node().output(1).empty())
      throw c.error("the Indices output of MaxPool is not supported");
    const auto k = requiredIntsAttr(c, "kernel_shape", 2, "one per spatial axis of the 4-D input",
                                    1, kMaxWindow);
    const auto s = spatialAttr(c, "strides", 1);
    const auto d = spatialAttr(c, "dilations", 1);
    if (t == LayerType::MaxPool) flagAttr(c, "storage_order", 0);  // only shapes Indices
    Layer l = makeLayer(t, {c.value(0)});
    l.attrs["kernel"] = k;
    l.attrs["strides"] = s;
    l.attrs["dilations"] = d;
    l.attrs["pads"] = windowPads(c, in, k, s, d);
    l.attrs["ceil_mode"] = int64_t(flagAttr(c, "ceil_mode", 0));
    if (t == LayerType::AvgPool) {
      if (d != std::vector<int64_t>{1, 1}) throw c.error("dilated AveragePool is not supported");
      l.attrs["count_include_pad"] = int64_t(flagAttr(c, "count_include_pad", 0));
    }
    c.setOutput(0, c.addLayer(std::move(l)));
  };
  return imp;
}

void importGlobalAvgPool(NodeContext& c) {
  c.setOutput(0, c.addLayer(makeLayer(LayerType::GlobalAvgPool, {c.value(0)})));
}

void importGlobalMaxPool(NodeContext& c) {
  const Shape in = c.shape(0);
  if (in.size() < 3) throw c.error("expects N, C and spatial dimensions");
  std::vector<int64_t> axes;
  for (size_t i = 2; i < in.size(); ++i) axes.push_back(int64_t(i));
  Layer l = makeLayer(LayerType::ReduceMax, {c.value(0)});
  l.attrs["axes"] = axes;
  l.attrs["keepdims"] = int64_t(1);
  c.setOutput(0, c.addLayer(std::move(l)));
}

}  // namespace

void registerPoolOps(OpTable& t) {
  t["MaxPool"] = window(LayerType::MaxPool);
  t["AveragePool"] = window(LayerType::AvgPool);
  t["GlobalAveragePool"] = {importGlobalAvgPool};
  t["GlobalMaxPool"] = {importGlobalMaxPool};
}

}  // namespace kiln::onnx
