#include "alls/ast.h"

namespace kiln::alls {

std::string Statement::lineText(int line) const {
  int l = pos.line;
  size_t start = 0;
  while (start <= sourceLine.size()) {
    size_t nl = sourceLine.find('\n', start);
    if (nl == std::string::npos) nl = sourceLine.size();
    if (l == line) return sourceLine.substr(start, nl - start);
    ++l;
    start = nl + 1;
  }
  return {};
}

const Arg* Statement::find(const std::string& key) const {
  for (const Arg& a : args)
    if (a.key == key) return &a;
  return nullptr;
}

const Value* Statement::positional(size_t n) const {
  for (const Arg& a : args) {
    if (!a.key.empty()) continue;
    if (n == 0) return &a.value;
    --n;
  }
  return nullptr;
}

size_t Statement::positionalCount() const {
  size_t n = 0;
  for (const Arg& a : args) n += a.key.empty() ? 1 : 0;
  return n;
}

const char* kindName(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::Number:
      return "number";
    case Value::Kind::String:
      return "string";
    case Value::Kind::Word:
      return "name";
    case Value::Kind::List:
      return "list";
    case Value::Kind::Glob:
      return "glob";
  }
  return "value";
}

}  // namespace kiln::alls
