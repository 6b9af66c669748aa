// fuse_activation: an activation layer whose input is produced by a layer that can apply an
// activation on its output (canFuseActivation, the kFusesAct column of layer_types.def: conv,
// dw, deconv, fc, matmul, ew_add/sub/mult/div, normalization, avgpool, global_avg_pool,
// layer_normalization) and that nobody else reads is fused into that producer, as the reference
// toolchain does. Chains fuse only once (the producer must have none yet).
#include "compiler/passes/pipeline.h"

namespace kiln::passes {

void fuseActivation(Graph& g, PassNotes& /*notes*/) {
  for (size_t i = 0; i < g.layers.size(); ++i) {
    Layer& act = g.layers[i];
    if (act.dead || act.type != LayerType::Activation) continue;
    const ValueRef src = act.inputs[0];
    Layer& p = g.at(src.layer);
    if (!canFuseActivation(p.type) || p.activation.kind != ActKind::None ||
        singleConsumer(g, src) != int(i))
      continue;
    if (act.activation.kind == ActKind::PRelu) {
      // Per-channel slopes must broadcast to the producer's output exactly as before.
      p.params["prelu_slope"] = act.params["prelu_slope"];
    }
    p.activation = act.activation;
    absorbInto(g, int(i), src, src.layer);
  }
}

}  // namespace kiln::passes
