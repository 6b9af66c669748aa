// The report page's stylesheet and script (report.css, report.js in this folder), inlined into
// the binary at build time (CMake writes report_assets.cpp from report_assets.cpp.in).
#pragma once

namespace kiln::profiler {

const char* reportCss();
const char* reportJs();

}  // namespace kiln::profiler
