// Per-layer precision: a<input bits>_w<weight bits>[_a<output bits>] (a8_w8, a8_w4, a16_w16,
// a16_w8, a16_w8_a16, a8_w8_a16), and where each layer's choice came from.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace kiln::quant {

struct PrecisionMode {
  int in = 8, w = 8, out = 8;
  std::string name = "a8_w8";
};

/// Parses a precision_mode value; false when it is not one of the accepted modes.
bool parsePrecisionMode(const std::string& s, PrecisionMode& out);
/// The accepted precision_mode values.
const std::vector<std::string>& precisionModes();

struct LayerPrecision {
  PrecisionMode mode;
  std::string source = "default";  // "model.alls:4" when a script line chose it
};

}  // namespace kiln::quant
