// Errors and message formatting shared by the script parser, the validator and the layer
// resolver: `file:line:col: error: what`, then the source line and a caret under the column.
// Messages are bounded and printable: bytes that are control characters or not UTF-8 (a NUL in a
// script) are shown as \xNN, a quoted source line is cut to kMaxQuotedLine characters around the
// caret, and user text quoted inside a message is cut with shorten().
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "alls/ast.h"

namespace kiln::alls {

/// Longest source line quoted under a message, in characters; longer lines are cut around the
/// column with "..." at the cut ends.
constexpr size_t kMaxQuotedLine = 200;

class ScriptError : public std::runtime_error {
 public:
  // `lineText` is the text of line pos.line; when empty only the first line is produced.
  ScriptError(const SourcePos& pos, const std::string& what, const std::string& lineText = {});
  const SourcePos& pos() const { return pos_; }
  // The bare description, without position and source excerpt.
  const std::string& detail() const { return detail_; }

 private:
  SourcePos pos_;
  std::string detail_;
};

// `file:line:col: <severity>: what` plus, when lineText is not empty, "\n<line>\n<caret>". The
// file, `what` and the line are made printable (printable()); the line is cut to kMaxQuotedLine.
std::string formatMessage(const SourcePos& pos, const std::string& severity,
                          const std::string& what, const std::string& lineText);

// The caret line for column `col` (1-based, in bytes) of `lineText`: tabs are kept so the caret
// lines up.
std::string caretLine(const std::string& lineText, int col);

/// `text` with every control byte (except tab, and newline when `keepNewlines`) and every byte
/// that is not part of valid UTF-8 written as \xNN, so a NUL or a stray byte cannot cut or garble
/// a message.
std::string printable(const std::string& text, bool keepNewlines = false);

/// User text to quote inside a message (a name, a value): printable, and cut to `max` bytes
/// with "..." when longer.
std::string shorten(const std::string& text, size_t max = 60);

}  // namespace kiln::alls
