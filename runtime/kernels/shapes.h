// Row-major shape arithmetic shared by the data-movement kernels (movement, resize, transpose).
#pragma once

#include <cstdint>
#include <vector>

namespace kiln::rt::shapes {

/// Element strides of a row-major (C-order) tensor of shape s.
inline std::vector<int64_t> strides(const std::vector<int64_t>& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int i = int(s.size()) - 2; i >= 0; --i) st[size_t(i)] = st[size_t(i) + 1] * s[size_t(i) + 1];
  return st;
}

/// Number of elements of shape s (1 for a scalar).
inline int64_t count(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

}  // namespace kiln::rt::shapes
