// One quantized layer run alone on integer inputs (the optimizer measures layers one at a time),
// through the runtime's executor like the whole network.
#pragma once

#include <memory>

#include "compiler/emulator/quant_executor.h"

namespace kiln {

namespace rt {
class Executor;
}

/// Lowers and validates layer `l` of `g` once; run() then executes it on any number of inputs.
/// Reflects the layer's qparams at construction (build a new one after changing them).
class QuantLayerRunner {
 public:
  QuantLayerRunner(const Graph& g, const Layer& l);
  /// With `pool` (null: the kernels run inline on the calling thread) instead of the emulation's.
  QuantLayerRunner(const Graph& g, const Layer& l, rt::ThreadPool* pool);
  ~QuantLayerRunner();
  QuantLayerRunner(const QuantLayerRunner&) = delete;
  QuantLayerRunner& operator=(const QuantLayerRunner&) = delete;

  void run(const std::vector<const IntBuffer*>& in, IntBuffer& out);

 private:
  const Layer& layer_;
  int id_;
  std::unique_ptr<LoweredProgram> lp_;  // the executor refers to its program
  std::unique_ptr<rt::Executor> ex_;
};

/// One call: QuantLayerRunner(g, l).run(in, out).
void runQuantLayer(const Graph& g, const Layer& l, const std::vector<const IntBuffer*>& in,
                   IntBuffer& out);

}  // namespace kiln
