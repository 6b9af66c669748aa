// kiln._kiln: the compiler's one-network flow for Python (the ClientRunner in kiln/_runner.py is
// written over it). Each function wraps the library the CLI command calls: onnx::importFile
// (kiln parser onnx), optimize::optimize and noise::searchMixedPrecision (kiln optimize),
// flow::inferArchive (kiln infer), flow::buildExecutable (kiln compiler), and in
// noise_bindings.cpp noise::analyzeArchive (kiln analyze-noise) and batch::evaluateConfig
// (kiln eval); nothing of the flow is implemented here.
#include <string>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "calib/calib_set.h"
#include "common/infer_outputs.h"
#include "compiler/archive/archive.h"
#include "compiler/archive/json_text.h"
#include "compiler/batch/network_config.h"
#include "compiler/flow/build_executable.h"
#include "compiler/flow/infer_archive.h"
#include "compiler/hwarch/hw_arch.h"
#include "compiler/hwarch/resource_plan.h"
#include "compiler/noise/mixed_precision.h"
#include "compiler/onnx/importer.h"
#include "compiler/optimize/optimizer.h"
#include "compiler/python/py_archive.h"
#include "compiler/python/py_errors.h"
#include "runtime/python/py_arrays.h"
#include "runtime/python/py_gil.h"

namespace py = pybind11;

