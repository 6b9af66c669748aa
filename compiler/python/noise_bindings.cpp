// kiln._kiln's analyze_noise (kiln analyze-noise: noise::analyzeArchive) and evaluate (kiln
// eval: batch::evaluateConfig). Both return their JSON as text, which kiln/_runner.py loads:
// the same structure the command writes with --json / as <net>.eval.json.
#include <optional>
#include <string>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "calib/calib_set.h"
#include "compiler/archive/json_text.h"
#include "compiler/batch/evaluate_config.h"
#include "compiler/noise/analyze_archive.h"
#include "compiler/python/py_archive.h"
#include "compiler/python/py_errors.h"
#include "runtime/python/py_gil.h"

namespace kiln::python {

namespace {

// (json, text, warnings, infos). data: a path, or arrays (one per input, in input order).
py::tuple analyzeNoise(const PyArchive& a, const std::string& dataPath,
                       const py::object& dataArrays, const std::string& mode, int dataSize,
                       const std::string& hwArch, int top, const py::object& progress) {
  noise::AnalyzeOptions o;
  o.mode = mode;
  o.data.path = dataPath;
  const bool fromArrays = !dataArrays.is_none();
  if (fromArrays) o.data.arrays = npyArrays(dataArrays.cast<py::list>());
  o.data.size = dataSize;
  o.hwArch = hwArch;
  o.top = top;
  std::vector<std::string> warnings, infos;
  o.warn = [&](const std::string& w) { warnings.push_back(w); };
  o.info = [&](const std::string& s) { infos.push_back(s); };
  // progress(step, done, total), the step named as the CLI's progress line.
  const std::string step = mode == "advanced" ? "noise analysis (advanced)" : "noise analysis";
  const py::object* cb = &progress;
  o.progress = [&](int done, int total) { pollPython(cb, step, done, total); };
  noise::AnalyzeResult r;
  withoutGil([&] {
    try {
      r = noise::analyzeArchive(a.archive, a.name, o);
    } catch (const calib::CalibError& e) {
      if (fromArrays) throw ArrayValueError(e.what());
      throw;
    }
  });
  return py::make_tuple(jsonText(r.json, -1), r.text, warnings, infos);
}

// (json, table, passed, warnings, infos).
py::tuple evaluateConfig(const std::string& config, const std::vector<std::string>& targets,
                         const std::string& data, int size, const std::optional<int>& calibSize,
                         const std::optional<std::string>& hwArch, const std::string& outputDir,
                         const py::object& progress) {
  batch::EvaluateConfigOptions o;
  o.targets = targets;
  o.data = data;
  o.size = size;
  o.calibSize = calibSize;
  o.hwArch = hwArch;
  o.outputDir = outputDir;
  std::vector<std::string> warnings, infos;
  o.warn = [&](const std::string& w) { warnings.push_back(w); };
  o.info = [&](const std::string& s) { infos.push_back(s); };
  o.note = o.info;
  // progress(step, done, total): optimize's steps, then "evaluation" per sample.
  std::string step;
  reportOptimizeSteps(o, progress, step);
  o.evalProgress = [&](int done, int total) {
    step = "evaluation";
    pollPython(&progress, step, done, total);
  };
  batch::EvaluateConfigResult r = withoutGil([&] { return batch::evaluateConfig(config, o); });
  return py::make_tuple(jsonText(r.result.toJson(), -1), r.result.table(), r.result.passed(),
                        warnings, infos);
}

}  // namespace

void registerNoiseFunctions(py::module_& m) {
  m.def("analyze_noise", &analyzeNoise);
  m.def("evaluate", &evaluateConfig);
  m.def("eval_targets", [] { return eval::targetNames(); });
}

}  // namespace kiln::python
