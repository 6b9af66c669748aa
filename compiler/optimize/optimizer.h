// `kiln optimize`: script + calibration + quantization + noise report, from a parsed archive to
// an optimized one.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/npy.h"
#include "compiler/archive/archive.h"

namespace kiln::optimize {

struct OptimizeOptions {
  std::string calibPath;     // --calib-set-path
  bool randomCalib = false;  // --use-random-calib-set
  std::string scriptPath;    // --model-script (empty: none)
  /// The script's text in memory (the Python API's load_model_script): used instead of reading
  /// scriptPath, which then only names the script in messages and in the report.
  std::optional<std::string> scriptText;
  /// Calibration arrays in memory (the Python API), one per network input in input order, each
  /// [N, ...] as an .npz member: used instead of calibPath; calibArraysName names them.
  std::vector<npy::Array> calibArrays;
  std::string calibArraysName = "the calibration arrays";
  bool strict = false;        // --strict: parsed-but-not-applied commands are errors
  int calibSizeOverride = 0;  // --calib-size (0: the script's calibset_size or 64)
  int reportSamples = 16;     // samples used for the noise report
  std::function<void(const std::string&)> warn = [](const std::string&) {};
  std::function<void(const std::string&)> info = [](const std::string&) {};
  std::function<void(int, int)> progress;        // calibration progress (done, total)
  std::function<void(int, int)> reportProgress;  // noise report progress (done, total)
  /// Called as each step starts ("script", "calibration data", "equalization", "calibration",
  /// "quantization", "bias correction", "noise report"), for per-step times and progress lines.
  std::function<void(const std::string&)> stepStarted = [](const std::string&) {};
};

/// Returns the optimized archive (stages parse, optimize; extra entries optimize/script.alls and
/// optimize/report.json). Throws Error (or alls::ScriptError, calib::CalibError) with a message
/// naming the file and the problem.
Archive optimize(const Archive& parsed, const OptimizeOptions& o);

}  // namespace kiln::optimize
