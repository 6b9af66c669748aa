// Per-thread scratch vectors of the kernels (internal to runtime/kernels).
#pragma once

#include <cstddef>
#include <vector>

namespace kiln::rt {

/// Makes v hold at least n elements, never shrinking it: the kernels' scratch is written before
/// it is read, and a resize that grows again after shrinking (layers of different sizes on one
/// thread) would zero the new elements at every call.
template <typename T>
T* growTo(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

}  // namespace kiln::rt
