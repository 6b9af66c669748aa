#include "compiler/optimize/equalization.h"

#include <algorithm>
#include <cmath>

#include "compiler/passes/pipeline.h"

namespace kiln::optimize {

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

namespace {

// Activation-aware equalization of one pair (see equalization.h): t_c multiplies A's output
// channel c (A's weights and bias), 1/t_c B's input channel c.
bool equalizeByActivation(Graph& g, int a, int b, const std::vector<double>& actAbsMax) {
  Layer& A = g.at(a);
  Layer& B = g.layers[size_t(b)];
  const bool aNorm = A.type == LayerType::Normalization;
  Tensor& ka = A.params[aNorm ? "scale" : "kernel"];
  Tensor& ba = A.params["bias"];
  Tensor& kb = B.params["kernel"];
  const int64_t C = int64_t(ba.data.size());
  const int64_t perA = ka.numel() / C;
  const bool bDw = B.type == LayerType::Dw;
  const int64_t coutB = kb.shape[0], cinB = bDw ? 1 : kb.shape[1], khwB = kb.shape[2] * kb.shape[3];
  if ((bDw ? coutB : cinB) != C || int64_t(actAbsMax.size()) != C || ka.numel() != C * perA)
    return false;
  std::vector<double> rB(C, 0.0);
  for (int64_t o = 0; o < coutB; ++o)
    for (int64_t ci = 0; ci < cinB; ++ci)
      for (int64_t t = 0; t < khwB; ++t) {
        const int64_t c = bDw ? o : ci;
        rB[c] = std::max(rB[c], double(std::fabs(kb.data[(o * cinB + ci) * khwB + t])));
      }
  // B depthwise: its per-channel weight quantization is indifferent to t_c, so every channel of
  // A's output is brought to the same range. B a full conv: t_c balances the activation range
  // against B's input-channel weight range (CLE's geometric mean, with A's activation range in
  // place of A's weight range, which per-channel weight quantization makes irrelevant).
  std::vector<double> t(C, 0.0);
  double rMax = 0, reach = 0;
  for (int64_t c = 0; c < C; ++c) rMax = std::max(rMax, actAbsMax[c]);
  if (!(rMax > 0)) return false;
  for (int64_t c = 0; c < C; ++c) {
    if (!(actAbsMax[c] > 0) || !(rB[c] > 0)) continue;
    t[c] = bDw ? 1.0 / actAbsMax[c] : std::sqrt(rB[c] / actAbsMax[c]);
    reach = std::max(reach, actAbsMax[c] * t[c]);
  }
  if (!(reach > 0)) return false;
  for (int64_t c = 0; c < C; ++c) {
    // Normalized so the widest channel keeps the range of the widest channel before.
    const double s = t[c] > 0 ? std::clamp(t[c] * rMax / reach, 1e-4, 1e4) : 1.0;
    for (int64_t i = 0; i < perA; ++i) ka.data[c * perA + i] = float(ka.data[c * perA + i] * s);
    ba.data[c] = float(ba.data[c] * s);
    for (int64_t o = 0; o < coutB; ++o)
      for (int64_t ci = 0; ci < cinB; ++ci) {
        if ((bDw ? o : ci) != c) continue;
        for (int64_t k = 0; k < khwB; ++k) {
          float& w = kb.data[(o * cinB + ci) * khwB + k];
          w = float(w / s);
        }
      }
  }
  return true;
}

}  // namespace

int equalizeLayers(Graph& g, const std::vector<std::vector<double>>& actAbsMax) {
  int pairs = 0;
  for (size_t b = 0; b < g.layers.size(); ++b) {
    if (g.layers[b].inputs.empty()) continue;
    const int a = g.layers[b].inputs[0].layer;
    const Layer& A = g.at(a);
    const bool aNorm = A.type == LayerType::Normalization && homogeneous(A.activation.kind) &&
                       A.activation.kind != ActKind::PRelu;
    if (!aNorm && !qualifies(g, a, int(b))) continue;
    if (aNorm) {
      const Layer& B = g.layers[b];
      if (B.type != LayerType::Conv && B.type != LayerType::Dw) continue;
      if (B.type == LayerType::Conv && B.attrInt("group", 1) != 1) continue;
      if (B.type == LayerType::Dw && !isDepthwise(B)) continue;
      if (passes::singleConsumer(g, {a, 0}) != int(b)) continue;
    }
    if (size_t(a) >= actAbsMax.size()) continue;
    // weights_clipping's fixed bounds hold for the weights as the script saw them.
    if (A.hasAttr("weights_clip_lo") || g.layers[b].hasAttr("weights_clip_lo")) continue;
    pairs += equalizeByActivation(g, a, int(b), actAbsMax[size_t(a)]);
  }
  return pairs;
}

}  // namespace kiln::optimize
