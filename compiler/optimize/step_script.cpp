// Step "script": reads and validates the model script, applies it to the graph, and derives from
// its settings what the later steps do (equalization, bias correction, weight rounding, range
// selection).
#include <fmt/core.h>

#include "alls/alls.h"
#include "common/file_io.h"
#include "common/npy.h"
#include "compiler/optimize/optimize_steps.h"

namespace kiln::optimize {

namespace {

std::string readText(const std::string& path) {
  try {
    return files::readText(path);
  } catch (const npy::NpyError& e) {
    throw Error(e.what());
  }
}

// Parses and validates the script (none: an empty one). Validation errors, and with --strict the
// "parsed, not applied" warnings too, are thrown together; other warnings go to o.warn.
alls::Script loadScript(const OptimizeOptions& o, std::string& text) {
  if (o.scriptText) {
    text = *o.scriptText;
  } else {
    if (o.scriptPath.empty()) return {};
    text = readText(o.scriptPath);
  }
  alls::Script script = alls::parseScript(text, o.scriptPath);
  const auto diags = alls::validateScript(script);
  std::string errors;
  for (const auto& d : diags) {
    const bool error = d.severity == alls::Diagnostic::Error || (o.strict && d.notApplied);
    if (error) {
      alls::Diagnostic e = d;
      e.severity = alls::Diagnostic::Error;
      errors += alls::formatDiagnostic(e) + "\n";
    } else {
      o.warn(alls::formatDiagnostic(d));
    }
  }
  if (!errors.empty()) {
    errors.pop_back();
    throw Error(errors + (o.strict ? "\n(--strict: commands Kiln does not apply are errors)" : ""));
  }
  return script;
}

}  // namespace

void stepScript(OptimizeState& s) {
  const OptimizeOptions& o = s.options;
  const alls::Script script = loadScript(o, s.scriptText);
  s.settings = applyScript(s.graph(), script);
  for (const auto& w : s.settings.notApplied) o.warn(w);
  for (const auto& a : s.settings.accepted) o.info(a);
  const ScriptSettings& st = s.settings;
  s.biasCorrection = st.biasCorrection >= 0 ? st.biasCorrection == 1 : st.optimizationLevel >= 1;
  s.compensateRounding =
      st.weightRounding >= 0 ? st.weightRounding == 1 : st.optimizationLevel >= 2;
  s.selectRanges = st.optimizationLevel >= 0;
  if (st.optimizationLevel >= 3)
    o.warn(fmt::format(
        "optimization level {}: fine-tuning is not implemented; this runs level 2 (level 1 + "
        "error-compensating weight rounding)",
        st.optimizationLevel));
}

}  // namespace kiln::optimize
