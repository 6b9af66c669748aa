// Data-movement operators: Concat, Reshape/Flatten/Squeeze/Unsqueeze -> reshape, Transpose, Slice,
// Split -> one slice per output, Pad, Resize/Upsample -> resize, DepthToSpace, SpaceToDepth.
// Identity and Dropout are removed (their output is their input).
#include <cmath>

#include "compiler/onnx/attr_checks.h"
#include "compiler/onnx/shape_helpers.h"

namespace kiln::onnx {

namespace {

void setReshape(NodeContext& c, const Shape& out) {
  Layer l = makeLayer(LayerType::Reshape, {c.value(0)});
  l.attrs["shape"] = out;
  c.setOutput(0, c.addLayer(std::move(l)));
}

void importConcat(NodeContext& c) {
  const int64_t rank = int64_t(c.shape(0).size());
  std::vector<ValueRef> ins;
  for (int i = 0; i < c.numInputs(); ++i) {
    if (numel(c.shape(i)) == 0) continue;  // empty tensors contribute nothing
    ins.push_back(c.value(i));
  }
  if (ins.empty()) throw c.error("all inputs are empty");
  Layer l = makeLayer(LayerType::Concat, ins);
  l.attrs["axis"] = normAxis(c, c.attrInt("axis", 0), rank);
  c.setOutput(0, c.addLayer(std::move(l)));
}

void importTranspose(NodeContext& c) {
  const int64_t r = int64_t(c.shape(0).size());
  std::vector<int64_t> perm = c.attrInts("perm", {});
  if (perm.empty())
    for (int64_t i = r - 1; i >= 0; --i) perm.push_back(i);
  perm = checkPermutation(c, perm, r);
  Layer l = makeLayer(LayerType::Transpose, {c.value(0)});
  l.attrs["perm"] = perm;
  c.setOutput(0, c.addLayer(std::move(l)));
}

Layer sliceLayer(ValueRef in, const SliceSpec& s) {
  Layer l = makeLayer(LayerType::Slice, {in});
  l.attrs["starts"] = s.starts;
  l.attrs["ends"] = s.ends;
  l.attrs["steps"] = s.steps;
  return l;
}

void importSlice(NodeContext& c) {
  const SliceSpec s = readSlice(c, c.shape(0));
  c.setOutput(0, c.addLayer(sliceLayer(c.value(0), s)));
}

void importSplit(NodeContext& c) {
  const Shape in = c.shape(0);
  const int64_t axis = normAxis(c, c.attrInt("axis", 0), int64_t(in.size()));
  const std::vector<int64_t> sizes = splitSizes(c, in, axis);
  const int n = c.numOutputs();
  int64_t start = 0;
  const ValueRef src = c.value(0);
  for (int i = 0; i < n; ++i) {
    SliceSpec s;
    s.starts.assign(in.size(), 0);
    s.ends = in;
    s.steps.assign(in.size(), 1);
    s.starts[axis] = start;
    s.ends[axis] = start + sizes[i];
    start += sizes[i];
    c.setOutput(i, c.addLayer(sliceLayer(src, s)));
  }
}

void importPad(NodeContext& c) {
  const Shape in = c.shape(0);
  const int64_t r = int64_t(in.size());
  std::vector<int64_t> pads;
  double value = 0;
  if (c.opset() < 11) {
    pads = c.attrInts("pads", {});
    value = c.attrFloat("value", 0);
  } else {
    pads = c.constant(1, "pads").ints();
    if (c.hasInput(2)) value = c.constant(2, "constant_value").value(0);
    if (c.hasInput(3)) {
      const auto axes = c.constant(3, "axes").ints();
      if (pads.size() != 2 * axes.size()) throw c.error("pads must have 2 entries per axis");
      std::vector<int64_t> full(2 * r, 0);
      for (size_t k = 0; k < axes.size(); ++k) {
        const int64_t a = normAxis(c, axes[k], r);
        full[a] = pads[k];
        full[a + r] = pads[k + axes.size()];
      }
      pads = full;
    }
  }
  if (int64_t(pads.size()) != 2 * r) throw c.error("pads must have 2 × rank entries");
  for (int64_t p : pads)
    if (p < 0) throw c.error("negative pads (cropping) are not supported");
  const std::string mode = enumAttr(c, "mode", "constant", {"constant", "reflect", "edge", "wrap"});
  if (mode == "wrap") throw c.error("pad mode 'wrap' is not supported (constant, reflect, edge)");
  Layer l = makeLayer(LayerType::Pad, {c.value(0)});
  l.attrs["pads"] = pads;
  l.attrs["mode"] = mode;
  l.attrs["value"] = value;
  c.setOutput(0, c.addLayer(std::move(l)));
}

void importResize(NodeContext& c) {
  const Shape in = c.shape(0);
  const int64_t r = int64_t(in.size());
  const bool upsample = c.opType() == "Upsample";
  const bool v10 = upsample || c.opset() < 11;
  std::string mode = enumAttr(c, "mode", "nearest", {"nearest", "linear", "bilinear", "cubic"});
  if (mode == "bilinear") mode = "linear";
  if (mode == "cubic") throw c.error("resize mode 'cubic' is not supported (nearest, linear)");
  std::string ctm =
      v10 ? "asymmetric"
          : enumAttr(c, "coordinate_transformation_mode", "half_pixel",
                     {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                      "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"});
  if (ctm == "tf_crop_and_resize")
    throw c.error("coordinate_transformation_mode tf_crop_and_resize is not supported");
  if (enumAttr(c, "keep_aspect_ratio_policy", "stretch",
               {"stretch", "not_larger", "not_smaller"}) != "stretch")
    throw c.error("keep_aspect_ratio_policy other than stretch is not supported");
  if (flagAttr(c, "antialias", 0))
    throw c.error("attribute 'antialias': Kiln supports 0 (no antialiasing filter), found 1");
  const std::string nearestMode =
      v10 ? std::string("floor")
          : enumAttr(c, "nearest_mode", "round_prefer_floor",
                     {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"});
  std::vector<double> scales;
  Shape sizes;
  const int scalesIdx = v10 ? 1 : 2, sizesIdx = 3;
  if (upsample && c.opset() < 9) {
    scales = c.attrFloats("scales", {});
  } else if (c.hasInput(scalesIdx) && c.constant(scalesIdx, "scales").numel() > 0) {
    scales = c.constant(scalesIdx, "scales").doubles();
  } else if (!v10 && c.hasInput(sizesIdx)) {
    sizes = c.constant(sizesIdx, "sizes").ints();
  } else {
    throw c.error("needs scales or sizes");
  }
  // Opset 18 may name the axes the scales/sizes refer to.
  const auto axes = c.attrInts("axes", {});
  for (int64_t a : axes) normAxis(c, a, r);
  checkUniqueAxes(c, "attribute 'axes'", axes);
  auto expand = [&](auto vals, auto fill) {
    if (axes.empty()) return vals;
    if (vals.size() != axes.size())
      throw c.error("attribute 'axes' names " + std::to_string(axes.size()) +
                    " axes: expected as many scales or sizes, found " +
                    std::to_string(vals.size()));
    decltype(vals) full(r, fill);
    for (size_t k = 0; k < axes.size(); ++k) full[normAxis(c, axes[k], r)] = vals.at(k);
    return full;
  };
  if (!scales.empty()) {
    scales = expand(scales, 1.0);
    if (int64_t(scales.size()) != r) throw c.error("scales must have one entry per dimension");
    for (int64_t i = 0; i < r; ++i) {
      if (!(scales[i] > 0) || !std::isfinite(scales[i]))
        throw c.error("scales: expected positive finite numbers, found " +
                      std::to_string(scales[i]) + " for dimension " + std::to_string(i));
      const double size = std::floor(double(in[i]) * scales[i]);
      if (size > double(kMaxDim))
        throw c.error("scales: dimension " + std::to_string(i) + " of " + shapeStr(in) +
                      " scaled by " + std::to_string(scales[i]) + " exceeds " +
                      std::to_string(kMaxDim));
      sizes.push_back(int64_t(size));
    }
  } else {
    sizes = expand(sizes, int64_t(0));
    for (int64_t i = 0; i < r && !axes.empty(); ++i)
      if (sizes[i] == 0) sizes[i] = in[i];
    if (int64_t(sizes.size()) != r) throw c.error("sizes must have one entry per dimension");
    for (int64_t i = 0; i < r; ++i) scales.push_back(double(sizes[i]) / double(in[i]));
  }
  for (int64_t s : sizes)
    if (s <= 0) throw c.error("output size " + shapeStr(sizes) + " is empty");
  Layer l = makeLayer(LayerType::Resize, {c.value(0)});
  l.attrs["mode"] = mode;
  l.attrs["coordinate_transformation_mode"] = ctm;
  l.attrs["nearest_mode"] = nearestMode;
  l.attrs["sizes"] = sizes;
  l.attrs["scales"] = scales;
  c.setOutput(0, c.addLayer(std::move(l)));
}

// blocksize (required): from 1 up, dividing the channels (DepthToSpace, by its square) or the
// spatial dimensions (SpaceToDepth).
int64_t blockSize(const NodeContext& c, const Shape& in, LayerType t) {
  if (!c.hasAttr("blocksize"))
    throw c.error("attribute 'blocksize' is required (an integer >= 1), but the node has none");
  const int64_t b = intAttr(c, "blocksize", 1, 1, kMaxWindow);
  if (t == LayerType::DepthToSpace && in[1] % (b * b))
    throw c.error("attribute 'blocksize' = " + std::to_string(b) +
                  ": expected input channels divisible by " + std::to_string(b * b) +
                  ", found input " + shapeStr(in));
  if (t == LayerType::SpaceToDepth && (in[2] % b || in[3] % b))
    throw c.error("attribute 'blocksize' = " + std::to_string(b) +
                  ": expected height and width divisible by it, found input " + shapeStr(in));
  return b;
}

OpImporter blocks(LayerType t) {
  OpImporter imp;
  imp.import = [t](NodeContext& c) {
    const Shape in = c.shape(0);
    require4d(c, in);
    Layer l = makeLayer(t, {c.value(0)});
    l.attrs["blocksize"] = blockSize(c, in, t);
    if (t == LayerType::DepthToSpace) l.attrs["mode"] = enumAttr(c, "mode", "DCR", {"DCR", "CRD"});
    c.setOutput(0, c.addLayer(std::move(l)));
  };
  return imp;
}

void importIdentity(NodeContext& c) {
  if (c.opType() == "Dropout") {
    for (int i = 1; i < c.numOutputs(); ++i)
      if (!c.node().output(i).empty()) throw c.error("Dropout's mask output is not supported");
    if (c.opset() >= 12 && c.hasInput(2) && c.constant(2, "training_mode").value(0) != 0)
      throw c.error("training_mode=1 is not supported");
  }
  c.setOutput(0, c.value(0));
}

}  // namespace

void registerTensorOps(OpTable& t) {
  auto fromOne = [](int i) { return i >= 1; };
  t["Concat"] = {importConcat};
  t["Reshape"] = {[](NodeContext& c) {
                    setReshape(c, resolveReshape(c, c.shape(0), c.constant(1, "shape").ints(),
                                                 flagAttr(c, "allowzero", 0)));
                  },
                  fromOne};
  t["Flatten"] = {
      [](NodeContext& c) { setReshape(c, flattenShape(c, c.shape(0), c.attrInt("axis", 1))); }};
  t["Squeeze"] = {
      [](NodeContext& c) { setReshape(c, squeezeShape(c, c.shape(0), readAxes(c, 1, 13))); },
      fromOne};
  t["Unsqueeze"] = {
      [](NodeContext& c) { setReshape(c, unsqueezeShape(c, c.shape(0), readAxes(c, 1, 13))); },
      fromOne};
  t["Transpose"] = {importTranspose};
  t["Slice"] = {importSlice, fromOne};
  t["Split"] = {importSplit, fromOne};
  t["Pad"] = {importPad, fromOne};
  t["Resize"] = {importResize, fromOne};
  t["Upsample"] = {importResize, fromOne};
  t["DepthToSpace"] = blocks(LayerType::DepthToSpace);
  t["SpaceToDepth"] = blocks(LayerType::SpaceToDepth);
  t["Identity"] = {importIdentity};
  t["Dropout"] = {importIdentity, fromOne};
}

}  // namespace kiln::onnx
