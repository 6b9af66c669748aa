#include "compiler/python/py_errors.h"

#include <string>

#include <pybind11/pybind11.h>

#include "alls/errors.h"
#include "calib/calib_set.h"
#include "common/file_io.h"
#include "compiler/flow/infer_archive.h"
#include "compiler/ir/types.h"
#include "runtime/engine/program.h"

namespace py = pybind11;

namespace kiln::python {

namespace {

// Raises kiln.errors.<cls>(message); the class parses the file, line and layer out of it.
void raise(const char* cls, const std::string& message) {
  const py::object type = py::module_::import("kiln.errors").attr(cls);
  const py::object value = type(message);
  PyErr_SetObject(type.ptr(), value.ptr());
}

// Script diagnostics ("FILE:LINE:COL: error: ...") that optimize collects into one kiln::Error.
bool isScriptDiagnostic(const std::string& what) {
  return what.substr(0, what.find('\n')).find(": error: ") != std::string::npos;
}

}  // namespace

void registerErrorTranslator() {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const flow::InferInputError& e) {
      raise("InputError", e.what());
    } catch (const ArrayValueError& e) {
      raise("InputError", e.what());
    } catch (const alls::ScriptError& e) {
      raise("ModelScriptError", e.what());
    } catch (const Error& e) {
      raise(isScriptDiagnostic(e.what()) ? "ModelScriptError" : "KilnError", e.what());
    } catch (const calib::CalibError& e) {
      raise("CalibrationError", e.what());
    } catch (const files::FileError& e) {
      raise("FileError", e.what());
    } catch (const rt::Error& e) {
      // The runtime's checks: a program the archive's parameters cannot make, its limits.
      raise("ExecutableError", std::string("runtime: ") + e.what());
    }
  });
}

}  // namespace kiln::python
