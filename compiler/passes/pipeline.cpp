// The import pipeline: its passes in order, and the functions that run them, all at once
// (runImportPipeline) or up to a named pass and then that pass alone (for the pass tests).
#include "compiler/passes/pipeline.h"

#include <algorithm>
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
      // What fold_affine left before a padded or grouped conv folds into it too, the padding
      // moving into a pad layer where the shift makes the borders differ.
      {"fold_affine_forward", foldAffineForward},
      // A convolution read only through channel slices: one convolution per slice, so each gets
      // its own quantization range and unread channels are not computed.
      {"split_channel_slices", splitChannelSlices},
      // Last: activations into whatever produces their input.
      {"fuse_activation", fuseActivation},
  };
  return passes;
}

namespace {

bool verifyEachPass() {
  return std::getenv("KILN_VERIFY_EACH_PASS") != nullptr;
}

// True when KILN_DUMP_IR names pass `p`.
bool dumpRequested(const Pass& p) {
  const char* dumpAt = std::getenv("KILN_DUMP_IR");
  return dumpAt && std::string(dumpAt) == p.name;
}

// What the pipeline does before its first pass.
void prepare(Graph& g, bool verifyEach) {
  g.compact();
  assignNames(g);
  if (verifyEach) verify(g);
}

// One step of the pipeline: pass `p`, then dead layers removed and the layers named again.
void runStep(Graph& g, const Pass& p, bool dump, bool verifyEach, PassNotes* notes) {
  if (dump) std::cerr << "--- before " << p.name << "\n" << kiln::dump(g);
  PassNotes local;
  p.run(g, notes ? *notes : local);
  g.compact();
  assignNames(g);
  if (dump) std::cerr << "--- after " << p.name << "\n" << kiln::dump(g);
  if (verifyEach) verify(g);
}

}  // namespace

void runImportPipeline(Graph& g, PassNotes* notes) {
  const bool verifyEach = verifyEachPass();
  prepare(g, verifyEach);
  for (const Pass& p : importPipeline()) runStep(g, p, dumpRequested(p), verifyEach, notes);
  verify(g);
}

const Pass& importPass(const std::string& name) {
  std::string known;
  for (const Pass& p : importPipeline()) {
    if (name == p.name) return p;
    known += std::string(known.empty() ? "" : ", ") + p.name;
  }
  throw Error("no import pass '" + name + "' (the pipeline has: " + known + ")");
}

void runPassesUntil(Graph& g, const std::string& pass) {
  const Pass& until = importPass(pass);
  const bool verifyEach = verifyEachPass();
  prepare(g, verifyEach);
  for (const Pass& p : importPipeline()) {
    if (&p == &until) return;
    runStep(g, p, dumpRequested(p), verifyEach, nullptr);
  }
}

void runPass(Graph& g, const std::string& name, PassNotes* notes) {
  const Pass& p = importPass(name);
  runStep(g, p, dumpRequested(p), verifyEachPass(), notes);
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
