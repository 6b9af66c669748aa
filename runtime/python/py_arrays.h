// numpy arrays <-> Kiln's element types (common/npy.h), for the kiln and kilnrt modules.
#pragma once

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "common/npy.h"

namespace kiln::python {

namespace py = pybind11;

/// The element type of a numpy dtype; nullopt for dtypes Kiln has no use for (complex, object,
/// strings, big-endian data).
inline std::optional<npy::ElemType> elemTypeOf(const py::dtype& d) {
  if (!d.attr("isnative").cast<bool>()) return std::nullopt;
  const char kind = d.kind();
  const auto size = d.itemsize();
  using T = npy::ElemType;
  if (kind == 'f' && size == 4) return T::f32;
  if (kind == 'f' && size == 8) return T::f64;
  if (kind == 'u' && size == 1) return T::u8;
  if (kind == 'u' && size == 2) return T::u16;
  if (kind == 'u' && size == 4) return T::u32;
  if (kind == 'i' && size == 1) return T::i8;
  if (kind == 'i' && size == 2) return T::i16;
  if (kind == 'i' && size == 4) return T::i32;
  if (kind == 'i' && size == 8) return T::i64;
  if (kind == 'b' && size == 1) return T::b1;
  return std::nullopt;
}

/// The numpy dtype of an element type ("<f4", ...).
inline py::dtype dtypeOf(npy::ElemType t) {
  return py::dtype(npy::descr(t));
}

/// `obj` as a C-contiguous numpy array (a copy only when it is not one already).
inline py::array contiguous(const py::handle& obj) {
  return py::array::ensure(obj, py::array::c_style);
}

inline std::vector<int64_t> shapeOf(const py::array& a) {
  return std::vector<int64_t>(a.shape(), a.shape() + a.ndim());
}

/// A numpy array holding a copy of `a`.
inline py::array toNumpy(const npy::Array& a) {
  py::array out(dtypeOf(a.type), std::vector<py::ssize_t>(a.shape.begin(), a.shape.end()));
  if (!a.data.empty()) std::memcpy(out.mutable_data(), a.data.data(), a.data.size());
  return out;
}

}  // namespace kiln::python
