// BatchNormalization -> normalization (folded into the producing conv by a pass when it can be),
// LayerNormalization -> layer_normalization, Softmax -> softmax, ReduceMean/Max/Sum -> reduce_*.
#include <algorithm>
#include <cmath>

#include "compiler/onnx/attr_checks.h"
#include "compiler/onnx/shape_helpers.h"

namespace kiln::onnx {

namespace {

void importBatchNorm(NodeContext& c) {
  if (flagAttr(c, "training_mode", 0)) throw c.error("training_mode=1 is not supported");
  const Shape in = c.shape(0);
  if (in.size() < 2) throw c.error("input must have a channel dimension");
  const int64_t C = in[1];
  const auto gamma = c.constant(1, "scale").doubles(), beta = c.constant(2, "B").doubles(),
             mean = c.constant(3, "mean").doubles(), var = c.constant(4, "var").doubles();
  if (int64_t(gamma.size()) != C || int64_t(beta.size()) != C || int64_t(mean.size()) != C ||
      int64_t(var.size()) != C)
    throw c.error("scale/B/mean/var must have one value per channel (" + std::to_string(C) + ")");
  const double eps = finiteAttr(c, "epsilon", 1e-5);
  Tensor scale, bias;
  scale.shape = bias.shape = {C};
  for (int64_t i = 0; i < C; ++i) {
    if (!(var[i] + eps > 0))
      throw c.error(
          "var (input 4) + attribute 'epsilon': expected a positive sum for every "
          "channel, found var[" +
          std::to_string(i) + "] = " + std::to_string(var[i]) + ", epsilon " + std::to_string(eps));
    const double s = gamma[i] / std::sqrt(var[i] + eps);
    scale.data.push_back(float(s));
    bias.data.push_back(float(beta[i] - mean[i] * s));
  }
  Layer l = makeLayer(LayerType::Normalization, {c.value(0)});
  l.params["scale"] = std::move(scale);
  l.params["bias"] = std::move(bias);
  c.setOutput(0, c.addLayer(std::move(l)));
}

void importLayerNorm(NodeContext& c) {
  const Shape in = c.shape(0);
  const int64_t axis = normAxis(c, c.attrInt("axis", -1), int64_t(in.size()));
  const double eps = finiteAttr(c, "epsilon", 1e-5);
  if (!(eps > 0))
    throw c.error("attribute 'epsilon': expected a positive number, found " + std::to_string(eps));
  bool wantStats = false;
  for (int i = 1; i < c.numOutputs(); ++i) wantStats |= !c.node().output(i).empty();
  if (wantStats) {
    // The optional Mean and InvStdDev outputs (kept dims) as reduce_mean / ew layers:
    // mean = E[x], inv_std = (E[(x - mean)^2] + eps)^-0.5.
    std::vector<int64_t> axes;
    for (int64_t a = axis; a < int64_t(in.size()); ++a) axes.push_back(a);
    auto reduceMean = [&](ValueRef v) {
      Layer r = makeLayer(LayerType::ReduceMean, {v});
      r.attrs["axes"] = axes;
      r.attrs["keepdims"] = int64_t(1);
      return c.addLayer(std::move(r));
    };
    const ValueRef x = c.value(0), mean = reduceMean(x);
    const ValueRef d = c.addLayer(makeLayer(LayerType::EwSub, {x, mean}));
    const ValueRef var = reduceMean(c.addLayer(makeLayer(LayerType::EwMult, {d, d})));
    Layer e;
    e.type = LayerType::ConstInput;
    e.originalNames = {c.name()};
    e.outputShapes = {Shape(in.size(), 1)};
    e.params["value"] = Tensor{Shape(in.size(), 1), {float(eps)}};
    const ValueRef epsRef{c.graph().add(std::move(e)), 0};
    const ValueRef varEps = c.addLayer(makeLayer(LayerType::EwAdd, {var, epsRef}));
    Layer p = makeLayer(LayerType::Activation, {varEps});
    p.activation.kind = ActKind::Pow;
    p.activation.alpha = -0.5;
    c.setOutput(1, mean);
    c.setOutput(2, c.addLayer(std::move(p)));
  }
  const Shape norm(in.begin() + axis, in.end());
  auto param = [&](int idx, const char* role, float dflt) {
    Tensor t;
    t.shape = norm;
    if (!c.hasInput(idx)) {
      t.data.assign(numel(norm), dflt);
      return t;
    }
    const ConstTensor& k = c.constant(idx, role);
    if (k.numel() == numel(norm)) {
      t.data = k.floats();
    } else if (k.numel() == 1) {
      t.data.assign(numel(norm), float(k.value(0)));
    } else {
      throw c.error(std::string(role) + " of shape " + shapeStr(k.shape) +
                    " does not match the normalised dimensions " + shapeStr(norm));
    }
    return t;
  };
  Layer l = makeLayer(LayerType::LayerNormalization, {c.value(0)});
  l.attrs["axis"] = axis;
  l.attrs["epsilon"] = eps;
  l.params["scale"] = param(1, "scale", 1.f);
  l.params["bias"] = param(2, "bias", 0.f);
  c.setOutput(0, c.addLayer(std::move(l)));
}

void importSoftmax(NodeContext& c) {
  const Shape in = c.shape(0);
  const bool old = c.opset() < 13;
  Layer l = makeLayer(LayerType::Softmax, {c.value(0)});
  l.attrs["axis"] = normAxis(c, c.attrInt("axis", old ? 1 : -1), int64_t(in.size()));
  // Before opset 13 Softmax flattened every dimension from `axis` on into one.
  l.attrs["coerce_2d"] = int64_t(old ? 1 : 0);
  c.setOutput(0, c.addLayer(std::move(l)));
}

OpImporter reduce(LayerType t, int axesInputSince) {
  OpImporter imp;
  imp.import = [t, axesInputSince](NodeContext& c) {
    const Shape in = c.shape(0);
    std::vector<int64_t> axes = readAxes(c, 1, axesInputSince);
    if (axes.empty()) {
      if (flagAttr(c, "noop_with_empty_axes", 0)) return c.setOutput(0, c.value(0));
      for (size_t i = 0; i < in.size(); ++i) axes.push_back(int64_t(i));
    }
    for (auto& a : axes) a = normAxis(c, a, int64_t(in.size()));
    std::sort(axes.begin(), axes.end());
    axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
    Layer l = makeLayer(t, {c.value(0)});
    l.attrs["axes"] = axes;
    l.attrs["keepdims"] = int64_t(flagAttr(c, "keepdims", 1));
    c.setOutput(0, c.addLayer(std::move(l)));
  };
  imp.constInputs = [](int i) { return i == 1; };
  return imp;
}

}  // namespace

void registerNormOps(OpTable& t) {
  t["BatchNormalization"] = {importBatchNorm, [](int i) { return i >= 1; }};
  t["LayerNormalization"] = {importLayerNorm, [](int i) { return i >= 1; }};
  t["Softmax"] = {importSoftmax};
  t["ReduceMean"] = reduce(LayerType::ReduceMean, 18);
  t["ReduceMax"] = reduce(LayerType::ReduceMax, 18);
  t["ReduceSum"] = reduce(LayerType::ReduceSum, 13);
}

}  // namespace kiln::onnx