namespace kiln::python {

namespace {

py::list streamList(const Graph& g, const std::vector<int>& ids, bool inputs) {
  py::list l;
  for (int id : ids) {
    const Layer& layer = g.at(id);
    py::dict d;
    d["name"] = layer.attrString("onnx_name");
    d["layer"] = layer.name;
    d["shape"] = py::tuple(py::cast(inputs ? layer.attrInts("user_shape") : layer.outputShapes[0]));
    l.append(d);
  }
  return l;
}

std::vector<std::string> strings(const py::object& o) {
  return o.is_none() ? std::vector<std::string>{} : o.cast<std::vector<std::string>>();
}

py::tuple parseOnnx(const std::string& path, const py::object& netName,
                    const py::object& startNodes, const py::object& endNodes,
                    const py::object& tensorShapes, bool acceptSuggestedCuts) {
  onnx::ImportOptions o;
  if (!netName.is_none()) {
    o.netName = netName.cast<std::string>();
    o.netNameField = "net_name";
  }
  o.startNodes = strings(startNodes);
  o.endNodes = strings(endNodes);
  o.acceptSuggestedCuts = acceptSuggestedCuts;
  if (!tensorShapes.is_none())
    for (const auto& kv : tensorShapes.cast<py::dict>()) {
      // The CLI's NAME=[d0,d1,...] text, so that the checks and messages are the same.
      std::string arg = py::str(kv.first).cast<std::string>() + "=[";
      bool first = true;
      for (const auto& d : kv.second) {
        arg += (first ? "" : ",") + py::str(d).cast<std::string>();
        first = false;
      }
      o.tensorShapes.insert(onnx::parseTensorShapeArg(arg + "]"));
    }
  onnx::ImportReport report;
  PyArchive a;
  withoutGil([&] {
    a.archive.graph = onnx::importFile(path, o, &report);
    a.archive.stages = {"parse"};
  });
  a.name = a.archive.graph.name + ".kar";
  return py::make_tuple(std::move(a), report.notes);
}

py::tuple optimizeArchive(const PyArchive& parsed, const std::string& calibPath,
                          const py::object& calibArrays, bool randomCalib,
                          const std::string& scriptPath, const py::object& scriptText, bool strict,
                          int calibSize, int reportSamples, const py::object& progress,
                          const py::object& mixed) {
  optimize::OptimizeOptions o;
  o.calibPath = calibPath;
  o.randomCalib = randomCalib;
  o.scriptPath = scriptPath;
  if (!scriptText.is_none()) o.scriptText = scriptText.cast<std::string>();
  o.strict = strict;
  o.calibSizeOverride = calibSize;
  o.reportSamples = reportSamples;
  const bool fromArrays = !calibArrays.is_none();
  if (fromArrays) {
    o.calibArrays = npyArrays(calibArrays.cast<py::list>());
    o.calibArraysName = "the calibration arrays";
  }
  std::vector<std::string> warnings, infos;
  o.warn = [&](const std::string& w) { warnings.push_back(w); };
  o.info = [&](const std::string& s) { infos.push_back(s); };
  // progress(step, done, total): the step names of OptimizeOptions::stepStarted, done/total
  // samples of the two long steps (calibration, noise report); every call checks for Ctrl-C.
  std::string step;
  reportOptimizeSteps(o, progress, step);
  // mixed: None, or the options of automatic mixed precision (kiln optimize --target-snr) as a
  // dict of target_snr, gates_config, data_path, data_arrays, data_size, max_16bit_fraction,
  // hw_arch, script_path, write_script, search_trials.
  noise::MixedPrecisionOptions m;
  const bool isMixed = !mixed.is_none();
  if (isMixed) {
    const py::dict d = mixed.cast<py::dict>();
    m.targetSnrDb = d["target_snr"].cast<double>();
    // target_gates: a network config whose expect: gates judge each round (--target-gates).
    if (!d["gates_config"].is_none()) {
      m.gatesFrom = d["gates_config"].cast<std::string>();
      m.gates = batch::loadNetworkConfig(m.gatesFrom, {}).evalSpec;
      if (m.gates->gates.empty())
        throw py::value_error(m.gatesFrom +
                              ": no quality gates: target_gates needs an expect: section (and "
                              "eval: outputs for the figures it bounds), docs/batch.md");
    }
    m.data.path = d["data_path"].cast<std::string>();
    if (!d["data_arrays"].is_none()) m.data.arrays = npyArrays(d["data_arrays"].cast<py::list>());
    m.data.size = d["data_size"].cast<int>();
    m.max16BitFraction = d["max_16bit_fraction"].cast<double>();
    m.maxTrials = d["search_trials"].cast<size_t>();
    m.hwArch = d["hw_arch"].cast<std::string>();
    m.scriptOut = d["script_path"].cast<std::string>();
    m.writeScript = d["write_script"].cast<bool>();
  }
  PyArchive out;
  noise::MixedPrecisionResult res;
  withoutGil([&] {
    try {
      if (!isMixed) {
        out.archive = optimize::optimize(parsed.archive, o);
      } else {
        res = noise::searchMixedPrecision(parsed.archive, o, m);
        out.archive = std::move(res.archive);
      }
    } catch (const calib::CalibError& e) {
      // Arrays of the wrong dtype or shape are the caller's values, not a file: a ValueError.
      // With a path as well (calibration or held-out data), only an error naming the arrays.
      const bool heldOutArrays = !m.data.arrays.empty();
      if ((fromArrays && (!isMixed || heldOutArrays)) ||
          (fromArrays && aboutArrays(e.what(), o.calibArraysName)) ||
          (heldOutArrays && aboutArrays(e.what(), m.data.arraysName)))
        throw ArrayValueError(e.what());
      throw;
    }
  });
  out.name = parsed.name;
  if (!isMixed) return py::make_tuple(std::move(out), warnings, infos, py::none());
  const py::tuple mp = py::make_tuple(jsonText(res.json, -1), res.script, res.summary);
  return py::make_tuple(std::move(out), warnings, infos, mp);
}

py::list inferArchive(const PyArchive& a, const std::string& target, const py::list& arrays,
                      const std::vector<std::string>& labels, bool raw,
                      const py::object& progress) {
  std::vector<flow::InferInput> inputs;
  size_t k = 0;
  for (const auto& x : arrays) {
    const py::array arr = contiguous(x);
    const auto type = elemTypeOf(arr.dtype());
    flow::InferInput in;
    in.label = labels.at(k++);
    if (!type)
      throw flow::InferInputError(in.label + ": expects float32 data, the array holds " +
                                  std::string(py::str(arr.dtype())));
    in.array.type = *type;
    in.array.shape = shapeOf(arr);
    in.array.data.assign(static_cast<const uint8_t*>(arr.data()),
                         static_cast<const uint8_t*>(arr.data()) + arr.nbytes());
    inputs.push_back(std::move(in));
  }
  flow::InferOptions o;
  o.target = flow::parseInferTarget(target);
  o.rawIntegers = raw;
  o.inputsName = "the data";
  o.holder = "the array";
  const py::object* cb = &progress;
  o.progress = [&](int64_t done, int64_t total) { pollPython(cb, done, total); };
  flow::InferResult r =
      withoutGil([&] { return flow::inferArchive(a.archive, a.name, inputs, o); });
  py::list out;
  for (InferOutput& output : r.outputs) {
    output.array.shape = batchedShape(output.array.shape, r.batch);
    out.append(py::make_tuple(output.name, toNumpy(output.array)));
  }
  return out;
}

py::tuple compileArchive(const PyArchive& a, const std::string& hwArch,
                         const std::string& scriptPath, bool failOnUnfit) {
  std::vector<std::string> warnings;
  flow::Executable exe;
  std::string plan, summary;
  withoutGil([&] {
    const hwarch::HwArch& arch = hwarch::findArch(hwArch);
    const hwarch::PlanOptions opts =
        scriptPath.empty() ? hwarch::planOptionsFromArchive(a.archive)
                           : flow::planOptionsFromScriptFile(
                                 scriptPath, [&](const std::string& w) { warnings.push_back(w); });
    exe = flow::buildExecutable(a.archive, a.name, arch, opts);
    if (failOnUnfit && !exe.plan.unfit().empty()) throw Error(a.name + ": " + exe.plan.unfit());
    plan = jsonText(exe.plan.toJson(), -1);
    summary = exe.plan.summary();
  });
  const py::bytes kef(reinterpret_cast<const char*>(exe.bytes.data()), exe.bytes.size());
  return py::make_tuple(kef, plan, summary, warnings);
}

}  // namespace

std::vector<npy::Array> npyArrays(const py::list& arrays) {
  std::vector<npy::Array> out;
  for (const auto& x : arrays) {
    const py::array a = contiguous(x);
    const auto type = elemTypeOf(a.dtype());
    npy::Array n;
    n.type = type ? *type : npy::ElemType::b1;
    n.shape = shapeOf(a);
    n.data.assign(static_cast<const uint8_t*>(a.data()),
                  static_cast<const uint8_t*>(a.data()) + a.nbytes());
    out.push_back(std::move(n));
  }
  return out;
}

bool aboutArrays(const std::string& message, const std::string& name) {
  return message.find(name) != std::string::npos;
}

}  // namespace kiln::python

