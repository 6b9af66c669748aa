// Pooling, reductions, matmul, concat, resize, pad and the quantization-keeping layers.
#include <algorithm>
#include <cmath>

#include "compiler/ir/resize_coords.h"
#include "compiler/quant/prepare.h"
#include "compiler/quant/quant_math.h"

namespace kiln::quant {

namespace {
constexpr int kResizeWeightBits = 10;

IntTensor ints(std::vector<int64_t> v) {
  IntTensor t;
  t.shape = {int64_t(v.size())};
  t.data = std::move(v);
  t.bits = 64;
  return t;
}

// Nearest/linear source indices and Q10 weights per output coordinate, computed once here (with
// the same coordinate rules as the float emulator) so every integer run uses the same tables.
void prepareResize(Layer& l, const Graph& g, const QuantInfo& in) {
  const Shape& inShape = g.shapeOf(l.inputs[0]);
  const Shape& outShape = l.outputShapes[0];
  const std::string& mode = l.attrString("mode");
  const std::string& ctm = l.attrString("coordinate_transformation_mode");
  const std::string& nm = l.attrString("nearest_mode");
  const auto& scales = l.attrFloats("scales");
  std::vector<int64_t> i0, i1, w1, interp;
  int interpolatedDims = 0;
  for (size_t d = 0; d < inShape.size(); ++d) {
    const int64_t inLen = inShape[d], outLen = outShape[d];
    bool any = false;
    for (int64_t o = 0; o < outLen; ++o) {
      double c = resizeSourceCoord(ctm, o, scales[d], inLen, outLen);
      if (mode == "nearest") {
        const int64_t i = std::clamp<int64_t>(resizeNearestIndex(nm, c), 0, inLen - 1);
        i0.push_back(i), i1.push_back(i), w1.push_back(0);
      } else {
        c = std::clamp(c, 0.0, double(inLen - 1));
        const int64_t a = int64_t(std::floor(c)), b = std::min(a + 1, inLen - 1);
        const int64_t w = std::llround((c - double(a)) * double(1 << kResizeWeightBits));
        i0.push_back(a), i1.push_back(b), w1.push_back(w);
        any |= w != 0;
      }
    }
    interp.push_back(any ? 1 : 0);
    interpolatedDims += any;
  }
  l.qparams["resize_i0"] = ints(i0);
  l.qparams["resize_i1"] = ints(i1);
  l.qparams["resize_w1"] = ints(w1);
  l.qparams["resize_interp"] = ints(interp);
  prepareStage(l, {in.scale / double(int64_t(1) << (kResizeWeightBits * interpolatedDims))}, {});
}

}  // namespace

void prepareOther(Layer& l, const std::vector<QuantInfo>& in, const Graph& g, const CalibStats& s,
                  int id) {
  switch (l.type) {
    case LayerType::AvgPool: {
      // One multiplier per window element count: the division folds into the rescale.
      const auto& k = l.attrInts("kernel");
      std::vector<double> perCount;
      for (int64_t n = 1; n <= k[0] * k[1]; ++n) perCount.push_back(in[0].scale / double(n));
      prepareStage(l, perCount, s.pre.at(id));
      return;
    }
    case LayerType::GlobalAvgPool: {
      const Shape& is = g.shapeOf(l.inputs[0]);
      const int64_t inner = numel(is) / (is[0] * is[1]);
      prepareStage(l, {in[0].scale / double(inner)}, s.pre.at(id));
      return;
    }
    case LayerType::ReduceMean:
    case LayerType::ReduceSum: {
      // acc = sum (x - z) over the reduced elements; mean folds the count into the multiplier.
      const Shape& is = g.shapeOf(l.inputs[0]);
      int64_t count = 1;
      for (int64_t a : l.attrInts("axes")) count *= is[size_t(a)];
      const double unit =
          l.type == LayerType::ReduceMean ? in[0].scale / double(count) : in[0].scale;
      prepareStage(l, {unit}, s.pre.at(id));
      return;
    }
    case LayerType::MatMul:  // acc = sum (a - z_a)(b - z_b), unit s_a s_b
      prepareStage(l, {in[0].scale * in[1].scale}, s.pre.at(id));
      return;
    case LayerType::Concat: {
      // One stage per input: each is rescaled to the output's quantization.
      std::vector<double> perInput;
      for (const QuantInfo& q : in) perInput.push_back(q.scale);
      prepareStage(l, perInput, {});
      return;
    }
    case LayerType::Resize:
      prepareResize(l, g, in[0]);
      return;
    case LayerType::Pad:
      l.qparams["pad_value"] = ints({quantizeValue(l.attrFloat("value", 0), l.outputQuant[0])});
      return;
    default:
      return;  // input, output, maxpool, reshape, transpose, slice, reduce_max,
               // depth_to_space, space_to_depth, format_conversion, color_conversion (its
               // matrix comes from its `conversion` attribute): nothing to prepare
  }
}

}  // namespace kiln::quant
