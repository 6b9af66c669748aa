// applyScript: runs each applied statement of a model script through the handler the command
// table (script_commands.h) registers for it, and derives the report's applied and not-applied
// lines from the table row.
#include "compiler/optimize/script_apply.h"

#include "compiler/optimize/script_commands.h"

namespace kiln::optimize {

std::vector<alls::LayerName> layerNames(const Graph& g) {
  std::vector<alls::LayerName> names;
  for (const Layer& l : g.layers) names.push_back({l.name, l.originalNames});
  return names;
}

ScriptSettings applyScript(Graph& g, const alls::Script& script) {
  ScriptSettings s;
  for (const alls::Statement& st : script.statements) {
    const alls::CommandSpec* spec = alls::findCommand(st.command);
    if (!spec || !alls::isApplied(*spec, st)) continue;
    const std::string where = statementWhere(st);
    // Commands with features are looked up with their feature: "pre_quantization_optimization(
    // equalization)".
    const bool hasFeature = !spec->features.empty();
    const alls::Value* f = hasFeature ? st.positional(0) : nullptr;
    const std::string feature = f ? f->text : "";
    const std::string label = hasFeature ? st.command + "(" + feature + ")" : st.command;
    const ScriptCommand* row = findScriptCommand(st.command, feature);
    if (!row) {
      // An applied-category statement this version does not act on yet: say so, never drop it.
      s.notApplied.push_back(where + ": " + label +
                             (hasFeature
                                  ? " is parsed, not applied"
                                  : " is understood but not applied by this version of Kiln"));
      continue;
    }
    ScriptContext context{g, s, st, {}};
    if (row->apply) row->apply(context);
    bool keyApplied = false;
    for (const alls::Arg& a : st.args) {
      if (a.key.empty()) continue;
      const ScriptKey* key = row->findKey(a.key);
      if (key && key->note.empty()) {
        if (key->apply) key->apply(context, a);
        keyApplied = true;
      } else if (key) {
        s.notApplied.push_back(where + ": " + label + " " + a.key + " " + key->note);
      } else if (row->otherKeys == OtherKeys::Reported) {
        s.notApplied.push_back(where + ": " + label + " key " + a.key + " is parsed, not applied");
      }
    }
    if (row->needsAppliedKey && !keyApplied) continue;
    s.applied.push_back(where + " " + st.sourceLine);
  }
  return s;
}

}  // namespace kiln::optimize
