#include "compiler/quant/decision_tensors.h"

namespace kiln::quant {

std::vector<bool> decisionTensors(const Graph& g) {
  const size_t n = g.layers.size();
  std::vector<bool> decision(n, false);
  // Layers are in topological order: every consumer of layer i comes after it, so one pass
  // from the end sees each consumer's verdict before its producers ask.
  for (size_t i = n; i-- > 0;) {
    const Layer& l = g.layers[i];
    if (l.type == LayerType::InputLayer) continue;
    if (l.type == LayerType::OutputLayer) {
      decision[i] = true;
      continue;
    }
    for (int c : g.consumers({int(i), 0})) {
      const Layer& u = g.at(c);
      // A weighted layer (or a matmul) mixes values into new ones: its inputs are features,
      // not decisions; its own output may be one.
      const bool passes = !hasWeights(u.type) && u.type != LayerType::MatMul;
      if (u.type == LayerType::OutputLayer || (passes && decision[size_t(c)])) {
        decision[i] = true;
        break;
      }
    }
  }
  return decision;
}

}  // namespace kiln::quant
