// Errors and message formatting shared by the script parser, the validator and the layer
// resolver: `file:line:col: error: what`, then the source line and a caret under the column.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "alls/ast.h"

namespace kiln::alls {

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

// `file:line:col: <severity>: what` plus, when lineText is not empty, "\n<line>\n<caret>".
std::string formatMessage(const SourcePos& pos, const std::string& severity,
                          const std::string& what, const std::string& lineText);

// The caret line for column `col` (1-based) of `lineText`: tabs are kept so the caret lines up.
std::string caretLine(const std::string& lineText, int col);

}  // namespace kiln::alls
