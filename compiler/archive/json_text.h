// JSON text of Kiln's archives, reports and plans: nlohmann's dump with invalid UTF-8 replaced.
//
// Names that enter the IR are checked for UTF-8 at import; other text Kiln records — file and
// directory names, script lines, YAML values — may hold any bytes. nlohmann::json throws on
// invalid UTF-8 when it writes (type_error.316, a message naming neither field nor file), so
// every JSON Kiln writes goes through here: an invalid byte becomes U+FFFD, valid text is
// written byte for byte as before.
#pragma once

#include <string>

namespace kiln {

/// `j.dump(indent)` (indent < 0: one line), with invalid UTF-8 replaced by U+FFFD.
template <class Json>
std::string jsonText(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace kiln
