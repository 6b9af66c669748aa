// How `kiln optimize` chose the quantization range of a layer's output, and the names the noise
// report (optimize/report.json, field range_method) gives those choices.
#pragma once

#include <string>

namespace kiln::optimize {

/// How a layer's output range was chosen.
enum class RangeMethod {
  MinMax,              // the calibrated [min, max]
  ActivationClipping,  // the script's activation_clipping (percentiles or absolute bounds)
  ForceRangeOut,       // the script's quantization_param(..., force_range_out=...)
  ForceRangeIn,        // a reader's quantization_param(..., force_range_in=...)
  Mse,                 // the range of least expected error (range selection)
  NotOwn,              // narrowed, but the layer keeps its input's (or a fixed) quantization
};

/// The report's name of a method: "min_max", "activation_clipping", "force_range_out",
/// "force_range_in", "mse" or "not_own".
const char* rangeMethodName(RangeMethod m);

/// The method a report name stands for; false when `name` is none of them.
bool rangeMethodFromName(const std::string& name, RangeMethod& out);

}  // namespace kiln::optimize
