#include "compiler/emulator/quant_layer.h"

#include <algorithm>

#include "compiler/emulator/quant_executor.h"
#include "compiler/lower/lower_program.h"
#include "runtime/engine/executor.h"

namespace kiln {

QuantLayerRunner::QuantLayerRunner(const Graph& g, const Layer& l)
    : QuantLayerRunner(g, l, emulationPool()) {}

QuantLayerRunner::QuantLayerRunner(const Graph& g, const Layer& l, rt::ThreadPool* pool)
    : layer_(l),
      id_(int(&l - g.layers.data())),
      lp_(std::make_unique<LoweredProgram>(lowerSingleLayer(g, id_))),
      ex_(std::make_unique<rt::Executor>(lp_->program())) {
  ex_->setPool(pool);
}

QuantLayerRunner::~QuantLayerRunner() = default;

void QuantLayerRunner::run(const std::vector<const IntBuffer*>& in, IntBuffer& out) {
  const rt::Program& prog = lp_->program();
  for (size_t k = 0; k < layer_.inputs.size(); ++k) {
    const int t = lp_->layerTensor[size_t(layer_.inputs[k].layer)];
    const auto& desc = prog.tensors[size_t(t)];
    if (in[k]->data.size() != size_t(desc.numel()))
      throw Error("layer " + layer_.name + ": input " + std::to_string(k) + " has " +
                  std::to_string(in[k]->data.size()) + " values, expected " +
                  std::to_string(desc.numel()));
    std::copy(in[k]->data.begin(), in[k]->data.end(), ex_->tensor(size_t(t)));
  }
  ex_->run();
  const size_t o = size_t(lp_->layerTensor[size_t(id_)]);
  const auto& desc = prog.tensors[o];
  out.shape = desc.shape;
  out.data.assign(ex_->tensor(o), ex_->tensor(o) + desc.numel());
}

void runQuantLayer(const Graph& g, const Layer& l, const std::vector<const IntBuffer*>& in,
                   IntBuffer& out) {
  QuantLayerRunner(g, l).run(in, out);
}

}  // namespace kiln
