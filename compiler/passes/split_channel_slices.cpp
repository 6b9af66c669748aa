// A dense convolution whose output is read only through channel slices (directly, or after a
// resize, which works channel by channel) becomes one convolution per slice. The channels no slice
// reads are no longer computed, and each slice's channels get a quantization range of their own.
// The case that motivated it: M-LSD's last convolution has 16 channels, of which the network's
// outputs read one (a heat map, through a sigmoid) and four (pixel offsets, ~100x larger); one
// shared 8-bit grid left the sigmoid's input in steps of 0.8. The float function is unchanged.
#include <algorithm>

#include "compiler/passes/pipeline.h"

namespace kiln::passes {

namespace {

// The channel range [lo, hi) a slice layer keeps, when it slices the channel axis (1) alone with
// step 1; false otherwise.
bool channelSlice(const Layer& s, const Shape& in, int64_t& lo, int64_t& hi) {
  if (s.type != LayerType::Slice || in.size() < 2) return false;
  const auto& starts = s.attrInts("starts");
  const auto& ends = s.attrInts("ends");
  const auto& steps = s.attrInts("steps");
  if (starts.size() != in.size() || ends.size() != in.size() || steps.size() != in.size())
    return false;
  for (size_t d = 0; d < in.size(); ++d) {
    if (steps[d] != 1) return false;
    if (d != 1 && (starts[d] != 0 || ends[d] < in[d])) return false;
  }
  lo = starts[1];
  hi = std::min(ends[1], in[1]);
  return lo >= 0 && lo < hi;
}

// The rows [lo, hi) of a tensor's first dimension.
Tensor rows(const Tensor& t, int64_t lo, int64_t hi) {
  Tensor r = t;
  const int64_t per = t.shape.empty() || t.shape[0] == 0 ? 0 : t.numel() / t.shape[0];
  r.shape[0] = hi - lo;
  r.data.assign(t.data.begin() + lo * per, t.data.begin() + hi * per);
  return r;
}

// Topological order that keeps the existing one: each layer in turn, preceded by whichever of its
// producers are not placed yet (the new layers, appended at the end, move up to just before their
// first reader; the output layers keep their order).
void sortTopologically(Graph& g) {
  const size_t n = g.layers.size();
  std::vector<int> newId(n, -1);
  std::vector<size_t> order;
  order.reserve(n);
  for (size_t root = 0; root < n; ++root) {
    std::vector<std::pair<size_t, size_t>> stack{{root, 0}};  // layer, next input to visit
    while (!stack.empty()) {
      auto& [i, next] = stack.back();
      if (newId[i] >= 0) {
        stack.pop_back();
        continue;
      }
      const auto& in = g.layers[i].inputs;
      if (next < in.size()) {
        const size_t producer = size_t(in[next++].layer);
        if (newId[producer] < 0) stack.push_back({producer, 0});
        continue;
      }
      newId[i] = int(order.size());
      order.push_back(i);
      stack.pop_back();
    }
  }
  std::vector<Layer> sorted;
  sorted.reserve(n);
  for (size_t i : order) sorted.push_back(std::move(g.layers[i]));
  for (Layer& l : sorted)
    for (ValueRef& v : l.inputs) v.layer = newId[size_t(v.layer)];
  g.layers = std::move(sorted);
}

}  // namespace

void splitChannelSlices(Graph& g, PassNotes& /*notes*/) {
  bool changed = false;
  const size_t n = g.layers.size();
  for (size_t p = 0; p < n; ++p) {
    const Layer& conv = g.layers[p];
    if (conv.dead || conv.type != LayerType::Conv || conv.attrInt("group", 1) != 1 ||
        conv.outputShapes.size() != 1)
      continue;
    // An optional resize between the convolution and the slices.
    int resize = singleConsumer(g, {int(p), 0});
    if (resize >= 0 && g.at(resize).type != LayerType::Resize) resize = -1;
    const ValueRef sliced{resize >= 0 ? resize : int(p), 0};
    const std::vector<int> readers = g.consumers(sliced);
    if (readers.empty() || (resize < 0 && g.useCount({int(p), 0}) != int(readers.size()))) continue;
    std::vector<std::pair<int64_t, int64_t>> ranges;
    for (int s : readers) {
      int64_t lo, hi;
      if (!channelSlice(g.at(s), g.shapeOf(sliced), lo, hi)) break;
      ranges.push_back({lo, hi});
    }
    if (ranges.size() != readers.size()) continue;
    for (size_t i = 0; i < readers.size(); ++i) {
      const auto [lo, hi] = ranges[i];
      Layer part = g.layers[p];
      part.name.clear();
      part.params["kernel"] = rows(part.param("kernel"), lo, hi);
      if (part.hasParam("bias")) part.params["bias"] = rows(part.param("bias"), lo, hi);
      part.outputShapes[0][1] = hi - lo;
      ValueRef out{g.add(std::move(part)), 0};
      if (resize >= 0) {
        Layer r = g.at(resize);
        r.name.clear();
        r.inputs = {out};
        if (r.hasAttr("sizes")) {
          auto sizes = r.attrInts("sizes");
          sizes[1] = hi - lo;
          r.attrs["sizes"] = sizes;
        }
        r.outputShapes[0][1] = hi - lo;
        out = {g.add(std::move(r)), 0};
      }
      absorbInto(g, readers[i], out, out.layer);
    }
    g.layers[p].dead = true;
    if (resize >= 0) g.at(resize).dead = true;
    changed = true;
  }
  if (changed) sortTopologically(g);
}

}  // namespace kiln::passes
