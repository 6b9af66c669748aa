// Parser for model scripts (.alls), the grammar of docs alls-language.md §1:
//   statement := [targets '='] [object '.'] command '(' [args] ')'
// Syntax errors throw ScriptError: `file:line:col: error: expected X, found Y`, the source line and
// a caret under the column.
#pragma once

#include <string>

#include "alls/ast.h"
#include "alls/errors.h"

namespace kiln::alls {

// `file` is only used in positions and messages.
Script parseScript(const std::string& text, const std::string& file);

// Reads and parses `path`; a missing or unreadable file is a ScriptError naming it.
Script parseScriptFile(const std::string& path);

}  // namespace kiln::alls
