#include "compiler/onnx/shape_helpers.h"

#include <algorithm>

#include "compiler/onnx/attr_checks.h"

namespace kiln::onnx {

Shape resolveReshape(const NodeContext& ctx, const Shape& in, const std::vector<int64_t>& spec,
                     bool allowZero) {
  Shape out(spec.size());
  int inferAt = -1;
  int64_t known = 1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t d = spec[i];
    if (d == 0 && !allowZero) {
      if (i >= in.size())
        throw ctx.error("shape entry 0 at position " + std::to_string(i) +
                        " has no input dimension to copy");
      d = in[i];
    }
    if (d == -1) {
      if (inferAt >= 0) throw ctx.error("shape has more than one -1");
      inferAt = int(i);
      continue;
    }
    if (d < 0 || d > kMaxDim)
      throw ctx.error("shape: expected entries from -1 to " + std::to_string(kMaxDim) + ", found " +
                      std::to_string(d) + " in " + shapeStr(spec));
    out[i] = d;
    known *= d;
  }
  const int64_t total = numel(in);
  if (inferAt >= 0) {
    if (known == 0 || total % known)
      throw ctx.error("cannot reshape " + shapeStr(in) + " with shape spec " + shapeStr(spec));
    out[inferAt] = total / known;
  } else if (known != total) {
    throw ctx.error("cannot reshape " + shapeStr(in) + " (" + std::to_string(total) +
                    " elements) to " + shapeStr(out));
  }
  return out;
}

Shape flattenShape(const NodeContext& ctx, const Shape& in, int64_t axis) {
  const int64_t r = int64_t(in.size());
  if (axis < 0) axis += r;
  if (axis < 0 || axis > r)
    throw ctx.error("attribute 'axis': expected an axis from " + std::to_string(-r) + " to " +
                    std::to_string(r) + " (the input has rank " + std::to_string(r) + "), found " +
                    std::to_string(axis < 0 ? axis - r : axis));
  int64_t a = 1, b = 1;
  for (int64_t i = 0; i < r; ++i) (i < axis ? a : b) *= in[i];
  return {a, b};
}

Shape unsqueezeShape(const NodeContext& ctx, const Shape& in, std::vector<int64_t> axes) {
  const int64_t r = int64_t(in.size() + axes.size());
  for (auto& a : axes) a = normAxis(ctx, a, r);
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    throw ctx.error("repeated unsqueeze axis");
  Shape out;
  size_t k = 0;
  for (int64_t i = 0; i < r; ++i) {
    if (std::binary_search(axes.begin(), axes.end(), i))
      out.push_back(1);
    else
      out.push_back(in.at(k++));
  }
  return out;
}

Shape squeezeShape(const NodeContext& ctx, const Shape& in, std::vector<int64_t> axes) {
  for (auto& a : axes) a = normAxis(ctx, a, int64_t(in.size()));
  Shape out;
  for (size_t i = 0; i < in.size(); ++i) {
    const bool listed = std::find(axes.begin(), axes.end(), int64_t(i)) != axes.end();
    if (listed && in[i] != 1)
      throw ctx.error("cannot squeeze dimension " + std::to_string(i) + " of size " +
                      std::to_string(in[i]));
    if (listed || (axes.empty() && in[i] == 1)) continue;
    out.push_back(in[i]);
  }
  return out;
}

std::vector<int64_t> readAxes(const NodeContext& ctx, int inputIndex, int inputSince,
                              bool* present) {
  if (ctx.opset() >= inputSince) {
    if (present) *present = ctx.hasInput(inputIndex);
    if (!ctx.hasInput(inputIndex)) return {};
    return ctx.constant(inputIndex, "axes").ints();
  }
  if (present) *present = ctx.hasAttr("axes");
  return ctx.attrInts("axes", {});
}

