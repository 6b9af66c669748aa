#include "runtime/cli/args.h"

#include <cstdio>
#include <sstream>

#include "common/strings.h"

namespace kiln::rt::cli {

namespace {

// Wraps `text` to `width` columns, every line indented by `indent` spaces (the first line too).
std::string wrap(const std::string& text, size_t indent, size_t width) {
  std::string out, line;
  std::istringstream words(text);
  std::string w;
  const std::string pad(indent, ' ');
  while (words >> w) {
    if (!line.empty() && indent + line.size() + 1 + w.size() > width) {
      out += pad + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + w;
  }
  if (!line.empty()) out += pad + line + "\n";
  return out;
}

}  // namespace

const ArgParser::Option* ArgParser::find(const std::string& name) const {
  for (const Option& o : options_)
    if (o.name == name) return &o;
  return nullptr;
}

void ArgParser::fail(const std::string& what) const {
  throw UsageError(command_ + ": " + what + " (see 'kilnrt " + command_ + " --help')");
}

bool ArgParser::parse(const std::vector<std::string>& args) {
  std::vector<std::string> pos;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(help().c_str(), stdout);
      return false;
    }
    if (a.size() < 2 || a[0] != '-' || a == "--") {
      pos.push_back(a);
      continue;
    }
    std::string name = a, inlineValue;
    bool hasInline = false;
    const size_t eq = a.find('=');
    if (eq != std::string::npos) {
      name = a.substr(0, eq);
      inlineValue = a.substr(eq + 1);
      hasInline = true;
    }
    const Option* o = find(name);
    if (!o) {
      std::vector<std::string> known;
      for (const Option& k : options_) known.push_back(k.name);
      const auto close = closestNames(known, name, 1, true);
      fail("unknown option '" + name + "'" +
           (known.empty() ? "" : " (options: " + join(known, ", ") + ")") +
           (close.empty() ? "" : "; did you mean " + close[0] + "?"));
    }
    if (o->kind != Kind::Multi && values_.count(name)) fail(name + " is given twice");
    std::vector<std::string>& v = values_[name];
    switch (o->kind) {
      case Kind::Flag:
        if (hasInline) fail(name + " takes no value");
        v.push_back("1");
        break;
      case Kind::Value:
        if (hasInline) {
          v.push_back(inlineValue);
        } else {
          if (i + 1 >= args.size()) fail(name + " needs a value (" + o->metavar + ")");
          v.push_back(args[++i]);
        }
        break;
      case Kind::Multi: {
        const size_t before = v.size();
        if (hasInline) v.push_back(inlineValue);
        while (i + 1 < args.size() && !(args[i + 1].size() > 1 && args[i + 1][0] == '-'))
          v.push_back(args[++i]);
        if (v.size() == before) fail(name + " needs at least one " + o->metavar);
        break;
      }
    }
  }
  size_t next = 0;
  for (const Positional& p : positionals_) {
    std::vector<std::string>& v = posValues_[p.name];
    if (p.multiple) {
      while (next < pos.size()) v.push_back(pos[next++]);
    } else if (next < pos.size()) {
      v.push_back(pos[next++]);
    }
    if (p.required && v.empty()) {
      bool multiGiven = false;
      for (const Option& o : options_) multiGiven |= o.kind == Kind::Multi && has(o.name);
      fail("missing " + p.name +
           (multiGiven ? " (an option with several values, such as --input-files, takes every "
                         "argument up to the next option: put " +
                             p.name + " first)"
                       : ""));
    }
  }
  if (next < pos.size()) fail("unexpected argument '" + pos[next] + "'");
  return true;
}

std::string ArgParser::get(const std::string& name) const {
  const auto it = values_.find(name);
  if (it != values_.end() && !it->second.empty()) return it->second.back();
  const Option* o = find(name);
  return o ? o->def : "";
}

std::vector<std::string> ArgParser::getAll(const std::string& name) const {
  const auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

int64_t ArgParser::getInt(const std::string& name, int64_t def, int64_t lo, int64_t hi) const {
  if (!has(name)) return def;
  const std::string s = get(name);
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != s.size()) fail(name + " expects an integer, got '" + s + "'");
  if (v < lo || v > hi)
    fail(name + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
         s);
  return v;
}

std::string ArgParser::getChoice(const std::string& name,
                                 const std::vector<std::string>& choices) const {
  const std::string v = get(name);
  std::string list;
  for (const std::string& c : choices) {
    if (c == v) return v;
    list += (list.empty() ? "" : ", ") + c;
  }
  fail(name + " expects one of " + list + ", got '" + v + "'");
}

const std::vector<std::string>& ArgParser::positionals(const std::string& name) const {
  static const std::vector<std::string> kEmpty;
  const auto it = posValues_.find(name);
  return it == posValues_.end() ? kEmpty : it->second;
}

std::string ArgParser::help() const {
  std::string out = "usage: kilnrt " + command_ + " " + synopsis_ + "\n\n";
  out += wrap(description_, 0, 100) + "\n";
  if (!positionals_.empty()) {
    out += "arguments:\n";
    for (const Positional& p : positionals_) {
      out += "  " + p.name + "\n" + wrap(p.help, 6, 100);
    }
    out += "\n";
  }
  out += "options:\n";
  for (const Option& o : options_) {
    std::string head = "  " + o.name;
    if (o.kind == Kind::Value) head += " " + o.metavar;
    if (o.kind == Kind::Multi) head += " " + o.metavar + " ...";
    std::string text = o.help;
    if (!o.def.empty()) text += " (default: " + o.def + ")";
    out += head + "\n" + wrap(text, 6, 100);
  }
  out += "  --help\n      Show this help and exit.\n";
  if (!epilog_.empty()) out += "\n" + epilog_;
  return out;
}

}  // namespace kiln::rt::cli
