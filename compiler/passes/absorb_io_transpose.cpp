// absorb_io_transpose: an input layer read only by a Transpose takes the permutation itself (its
// `perm` attribute; the user still feeds the ONNX layout, e.g. NHWC), and an output layer fed by
// a Transpose read only by it does the same on the way out. Leaves other transposes alone.
#include "compiler/passes/pipeline.h"

namespace kiln::passes {

void absorbIoTranspose(Graph& g, PassNotes& /*notes*/) {
  for (int id : g.inputLayers()) {
    const int t = singleConsumer(g, {id, 0});
    if (t < 0 || g.at(t).type != LayerType::Transpose || g.at(id).hasAttr("perm")) continue;
    Layer& in = g.at(id);
    in.attrs["perm"] = g.at(t).attrInts("perm");
    in.outputShapes = g.at(t).outputShapes;
    absorbInto(g, t, {id, 0}, id);
  }
  for (int id : g.outputLayers()) {
    Layer& out = g.at(id);
    const ValueRef src = out.inputs[0];
    Layer& t = g.at(src.layer);
    if (t.type != LayerType::Transpose || singleConsumer(g, src) != id || out.hasAttr("perm"))
      continue;
    out.attrs["perm"] = t.attrInts("perm");
    out.inputs[0] = t.inputs[0];
    for (const auto& n : t.originalNames) out.originalNames.push_back(n);
    t.dead = true;
  }
}

}  // namespace kiln::passes
