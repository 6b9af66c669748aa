// The import pass pipeline: the rewrites that turn a literal translation of the ONNX graph into
// Kiln's layers (activation fusion, BatchNorm folding, pattern recognition, I/O layout).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"

namespace kiln::passes {

/// One pass: a name (for dumps and debugging) and a function that rewrites the graph in place.
struct Pass {
  const char* name;
  void (*run)(Graph&);
};

/// The passes run after import, in order (see pipeline.cpp for why this order).
const std::vector<Pass>& importPipeline();

/// Runs the import pipeline, then removes dead layers, names the layers and verifies the graph.
/// With KILN_DUMP_IR=<pass name> in the environment the graph is printed before and after it;
/// KILN_VERIFY_EACH_PASS=1 runs the verifier after every pass (the tests set it).
void runImportPipeline(Graph& g);

// The passes (one file each).
void absorbIoTranspose(Graph& g);
void fuseHardSwish(Graph& g);
void fuseSilu(Graph& g);
void fuseLayerNorm(Graph& g);
void foldAffine(Graph& g);
void splitChannelSlices(Graph& g);
void fuseActivation(Graph& g);

/// Helpers for passes: the single consumer of v, or -1 when v has zero or several readers.
int singleConsumer(const Graph& g, ValueRef v);
/// Marks `dead` dead and redirects its readers to `replacement`; merges original names into
/// `into` when given.
void absorbInto(Graph& g, int dead, ValueRef replacement, int into = -1);

}  // namespace kiln::passes
