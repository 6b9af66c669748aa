#include "compiler/profiler/profiler.h"

#include "compiler/profiler/graph_dot.h"
#include "compiler/profiler/graphviz.h"
#include "compiler/profiler/report_html.h"

namespace kiln::profiler {

std::string buildReport(const Archive& archive, const ReportInputs& in) {
  const nlohmann::json data = reportData(archive, in);
  DotOptions dot;
  dot.snrDb = reportSnr(archive);
  const std::string svg = layoutSvg(graphDot(archive.graph, dot), in.karPath);
  return reportHtml(data, svg);
}

}  // namespace kiln::profiler
