// validateScript: checks a parsed script against the command table.
#include <fmt/format.h>

#include <cstdlib>

#include "alls/commands.h"
#include "alls/errors.h"
#include "alls/lexer.h"
#include "common/strings.h"

namespace kiln::alls {
namespace {

std::vector<std::string> keyNames(const std::vector<KeySpec>& keys) {
  std::vector<std::string> out;
  for (const KeySpec& k : keys) out.push_back(k.name);
  return out;
}

std::vector<std::string> featureNames(const CommandSpec& c) {
  std::vector<std::string> out;
  for (const FeatureSpec& f : c.features) out.push_back(f.name);
  return out;
}

std::vector<std::string> commandNames() {
  std::vector<std::string> out;
  for (const CommandSpec& c : commandTable()) out.push_back(c.name);
  return out;
}

// "<base>; did you mean x? accepted <what>: a, b, c" (or "<base>; accepted <what>: ...").
std::string withChoices(const std::string& base, const std::string& name,
                        const std::vector<std::string>& choices, const std::string& what) {
  const auto close = closestNames(choices, name, 3, true);
  const std::string hint =
      close.empty() ? "; " : fmt::format("; did you mean {}? ", join(close, " or "));
  return fmt::format("{}{}accepted {}: {}", base, hint, what, join(choices, ", "));
}

// The first item of `v` outside `allowed` (v itself, or an item of a list), or nullptr.
const Value* badValue(const Value& v, const std::vector<std::string>& allowed) {
  if (v.kind == Value::Kind::List) {
    for (const Value& item : v.items)
      if (const Value* bad = badValue(item, allowed)) return bad;
    return nullptr;
  }
  if (v.kind == Value::Kind::Glob) return &v;
  for (const std::string& a : allowed) {
    if (a == v.text) return nullptr;
    if (v.kind == Value::Kind::Number && looksLikeNumber(a) &&
        std::strtod(a.c_str(), nullptr) == v.number)
      return nullptr;
  }
  return &v;
}

// Position of the command name: after the targets' '=' when there are targets.
SourcePos commandPos(const Statement& st) {
  SourcePos pos = st.pos;
  if (st.targets.empty()) return pos;
  const std::string first = st.lineText(st.pos.line);
  const std::string name = (st.object.empty() ? "" : st.object + ".") + st.command;
  size_t eq = first.find('=', size_t(st.pos.col - 1));
  if (eq != std::string::npos) {
    const size_t at = first.find(name, eq);
    if (at != std::string::npos) pos.col = int(at) + 1;
  }
  return pos;
}

const FeatureSpec* featureOf(const CommandSpec& spec, const Statement& st) {
  if (spec.features.empty()) return nullptr;
  const Value* f = st.positional(0);
  return f && f->kind == Value::Kind::Word ? findFeature(spec, f->text) : nullptr;
}

const Value* positionalFor(const Statement& st, const PositionalSpec& ps) {
  if (ps.index >= 0) return st.positional(size_t(ps.index));
  const size_t n = st.positionalCount();
  return n ? st.positional(n - 1) : nullptr;
}

struct Applied {
  bool applied = false;
  std::string label;   // "post_quantization_optimization(finetune)"
  std::string reason;  // why it is not applied
};

Applied appliedState(const CommandSpec& spec, const Statement& st) {
  Applied a;
  a.label = st.command;
  a.applied = spec.applied;
  if (const FeatureSpec* f = featureOf(spec, st)) {
    a.label += "(" + f->name + ")";
    a.applied = a.applied && f->applied;
  }
  for (const PositionalSpec& ps : spec.positional) {
    if (ps.appliedValues.empty()) continue;
    const Value* v = positionalFor(st, ps);
    if (v && badValue(*v, ps.appliedValues)) {
      a.label += "(" + v->text + ")";
      a.applied = false;
    }
  }
  switch (spec.category) {
    case Category::Recorded:
      a.reason = "resource planning, recorded for `kiln compiler`";
      break;
    case Category::NotApplied:
      a.reason = "compiler placement command";
      break;
    case Category::Applied:
      a.reason = "Kiln does not implement it";
      break;
  }
  return a;
}

class Validator {
 public:
  explicit Validator(std::vector<Diagnostic>& out) : out_(out) {}

