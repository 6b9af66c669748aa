#include "compiler/passes/pipeline.h"

#include <cstdlib>
#include <iostream>

#include "compiler/ir/verifier.h"

namespace kiln::passes {

const std::vector<Pass>& importPipeline() {
  static const std::vector<Pass> passes = {
      // Layout first: an NHWC input followed by a Transpose becomes an input layer that
      // transposes, so the rest of the graph is NCHW.
      {"absorb_io_transpose", absorbIoTranspose},
      // Patterns over element-wise layers, before activations get fused away from them.
      {"fuse_hardswish", fuseHardSwish},
      {"fuse_silu", fuseSilu},
      {"fuse_layer_norm", fuseLayerNorm},
      // Constant per-channel affine maps (BatchNorm, x*c, x+c, …) fold into the neighbouring
      // conv where exact; what is left stays a normalization layer.
      {"fold_affine", foldAffine},
      // A convolution read only through channel slices: one convolution per slice, so each gets
      // its own quantization range and unread channels are not computed.
      {"split_channel_slices", splitChannelSlices},
      // Last: activations into whatever produces their input.
      {"fuse_activation", fuseActivation},
  };
  return passes;
}

void runImportPipeline(Graph& g) {
  const char* dumpAt = std::getenv("KILN_DUMP_IR");
  const bool verifyEach = std::getenv("KILN_VERIFY_EACH_PASS") != nullptr;
  g.compact();
  assignNames(g);
  if (verifyEach) verify(g);
  for (const Pass& p : importPipeline()) {
    const bool dump = dumpAt && std::string(dumpAt) == p.name;
    if (dump) std::cerr << "--- before " << p.name << "\n" << kiln::dump(g);
    p.run(g);
    g.compact();
    assignNames(g);
    if (dump) std::cerr << "--- after " << p.name << "\n" << kiln::dump(g);
    if (verifyEach) verify(g);
  }
  verify(g);
}

int singleConsumer(const Graph& g, ValueRef v) {
  const auto c = g.consumers(v);
  return c.size() == 1 ? c[0] : -1;
}

void absorbInto(Graph& g, int dead, ValueRef replacement, int into) {
  g.replaceAllUses({dead, 0}, replacement);
  Layer& d = g.at(dead);
  if (into >= 0) {
    auto& names = g.at(into).originalNames;
    for (const auto& n : d.originalNames)
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  }
  d.dead = true;
}

}  // namespace kiln::passes
