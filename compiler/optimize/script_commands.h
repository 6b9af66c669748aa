// The model-script commands `kiln optimize` acts on, as one table: for each command (or feature
// of a command) of the alls command table that Kiln applies, its handler and the keys it applies.
// applyScript (script_apply.h) looks a statement up here once and derives the "applied" and
// "not applied" lines of the report from the row.
#pragma once

#include <string>
#include <vector>

#include "alls/alls.h"
#include "compiler/ir/graph.h"
#include "compiler/optimize/script_apply.h"

namespace kiln::optimize {

/// What a handler works on: the graph, the settings it fills, the statement, and the layers the
/// statement names (resolved by the statement handler of commands whose keys apply per layer).
struct ScriptContext {
  Graph& g;
  ScriptSettings& settings;
  const alls::Statement& st;
  std::vector<int> layers;
  bool notApplied = false;  // set by a handler that reported the statement as not applied
};

/// Applies a whole statement (a float graph change, a feature switch), or prepares its keys.
using StatementHandler = void (*)(ScriptContext&);
/// Applies one keyed argument of a statement.
using KeyHandler = void (*)(ScriptContext&, const alls::Arg&);

/// A key a command applies, or one it reports with a reason of its own.
struct ScriptKey {
  std::string name;
  /// Applies the key; nullptr when another key's handler reads it (activation_clipping_mode).
  KeyHandler apply = nullptr;
  /// Not empty: the key is not applied and the report says "<file>:<line>: <command> <key>
  /// <note>".
  std::string note;
  /// Not empty: the key is accepted with this meaning, an info line (not a warning):
  /// "<file>:<line>: <command> <key>=<value>: <meaning>".
  std::string meaning;
};

/// What happens to a keyed argument the row does not list.
enum class OtherKeys {
  Ignored,   // the handlers read what they need; the rest is neither applied nor reported
  Reported,  // each is reported: "<file>:<line>: <command[(feature)]> key <key> is parsed, not
             // applied"
};

/// One row of the table.
struct ScriptCommand {
  std::string command;  // as in alls::commandTable()
  std::string feature;  // the feature (first positional argument), "" for commands without
  StatementHandler apply = nullptr;  // runs first; nullptr when the keys are all there is
  std::vector<ScriptKey> keys;       // applied one by one, in the statement's order
  OtherKeys otherKeys = OtherKeys::Ignored;
  /// The statement counts as applied only when one of `keys` was applied.
  bool needsAppliedKey = false;
  /// Not empty: the statement is accepted with this meaning (what it maps to in Kiln, or why
  /// Kiln's arithmetic needs nothing for it): an info line, "<file>:<line>: <label>: <meaning>".
  std::string meaning;

  /// The entry of `keys` named `name`, or nullptr.
  const ScriptKey* findKey(const std::string& name) const;
};

/// The whole table. Applied commands and features of alls::commandTable() without a row are
/// reported as not applied by this version of Kiln.
const std::vector<ScriptCommand>& scriptCommands();

/// The row for a command and feature ("" for commands without features), or nullptr.
const ScriptCommand* findScriptCommand(const std::string& command, const std::string& feature);

/// "model.alls:3": where a statement is, as the report and precision sources name it.
std::string statementWhere(const alls::Statement& st);

}  // namespace kiln::optimize
