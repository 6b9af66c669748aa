#include "alls/lexer.h"

#include <fmt/format.h>

#include <cctype>

#include "alls/errors.h"

namespace kiln::alls {
namespace {

bool isWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
         c == '/';
}

bool isLineEnd(char c) {
  return c == '\n' || c == '\r';
}

// Bytes of the line end at `i` (LF, CR or CRLF), 0 when there is none.
size_t lineEndSize(const std::string& s, size_t i) {
  if (i >= s.size() || !isLineEnd(s[i])) return 0;
  return s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n' ? 2 : 1;
}

// Lines split at LF, CRLF and CR alike.
std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (true) {
    size_t end = start;
    while (end < text.size() && !isLineEnd(text[end])) ++end;
    lines.push_back(text.substr(start, end - start));
    if (end >= text.size()) break;
    start = end + lineEndSize(text, end);
  }
  return lines;
}

class Lexer {
 public:
  Lexer(const std::string& text, const std::string& file) : file_(file) {
    out_.text = text;
    out_.lines = splitLines(text);
  }

  TokenStream run() {
    const std::string& s = out_.text;
    while (i_ < s.size()) {
      const char c = s[i_];
      if (isLineEnd(c)) {
        if (depth_ == 0) push(TokenKind::Newline, "", i_, i_ + lineEndSize(s, i_), lineEndCol());
        advanceLine();
      } else if (c == ' ' || c == '\t' || c == '\f' || c == '\v') {
        ++i_;
      } else if (c == '#') {
        while (i_ < s.size() && !isLineEnd(s[i_])) ++i_;
      } else if (c == '(' || c == '[') {
        // The parser recurses once per open '[': bound the depth so no input exhausts the stack.
        if (depth_ >= kMaxNesting)
          fail(
              fmt::format("brackets nested too deeply: this '{}' would open level {}, but at most "
                          "{} levels of '(' and '[' are accepted",
                          c, depth_ + 1, kMaxNesting));
        ++depth_;
        punct(c == '(' ? TokenKind::LParen : TokenKind::LBracket);
      } else if (c == ')' || c == ']') {
        if (depth_ > 0) --depth_;
        punct(c == ')' ? TokenKind::RParen : TokenKind::RBracket);
      } else if (c == ',') {
        punct(TokenKind::Comma);
      } else if (c == '=') {
        punct(TokenKind::Equals);
      } else if (c == '"' || c == '\'') {
        string(c);
      } else if (c == '{') {
        glob();
      } else if (isWordChar(c)) {
        word();
      } else {
        fail(
            fmt::format("unexpected character '{}'; expected a name, a number, a string, "
                        "'(', ')', '[', ']', '{{', ',' or '='",
                        c));
      }
    }
    // End sits right after the last token, so "found end of file" points where text is missing.
    Token end;
    end.kind = TokenKind::End;
    if (out_.tokens.empty()) {
      end.pos = {file_, 1, 1};
    } else {
      const Token& last = out_.tokens.back();
      end.pos = {file_, last.pos.line,
                 last.kind == TokenKind::Newline ? last.pos.col
                                                 : last.pos.col + int(last.end - last.begin)};
      if (last.kind == TokenKind::Newline) end.pos = {file_, line_, 1};
    }
    end.begin = end.end = s.size();
    out_.tokens.push_back(end);
    return std::move(out_);
  }

 private:
  int col() const { return int(i_ - lineStart_) + 1; }
  int lineEndCol() const { return int(out_.line(line_).size()) + 1; }

  void advanceLine() {
    i_ += lineEndSize(out_.text, i_);
    ++line_;
    lineStart_ = i_;
  }

  void push(TokenKind kind, std::string text, size_t begin, size_t end, int column) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.pos = {file_, line_, column};
    t.begin = begin;
    t.end = end;
    out_.tokens.push_back(std::move(t));
  }

  void punct(TokenKind kind) {
    push(kind, std::string(1, out_.text[i_]), i_, i_ + 1, col());
    ++i_;
  }

  void string(char quote) {
    const std::string& s = out_.text;
    const size_t begin = i_;
    const int column = col();
    std::string value;
    ++i_;
    while (true) {
      if (i_ >= s.size() || isLineEnd(s[i_]))
        fail(fmt::format("unterminated string: expected a closing {} before the end of the {}",
                         quote, i_ >= s.size() ? "file" : "line"),
             column);
      if (s[i_] == quote) break;
      if (s[i_] == '\\' && i_ + 1 < s.size() && !isLineEnd(s[i_ + 1])) ++i_;
      value += s[i_++];
    }
    ++i_;
    push(TokenKind::String, std::move(value), begin, i_, column);
  }

  void glob() {
    const std::string& s = out_.text;
    const size_t begin = i_;
    const int column = col();
    size_t j = i_ + 1;
    while (j < s.size() && s[j] != '}' && !isLineEnd(s[j])) ++j;
    if (j >= s.size() || s[j] != '}') {
      fail(
          fmt::format("unterminated glob: expected '}}' to close the '{{' before the end of the {}",
                      j >= s.size() ? "file" : "line"));
    }
    std::string pattern = s.substr(i_ + 1, j - i_ - 1);
    // Trim spaces inside the braces: `{ conv* }` is `{conv*}`.
    while (!pattern.empty() && std::isspace(static_cast<unsigned char>(pattern.back())))
      pattern.pop_back();
    size_t k = 0;
    while (k < pattern.size() && std::isspace(static_cast<unsigned char>(pattern[k]))) ++k;
    i_ = j + 1;
    push(TokenKind::Glob, pattern.substr(k), begin, i_, column);
  }

  void word() {
    const std::string& s = out_.text;
    const size_t begin = i_;
    const int column = col();
    while (i_ < s.size()) {
      const char c = s[i_];
      // '+' only inside an exponent: 1e+5.
      const bool expSign = c == '+' && i_ > begin && (s[i_ - 1] == 'e' || s[i_ - 1] == 'E') &&
                           looksLikeNumber(s.substr(begin, i_ - begin - 1));
      if (!isWordChar(c) && !expSign) break;
      ++i_;
    }
    std::string text = s.substr(begin, i_ - begin);
    const TokenKind kind = looksLikeNumber(text) ? TokenKind::Number : TokenKind::Word;
    push(kind, std::move(text), begin, i_, column);
  }

  [[noreturn]] void fail(const std::string& what, int column = 0) {
    throw ScriptError({file_, line_, column ? column : col()}, what, out_.line(line_));
  }

  std::string file_;
  TokenStream out_;
  size_t i_ = 0, lineStart_ = 0;
  int line_ = 1;
  int depth_ = 0;
};

}  // namespace

const std::string& TokenStream::line(int n) const {
  static const std::string kEmpty;
  return n >= 1 && size_t(n) <= lines.size() ? lines[n - 1] : kEmpty;
}

bool looksLikeNumber(const std::string& s) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (!digits()) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    digits();  // "5." is accepted, as Python writes it
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

TokenStream tokenize(const std::string& text, const std::string& file) {
  return Lexer(text, file).run();
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::Word:
      return fmt::format("'{}'", t.text);
    case TokenKind::Number:
      return fmt::format("number {}", t.text);
    case TokenKind::String:
      return fmt::format("string \"{}\"", t.text);
    case TokenKind::Glob:
      return fmt::format("glob {{{}}}", t.text);
    case TokenKind::Newline:
      return "end of line";
    case TokenKind::End:
      return "end of file";
    default:
      return fmt::format("'{}'", t.text);
  }
}

}  // namespace kiln::alls
