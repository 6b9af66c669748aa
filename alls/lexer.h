// Tokens of a model script. Line ends (LF, CRLF or CR) matter only outside brackets: a newline
// while a ( or [ is open is whitespace, so statements continue over several lines. `#` starts a
// comment that runs to the end of the line. A `{...}` glob is a single token. Brackets nest at
// most kMaxNesting deep.
#pragma once

#include <string>
#include <vector>

#include "alls/ast.h"

namespace kiln::alls {

/// The deepest nesting of '(' and '[' a script may use (real scripts use two or three levels);
/// deeper input is a ScriptError rather than a parser recursing without bound.
constexpr int kMaxNesting = 64;

enum class TokenKind {
  Word,
  Number,
  String,
  Glob,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Equals,
  Newline,
  End
};

struct Token {
  TokenKind kind = TokenKind::End;
  std::string
      text;  // Word/Number: as written; String: unquoted, unescaped; Glob: inside the braces
  SourcePos pos;
  size_t begin = 0, end = 0;  // byte offsets of the token in the source text
};

struct TokenStream {
  std::vector<Token> tokens;       // always ends with an End token
  std::vector<std::string> lines;  // the source lines without line ends (LF, CRLF, CR), 0-based
  std::string text;                // the source text

  // Text of 1-based line `line`, or "" when out of range.
  const std::string& line(int line) const;
};

// Throws ScriptError on an unexpected character, an unterminated string or glob.
TokenStream tokenize(const std::string& text, const std::string& file);

// "'conv1'", "number 5", "string \"a.json\"", "end of line", "end of file", "'('".
std::string describe(const Token& token);

// True when `s` has the form -?digits[.digits][(e|E)[+-]digits].
bool looksLikeNumber(const std::string& s);

}  // namespace kiln::alls
