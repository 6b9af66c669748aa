#include "alls/errors.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace kiln::alls {

std::string caretLine(const std::string& lineText, int col) {
  std::string caret;
  for (int i = 0; i + 1 < col; ++i)
    caret += (static_cast<size_t>(i) < lineText.size() && lineText[i] == '\t') ? '\t' : ' ';
  return caret + '^';
}

std::string formatMessage(const SourcePos& pos, const std::string& severity,
                          const std::string& what, const std::string& lineText) {
  // Line 0 means the whole file (e.g. it cannot be read).
  std::string out =
      pos.line > 0 ? fmt::format("{}:{}:{}: {}: {}", pos.file, pos.line, pos.col, severity, what)
                   : fmt::format("{}: {}: {}", pos.file, severity, what);
  if (!lineText.empty() && pos.line > 0)
    out += fmt::format("\n{}\n{}", lineText, caretLine(lineText, pos.col));
  return out;
}

ScriptError::ScriptError(const SourcePos& pos, const std::string& what, const std::string& lineText)
    : std::runtime_error(formatMessage(pos, "error", what, lineText)), pos_(pos), detail_(what) {}

}  // namespace kiln::alls
