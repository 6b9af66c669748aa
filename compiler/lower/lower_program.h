// Lowering: an optimized (quantized) graph becomes the runtime's Program — the operations the
// runtime executes, their integer parameters and constants, the streams, and the memory plan.
// The quantized emulation runs the lowered program through the runtime's executor, so the
// emulation and a compiled .kef execute the very same code.
#pragma once

#include <vector>

#include "compiler/ir/graph.h"
#include "runtime/engine/program.h"

namespace kiln {

struct LowerOptions {
  /// Give every tensor its own memory (the emulator's "keep every layer's output" mode) instead
  /// of reusing memory by liveness.
  bool keepAll = false;
};

struct LoweredProgram {
  rt::OwnedProgram owned;
  std::vector<int> layerTensor;  // layer id -> the tensor holding its output (IR layout)
  std::vector<int> opLayer;      // operation -> the layer it comes from
  const rt::Program& program() const { return owned.program; }
};

/// Throws Error when a layer is not quantized or has no integer implementation.
LoweredProgram lowerProgram(const Graph& g, const LowerOptions& opts = {});

/// One layer alone (the optimizer measures layers one at a time): its inputs become tensors of
/// the program (layerTensor maps the producers to them), its output the last tensor.
LoweredProgram lowerSingleLayer(const Graph& g, int layer);

/// The memory plan: assigns every tensor an arena offset so that tensors alive at the same time
/// never overlap (first fit in offset order, deterministic); returns the arena size in elements.
/// `def[t]` is the operation that writes tensor t (-1: written before the first, an input),
/// `lastUse[t]` the last operation that reads it (ops.size(): kept to the end, an output).
int64_t planMemory(std::vector<rt::TensorDesc>& tensors, const std::vector<int>& def,
                   const std::vector<int>& lastUse);

}  // namespace kiln
