// Gemm -> fc; MatMul -> fc when the right operand is a constant matrix, else matmul.
#include "compiler/onnx/attr_checks.h"
#include "compiler/onnx/shape_helpers.h"

namespace kiln::onnx {

namespace {

void importGemm(NodeContext& c) {
  const Shape a = c.shape(0);
  if (a.size() != 2) throw c.error("input A must be 2-D, got " + shapeStr(a));
  ValueRef in = c.value(0);
  if (flagAttr(c, "transA", 0)) {  // A^T: an explicit transpose in front of the fc
    Layer t = makeLayer(LayerType::Transpose, {in});
    t.attrs["perm"] = std::vector<int64_t>{1, 0};
    in = c.addLayer(std::move(t));
  }
  const ConstTensor& b = c.constant(1, "B (weights)");
  if (b.shape.size() != 2) throw c.error("B must be 2-D");
  const bool transB = flagAttr(c, "transB", 0);
  const double alpha = finiteAttr(c, "alpha", 1.0), beta = finiteAttr(c, "beta", 1.0);
  const int64_t K = transB ? b.shape[1] : b.shape[0], N = transB ? b.shape[0] : b.shape[1];
  Tensor w;
  w.shape = {K, N};
  w.data.resize(K * N);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n)
      w.data[k * N + n] = float(alpha * b.value(transB ? n * K + k : k * N + n));
  Tensor bias, matrixBias;
  bias.shape = {N};
  bias.data.assign(N, 0.f);
  if (c.hasInput(2)) {
    const ConstTensor& cc = c.constant(2, "C (bias)");
    const int64_t n = cc.numel();
    const bool perColumn = n == N && (cc.shape.size() <= 1 || cc.shape[cc.shape.size() - 1] == N);
    if (n == 1) {
      bias.data.assign(N, float(beta * cc.value(0)));
    } else if (perColumn) {
      for (int64_t j = 0; j < N; ++j) bias.data[j] = float(beta * cc.value(j));
    } else {
      // A full [M, N] (or [M, 1]) bias: fc without bias, then an ew_add of beta * C.
      Tensor cb = cc.toTensor();
      for (float& v : cb.data) v = float(beta * v);
      matrixBias = std::move(cb);
    }
  }
  Layer l = makeLayer(LayerType::Fc, {in});
  l.params["kernel"] = std::move(w);
  l.params["bias"] = std::move(bias);
  ValueRef out = c.addLayer(std::move(l));
  if (!matrixBias.data.empty()) {
    Layer k;
    k.type = LayerType::ConstInput;
    k.originalNames = {c.node().input(2)};
    k.outputShapes = {matrixBias.shape};
    k.params["value"] = std::move(matrixBias);
    const ValueRef kref{c.graph().add(std::move(k)), 0};
    out = c.addLayer(makeLayer(LayerType::EwAdd, {out, kref}));
  }
  c.setOutput(0, out);
}

void importMatMul(NodeContext& c) {
  if (c.isConst(1) && c.constant(1, "B").shape.size() == 2 && !c.isConst(0) &&
      !c.shape(0).empty()) {
    const ConstTensor& b = c.constant(1, "B");
    Layer l = makeLayer(LayerType::Fc, {c.value(0)});
    l.params["kernel"] = b.toTensor();
    Tensor bias;
    bias.shape = {b.shape[1]};
    bias.data.assign(b.shape[1], 0.f);
    l.params["bias"] = std::move(bias);
    c.setOutput(0, c.addLayer(std::move(l)));
    return;
  }
  if (c.shape(0).size() < 2 || c.shape(1).size() < 2)
    throw c.error("1-D operands of a run-time MatMul are not supported");
  c.setOutput(0, c.addLayer(makeLayer(LayerType::MatMul, {c.value(0), c.value(1)})));
}

}  // namespace

void registerLinearOps(OpTable& t) {
  t["Gemm"] = {importGemm, [](int i) { return i >= 1; }};
  t["MatMul"] = {importMatMul};
}

}  // namespace kiln::onnx
