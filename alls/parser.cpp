#include "alls/parser.h"

#include <fmt/format.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "alls/lexer.h"

namespace kiln::alls {
namespace {

bool isIdentifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

class Parser {
 public:
  explicit Parser(TokenStream ts, std::string file) : ts_(std::move(ts)), file_(std::move(file)) {}

  Script run() {
    Script script;
    script.file = file_;
    while (true) {
      while (peek().kind == TokenKind::Newline) ++i_;
      if (peek().kind == TokenKind::End) break;
      script.statements.push_back(statement());
    }
    script.notes = std::move(notes_);
    return script;
  }

 private:
  const Token& peek(size_t ahead = 0) const {
    const size_t j = std::min(i_ + ahead, ts_.tokens.size() - 1);
    return ts_.tokens[j];
  }
  const Token& next() {
    const Token& t = peek();
    if (i_ + 1 < ts_.tokens.size()) ++i_;
    return t;
  }

  [[noreturn]] void fail(const Token& at, const std::string& what) const {
    throw ScriptError(at.pos, what, ts_.line(at.pos.line));
  }

  Statement statement() {
    Statement st;
    const Token& first = peek();
    st.pos = first.pos;

    // Assignment targets: `a, b, c =` or `{} =`.
    const bool emptyGlobTarget =
        first.kind == TokenKind::Glob && first.text.empty() && peek(1).kind == TokenKind::Equals;
    if (emptyGlobTarget) {
      st.targets.push_back("{}");
      i_ += 2;
    } else if (first.kind == TokenKind::Glob && peek(1).kind == TokenKind::Equals) {
      dictionaryTarget(st, first);
      i_ += 2;
    } else if (first.kind == TokenKind::Word &&
               (peek(1).kind == TokenKind::Comma || peek(1).kind == TokenKind::Equals)) {
      while (true) {
        const Token& name = next();
        if (name.kind != TokenKind::Word)
          fail(name, fmt::format("expected a target name after ',', found {}", describe(name)));
        st.targets.push_back(name.text);
        const Token& sep = next();
        if (sep.kind == TokenKind::Equals) break;
        if (sep.kind != TokenKind::Comma)
          fail(sep, fmt::format("expected ',' or '=' after the target '{}', found {}", name.text,
                                describe(sep)));
      }
    }

    const Token& cmd = next();
    if (cmd.kind != TokenKind::Word) {
      fail(cmd, fmt::format("expected a command such as quantization_param(...){}, found {}",
                            st.targets.empty() ? " or assignment targets" : " after '='",
                            describe(cmd)));
    }
    const size_t dot = cmd.text.rfind('.');
    st.command = dot == std::string::npos ? cmd.text : cmd.text.substr(dot + 1);
    if (dot != std::string::npos) st.object = cmd.text.substr(0, dot);
    if (!isIdentifier(st.command) || (dot != std::string::npos && st.object.empty())) {
      fail(cmd,
           fmt::format("expected a command name ([object.]name, letters, digits and '_'), found {}",
                       describe(cmd)));
    }

    const Token& open = next();
    if (open.kind != TokenKind::LParen) {
      fail(open, fmt::format("expected '(' after the command name '{}', found {}", cmd.text,
                             describe(open)));
    }
    args(st, open);
    // One ')' too many at the end of the statement: a zoo script ships
    // `finetune, ..., loss_layer_names=[conv93, conv84, conv74]))`, which the reference accepts.
    if (peek().kind == TokenKind::RParen &&
        (peek(1).kind == TokenKind::Newline || peek(1).kind == TokenKind::End)) {
      const Token& extra = next();
      notes_.push_back({extra.pos,
                        "one ')' too many at the end of the statement; accepted as the reference "
                        "accepts it, remove it",
                        ts_.line(extra.pos.line)});
    }
    const Token& close = peek();  // ')' already consumed by args(); `close` is what follows it
    if (close.kind != TokenKind::Newline && close.kind != TokenKind::End)
      fail(close, fmt::format("expected the end of the line after ')', found {}", describe(close)));

    const int lastLine = ts_.tokens[i_ - 1].pos.line;
    for (int l = st.pos.line; l <= lastLine; ++l)
      st.sourceLine += (l > st.pos.line ? "\n" : "") + ts_.line(l);
    return st;
  }

