// The data of `kiln profiler`'s report: the JSON the other commands write, gathered once and
// embedded in the page as it is (the page's script draws from it; nothing is computed twice).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "compiler/archive/archive.h"

namespace kiln::profiler {

struct ReportInputs {
  std::string karPath;             // the archive (optimized for the quantization views)
  std::string kefPath;             // optional: the executable (its <net>.compile.json beside it
                                   // is used when present)
  std::string hwArch = "hailo8";   // the plan's target when there is no .kef
  std::string runtimeProfilePath;  // optional: `kilnrt run --profile --json` output
  std::string noisePath;           // optional: `kiln analyze-noise --json` output
};

/// {"kind": "kiln-profile", "version": 1, "palette", "model" (kiln info --json), "optimization"
/// (optimize/report.json), "script" {"path", "text", "warnings" (the script validator's)},
/// "compilation" {"source", "plan"} (the resource plan of kiln compiler's compile.json),
/// "executable" (executable_json.h), "runtime" (kilnrt run --profile --json), "noise" (kiln
/// analyze-noise --json); absent parts are null. Throws Error naming the file that is missing or
/// not what its option expects.
nlohmann::json reportData(const Archive& archive, const ReportInputs& in);

}  // namespace kiln::profiler
