// Applying a model script (.alls) to a parsed network: the float changes (normalization,
// input_conversion, change_output_activation) and the quantization settings (per-layer
// precision, forced ranges, calibration size, 16-bit outputs, optimization level). The handlers
// are registered in script_commands.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "alls/alls.h"
#include "compiler/ir/graph.h"
#include "compiler/quant/precision.h"

namespace kiln::optimize {

/// Everything a script asks of `kiln optimize` beyond the float graph changes.
struct ScriptSettings {
  std::map<std::string, quant::LayerPrecision> precision;          // by Kiln layer name
  std::map<std::string, std::pair<double, double>> forceRangeOut;  // by Kiln layer name
  std::map<std::string, std::pair<double, double>> forceRangeIn;
  // activation_clipping: per Kiln layer name, percentile (mode=percentile) or absolute bounds.
  struct Clipping {
    bool percentile = true;
    double lo = 0, hi = 100;
  };
  std::map<std::string, Clipping> activationClipping;
  bool equalization = true;  // pre_quantization_optimization(equalization, policy=...)
  int biasCorrection =
      -1;  // post_quantization_optimization(bias_correction, policy=...): -1 = by level
  // post_quantization_optimization(adaround, policy=...): error-compensating weight rounding on
  // (1) or off (0) whatever the level; -1 = by level (>= 2).
  int weightRounding = -1;
  int calibsetSize = 64;
  int optimizationLevel = 1;  // default when the script gives none
  int compressionLevel = 0;
  bool output16 = false;
  uint32_t seed = 0;        // set_seed(seed=N): the seed of --use-random-calib-set
  bool normalizes = false;  // the script inserts a normalization (raw 0-255 input afterwards)
  std::vector<uint8_t> nms;  // nms_postprocess: the .kef section "nms" (archive entry optimize/nms)
  std::vector<std::string>
      applied;  // one line per statement applied, "model.alls:3 normalization(...)"
  std::vector<std::string> notApplied;  // statements of applied commands this version cannot act on
  /// Statements and keys accepted with a meaning Kiln states (an info line each, not a warning):
  /// "model.alls:2: model_optimization_config(negative_exponent): accepted, <why>".
  std::vector<std::string> accepted;
};

/// Applies `script` to `g` (float changes happen in place; layers are renamed afterwards) and
/// returns the settings. Each applied statement goes to the handler script_commands.h registers
/// for its command (and feature); keys and statements without one are listed in notApplied.
/// Errors (ScriptError) point at the statement.
ScriptSettings applyScript(Graph& g, const alls::Script& script);

/// The notApplied lines applyScript gives for `script`, without a network, as warnings at their
/// statements (notApplied set, label "quantization_param key bias_mode"): what `kiln optimize`
/// will say it parses but does not act on. kiln check-script reports them.
std::vector<alls::Diagnostic> scriptNotApplied(const alls::Script& script);

/// The accepted lines applyScript gives for `script`, without a network, as notes at their
/// statements (severity Note): what kiln optimize accepts with a stated meaning.
std::vector<alls::Diagnostic> scriptAccepted(const alls::Script& script);

/// Layer names for script references: Kiln names and ONNX names.
std::vector<alls::LayerName> layerNames(const Graph& g);

}  // namespace kiln::optimize
