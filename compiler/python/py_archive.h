// What the files of the kiln._kiln extension share: the archive object Python holds, and
// numpy arrays as the calibration loader takes them.
#pragma once

#include <string>
#include <vector>

#include <pybind11/pybind11.h>

#include "common/npy.h"
#include "compiler/archive/archive.h"
#include "runtime/python/py_gil.h"

namespace kiln::python {

namespace py = pybind11;

// An archive in memory, parsed or optimized; `name` names it in messages (its path when it was
// read from or saved to a file).
struct PyArchive {
  Archive archive;
  std::string name;
};

/// Arrays as .npz members would hold them (the calib library checks and splits them). A dtype
/// Kiln has no element type for becomes bool, which the loader refuses with its "expected
/// float32/uint8" message.
std::vector<npy::Array> npyArrays(const py::list& arrays);

/// True when a calib::CalibError's message is about arrays given in memory (named `name` in
/// it): the caller's values, raised as a ValueError rather than a file's error.
bool aboutArrays(const std::string& message, const std::string& name);

/// Reports the steps and samples of a call that runs kiln optimize (options with its stepStarted,
/// progress and reportProgress) to Python's progress(step, done, total): 0, 0 at each step's
/// start, then done/total samples of the long steps; every call checks for Ctrl-C. `step` holds
/// the current step's name and must outlive the call.
template <class Options>
void reportOptimizeSteps(Options& o, const py::object& progress, std::string& step) {
  const py::object* cb = &progress;
  o.stepStarted = [cb, &step](const std::string& s) {
    step = s;
    pollPython(cb, step, 0, 0);
  };
  o.progress = [cb, &step](int done, int total) { pollPython(cb, step, done, total); };
  o.reportProgress = o.progress;
}

/// The functions of compiler/python/noise_bindings.cpp: analyze_noise and evaluate.
void registerNoiseFunctions(py::module_& m);

}  // namespace kiln::python
