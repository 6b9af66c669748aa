// The network as a Graphviz graph (dot language): one box per layer, top to bottom, filled by
// precision or by accumulated SNR. `kiln visualizer --format dot` prints it; the SVG of
// `kiln visualizer` and of the report is Graphviz's layout of it (graphviz.h).
#pragma once

#include <map>
#include <string>

#include "compiler/archive/archive.h"

namespace kiln::profiler {

enum class ColourBy { Precision, Snr };

struct DotOptions {
  ColourBy colourBy = ColourBy::Precision;
  std::map<std::string, double> snrDb;  // layer -> accumulated SNR (from the noise report)
};

/// The layer's SVG element id in the drawing ("layer_<index>"; Graphviz would write a "-" as
/// &#45;), for the report's script.
std::string layerNodeId(size_t index);

std::string graphDot(const Graph& g, const DotOptions& opts);

/// Per-layer accumulated SNR of an optimized archive's noise report (optimize/report.json);
/// empty for an archive that was not optimized.
std::map<std::string, double> reportSnr(const Archive& a);

}  // namespace kiln::profiler
