// The prepare driver: bit widths per tensor, QuantInfo per tensor, then each layer family's
// integer parameters.
#include "compiler/quant/prepare.h"

#include <algorithm>
#include <cstdio>

#include "common/strings.h"
#include "compiler/quant/quant_math.h"

namespace kiln::quant {

namespace {

// The scales the integer pipeline and the runtime represent (runtime/engine/executor.cpp checks
// input and output scales against the same bounds).
void checkScale(const QuantInfo& q) {
  if (q.scale >= 1e-30 && q.scale <= 1e30) return;
  throw Error("the output range gives a quantization scale of " + shortNumber(q.scale) +
              ", outside [1e-30, 1e30]: the values are too " +
              (q.scale > 1e30 ? "large" : "small") + " to quantize");
}

// Why Kiln cannot quantize this layer, or "" when it can.
std::string refusal(const Layer& l) {
  if (l.type == LayerType::LayerNormalization) {
    const Shape& s = l.outputShapes.at(0);
    int64_t len = 1;
    for (size_t d = size_t(l.attrInt("axis")); d < s.size(); ++d) len *= s[d];
    if (len > kLayerNormMaxLen)
      return "rows of " + std::to_string(len) +
             " elements; the integer layer normalization takes at most " +
             std::to_string(kLayerNormMaxLen);
  }
  return {};
}

LayerPrecision precisionOf(const PrepareOptions& o, int id) {
  auto it = o.precision.find(id);
  return it == o.precision.end() ? LayerPrecision{} : it->second;
}

// The constant values pads write into each tensor: pad layers keep their input's quantization, so
// the tensor that owns it (reached through value-keeping layers) must hold the pad value, or it
// would be clamped (fold_affine_forward pads a hardswish output with the value its affine maps to
// 0, which a least-error range may have cut off the small negative side).
std::vector<std::vector<double>> padValues(const Graph& g) {
  std::vector<std::vector<double>> values(g.layers.size());
  for (const Layer& l : g.layers) {
    if (l.type != LayerType::Pad || l.attrString("mode", "constant") != "constant") continue;
    int owner = l.inputs.at(0).layer;
    while (keepsInputQuantization(g.at(owner).type)) owner = g.at(owner).inputs.at(0).layer;
    values[size_t(owner)].push_back(l.attrFloat("value", 0));
  }
  return values;
}

}  // namespace

std::vector<int> assignBits(const Graph& g, const PrepareOptions& o) {
  std::vector<int> bits(g.layers.size(), 8);
  for (size_t i = 0; i < g.layers.size(); ++i) bits[i] = precisionOf(o, int(i)).mode.out;
  bool changed = true;
  while (changed) {
    changed = false;
    for (size_t i = 0; i < g.layers.size(); ++i) {
      const Layer& l = g.layers[i];
      int need = precisionOf(o, int(i)).mode.in;
      if (l.type == LayerType::OutputLayer && o.output16) need = 16;
      if (keepsInputQuantization(l.type)) need = std::max(need, bits[i]);
      for (const ValueRef& v : l.inputs)
        if (bits[v.layer] < need) bits[v.layer] = need, changed = true;
      if (keepsInputQuantization(l.type) && bits[i] < bits[l.inputs[0].layer])
        bits[i] = bits[l.inputs[0].layer], changed = true;
    }
  }
  return bits;
}

bool hasFixedPixelQuant(const Layer& l) {
  return l.type == LayerType::ColorConversion ||
         (l.type == LayerType::InputLayer && l.hasAttr("raw_format"));
}

bool canQuantize(const Layer& l) {
  return isQuantizable(l.type) && refusal(l).empty();
}

void prepareQuantization(Graph& g, const CalibStats& stats, const PrepareOptions& opts) {
  std::vector<std::string> unsupported;
  for (const Layer& l : g.layers)
    if (!canQuantize(l)) {
      const std::string why = refusal(l);
      unsupported.push_back(l.name + " (" + typeWord(l.type) + ", ONNX " +
                            join(l.originalNames, ",") + ")" + (why.empty() ? "" : ": " + why));
    }
  if (!unsupported.empty())
    throw Error("kiln optimize cannot quantize " + std::to_string(unsupported.size()) +
                " layer(s) yet: " + join(unsupported, "; ") +
                ". Cut the network before them with --end-node-names when parsing");
  const std::vector<int> bits = assignBits(g, opts);
  const std::vector<std::vector<double>> pads = padValues(g);
  for (size_t i = 0; i < g.layers.size(); ++i) {
    try {
      Layer& l = g.layers[i];
      const LayerPrecision p = precisionOf(opts, int(i));
      l.precision = p.mode.name;
      l.precisionSource = p.source;
      l.qparams.clear();
      std::vector<QuantInfo> in;
      for (const ValueRef& v : l.inputs) in.push_back(g.at(v.layer).outputQuant.at(v.port));
      QuantInfo out;
      if (keepsInputQuantization(l.type)) {
        out = in.at(0);
      } else if (hasFixedPixelQuant(l)) {
        // Camera bytes and converted RGB are the integers 0..255 themselves (common/yuv.h).
        out = QuantInfo{bits[i], 1.0, 0, 0.0, 255.0};
      } else if (l.type == LayerType::EwEqual || l.type == LayerType::Softmax) {
        // Known output range [0, 1]: scale 1 / (2^b - 1), zero point 0 (softmax: probabilities of
        // inputs never calibrated cannot leave it).
        out = quantFromRange(0.0, 1.0, bits[i]);
      } else {
        const Range& r = stats.out.at(i);
        double lo = r.valid() ? r.min : 0.0, hi = r.valid() ? r.max : 0.0;
        for (double v : pads[i]) lo = std::min(lo, v), hi = std::max(hi, v);
        out = quantFromRange(lo, hi, bits[i]);
        checkScale(out);
      }
      l.outputQuant = {out};
      if (isBinaryElementwise(l.type)) {
        prepareEltwise(l, in, stats, int(i));
        continue;
      }
      switch (l.type) {
        case LayerType::Conv:
        case LayerType::Dw:
        case LayerType::Deconv:
        case LayerType::Fc:
        case LayerType::Normalization:
          prepareLinear(l, in, stats, int(i), p.mode.w);
          break;
        case LayerType::Activation:
        case LayerType::ConstInput:
          prepareEltwise(l, in, stats, int(i));
          break;
        case LayerType::Softmax:
        case LayerType::LayerNormalization:
          prepareNorm(l, in, g, stats, int(i), p.mode.w);
          break;
        default:
          prepareOther(l, in, g, stats, int(i));
          break;
      }
    } catch (const Error& e) {
      // Extreme ranges (calibration data, force_range_out, a script normalization) surface
      // here: name the layer, its ONNX origin and its range.
      const Layer& l = g.layers[i];
      const std::string what = e.what(), prefix = "layer " + l.name + ": ";
      const Range& r = stats.out.at(i);
      throw Error(
          "layer " + l.name + " (" + typeWord(l.type) + ", ONNX " + join(l.originalNames, ",") +
          "): " + (what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : what) +
          (r.valid()
               ? "; its output range is [" + shortNumber(r.min) + ", " + shortNumber(r.max) + "]"
               : std::string("; its calibrated output holds no finite value")) +
          ". Check the calibration data and, in the model script, any normalization, "
          "force_range_out or force_range_in that applies to it");
    }
  }
}

}  // namespace kiln::quant