  void statement(const Statement& st) {
    const size_t before = out_.size();
    const CommandSpec* spec = findCommand(st.command);
    if (!spec) {
      std::string msg = fmt::format("unknown command '{}'", st.command);
      const auto close = closestNames(commandNames(), st.command, 3, true);
      msg += close.empty() ? " (alls-language.md §3 lists the commands Kiln knows)"
                           : fmt::format("; did you mean {}?", join(close, " or "));
      error(st, commandPos(st), msg);
      return;
    }
    const FeatureSpec* feature = nullptr;
    if (!spec->features.empty()) {
      const Value* f = st.positional(0);
      const std::string accepted = join(featureNames(*spec), ", ");
      if (!f) {
        error(st, commandPos(st),
              fmt::format("{} needs a feature as its first argument; accepted features: {}",
                          spec->name, accepted));
      } else if (f->kind != Value::Kind::Word || !(feature = findFeature(*spec, f->text))) {
        error(st, f->pos,
              withChoices(fmt::format("unknown feature '{}' for {}", f->text, spec->name), f->text,
                          featureNames(*spec), "features"));
      }
    }
    keys(st, *spec, feature);
    for (const PositionalSpec& ps : spec->positional) positional(st, *spec, ps);

    if (out_.size() != before) return;  // an erroneous statement gets no "not applied" warning
    const Applied a = appliedState(*spec, st);
    if (a.applied) return;
    // A disabled optimization Kiln does not have is exactly what the script asks for.
    const Arg* policy = st.find("policy");
    if (feature && policy && policy->value.text == "disabled") return;
    Diagnostic d;
    d.severity = Diagnostic::Warning;
    d.pos = st.pos;
    d.message =
        fmt::format("{} (line {}) is parsed, not applied ({})", a.label, st.pos.line, a.reason);
    d.sourceLine = st.lineText(st.pos.line);
    out_.push_back(std::move(d));
  }

 private:
  void error(const Statement& st, const SourcePos& pos, std::string msg) {
    Diagnostic d;
    d.severity = Diagnostic::Error;
    d.pos = pos;
    d.message = std::move(msg);
    d.sourceLine = st.lineText(pos.line);
    out_.push_back(std::move(d));
  }

  void keys(const Statement& st, const CommandSpec& spec, const FeatureSpec* feature) {
    std::vector<const Arg*> seen;
    for (const Arg& arg : st.args) {
      if (arg.key.empty()) continue;
      for (const Arg* prev : seen) {
        if (prev->key == arg.key)
          error(st, arg.pos,
                fmt::format("key '{}' is given twice (first at line {}, column {})", arg.key,
                            prev->pos.line, prev->pos.col));
      }
      seen.push_back(&arg);
      if (spec.anyKeys) continue;

      const KeySpec* key = nullptr;
      if (feature)
        for (const KeySpec& k : feature->keys)
          if (k.name == arg.key) key = &k;
      if (!key)
        for (const KeySpec& k : spec.keys)
          if (k.name == arg.key) key = &k;
      if (!key) {
        // Without a known feature only the common keys can be checked.
        if (!spec.features.empty() && !feature) continue;
        std::vector<std::string> accepted =
            feature ? keyNames(feature->keys) : std::vector<std::string>{};
        for (const std::string& k : keyNames(spec.keys)) accepted.push_back(k);
        const std::string where =
            feature ? fmt::format("{}({})", spec.name, feature->name) : spec.name;
        if (accepted.empty()) {
          error(st, arg.pos,
                fmt::format("unknown key '{}': {} takes no keyword arguments", arg.key, where));
        } else {
          error(st, arg.pos,
                withChoices(fmt::format("unknown key '{}' for {}", arg.key, where), arg.key,
                            accepted, "keys"));
        }
        continue;
      }
      if (key->values.empty()) continue;
      if (const Value* bad = badValue(arg.value, key->values)) {
        error(st, bad->pos,
              withChoices(fmt::format("bad value '{}' for {}", bad->text, key->name), bad->text,
                          key->values, "values"));
      }
    }
  }

  void positional(const Statement& st, const CommandSpec& spec, const PositionalSpec& ps) {
    const Value* v = positionalFor(st, ps);
    if (!v) {
      error(st, commandPos(st),
            fmt::format("{} needs {} {} argument: {}", spec.name,
                        ps.index < 0 ? "a" : "a positional", ps.what, join(ps.values, ", ")));
      return;
    }
    if (const Value* bad = badValue(*v, ps.values)) {
      error(st, bad->pos,
            withChoices(fmt::format("bad {} '{}' for {}", ps.what, bad->text, spec.name), bad->text,
                        ps.values, "values"));
    }
  }

  std::vector<Diagnostic>& out_;
};

}  // namespace

std::vector<Diagnostic> validateScript(const Script& script) {
  std::vector<Diagnostic> out;
  Validator v(out);
  for (const Statement& st : script.statements) v.statement(st);
  return out;
}

bool isApplied(const Statement& st) {
  const CommandSpec* spec = findCommand(st.command);
  return spec && isApplied(*spec, st);
}

bool isApplied(const CommandSpec& spec, const Statement& st) {
  return appliedState(spec, st).applied;
}

std::string formatDiagnostic(const Diagnostic& d) {
  const bool isError = d.severity == Diagnostic::Error;
  return formatMessage(d.pos, isError ? "error" : "warning", d.message,
                       isError ? d.sourceLine : std::string());
}

bool hasErrors(const std::vector<Diagnostic>& diags) {
  for (const Diagnostic& d : diags)
    if (d.severity == Diagnostic::Error) return true;
  return false;
}

}  // namespace kiln::alls
