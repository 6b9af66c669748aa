// Per-layer precision: a<input bits>_w<weight bits>[_a<output bits>] (the accepted values are the
// script language's list, alls::precisionModes()), and where each layer's choice came from.
#pragma once

#include <string>

namespace kiln::quant {

struct PrecisionMode {
  int in = 8, w = 8, out = 8;
  std::string name = "a8_w8";
};

/// Parses a precision_mode value: one of alls::precisionModes(), read as a<in>_w<w>[_a<out>]
/// (output bits default to the input bits). Returns false when `s` is not an accepted mode.
bool parsePrecisionMode(const std::string& s, PrecisionMode& out);

struct LayerPrecision {
  PrecisionMode mode;
  std::string source = "default";  // "model.alls:4" when a script line chose it
};

}  // namespace kiln::quant
