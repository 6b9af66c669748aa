// The syntax tree of a model script (.alls): statements `[targets =] [object.]command(args)`.
// Every node carries the position it was read from so later stages can point at it.
#pragma once

#include <string>
#include <vector>

namespace kiln::alls {

struct SourcePos {
  std::string file;
  int line = 0;  // 1-based
  int col = 0;   // 1-based, in bytes
};

struct Value {
  enum class Kind { Number, String, Word, List, Glob };
  Kind kind = Kind::Word;
  // Raw token text. String: without the quotes. Glob: the pattern inside {}. List: the source
  // text from '[' to ']'.
  std::string text;
  double number = 0;         // Number only
  std::vector<Value> items;  // List only
  SourcePos pos;
};

struct Arg {
  std::string key;  // empty = positional
  Value value;
  SourcePos pos;  // of the key, or of the value when positional
};

struct Statement {
  // `a, b = ...`; `{} = ...` gives the single target "{}"; a dictionary target
  // `{net/matmul1: [...], net/matmul2: [...]} = ...` gives its keys, in order.
  std::vector<std::string> targets;
  // The dictionary target's values, source text as written ("[a, b]"), parallel to `targets`;
  // empty for other statements.
  std::vector<std::string> targetValues;
  std::string object;  // `obj.place(...)` gives "obj"; empty otherwise
  std::string command;
  std::vector<Arg> args;
  SourcePos pos;           // of the first token of the statement
  std::string sourceLine;  // the statement's source line(s), without line ends, joined by '\n'

  // The text of source line `line` (1-based, file numbering) when it belongs to this statement.
  std::string lineText(int line) const;
  // First argument with this key, or nullptr.
  const Arg* find(const std::string& key) const;
  // The n-th positional argument (0-based), or nullptr.
  const Value* positional(size_t n) const;
  size_t positionalCount() const;
};

/// Something the parser accepted although the grammar does not allow it (a `)` too many at the
/// end of a statement, as a zoo script has it); the validator reports it as a warning.
struct ParseNote {
  SourcePos pos;
  std::string message;
  std::string sourceLine;
};

struct Script {
  std::string file;
  std::vector<Statement> statements;
  std::vector<ParseNote> notes;
};

// Human-readable kind of a value, e.g. "word", "list".
const char* kindName(Value::Kind kind);

}  // namespace kiln::alls
