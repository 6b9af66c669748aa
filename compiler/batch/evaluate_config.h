// `kiln eval CONFIG.yaml` (and the Python API's kiln.evaluate): optimize a network config, run
// its evaluation set through the float network and the test builds, compute the task metrics
// and check the `expect:` gates (compiler/eval/evaluate.h). Writes the archives, the .kef (kef
// target) and <net>.eval.json to the output directory; the command prints the table.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "compiler/eval/evaluate.h"

namespace kiln::batch {

struct EvaluateConfigOptions {
  std::vector<std::string> targets = {"quantized"};  // --targets, of eval::targetNames()
  std::string data;                                  // --data: instead of the config's eval.data
  int size = 0;                                      // --size: at most this many samples (0: all)
  std::optional<int> calibSize;                      // --calib-size (else the config's)
  std::optional<std::string> hwArch;                 // --hw-arch: the kef build's target
  std::string outputDir = ".";                       // --output-dir
  std::function<void(const std::string&)> warn = [](const std::string&) {};
  std::function<void(const std::string&)> info = [](const std::string&) {};
  std::function<void(const std::string&)> note = [](const std::string&) {};  // the dir lock's
  std::function<void(int, int)> progress, reportProgress;  // calibration, noise report
  std::function<void(const std::string&)> stepStarted;     // optimize's steps
  std::function<void(int, int)> evalProgress;              // evaluation samples
};

struct EvaluateConfigResult {
  eval::EvalResult result;
  std::string name;      // the config's network name (messages)
  std::string jsonPath;  // <outputDir>/<net>.eval.json, written
};

/// Throws Error for a config without an evaluation set, an unknown target, and the config's,
/// flow's and evaluation's errors. A missed gate is not an error: see result.passed().
EvaluateConfigResult evaluateConfig(const std::string& config, const EvaluateConfigOptions& o);

}  // namespace kiln::batch
