#include "compiler/profiler/report_data.h"

#include <sys/stat.h>

#include <algorithm>

#include "alls/commands.h"
#include "alls/errors.h"
#include "alls/parser.h"
#include "common/file_io.h"
#include "compiler/hwarch/resource_plan.h"
#include "compiler/profiler/colours.h"
#include "compiler/profiler/executable_json.h"
#include "compiler/profiler/model_json.h"

namespace kiln::profiler {

namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

nlohmann::json readJson(const std::string& path, const std::string& option) {
  const std::string text = files::readText(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(path + " (" + option + "): not JSON: " + e.what());
  }
}

// An archive entry as JSON (null when absent).
nlohmann::json entryJson(const Archive& a, const std::string& entry) {
  const auto it = a.extra.find(entry);
  if (it == a.extra.end()) return nullptr;
  return nlohmann::json::parse(it->second.begin(), it->second.end());
}

// The validator's warnings on the script as kiln optimize read it (commands and keys that are
// parsed but not applied): [{"line", "message"}].
nlohmann::json scriptWarnings(const std::string& text, const std::string& path) {
  nlohmann::json out = nlohmann::json::array();
  try {
    for (const alls::Diagnostic& d : alls::validateScript(alls::parseScript(text, path)))
      if (d.severity == alls::Diagnostic::Warning)
        out.push_back({{"line", d.pos.line}, {"message", d.message}});
  } catch (const alls::ScriptError&) {
    // kiln optimize accepted this script; a newer Kiln that rejects it has nothing to mark.
  }
  return out;
}

bool optimized(const Archive& a) {
  return std::find(a.stages.begin(), a.stages.end(), "optimize") != a.stages.end();
}

// The resource plan: the compile.json kiln compiler wrote beside the .kef, or planned here from
// the archive's own script settings (what kiln compiler does without --model-script).
nlohmann::json compilation(const Archive& a, const ReportInputs& in, const nlohmann::json& exe) {
  if (!in.kefPath.empty()) {
    std::string base = in.kefPath;
    if (base.size() > 4 && base.compare(base.size() - 4, 4, ".kef") == 0)
      base.resize(base.size() - 4);
    const std::string planPath = base + ".compile.json";
    if (exists(planPath)) {
      nlohmann::json plan = readJson(planPath, "the plan beside --kef");
      if (!plan.contains("contexts") || !plan.contains("totals"))
        throw Error(planPath + ": expected the resource plan kiln compiler writes (keys " +
                    "\"contexts\" and \"totals\"); found another JSON file");
      return {{"source", planPath}, {"plan", plan}};
    }
  }
  if (!optimized(a)) return nullptr;
  const std::string arch = exe.is_null() ? in.hwArch : exe.at("hw_arch").get<std::string>();
  const hwarch::ResourcePlan plan =
      hwarch::planResources(a.graph, hwarch::findArch(arch), hwarch::planOptionsFromArchive(a));
  nlohmann::json j = nlohmann::json::parse(plan.toJson().dump());
  return {{"source", "planned from " + in.karPath + " for " + arch}, {"plan", j}};
}

}  // namespace

nlohmann::json reportData(const Archive& a, const ReportInputs& in) {
  nlohmann::json d = {{"kind", "kiln-profile"}, {"version", 1}, {"tool_version", toolVersion()}};
  d["palette"] = paletteJson();
  d["archive"] = in.karPath;
  d["model"] = modelJson(a);
  d["optimization"] = entryJson(a, "optimize/report.json");
  const auto script = a.extra.find("optimize/script.alls");
  d["script"] = nullptr;
  if (script != a.extra.end() && !d["optimization"].is_null()) {
    const std::string path = d["optimization"].value("script", "");
    const std::string text(script->second.begin(), script->second.end());
    d["script"] = {{"path", path}, {"text", text}, {"warnings", scriptWarnings(text, path)}};
  }
  d["executable"] = in.kefPath.empty() ? nlohmann::json() : executableJson(in.kefPath);
  d["compilation"] = compilation(a, in, d["executable"]);

  d["runtime"] = nullptr;
  if (!in.runtimeProfilePath.empty()) {
    nlohmann::json r = readJson(in.runtimeProfilePath, "--runtime-profile");
    if (!r.is_object() || !r.contains("profile") || !r.at("profile").is_array() ||
        r.at("profile").empty())
      throw Error(in.runtimeProfilePath +
                  " (--runtime-profile): expected the output of `kilnrt run FILE.kef --profile "
                  "--json` (an object with a non-empty \"profile\" list); found none");
    d["runtime"] = r;
  }
  d["noise"] = nullptr;
  if (!in.noisePath.empty()) {
    nlohmann::json n = readJson(in.noisePath, "--analysis");
    if (!n.is_object() || n.value("kind", "") != "kiln-noise-analysis" || !n.contains("layers") ||
        !n.at("layers").is_array())
      throw Error(in.noisePath +
                  " (--analysis): expected the output of `kiln analyze-noise --json` (\"kind\": "
                  "\"kiln-noise-analysis\" with a \"layers\" list); found " +
                  (n.is_object() ? "kind \"" + n.value("kind", std::string()) + "\""
                                 : std::string("no JSON object")));
    d["noise"] = n;
  }
  return d;
}

}  // namespace kiln::profiler
