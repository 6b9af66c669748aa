// The import pass pipeline: the rewrites that turn a literal translation of the ONNX graph into
// Kiln's layers (activation fusion, BatchNorm folding, pattern recognition, I/O layout).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"

namespace kiln::passes {

/// What passes tell the user (one line each; `kiln parser` prints them as notes).
using PassNotes = std::vector<std::string>;

/// One pass: a name (for dumps and debugging) and a function that rewrites the graph in place,
/// adding to the notes what the user should hear about.
struct Pass {
  const char* name;
  void (*run)(Graph&, PassNotes&);
};

/// The passes run after import, in order (see pipeline.cpp for why this order).
const std::vector<Pass>& importPipeline();

/// Runs the import pipeline: removes dead layers and names the layers, then runs each pass
/// followed again by removing dead layers and naming, and finally verifies the graph. With
/// KILN_DUMP_IR=<pass name> in the environment the graph is printed before and after that pass;
/// KILN_VERIFY_EACH_PASS=1 runs the verifier before the first pass and after every pass (the tests
/// set it). What the passes note is appended to `notes` when given.
void runImportPipeline(Graph& g, PassNotes* notes = nullptr);

/// The pass of importPipeline() called `name`. Throws Error listing the pipeline's passes when
/// there is none.
const Pass& importPass(const std::string& name);

/// Runs the start of the import pipeline on a graph straight from the importer (see
/// onnx::ImportOptions::runImportPasses): everything runImportPipeline does before it reaches the
/// pass `pass`, so the graph is then exactly what that pass receives there. With runPass(g, pass)
/// next, this is how the per-pass tests (tests/compiler/passes/) get their before and after graphs.
/// Throws Error when `pass` is not in the pipeline.
void runPassesUntil(Graph& g, const std::string& pass);

/// Runs the one import pass `name` as runImportPipeline does: the pass, then removing dead layers
/// and naming the layers (with the same KILN_DUMP_IR and KILN_VERIFY_EACH_PASS behaviour). Throws
/// Error when `name` is not in the pipeline. What the pass notes is appended to `notes` when given.
void runPass(Graph& g, const std::string& name, PassNotes* notes = nullptr);

// The passes (one file each).
void absorbIoTranspose(Graph& g, PassNotes& notes);
void fuseHardSwish(Graph& g, PassNotes& notes);
void fuseSilu(Graph& g, PassNotes& notes);
void fuseLayerNorm(Graph& g, PassNotes& notes);
void foldAffine(Graph& g, PassNotes& notes);
void foldAffineForward(Graph& g, PassNotes& notes);
void splitChannelSlices(Graph& g, PassNotes& notes);
void fuseActivation(Graph& g, PassNotes& notes);

/// Helpers for passes: the single consumer of v, or -1 when v has zero or several readers.
int singleConsumer(const Graph& g, ValueRef v);
/// Marks `dead` dead and redirects its readers to `replacement`; merges original names into
/// `into` when given.
void absorbInto(Graph& g, int dead, ValueRef replacement, int into = -1);

}  // namespace kiln::passes
