// The model-script commands Kiln knows (alls-language.md §3), declared once in a table, and the
// validator that checks a parsed script against it.
#pragma once

#include <string>
#include <vector>

#include "alls/ast.h"

namespace kiln::alls {

enum class Category {
  Applied,     // §3a: changes the network or its numerics
  Recorded,    // §3b: resource planning, recorded for `kiln compiler`
  NotApplied,  // §3c: placement written by a compiler; parsed and reported
};

/// What a key's value must be, besides a closed set of values.
enum class ValueType {
  Any,       // anything: a name, string, list, glob (or a closed set, below)
  Number,    // one number in [min, max]
  Integer,   // one whole number in [min, max]
  Range,     // [low, high]: two numbers in [min, max], low <= high
  Numbers,   // a list of numbers in [min, max] (one number is accepted too)
  Integers,  // a list of whole numbers in [min, max] (one number is accepted too)
};

struct KeySpec {
  std::string name;
  // Closed value set (compared as text, and numerically for numbers). Empty = any value. A list
  // value is accepted only when `list` is set, and then each item is checked.
  std::vector<std::string> values;
  bool list = false;
  ValueType type = ValueType::Any;
  double min = -1e308, max = 1e308;  // bounds of numeric values (inclusive unless minExclusive)
  bool minExclusive = false;
  bool nullable = false;  // None / null also accepted, meaning "not set" (fps=None)
};

// A sub-feature selected by the first positional argument, e.g.
// pre_quantization_optimization(activation_clipping, ...).
struct FeatureSpec {
  std::string name;
  bool applied = false;
  std::vector<KeySpec> keys;  // in addition to the command's common keys
  // Keys an applied feature accepts but Kiln does not act on (reported with `ignoredWhy`).
  std::vector<std::string> ignoredKeys;
  std::string ignoredWhy;
  // Not applied: why, for the warning (empty: "Kiln does not implement it").
  std::string why;
};

// A closed value set for a positional argument.
struct PositionalSpec {
  int index = 0;     // 0-based among positional arguments; -1 = the last one
  std::string what;  // e.g. "activation", for messages
  std::vector<std::string> values;
  // When not empty, the statement is applied only for these values (input_conversion applies
  // bgr_to_rgb and rgb_to_bgr and reports the rest).
  std::vector<std::string> appliedValues;
};

struct CommandSpec {
  std::string name;
  Category category = Category::NotApplied;
  bool applied = false;  // Kiln acts on it (refined by features and PositionalSpec::appliedValues)
  // Placement and some resource commands carry dozens of keys: accept any key. The keys they
  // declare (those of the public zoo's scripts) still have their values checked.
  bool anyKeys = false;
  bool planned = false;  // kiln compiler's resource plan reads it (hwarch::planOptionsFromScript)
  std::vector<KeySpec> keys;  // common keys (for feature commands: keys valid for every feature)
  std::vector<FeatureSpec> features;  // not empty = the first positional argument names a feature
  std::vector<PositionalSpec> positional;
  std::string why;  // not applied: why (empty: "Kiln does not implement it")
};

// The whole table, in the order of alls-language.md §3.
const std::vector<CommandSpec>& commandTable();
const CommandSpec* findCommand(const std::string& name);
const FeatureSpec* findFeature(const CommandSpec& cmd, const std::string& feature);
const char* categoryName(Category c);

/// The accepted values of quantization_param's precision_mode key, a<input bits>_w<weight
/// bits>[_a<output bits>], in the order messages list them. This is the one list: the validator
/// checks scripts against it and quant::parsePrecisionMode accepts exactly these.
const std::vector<std::string>& precisionModes();

struct Diagnostic {
  // Note: accepted with a meaning Kiln states (an info line, never an error, not with --strict).
  enum Severity { Error, Warning, Note };
  Severity severity = Error;
  SourcePos pos;
  std::string message;
  std::string
      sourceLine;  // text of line pos.line (printed under errors with a caret), may be empty
  /// A warning that Kiln parses something but does not act on it (the ones --strict makes
  /// errors); `label` then names it: "nms_postprocess", "input_conversion(nv12_to_hailo_yuv)",
  /// "pre_quantization_optimization(equalization) key layers".
  bool notApplied = false;
  std::string label;
};

/// Which tool reads the script: `kiln optimize` applies the optimization commands and records the
/// resource commands; `kiln compiler --model-script` reads only the resource commands, so every
/// other command gets a warning that it has no effect there.
enum class Stage { Optimize, Compile };

/// At most this many errors, and this many warnings, are kept; the rest are counted in one
/// final diagnostic ("and N more ...").
constexpr size_t kMaxDiagnostics = 50;

// Checks every statement against the command table: unknown commands (with the closest names),
// unknown features and keys (with the accepted ones), keys given more than once (one error per
// key), values outside a closed set (with the accepted values), numbers of the wrong type or
// outside their range (naming the key and the accepted range), and one Warning per statement (or
// key) Kiln parses but does not apply at `stage`. At most kMaxDiagnostics errors and warnings.
std::vector<Diagnostic> validateScript(const Script& script, Stage stage = Stage::Optimize);

// True when Kiln acts on this statement (its command, feature and conversion are applied ones).
// Unknown commands are not applied.
bool isApplied(const Statement& st);
/// The same for a statement whose command the caller has already looked up (`spec` is its entry).
bool isApplied(const CommandSpec& spec, const Statement& st);

// `file:line:col: error: message` (+ source line and caret for errors that carry a source line);
// warnings are one line.
std::string formatDiagnostic(const Diagnostic& d);

bool hasErrors(const std::vector<Diagnostic>& diags);

}  // namespace kiln::alls
