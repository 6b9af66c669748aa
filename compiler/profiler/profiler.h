// `kiln profiler`: the whole report of an archive (and optionally its executable, a runtime
// profile and a noise analysis) as one self-contained HTML page.
#pragma once

#include <string>

#include "compiler/archive/archive.h"
#include "compiler/profiler/report_data.h"

namespace kiln::profiler {

/// The page: the data (report_data.h), the graph laid out by Graphviz (graphviz.h), the HTML
/// (report_html.h). Throws Error naming the input at fault, or when Graphviz is missing.
std::string buildReport(const Archive& archive, const ReportInputs& in);

}  // namespace kiln::profiler
