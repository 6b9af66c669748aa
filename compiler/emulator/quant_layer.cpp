#include "emulator/quant_layer.h"

#include <algorithm>

#include "engine/executor.h"
#include "lower/lower_program.h"

namespace kiln {

void runQuantLayer(const Graph& g, const Layer& l, const std::vector<const IntBuffer*>& in,
                   IntBuffer& out) {
  const int id = int(&l - g.layers.data());
  const LoweredProgram lp = lowerSingleLayer(g, id);
  rt::Executor ex(lp.program());
  for (size_t k = 0; k < l.inputs.size(); ++k) {
    const int t = lp.layerTensor[size_t(l.inputs[k].layer)];
    const auto& desc = lp.program().tensors[size_t(t)];
    if (in[k]->data.size() != size_t(desc.numel()))
      throw Error("layer " + l.name + ": input " + std::to_string(k) + " has " +
                  std::to_string(in[k]->data.size()) + " values, expected " +
                  std::to_string(desc.numel()));
    std::copy(in[k]->data.begin(), in[k]->data.end(), ex.tensor(size_t(t)));
  }
  ex.run();
  const size_t t = size_t(lp.layerTensor[size_t(id)]);
  const auto& desc = lp.program().tensors[t];
  out.shape = desc.shape;
  out.data.assign(ex.tensor(t), ex.tensor(t) + desc.numel());
}

}  // namespace kiln
