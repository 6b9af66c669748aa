// fold_affine_forward: a normalization (y = x·s[c] + t[c]) that fold_affine left because the
// convolution reading it pads its input, or groups its channels (dw), folds into that
// convolution where the result is exact:
//   - the scale goes into the input channel's weights: zero padding commutes with scaling, so
//     conv(pad0(s·x)) = conv_{w·s}(pad0(x)) with any padding and any grouping;
//   - the shift goes into the bias (b += Σ w·t over the input channel's taps), which is what the
//     interior positions read. Where the convolution pads, its border taps read 0 of y, i.e.
//     x = −t/s: when that value is the same for every channel (a scalar affine, or per-channel
//     constants with one common ratio) the padding moves into a `pad` layer with that value and the
//     convolution pads no more, so the borders stay exact; otherwise the layer is left alone.
// Why: a normalization is quantized on its own per-tensor grid after its input's, so it adds a
// rounding (and, with per-channel scales, a grid the widest channel sets); folded, the convolution
// reads its producer's tensor directly (PP-OCRv4's learnable affine blocks after hardswish, which
// sit before every padded depthwise conv of its backbone).
#include <cmath>
#include <string>

#include "common/strings.h"
#include "compiler/passes/pipeline.h"

namespace kiln::passes {

namespace {

bool convLike(const Layer& l) {
  return l.type == LayerType::Conv || l.type == LayerType::Dw;
}

bool anyPadding(const Layer& c) {
  for (int64_t p : c.attrInts("pads", {}))
    if (p != 0) return true;
  return false;
}

// The pad value that y = x·s + t maps to 0 in every channel (−t/s), or false when the channels
// disagree or a channel has scale 0 and a shift (y is then a constant no input value pads).
bool commonPadValue(const std::vector<float>& s, const std::vector<float>& t, double& value) {
  bool have = false;
  for (size_t c = 0; c < s.size(); ++c) {
    if (s[c] == 0.0f) {
      if (t[c] != 0.0f) return false;
      continue;  // y = 0 whatever x is: any pad value gives 0
    }
    const double v = -double(t[c]) / double(s[c]);
    if (!have) {
      value = v, have = true;
    } else if (std::fabs(v - value) > 1e-6 * std::max(1.0, std::fabs(value))) {
      return false;
    }
  }
  if (!have) value = 0.0;
  return true;
}

// Scales input channel ci of conv `c` by s[ci] and adds the shift t[ci] of its taps to the bias.
void foldWeights(Layer& c, const std::vector<float>& s, const std::vector<float>& t) {
  Tensor& k = c.params["kernel"];
  const int64_t groups = c.attrInt("group", 1);
  const int64_t cout = k.shape[0], cinPerGroup = k.shape[1], khw = k.numel() / (cout * cinPerGroup);
  if (!c.hasParam("bias")) {
    Tensor b;
    b.shape = {cout};
    b.data.assign(size_t(cout), 0.0f);
    c.params["bias"] = b;
  }
  Tensor& b = c.params["bias"];
  const int64_t coutPerGroup = cout / groups;
  for (int64_t o = 0; o < cout; ++o) {
    double shift = 0.0;
    for (int64_t i = 0; i < cinPerGroup; ++i) {
      const size_t ci = size_t((o / coutPerGroup) * cinPerGroup + i);
      for (int64_t q = 0; q < khw; ++q) {
        float& w = k.data[size_t((o * cinPerGroup + i) * khw + q)];
        shift += double(w) * double(t[ci]);
        w *= s[ci];
      }
    }
    b.data[size_t(o)] = float(double(b.data[size_t(o)]) + shift);
  }
}

// True when conv/dw `c` reads `v` as its data input and has one weight column per channel of it.
bool foldable(const Graph& g, const Layer& c, ValueRef v, size_t channels) {
  if (!convLike(c) || c.inputs.at(0) != v) return false;
  const Tensor& k = c.param("kernel");
  const int64_t groups = c.attrInt("group", 1);
  return k.shape.size() >= 3 && k.shape[0] % groups == 0 &&
         int64_t(channels) == k.shape[1] * groups && g.shapeOf(v).size() == k.shape.size();
}

// Folds normalization `id` into the convolutions reading it (all of them, or nothing): scales and
// shifts into their weights and biases; at most one of them may pad with a shift, and its padding
// moves into a pad layer (the normalization itself, in place) of the value the affine maps to 0.
bool foldIntoConvs(Graph& g, int id, PassNotes& notes) {
  const ValueRef y{id, 0};
  const std::vector<int> readers = g.consumers(y);
  Layer& n = g.at(id);
  if (readers.empty() || n.activation.kind != ActKind::None) return false;
  const std::vector<float> s = n.param("scale").data, t = n.param("bias").data;
  bool shifted = false;
  for (float v : t) shifted = shifted || v != 0.0f;
  int padded = -1;
  for (int r : readers) {
    const Layer& c = g.at(r);
    if (!foldable(g, c, y, s.size())) return false;
    if (!shifted || !anyPadding(c)) continue;
    if (padded >= 0) return false;  // a second pad layer: not worth a new layer here
    padded = r;
  }
  double padValue = 0.0;
  if (padded >= 0 && !commonPadValue(s, t, padValue)) return false;
  std::string into;
  for (int r : readers) {
    Layer& c = g.at(r);
    foldWeights(c, s, t);
    into += (into.empty() ? "" : ", ") + c.name;
    if (r != padded) c.inputs[0] = n.inputs[0];
  }
  // ONNX names: the Kiln names of the normalizations change with this pass.
  const std::string what = join(n.originalNames, "+") + " into " + into;
  if (padded >= 0) {
    // The normalization becomes the pad layer (same place in the order, read by `padded` only):
    // the convolution's pads [begin…, end…] over the spatial dimensions, as ONNX Pad's over all.
    Layer& c = g.at(padded);
    const auto cp = c.attrInts("pads");
    const size_t half = cp.size() / 2, rank = half + 2;
    std::vector<int64_t> pads(2 * rank, 0);
    for (size_t d = 0; d < half; ++d) pads[2 + d] = cp[d], pads[rank + 2 + d] = cp[half + d];
    n.type = LayerType::Pad;
    n.params.clear();
    n.attrs = {{"pads", pads}, {"mode", std::string("constant")}, {"value", padValue}};
    Shape shape = g.shapeOf(n.inputs[0]);
    for (size_t d = 0; d < rank; ++d) shape[d] += pads[d] + pads[rank + d];
    n.outputShapes = {shape};
    c.attrs["pads"] = std::vector<int64_t>(cp.size(), 0);
    notes.push_back(what + " (padding of " + c.name + " moved to a pad of value " +
                    shortNumber(padValue) + ")");
    return true;
  }
  auto& names = g.at(readers[0]).originalNames;
  names.insert(names.begin(), n.originalNames.begin(), n.originalNames.end());
  n.dead = true;
  notes.push_back(what);
  return true;
}

}  // namespace

void foldAffineForward(Graph& g, PassNotes& notes) {
  PassNotes folded;
  for (size_t i = 0; i < g.layers.size(); ++i)
    if (!g.layers[i].dead && g.layers[i].type == LayerType::Normalization)
      foldIntoConvs(g, int(i), folded);
  if (!folded.empty())
    notes.push_back(
        "fold_affine_forward: " + std::to_string(folded.size()) +
        " affine layer(s) folded into the convolution reading them: " + join(folded, "; "));
}

}  // namespace kiln::passes