PYBIND11_MODULE(_kiln, m) {
  using namespace kiln;
  using namespace kiln::python;
  m.doc() = "The Kiln compiler's flow for Python; use kiln.ClientRunner (kiln/_runner.py).";
  registerErrorTranslator();

  py::class_<PyArchive>(m, "Archive", "A Kiln archive (.kar) in memory, parsed or optimized.")
      .def_readonly("name", &PyArchive::name)
      .def_property_readonly("net_name", [](const PyArchive& a) { return a.archive.graph.name; })
      .def_property_readonly("stages", [](const PyArchive& a) { return a.archive.stages; })
      .def_property_readonly("inputs",
                             [](const PyArchive& a) {
                               return streamList(a.archive.graph, a.archive.graph.inputLayers(),
                                                 true);
                             })
      .def_property_readonly("outputs",
                             [](const PyArchive& a) {
                               return streamList(a.archive.graph, a.archive.graph.outputLayers(),
                                                 false);
                             })
      .def("extra",
           [](const PyArchive& a, const std::string& entry) -> py::object {
             auto it = a.archive.extra.find(entry);
             if (it == a.archive.extra.end()) return py::none();
             return py::bytes(reinterpret_cast<const char*>(it->second.data()), it->second.size());
           })
      .def("to_bytes",
           [](const PyArchive& a) {
             const auto b = withoutGil([&] { return serializeArchive(a.archive); });
             return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
           })
      .def("save", [](PyArchive& a, const std::string& path) {
        withoutGil([&] { writeArchive(path, a.archive); });
        a.name = path;
      });
  m.def("load_archive", [](const std::string& path) {
    PyArchive a;
    a.archive = withoutGil([&] { return readArchive(path); });
    a.name = path;
    return a;
  });
  m.def("parse_onnx", &parseOnnx);
  m.def("optimize", &optimizeArchive);
  m.def("infer", &inferArchive);
  m.def("compile", &compileArchive);
  registerNoiseFunctions(m);
  m.def("hw_archs", &hwarch::archNames);
  m.def("tool_version", [] { return std::string(toolVersion()); });
}