SliceSpec readSlice(const NodeContext& ctx, const Shape& in) {
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.opset() < 10) {
    starts = ctx.attrInts("starts", {});
    ends = ctx.attrInts("ends", {});
    axes = ctx.attrInts("axes", {});
  } else {
    starts = ctx.constant(1, "starts").ints();
    ends = ctx.constant(2, "ends").ints();
    if (ctx.hasInput(3)) axes = ctx.constant(3, "axes").ints();
    if (ctx.hasInput(4)) steps = ctx.constant(4, "steps").ints();
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    throw ctx.error("starts, ends, axes and steps differ in length");
  const int64_t r = int64_t(in.size());
  std::vector<int64_t> normAxes;
  for (int64_t a : axes) normAxes.push_back(normAxis(ctx, a, r));
  checkUniqueAxes(ctx, "axes", normAxes);
  SliceSpec s;
  s.starts.assign(r, 0);
  s.ends = in;
  s.steps.assign(r, 1);
  for (size_t k = 0; k < axes.size(); ++k) {
    const int64_t ax = normAxis(ctx, axes[k], r);
    const int64_t dim = in[ax], step = steps[k];
    if (step == 0 || step < -kMaxDim || step > kMaxDim)
      throw ctx.error("steps: expected non-zero integers from -" + std::to_string(kMaxDim) +
                      " to " + std::to_string(kMaxDim) + ", found " + std::to_string(step) +
                      " for axis " + std::to_string(axes[k]));
    int64_t st = starts[k], en = ends[k];
    if (st < 0) st = st < -dim ? -dim : st, st += dim;
    if (en < 0) en = en < -dim ? -dim - 1 : en, en += dim;
    if (step > 0) {
      st = std::clamp<int64_t>(st, 0, dim);
      en = std::clamp<int64_t>(en, 0, dim);
    } else {
      st = std::clamp<int64_t>(st, 0, dim - 1);
      en = std::clamp<int64_t>(en, -1, dim - 1);
    }
    s.starts[ax] = st;
    s.ends[ax] = en;
    s.steps[ax] = step;
  }
  return s;
}

std::vector<int64_t> splitSizes(const NodeContext& c, const Shape& in, int64_t axis) {
  std::vector<int64_t> sizes;
  if (c.opset() >= 13 && c.hasInput(1))
    sizes = c.constant(1, "split").ints();
  else if (c.opset() < 13)
    sizes = c.attrInts("split", {});
  const int n = c.numOutputs();
  if (sizes.empty()) {
    if (n < 1) throw c.error("expected at least one output, found none");
    const int64_t parts = intAttr(c, "num_outputs", n, 1, kMaxDim);
    const int64_t chunk = (in[axis] + parts - 1) / parts;
    for (int64_t i = 0, left = in[axis]; i < parts; ++i, left -= chunk)
      sizes.push_back(std::max<int64_t>(0, std::min(chunk, left)));
  }
  if (int(sizes.size()) != n) throw c.error("split sizes do not match the number of outputs");
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) throw c.error("negative split size");
    total += s;
  }
  if (total != in[axis])
    throw c.error("split sizes add up to " + std::to_string(total) + ", the dimension is " +
                  std::to_string(in[axis]));
  return sizes;
}

std::vector<int64_t> stridesOf(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int i = int(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

}  // namespace kiln::onnx

namespace kiln::onnx {

Layer makeLayer(LayerType t, std::vector<ValueRef> inputs) {
  Layer l;
  l.type = t;
  l.inputs = std::move(inputs);
  return l;
}

void require4d(const NodeContext& ctx, const Shape& in) {
  if (in.size() != 4)
    throw ctx.error("Kiln supports the 2-D form of this operator (a 4-D NCHW input); got " +
                    shapeStr(in));
}

std::vector<int64_t> windowPads(const NodeContext& ctx, const Shape& in,
                                const std::vector<int64_t>& k, const std::vector<int64_t>& s,
                                const std::vector<int64_t>& d) {
  const std::string autoPad = autoPadAttr(ctx);
  if (autoPad == "NOTSET") return padsAttr(ctx);
  if (autoPad == "VALID") return {0, 0, 0, 0};
  std::vector<int64_t> p(4);
  for (int i = 0; i < 2; ++i) {
    const int64_t n = in[2 + i];
    const int64_t out = (n + s[i] - 1) / s[i];
    const int64_t total = std::max<int64_t>(0, (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - n);
    const int64_t small = total / 2, big = total - small;
    p[i] = autoPad == "SAME_UPPER" ? small : big;
    p[i + 2] = autoPad == "SAME_UPPER" ? big : small;
  }
  return p;
}

}  // namespace kiln::onnx
