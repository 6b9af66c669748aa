// Long calls from Python (kiln's optimize and infer, kilnrt's Session.run): the GIL is released
// while C++ works; hooks take it back to call the user's progress callback and to notice Ctrl-C;
// a Python exception raised there unwinds the C++ call and is raised again to the caller.
#pragma once

#include <utility>

#include <pybind11/pybind11.h>

namespace kiln::python {

namespace py = pybind11;

/// Thrown by a hook when a Python exception is pending (KeyboardInterrupt, or the callback
/// raised). Not a std::exception, so no C++ layer's handler takes it for one of its own errors.
struct PythonErrorPending {};

/// With the GIL held: checks for signals (Ctrl-C raises KeyboardInterrupt) and calls
/// `callback(args...)` unless it is null or None; throws PythonErrorPending when either raised.
/// The callback is passed by pointer: copying a py::object without the GIL is not allowed.
template <class... A>
void pollPython(const py::object* callback, A&&... args) {
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() != 0) throw PythonErrorPending{};
  if (callback && !callback->is_none()) {
    try {
      (*callback)(std::forward<A>(args)...);
    } catch (py::error_already_set& e) {
      e.restore();
      throw PythonErrorPending{};
    }
  }
}

/// Runs f() with the GIL released; a Python error left pending by a hook is raised here.
template <class F>
auto withoutGil(F&& f) -> decltype(f()) {
  try {
    py::gil_scoped_release release;
    return f();
  } catch (const PythonErrorPending&) {
    throw py::error_already_set();
  }
}

}  // namespace kiln::python
