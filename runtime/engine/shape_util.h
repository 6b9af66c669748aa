// Shape helpers of the runtime's operations.
#pragma once

#include <cstdint>
#include <vector>

namespace kiln::rt {

/// Element strides of `s` read as broadcast to `out` (numpy rules, right-aligned); 0 on the
/// dimensions `s` repeats. Returns false when `s` does not broadcast to `out`.
inline bool broadcastStrides(const std::vector<int64_t>& s, const std::vector<int64_t>& out,
                             std::vector<int64_t>& st) {
  const size_t r = out.size();
  if (s.size() > r) return false;
  st.assign(r, 0);
  int64_t stride = 1;
  for (int i = int(s.size()) - 1; i >= 0; --i) {
    const size_t o = r - s.size() + size_t(i);
    if (s[i] != out[o] && s[i] != 1) return false;
    st[o] = (s[i] == 1 && out[o] != 1) ? 0 : stride;
    stride *= s[i];
  }
  return true;
}

}  // namespace kiln::rt
