// Activation memory plan: tensors whose lifetimes overlap get disjoint arena ranges; a range is
// reused once its tensor's last reader has run. The output of an operation never shares memory
// with that operation's inputs (kernels do not work in place).
#include <algorithm>
#include <map>

#include "compiler/lower/lower_program.h"

namespace kiln {

int64_t planMemory(std::vector<rt::TensorDesc>& tensors, const std::vector<int>& def,
                   const std::vector<int>& lastUse) {
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return def[a] < def[b]; });
  std::map<int64_t, std::pair<int64_t, size_t>> live;  // offset -> (size, tensor)
  int64_t arena = 0;
  for (size_t t : order) {
    // Free what no operation at or after def[t] reads.
    for (auto it = live.begin(); it != live.end();) {
      if (lastUse[it->second.second] < def[t])
        it = live.erase(it);
      else
        ++it;
    }
    const int64_t size = tensors[t].numel();
    int64_t offset = 0;
    for (const auto& [off, entry] : live) {
      if (off - offset >= size) break;
      offset = std::max(offset, off + entry.first);
    }
    tensors[t].offset = offset;
    live[offset] = {size, t};
    arena = std::max(arena, offset + size);
  }
  return arena;
}

}  // namespace kiln