  // `{key: value, key: value} = ...`: the glob token holds the dictionary's text. Keys are layer
  // names (letters, digits, '_', '/', '.', '-'); values are kept as written ([a, b] lists).
  void dictionaryTarget(Statement& st, const Token& glob) {
    const std::string& text = glob.text;
    // The pattern starts after '{' and any spaces the lexer trimmed.
    const std::string line = ts_.line(glob.pos.line);
    const size_t base = line.find(text, size_t(glob.pos.col));
    size_t i = 0;
    auto colAt = [&](size_t k) {
      return base == std::string::npos ? glob.pos.col : int(base + k) + 1;
    };
    auto bad = [&](size_t k, const std::string& what) {
      throw ScriptError({glob.pos.file, glob.pos.line, colAt(k)}, what, line);
    };
    auto skipSpace = [&] {
      while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    };
    while (true) {
      skipSpace();
      const size_t keyStart = i;
      while (i < text.size() && text[i] != ':' && text[i] != ',' &&
             !std::isspace(static_cast<unsigned char>(text[i])))
        ++i;
      const std::string key = text.substr(keyStart, i - keyStart);
      if (key.empty())
        bad(keyStart, "expected a layer name in the dictionary target {name: [...], ...}");
      skipSpace();
      if (i >= text.size() || text[i] != ':')
        bad(i, fmt::format("expected ':' after '{}' in the dictionary target {{name: [...], ...}}",
                           shorten(key)));
      ++i;
      skipSpace();
      const size_t valueStart = i;
      int depth = 0;
      while (i < text.size() && (depth > 0 || text[i] != ',')) {
        if (text[i] == '[' || text[i] == '(') ++depth;
        if (text[i] == ']' || text[i] == ')') --depth;
        ++i;
      }
      std::string value = text.substr(valueStart, i - valueStart);
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
        value.pop_back();
      if (value.empty()) bad(valueStart, fmt::format("expected a value after '{}:'", key));
      if (depth != 0) bad(valueStart, fmt::format("unbalanced brackets in the value of '{}'", key));
      st.targets.push_back(key);
      st.targetValues.push_back(value);
      if (i >= text.size()) break;
      ++i;  // ','
    }
  }

  // Reports a missing closer: at end of file, or at a token on a later line than the opener (the
  // usual sign that a ')' was forgotten and the next statement was swallowed).
  std::string unclosed(const Token& found, const Token& open, const char* expected) const {
    if (found.kind == TokenKind::End) {
      return fmt::format(
          "expected '{}' to close the '{}' opened at line {}, column {}, found end of file",
          open.kind == TokenKind::LParen ? ")" : "]", open.text, open.pos.line, open.pos.col);
    }
    std::string msg = fmt::format("expected {}, found {}", expected, describe(found));
    if (found.pos.line > open.pos.line)
      msg += fmt::format(" (the '{}' at line {}, column {} is still open)", open.text,
                         open.pos.line, open.pos.col);
    return msg;
  }

  void args(Statement& st, const Token& open) {
    if (peek().kind == TokenKind::RParen) {
      ++i_;
      return;
    }
    while (true) {
      Arg arg;
      const Token& t = peek();
      arg.pos = t.pos;
      if (t.kind == TokenKind::Word && peek(1).kind == TokenKind::Equals) {
        if (!isIdentifier(t.text))
          fail(t, fmt::format("expected a key name before '=', found {}", describe(t)));
        arg.key = t.text;
        i_ += 2;
      }
      arg.value = value(open);
      st.args.push_back(std::move(arg));

      const Token& sep = next();
      if (sep.kind == TokenKind::RParen) return;
      if (sep.kind != TokenKind::Comma)
        fail(sep, unclosed(sep, open, "',' or ')' after an argument"));
      if (peek().kind == TokenKind::RParen) {  // trailing comma
        ++i_;
        return;
      }
    }
  }

  Value value(const Token& open) {
    const Token& t = next();
    Value v;
    v.pos = t.pos;
    v.text = t.text;
    switch (t.kind) {
      case TokenKind::Number:
        v.kind = Value::Kind::Number;
        v.number = std::strtod(t.text.c_str(), nullptr);
        return v;
      case TokenKind::String:
        v.kind = Value::Kind::String;
        return v;
      case TokenKind::Word:
        v.kind = Value::Kind::Word;
        return v;
      case TokenKind::Glob:
        if (t.text.empty())
          fail(t, "expected a pattern inside '{}', such as {conv*}, found an empty glob");
        v.kind = Value::Kind::Glob;
        return v;
      case TokenKind::LBracket: {
        v.kind = Value::Kind::List;
        if (peek().kind == TokenKind::RBracket) {
          v.text = ts_.text.substr(t.begin, next().end - t.begin);
          return v;
        }
        while (true) {
          v.items.push_back(value(t));
          const Token& sep = next();
          if (sep.kind == TokenKind::RBracket ||
              (sep.kind == TokenKind::Comma && peek().kind == TokenKind::RBracket)) {
            const Token& close = sep.kind == TokenKind::RBracket ? sep : next();
            v.text = ts_.text.substr(t.begin, close.end - t.begin);
            return v;
          }
          if (sep.kind != TokenKind::Comma) fail(sep, unclosed(sep, t, "',' or ']' in the list"));
        }
      }
      default:
        if (t.kind == TokenKind::End) fail(t, unclosed(t, open, ""));
        fail(t, fmt::format(
                    "expected a value (a number, \"string\", name, [list] or {{glob}}), found {}",
                    describe(t)));
    }
  }

  TokenStream ts_;
  std::string file_;
  size_t i_ = 0;
  std::vector<ParseNote> notes_;
};

}  // namespace

Script parseScript(const std::string& text, const std::string& file) {
  return Parser(tokenize(text, file), file).run();
}

Script parseScriptFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ScriptError({path, 0, 0},
                      fmt::format("cannot read the model script '{}': it is a directory", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ScriptError({path, 0, 0}, fmt::format("cannot read the model script '{}': {}", path,
                                                std::strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad())
    throw ScriptError({path, 0, 0}, fmt::format("cannot read the model script '{}'", path));
  return parseScript(ss.str(), path);
}

}  // namespace kiln::alls
