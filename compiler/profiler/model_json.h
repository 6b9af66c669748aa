// The description of an archive's network as JSON: what `kiln info --json` prints and what the
// profiler's report embeds (one function, so the two never differ).
#pragma once

#include <nlohmann/json.hpp>

#include "compiler/archive/archive.h"

namespace kiln::profiler {

/// net_name, tool_version, graph_hash, stages, layers (name, type, activation, original_names,
/// inputs — the producing layers' names —, input and output shapes, params, MACs, and for an
/// optimized archive quant: precision, its source, output bits, scale, zero point), totals.
nlohmann::json modelJson(const Archive& a);

}  // namespace kiln::profiler
