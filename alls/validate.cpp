// validateScript: checks a parsed script against the command table.
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>

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

// A number as written in messages: whole numbers without a fraction.
std::string num(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(int64_t(v));
  return fmt::format("{}", v);
}

// "a whole number from 1 to 1000000", "a number in (0, 1]", "a number >= 0".
std::string accepted(const KeySpec& k, bool whole, bool plural = false) {
  const std::string what =
      plural ? (whole ? "whole numbers" : "numbers") : (whole ? "a whole number" : "a number");
  const bool hasMin = k.min > -1e307, hasMax = k.max < 1e307;
  if (hasMin && hasMax) {
    if (whole) return fmt::format("{} from {} to {}", what, num(k.min), num(k.max));
    return fmt::format("{} in {}{}, {}]", what, k.minExclusive ? "(" : "[", num(k.min), num(k.max));
  }
  if (hasMin) return fmt::format("{} {} {}", what, k.minExclusive ? ">" : ">=", num(k.min));
  if (hasMax) return fmt::format("{} <= {}", what, num(k.max));
  return what;
}

// Why number `v` does not fit key `k`, or "" when it does.
std::string numberProblem(const KeySpec& k, const Value& v, bool whole) {
  if (v.kind != Value::Kind::Number)
    return fmt::format("found {} '{}'", kindName(v.kind), shorten(v.text));
  const double x = v.number;
  if (!std::isfinite(x))
    return fmt::format("found {}, beyond the range of a number", shorten(v.text));
  if (whole && x != std::floor(x)) return fmt::format("found {}, not a whole number", v.text);
  if (x < k.min || x > k.max || (k.minExclusive && x == k.min))
    return fmt::format("found {}", shorten(v.text));
  return {};
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
  std::string why = spec.why;
  if (const FeatureSpec* f = featureOf(spec, st)) {
    a.label += "(" + f->name + ")";
    a.applied = a.applied && f->applied;
    if (!f->why.empty()) why = f->why;
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
      a.reason = why.empty() ? "Kiln does not implement it" : why;
      break;
  }
  return a;
}

class Validator {
 public:
  Validator(std::vector<Diagnostic>& out, Stage stage) : out_(out), stage_(stage) {}

