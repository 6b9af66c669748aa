// Unary activation functions -> `activation` layers (fused into their producer later by the
// fuse_activation pass). Clip with bounds (0, 6) is relu6; Pow with a constant exponent is pow.
#include <cmath>
#include <limits>

#include "compiler/onnx/attr_checks.h"
#include "compiler/onnx/shape_helpers.h"

namespace kiln::onnx {

namespace {

void addActivation(NodeContext& c, Activation a, Tensor preluSlope = {}) {
  Layer l = makeLayer(LayerType::Activation, {c.value(0)});
  l.activation = a;
  if (a.kind == ActKind::PRelu) l.params["prelu_slope"] = std::move(preluSlope);
  c.setOutput(0, c.addLayer(std::move(l)));
}

OpImporter simple(ActKind k, const char* alphaAttr = nullptr, double alphaDefault = 0,
                  const char* betaAttr = nullptr, double betaDefault = 0) {
  OpImporter imp;
  imp.import = [=](NodeContext& c) {
    Activation a;
    a.kind = k;
    if (alphaAttr) a.alpha = finiteAttr(c, alphaAttr, alphaDefault);
    if (betaAttr) a.beta = finiteAttr(c, betaAttr, betaDefault);
    addActivation(c, a);
  };
  return imp;
}

void importClip(NodeContext& c) {
  const double inf = std::numeric_limits<double>::infinity();
  double lo = -inf, hi = inf;
  if (c.opset() < 11) {
    lo = c.attrFloat("min", -std::numeric_limits<float>::max());
    hi = c.attrFloat("max", std::numeric_limits<float>::max());
  } else {
    if (c.hasInput(1)) lo = c.constant(1, "min").value(0);
    if (c.hasInput(2)) hi = c.constant(2, "max").value(0);
  }
  if (std::isnan(lo) || std::isnan(hi)) throw c.error("min/max: expected numbers, found NaN");
  Activation a;
  if (lo == 0 && hi == 6) {
    a.kind = ActKind::Relu6;
  } else if (lo == 0 && hi >= std::numeric_limits<float>::max()) {
    a.kind = ActKind::Relu;
  } else {
    a.kind = ActKind::Clip;
    a.alpha = std::max(lo, double(-std::numeric_limits<float>::max()));
    a.beta = std::min(hi, double(std::numeric_limits<float>::max()));
  }
  addActivation(c, a);
}

void importPRelu(NodeContext& c) {
  Tensor slope = c.constant(1, "slope").toTensor();
  try {
    if (broadcastShapes(c.shape(0), slope.shape) != c.shape(0)) throw Error("");
  } catch (const Error&) {
    throw c.error("slope of shape " + shapeStr(slope.shape) + " does not broadcast to the input " +
                  shapeStr(c.shape(0)));
  }
  Activation a;
  a.kind = ActKind::PRelu;
  addActivation(c, a, std::move(slope));
}

void importPow(NodeContext& c) {
  if (!c.isConst(1) || c.constant(1, "exponent").numel() != 1)
    throw c.error("Kiln supports Pow with a constant scalar exponent only");
  Activation a;
  a.kind = ActKind::Pow;
  a.alpha = c.constant(1, "exponent").value(0);
  addActivation(c, a);
}

}  // namespace

void registerActivationOps(OpTable& t) {
  t["Relu"] = simple(ActKind::Relu);
  t["LeakyRelu"] = simple(ActKind::LeakyRelu, "alpha", 0.01);
  t["Sigmoid"] = simple(ActKind::Sigmoid);
  t["Tanh"] = simple(ActKind::Tanh);
  t["HardSigmoid"] = simple(ActKind::HardSigmoid, "alpha", 0.2, "beta", 0.5);
  t["HardSwish"] = simple(ActKind::HardSwish, "alpha", 1.0 / 6, "beta", 0.5);
  t["Elu"] = simple(ActKind::Elu, "alpha", 1.0);
  t["Softplus"] = simple(ActKind::Softplus);
  t["Exp"] = simple(ActKind::Exp);
  t["Log"] = simple(ActKind::Log);
  t["Sqrt"] = simple(ActKind::Sqrt);
  t["Reciprocal"] = simple(ActKind::Reciprocal);
  t["Abs"] = simple(ActKind::Abs);
  t["Neg"] = simple(ActKind::Neg);
  t["Erf"] = simple(ActKind::Erf);
  t["Clip"] = {importClip, [](int i) { return i >= 1; }};
  t["PRelu"] = {importPRelu, [](int i) { return i == 1; }};
  t["Pow"] = {importPow, [](int i) { return i == 1; }};
}

}  // namespace kiln::onnx
