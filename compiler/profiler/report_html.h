// `kiln profiler`'s page: one self-contained HTML file. The essentials are plain HTML (the
// Graphviz drawing of the graph and tables) so the page reads without JavaScript; the inlined
// script (report.js) adds the charts, the layer card, sorting and the colour switch from the
// embedded data (report_data.h). No network fetches.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace kiln::profiler {

/// `data` from reportData(), `graphSvg` the drawing of the network (graphviz.h) whose layer
/// elements have the ids of layerNodeId().
std::string reportHtml(const nlohmann::json& data, const std::string& graphSvg);

/// The JSON text as it is embedded in a <script> element ("</" written as "<\/").
std::string embeddedJson(const nlohmann::json& data);

}  // namespace kiln::profiler
