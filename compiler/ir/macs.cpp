// Multiply-accumulates and element operations of one layer, by its MAC kind.
#include "compiler/ir/macs.h"

namespace kiln {

namespace {

const Shape& kernelShape(const Layer& l) {
  if (l.hasParam("kernel")) return l.param("kernel").shape;
  return l.qparam("kernel").shape;
}

// The product of `factors`, overflow-checked: an error naming the layer, never a wrapped count.
int64_t product(const Layer& l, const char* what, std::initializer_list<int64_t> factors) {
  const std::string context = std::string("the ") + what + " count of layer " + l.name;
  int64_t r = 1;
  for (int64_t v : factors) r = checkedMul(r, v, context);
  return r;
}

}  // namespace

int64_t layerMacs(const Graph& g, const Layer& l) {
  if (l.outputShapes.empty()) return 0;
  const int64_t out = numel(l.outputShapes[0]);
  switch (macKind(l.type)) {
    case MacKind::Conv: {
      const Shape& k = kernelShape(l);  // [Cout, Cin/g, kh, kw]
      return product(l, "MAC", {out, k[1], k[2], k[3]});
    }
    case MacKind::Deconv: {
      const Shape& k = kernelShape(l);  // [Cin, Cout/g, kh, kw]
      return product(l, "MAC", {numel(g.shapeOf(l.inputs[0])), k[1], k[2], k[3]});
    }
    case MacKind::Fc:
      return product(l, "MAC", {out, kernelShape(l)[0]});  // [K, N]
    case MacKind::MatMul:
      return product(l, "MAC", {out, g.shapeOf(l.inputs[0]).back()});
    case MacKind::None:
    case MacKind::Window:
    case MacKind::InElems:
    case MacKind::OutElems:
      return 0;
  }
  return 0;
}

int64_t layerElementOps(const Graph& g, const Layer& l) {
  if (l.outputShapes.empty()) return 0;
  const int64_t out = numel(l.outputShapes[0]);
  switch (macKind(l.type)) {
    case MacKind::Window: {
      const auto k = l.attrInts("kernel");
      return k.size() == 2 ? product(l, "element operation", {out, k[0], k[1]}) : out;
    }
    case MacKind::InElems:
      return l.inputs.empty() ? out : numel(g.shapeOf(l.inputs[0]));
    case MacKind::OutElems:
      return out;
    case MacKind::None:
    case MacKind::Conv:
    case MacKind::Deconv:
    case MacKind::Fc:
    case MacKind::MatMul:
      return 0;
  }
  return 0;
}

}  // namespace kiln
