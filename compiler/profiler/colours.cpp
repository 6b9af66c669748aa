#include "compiler/profiler/colours.h"

#include <iterator>

namespace kiln::profiler {

namespace {

struct PrecisionColour {
  const char* mode;
  const char* colour;
};
// Cool colours for 8-bit activations, warm ones for 16-bit: wide layers stand out.
const PrecisionColour kPrecision[] = {
    {"a8_w8", "#9ecae1"},   {"a8_w4", "#c6dbef"},  {"a8_w16", "#6baed6"},
    {"a16_w16", "#fdae6b"}, {"a16_w8", "#fdd0a2"}, {"a16_w4", "#fee6ce"},
};
const char* kOtherPrecision = "#dddddd";  // float archives, unknown modes

struct SnrBand {
  double minDb;
  const char* colour;
  const char* label;
};
// Highest band first; the last one catches everything below.
const SnrBand kSnr[] = {
    {40, "#1a9850", "≥ 40 dB"},
    {30, "#91cf60", "30–40 dB"},
    {20, "#fee08b", "20–30 dB"},
    {10, "#fc8d59", "10–20 dB"},
    {-1e300, "#d73027", "< 10 dB (flagged)"},
};

}  // namespace

std::string precisionColour(const std::string& precision) {
  for (const PrecisionColour& p : kPrecision)
    if (precision == p.mode) return p.colour;
  return kOtherPrecision;
}

std::string snrColour(double snrDb) {
  for (const SnrBand& b : kSnr)
    if (snrDb >= b.minDb) return b.colour;
  return std::prev(std::end(kSnr))->colour;
}

nlohmann::json paletteJson() {
  nlohmann::json prec = nlohmann::json::object(), bands = nlohmann::json::array();
  for (const PrecisionColour& p : kPrecision) prec[p.mode] = p.colour;
  for (const SnrBand& b : kSnr)
    bands.push_back({{"min_db", b.minDb < -1e299 ? -1000.0 : b.minDb},
                     {"colour", b.colour},
                     {"label", b.label}});
  return {{"precision", prec}, {"precision_other", kOtherPrecision}, {"snr", bands}};
}

}  // namespace kiln::profiler
