#include "compiler/quant/precision.h"

namespace kiln::quant {

const std::vector<std::string>& precisionModes() {
  static const std::vector<std::string> modes = {"a8_w8",  "a8_w4",      "a16_w16",
                                                 "a16_w8", "a16_w8_a16", "a8_w8_a16"};
  return modes;
}

bool parsePrecisionMode(const std::string& s, PrecisionMode& out) {
  static const std::map<std::string, PrecisionMode> table = {
      {"a8_w8", {8, 8, 8, "a8_w8"}},
      {"a8_w4", {8, 4, 8, "a8_w4"}},
      {"a16_w16", {16, 16, 16, "a16_w16"}},
      {"a16_w8", {16, 8, 16, "a16_w8"}},
      {"a16_w8_a16", {16, 8, 16, "a16_w8_a16"}},
      {"a8_w8_a16", {8, 8, 16, "a8_w8_a16"}}};
  auto it = table.find(s);
  if (it == table.end()) return false;
  out = it->second;
  return true;
}

}  // namespace kiln::quant
