// applyScript: runs each applied statement of a model script through the handler the command
// table (script_commands.h) registers for it, and derives the report's applied and not-applied
// lines from the table row.
#include "compiler/optimize/script_apply.h"

#include "compiler/optimize/nms_script.h"
#include "compiler/optimize/script_commands.h"

namespace kiln::optimize {

std::vector<alls::LayerName> layerNames(const Graph& g) {
  std::vector<alls::LayerName> names;
  for (const Layer& l : g.layers) names.push_back({l.name, l.originalNames});
  return names;
}

namespace {

// An applied statement's row in the table (nullptr when this version has none) and its label,
// "pre_quantization_optimization(equalization)" for commands with features.
struct Lookup {
  const ScriptCommand* row = nullptr;
  std::string label;
  bool hasFeature = false;
};

Lookup lookup(const alls::CommandSpec& spec, const alls::Statement& st) {
  Lookup l;
  // Commands with features are looked up with their feature.
  l.hasFeature = !spec.features.empty();
  const alls::Value* f = l.hasFeature ? st.positional(0) : nullptr;
  const std::string feature = f ? f->text : "";
  l.label = l.hasFeature ? st.command + "(" + feature + ")" : st.command;
  l.row = findScriptCommand(st.command, feature);
  return l;
}

// The report line of a statement the table has no row for: said, never dropped.
std::string missingRow(const Lookup& l, const std::string& where) {
  return where + ": " + l.label +
         (l.hasFeature ? " is parsed, not applied"
                       : " is understood but not applied by this version of Kiln");
}

// The report line of a keyed argument that is not applied, or "" when the row applies it (or
// ignores it silently).
std::string keyNote(const ScriptCommand& row, const Lookup& l, const std::string& where,
                    const alls::Arg& a) {
  const ScriptKey* key = row.findKey(a.key);
  if (key && !key->note.empty()) return where + ": " + l.label + " " + a.key + " " + key->note;
  if (!key && row.otherKeys == OtherKeys::Reported)
    return where + ": " + l.label + " key " + a.key + " is parsed, not applied";
  return {};
}

// The info lines of what the row accepts with a meaning: the statement's, then its keys'.
std::vector<std::string> acceptedLines(const ScriptCommand& row, const Lookup& l,
                                       const std::string& where, const alls::Statement& st) {
  std::vector<std::string> out;
  if (!row.meaning.empty()) out.push_back(where + ": " + l.label + ": " + row.meaning);
  for (const alls::Arg& a : st.args)
    if (const ScriptKey* key = a.key.empty() ? nullptr : row.findKey(a.key))
      if (!key->meaning.empty())
        out.push_back(where + ": " + l.label + " " + a.key + "=" + a.value.text + ": " +
                      key->meaning);
  return out;
}

}  // namespace

ScriptSettings applyScript(Graph& g, const alls::Script& script) {
  ScriptSettings s;
  for (const alls::Statement& st : script.statements) {
    const alls::CommandSpec* spec = alls::findCommand(st.command);
    if (!spec || !alls::isApplied(*spec, st)) continue;
    const std::string where = statementWhere(st);
    const Lookup l = lookup(*spec, st);
    if (!l.row) {
      s.notApplied.push_back(missingRow(l, where));
      continue;
    }
    const ScriptCommand& row = *l.row;
    ScriptContext context{g, s, st, {}};
    if (row.apply) row.apply(context);
    if (context.notApplied) continue;
    bool keyApplied = false;
    for (const alls::Arg& a : st.args) {
      if (a.key.empty()) continue;
      const ScriptKey* key = row.findKey(a.key);
      if (key && key->note.empty()) {
        if (key->apply) key->apply(context, a);
        keyApplied = true;
      } else if (const std::string note = keyNote(row, l, where, a); !note.empty()) {
        s.notApplied.push_back(note);
      }
    }
    for (std::string& line : acceptedLines(row, l, where, st)) s.accepted.push_back(line);
    if (row.needsAppliedKey && !keyApplied) continue;
    // A statement accepted with a meaning and no handler asks for nothing more.
    if (!row.meaning.empty() && !row.apply) continue;
    s.applied.push_back(where + " " + st.sourceLine);
  }
  return s;
}

std::vector<alls::Diagnostic> scriptNotApplied(const alls::Script& script) {
  std::vector<alls::Diagnostic> out;
  auto add = [&](const alls::Statement& st, const std::string& where, const std::string& line,
                 std::string label) {
    alls::Diagnostic d;
    d.severity = alls::Diagnostic::Warning;
    d.pos = st.pos;
    d.message = line.substr(where.size() + 2);  // without "model.alls:3: "
    d.notApplied = true;
    d.label = std::move(label);
    out.push_back(std::move(d));
  };
  for (const alls::Statement& st : script.statements) {
    const alls::CommandSpec* spec = alls::findCommand(st.command);
    if (!spec || !alls::isApplied(*spec, st)) continue;
    const std::string where = statementWhere(st);
    const Lookup l = lookup(*spec, st);
    if (!l.row) {
      add(st, where, missingRow(l, where), l.label);
      continue;
    }
    if (st.command == "nms_postprocess")
      if (const std::string why = nmsNotAppliedReason(st); !why.empty())
        add(st, where, where + ": nms_postprocess is parsed, not applied: " + why, l.label);
    for (const alls::Arg& a : st.args)
      if (!a.key.empty())
        if (const std::string note = keyNote(*l.row, l, where, a); !note.empty())
          add(st, where, note, l.label + " key " + a.key);
  }
  return out;
}

std::vector<alls::Diagnostic> scriptAccepted(const alls::Script& script) {
  std::vector<alls::Diagnostic> out;
  for (const alls::Statement& st : script.statements) {
    const alls::CommandSpec* spec = alls::findCommand(st.command);
    if (!spec || !alls::isApplied(*spec, st)) continue;
    const std::string where = statementWhere(st);
    const Lookup l = lookup(*spec, st);
    if (!l.row) continue;
    for (const std::string& line : acceptedLines(*l.row, l, where, st)) {
      alls::Diagnostic d;
      d.severity = alls::Diagnostic::Note;
      d.pos = st.pos;
      d.message = line.substr(where.size() + 2);  // without "model.alls:3: "
      d.label = l.label;
      out.push_back(std::move(d));
    }
  }
  return out;
}

}  // namespace kiln::optimize
