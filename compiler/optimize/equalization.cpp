#include "optimize/equalization.h"

#include <algorithm>
#include <cmath>

#include "passes/pipeline.h"

namespace kiln::opt {

namespace {

bool homogeneous(ActKind k) {
  return k == ActKind::None || k == ActKind::Relu || k == ActKind::LeakyRelu || k == ActKind::PRelu;
}

bool isDepthwise(const Layer& l) {
  return l.type == LayerType::Dw && l.param("kernel").shape[0] == l.attrInt("group", 1);
}

// The pair (a -> b) qualifies: a is conv/dw, b is a plain conv or a depthwise conv with one
// output per channel, and nothing else reads a's output.
bool qualifies(const Graph& g, int a, int b) {
  const Layer& A = g.at(a);
  const Layer& B = g.at(b);
  if (A.type != LayerType::Conv && A.type != LayerType::Dw) return false;
  if (A.type == LayerType::Conv && A.attrInt("group", 1) != 1) return false;
  if (A.type == LayerType::Dw && !isDepthwise(A)) return false;
  if (!homogeneous(A.activation.kind)) return false;
  if (A.activation.kind == ActKind::PRelu && A.param("prelu_slope").numel() != 1 &&
      A.param("prelu_slope").numel() != A.param("bias").numel())
    return false;
  if (B.type == LayerType::Conv && B.attrInt("group", 1) != 1) return false;
  if (B.type == LayerType::Dw && !isDepthwise(B)) return false;
  if (B.type != LayerType::Conv && B.type != LayerType::Dw) return false;
  return passes::singleConsumer(g, {a, 0}) == b;
}

}  // namespace

int equalizeLayers(Graph& g, int iterations) {
  int pairs = 0;
  for (int it = 0; it < iterations; ++it) {
    for (size_t b = 0; b < g.layers.size(); ++b) {
      if (g.layers[b].inputs.empty()) continue;
      const int a = g.layers[b].inputs[0].layer;
      if (!qualifies(g, a, int(b))) continue;
      Tensor& ka = g.at(a).params["kernel"];
      Tensor& ba = g.at(a).params["bias"];
      Tensor& kb = g.layers[b].params["kernel"];
      const int64_t C = ka.shape[0];
      const int64_t perA = ka.numel() / C;
      const bool bDw = g.layers[b].type == LayerType::Dw;
      const int64_t coutB = kb.shape[0], cinB = bDw ? 1 : kb.shape[1], khwB = kb.shape[2] * kb.shape[3];
      if ((bDw ? coutB : cinB) != C) continue;
      std::vector<double> rA(C, 0.0), rB(C, 0.0);
      for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < perA; ++i) rA[c] = std::max(rA[c], double(std::fabs(ka.data[c * perA + i])));
      for (int64_t o = 0; o < coutB; ++o)
        for (int64_t ci = 0; ci < cinB; ++ci)
          for (int64_t t = 0; t < khwB; ++t) {
            const int64_t c = bDw ? o : ci;
            rB[c] = std::max(rB[c], double(std::fabs(kb.data[(o * cinB + ci) * khwB + t])));
          }
      for (int64_t c = 0; c < C; ++c) {
        if (!(rA[c] > 0) || !(rB[c] > 0)) continue;
        const double s = std::clamp(std::sqrt(rA[c] / rB[c]), 1e-4, 1e4);
        for (int64_t i = 0; i < perA; ++i) ka.data[c * perA + i] = float(ka.data[c * perA + i] / s);
        ba.data[c] = float(ba.data[c] / s);
        for (int64_t o = 0; o < coutB; ++o)
          for (int64_t ci = 0; ci < cinB; ++ci) {
            if ((bDw ? o : ci) != c) continue;
            for (int64_t t = 0; t < khwB; ++t) {
              float& w = kb.data[(o * cinB + ci) * khwB + t];
              w = float(w * s);
            }
          }
      }
      if (it == 0) ++pairs;
    }
  }
  return pairs;
}

}  // namespace kiln::opt
