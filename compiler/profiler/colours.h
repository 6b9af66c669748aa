// The colours of the graph and the charts: one table for precisions and one for SNR bands, used
// by the Graphviz drawing (server side) and handed to the report's script as JSON.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace kiln::profiler {

/// Fill colour of a layer by its precision mode ("a8_w8", "a16_w16", "a8_w4", ...; "" for a
/// float archive).
std::string precisionColour(const std::string& precision);
/// Fill colour of a layer by its accumulated SNR in dB (the noise report's bands: under 10 dB is
/// flagged).
std::string snrColour(double snrDb);
/// {"precision": {mode: colour}, "precision_other": colour, "snr": [{"min_db", "colour",
/// "label"}]} for the report's script.
nlohmann::json paletteJson();

}  // namespace kiln::profiler