  void statement(const Statement& st) {
    const size_t errorsBefore = errors_;
    const CommandSpec* spec = findCommand(st.command);
    if (!spec) {
      std::string msg = fmt::format("unknown command '{}'", shorten(st.command));
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
              withChoices(fmt::format("unknown feature '{}' for {}", shorten(f->text), spec->name),
                          f->text, featureNames(*spec), "features"));
      }
    }
    keys(st, *spec, feature);
    for (const PositionalSpec& ps : spec->positional) positional(st, *spec, ps);

    if (errors_ != errorsBefore) return;  // an erroneous statement gets no "not applied" warning
    if (stage_ == Stage::Compile) {
      compileWarning(st, *spec);
      return;
    }
    const Applied a = appliedState(*spec, st);
    if (a.applied) {
      ignoredKeys(st, *spec, feature);
      return;
    }
    // Resource commands the plan reads are recorded in the archive and honoured by kiln compiler
    // (which reports the keys its plan does not use).
    if (spec->planned) return;
    // A disabled optimization Kiln does not have is exactly what the script asks for.
    const Arg* policy = st.find("policy");
    if (feature && policy && policy->value.text == "disabled") return;
    warning(st,
            fmt::format("{} (line {}) is parsed, not applied ({})", a.label, st.pos.line, a.reason),
            a.label);
  }

  // What the parser accepted outside the grammar (an extra ')').
  void parseNote(const ParseNote& n) {
    if (++warnings_ > kMaxDiagnostics) {
      ++droppedWarnings_;
      return;
    }
    Diagnostic d;
    d.severity = Diagnostic::Warning;
    d.pos = n.pos;
    d.message = n.message;
    d.sourceLine = n.sourceLine;
    out_.push_back(std::move(d));
  }

  // The last diagnostic: how many were left out.
  void finish(const std::string& file) {
    if (droppedErrors_ == 0 && droppedWarnings_ == 0) return;
    std::vector<std::string> parts;
    if (droppedErrors_)
      parts.push_back(
          fmt::format("{} more error{}", droppedErrors_, droppedErrors_ == 1 ? "" : "s"));
    if (droppedWarnings_)
      parts.push_back(
          fmt::format("{} more warning{}", droppedWarnings_, droppedWarnings_ == 1 ? "" : "s"));
    Diagnostic d;
    d.severity = droppedErrors_ ? Diagnostic::Error : Diagnostic::Warning;
    d.pos = {file, 0, 0};
    d.message = fmt::format("and {} (only the first {} errors and {} warnings are shown)",
                            join(parts, " and "), kMaxDiagnostics, kMaxDiagnostics);
    out_.push_back(std::move(d));
  }

 private:
  void error(const Statement& st, const SourcePos& pos, std::string msg) {
    if (++errors_ > kMaxDiagnostics) {
      ++droppedErrors_;
      return;
    }
    Diagnostic d;
    d.severity = Diagnostic::Error;
    d.pos = pos;
    d.message = std::move(msg);
    d.sourceLine = st.lineText(pos.line);
    out_.push_back(std::move(d));
  }

  // A warning about the script's text itself (not about what Kiln applies).
  void plainWarning(const Statement& st, const SourcePos& pos, std::string msg) {
    if (++warnings_ > kMaxDiagnostics) {
      ++droppedWarnings_;
      return;
    }
    Diagnostic d;
    d.severity = Diagnostic::Warning;
    d.pos = pos;
    d.message = std::move(msg);
    d.sourceLine = st.lineText(pos.line);
    out_.push_back(std::move(d));
  }

  // A "parsed, not applied" warning about `label`.
  void warning(const Statement& st, std::string msg, std::string label) {
    if (++warnings_ > kMaxDiagnostics) {
      ++droppedWarnings_;
      return;
    }
    Diagnostic d;
    d.severity = Diagnostic::Warning;
    d.notApplied = true;
    d.label = std::move(label);
    d.pos = st.pos;
    d.message = std::move(msg);
    d.sourceLine = st.lineText(st.pos.line);
    out_.push_back(std::move(d));
  }

  // kiln compiler reads only the resource commands its plan uses; say so for every other one.
  void compileWarning(const Statement& st, const CommandSpec& spec) {
    if (spec.planned) return;  // the plan reports the keys it does not use
    const std::string label = appliedState(spec, st).label;
    switch (spec.category) {
      case Category::Applied:
        warning(st,
                fmt::format("{} (line {}) has no effect in kiln compiler: optimization "
                            "commands act in kiln optimize, and the archive is already "
                            "optimized",
                            label, st.pos.line),
                label);
        break;
      case Category::Recorded:
        warning(st,
                fmt::format("{} (line {}) is parsed, not applied (Kiln's resource plan does "
                            "not model it)",
                            label, st.pos.line),
                label);
        break;
      case Category::NotApplied:
        warning(st,
                fmt::format("{} (line {}) is parsed, not applied (compiler placement command)",
                            label, st.pos.line),
                label);
        break;
    }
  }

  // Keys of an applied feature that Kiln accepts but does not act on.
  void ignoredKeys(const Statement& st, const CommandSpec& spec, const FeatureSpec* feature) {
    if (!feature) return;
    for (const Arg& arg : st.args) {
      if (arg.key.empty()) continue;
      for (const std::string& k : feature->ignoredKeys)
        if (k == arg.key)
          warning(st,
                  fmt::format("{}({}) key {} (line {}) is parsed, not applied ({})", spec.name,
                              feature->name, arg.key, arg.pos.line, feature->ignoredWhy),
                  fmt::format("{}({}) key {}", spec.name, feature->name, arg.key));
    }
  }

  void keys(const Statement& st, const CommandSpec& spec, const FeatureSpec* feature) {
    // A key given n times is one error, at its second occurrence.
    std::map<std::string, std::pair<const Arg*, size_t>> counts;
    for (const Arg& arg : st.args)
      if (!arg.key.empty()) {
        auto& c = counts[arg.key];
        if (!c.first) c.first = &arg;
        ++c.second;
      }
    std::map<std::string, size_t> seen;
    for (const Arg& arg : st.args) {
      if (arg.key.empty()) continue;
      const auto& [first, count] = counts[arg.key];
      if (++seen[arg.key] == 2) {
        const std::string msg =
            fmt::format("key '{}' is given {} (first at line {}, column {})", arg.key,
                        count == 2 ? std::string("twice") : fmt::format("{} times", count),
                        first->pos.line, first->pos.col);
        // A zoo script repeats allocator_param(enable_auto_spatial_reshapes=...): accepted in
        // the commands whose keys Kiln does not read; an error where Kiln acts on the value.
        if (spec.anyKeys)
          plainWarning(st, arg.pos,
                       msg + "; accepted, Kiln does not read " + spec.name + "'s keys");
        else
          error(st, arg.pos, msg);
      }
      if (seen[arg.key] > 1) continue;  // a repeated key is checked once

      const KeySpec* key = nullptr;
      if (feature)
        for (const KeySpec& k : feature->keys)
          if (k.name == arg.key) key = &k;
      if (!key)
        for (const KeySpec& k : spec.keys)
          if (k.name == arg.key) key = &k;
      // Commands that accept any key still check the values of the keys they declare.
      if (!key && spec.anyKeys) continue;
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
      value(st, *key, arg.value);
    }
  }

  // The value of a known key: its closed set, its type, its range.
  void value(const Statement& st, const KeySpec& key, const Value& v) {
    if (!key.values.empty()) {
      if (v.kind == Value::Kind::List && !key.list) {
        error(st, v.pos,
              fmt::format("{} takes one value, found the list {}; accepted values: {}", key.name,
                          shorten(v.text), join(key.values, ", ")));
      } else if (const Value* bad = badValue(v, key.values)) {
        error(st, bad->pos,
              withChoices(fmt::format("bad value '{}' for {}", shorten(bad->text), key.name),
                          bad->text, key.values, "values"));
      }
      return;
    }
    const bool whole = key.type == ValueType::Integer || key.type == ValueType::Integers;
    switch (key.type) {
      case ValueType::Any:
        return;
      case ValueType::Number:
      case ValueType::Integer:
        if (key.nullable && (v.text == "None" || v.text == "null")) return;
        if (v.kind == Value::Kind::List) {
          error(st, v.pos,
                fmt::format("{} expects {}, found the list {}", key.name, accepted(key, whole),
                            shorten(v.text)));
        } else if (const std::string p = numberProblem(key, v, whole); !p.empty()) {
          error(st, v.pos, fmt::format("{} expects {}, {}", key.name, accepted(key, whole), p));
        }
        return;
      case ValueType::Range:
        if (v.kind != Value::Kind::List || v.items.size() != 2) {
          error(st, v.pos,
                fmt::format("{} expects [low, high] (two numbers), found {}", key.name,
                            shorten(v.text)));
          return;
        }
        for (const Value& item : v.items)
          if (const std::string p = numberProblem(key, item, false); !p.empty()) {
            error(st, item.pos,
                  fmt::format("{} expects [low, high] with {}, {}", key.name, accepted(key, false),
                              p));
            return;
          }
        if (!(v.items[0].number <= v.items[1].number))
          error(st, v.pos,
                fmt::format("{} expects [low, high] with low <= high, found {}", key.name,
                            shorten(v.text)));
        return;
      case ValueType::Numbers:
      case ValueType::Integers: {
        const std::vector<Value> one = {v};
        const std::vector<Value>& items = v.kind == Value::Kind::List ? v.items : one;
        for (const Value& item : items)
          if (const std::string p = numberProblem(key, item, whole); !p.empty()) {
            error(st, item.pos,
                  fmt::format("{} expects a list of {}, {}", key.name, accepted(key, whole, true),
                              p));
            return;
          }
        return;
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
            withChoices(fmt::format("bad {} '{}' for {}", ps.what, shorten(bad->text), spec.name),
                        bad->text, ps.values, "values"));
    }
  }

  std::vector<Diagnostic>& out_;
  Stage stage_;
  size_t errors_ = 0, warnings_ = 0, droppedErrors_ = 0, droppedWarnings_ = 0;
};

}  // namespace

std::vector<Diagnostic> validateScript(const Script& script, Stage stage) {
  std::vector<Diagnostic> out;
  Validator v(out, stage);
  for (const ParseNote& n : script.notes) v.parseNote(n);
  for (const Statement& st : script.statements) v.statement(st);
  v.finish(script.file);
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
  const char* severity = isError ? "error" : (d.severity == Diagnostic::Note ? "note" : "warning");
  return formatMessage(d.pos, severity, d.message, isError ? d.sourceLine : std::string());
}

bool hasErrors(const std::vector<Diagnostic>& diags) {
  for (const Diagnostic& d : diags)
    if (d.severity == Diagnostic::Error) return true;
  return false;
}

}  // namespace kiln::alls
