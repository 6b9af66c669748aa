// `kiln analyze-noise OPT.kar --data-path DATA` (and the Python API's
// ClientRunner.analyze_noise): the quantization noise of an optimized archive on held-out data,
// per output and per layer (simple), and per tensor with ranked 16-bit suggestions (advanced;
// compiler/optimize/noise_analysis.h says how). The command only prints and writes what this
// returns.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "compiler/archive/archive.h"
#include "compiler/noise/held_out.h"

namespace kiln::noise {

struct AnalyzeOptions {
  std::string mode = "simple";    // --mode: simple or advanced
  HeldOutData data;               // --data-path, --data-size
  std::string hwArch = "hailo8";  // --hw-arch: prices the suggestions' FPS
  int top = 10;                   // --top: suggestions listed
  std::function<void(const std::string&)> warn = [](const std::string&) {};  // the data's
  std::function<void(const std::string&)> info = [](const std::string&) {};  // its description
  std::function<void(int, int)> progress;  // (done, total), optimize::NoiseAnalysisOptions
};

struct AnalyzeResult {
  std::string text;     // the terminal's report: outputs, lowest layers, suggestions
  nlohmann::json json;  // what --json writes (kind kiln-noise-analysis, version 1)
};

/// `archiveName` names the archive in messages and in the JSON. Throws Error for a mode other
/// than simple / advanced, an archive that is not optimized or an unknown hw_arch, and
/// calib::CalibError for unusable data.
AnalyzeResult analyzeArchive(const Archive& a, const std::string& archiveName,
                             const AnalyzeOptions& o);

}  // namespace kiln::noise
