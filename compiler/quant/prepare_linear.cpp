// conv, dw, deconv, fc and normalization: weights quantized symmetric per output channel
// (signed, 4/8/16 bits), biases in accumulator units (int64), then the output stage.
#include <algorithm>
#include <cmath>

#include "compiler/quant/prepare.h"
#include "compiler/quant/quant_math.h"

namespace kiln::quant {

// Output channel of each weight element.
std::vector<int64_t> weightChannels(const Layer& l, const Tensor& k) {
  std::vector<int64_t> ch(k.data.size());
  switch (l.type) {
    case LayerType::Fc:  // [K, N]
      for (size_t i = 0; i < ch.size(); ++i) ch[i] = int64_t(i) % k.shape[1];
      break;
    case LayerType::Deconv: {  // [Cin, Cout/g, kh, kw]
      const int64_t per = k.shape[1], khw = k.shape[2] * k.shape[3];
      const int64_t cinPerGroup = k.shape[0] / l.attrInt("group", 1);
      for (size_t i = 0; i < ch.size(); ++i) {
        const int64_t ci = int64_t(i) / (per * khw), j = (int64_t(i) / khw) % per;
        ch[i] = (ci / cinPerGroup) * per + j;
      }
      break;
    }
    case LayerType::Normalization:  // [C]
      for (size_t i = 0; i < ch.size(); ++i) ch[i] = int64_t(i);
      break;
    default: {  // conv, dw: [Cout, ...]
      const int64_t per = k.numel() / k.shape[0];
      for (size_t i = 0; i < ch.size(); ++i) ch[i] = int64_t(i) / per;
    }
  }
  return ch;
}

std::vector<float> clippedKernel(const Layer& l) {
  const bool isNorm = l.type == LayerType::Normalization;
  const Tensor& k = l.param(isNorm ? "scale" : "kernel");
  if (isNorm || !l.hasAttr("weights_clip_lo") || !l.hasAttr("weights_clip_hi")) return k.data;
  const std::vector<double>& lo = l.attrFloats("weights_clip_lo");
  const std::vector<double>& hi = l.attrFloats("weights_clip_hi");
  const auto ch = weightChannels(l, k);
  std::vector<float> out(k.data.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const size_t c = size_t(ch[i]);
    out[i] = c < lo.size() && c < hi.size() ? float(std::clamp(double(k.data[i]), lo[c], hi[c]))
                                            : k.data[i];
  }
  return out;
}

namespace {

// Per output channel weight scale s_w[c].
std::vector<double> weightScales(const Layer& l, double inScale, int weightBits) {
  const bool isNorm = l.type == LayerType::Normalization;
  const Tensor& k = l.param(isNorm ? "scale" : "kernel");
  const Tensor& b = l.param("bias");
  const int64_t channels = int64_t(b.data.size());
  const auto ch = weightChannels(l, k);
  const std::vector<float> w = clippedKernel(l);
  std::vector<double> maxAbs(channels, 0.0);
  for (size_t i = 0; i < w.size(); ++i)
    maxAbs[ch[i]] = std::max(maxAbs[ch[i]], double(std::fabs(w[i])));
  const int64_t wq = weightQmax(weightBits);
  std::vector<double> sws(channels);
  for (int64_t c = 0; c < channels; ++c) {
    double sw = maxAbs[c] > 0 ? maxAbs[c] / double(wq) : 1.0;
    // A (nearly) dead channel with a real bias: widen the weight scale so the bias stays within
    // 2^40 accumulator units (its weights then quantize to ~0, which is what they are).
    const double biasFloor = std::fabs(double(b.data[c])) / (inScale * double(int64_t(1) << 40));
    sws[c] = std::max(sw, biasFloor);
  }
  return sws;
}

}  // namespace

std::vector<double> linearAccScale(const Layer& l, double inScale, int weightBits) {
  std::vector<double> acc = weightScales(l, inScale, weightBits);
  for (double& v : acc) v *= inScale;
  return acc;
}

void prepareLinear(Layer& l, const std::vector<QuantInfo>& in, const CalibStats& s, int id,
                   int weightBits) {
  const bool isNorm = l.type == LayerType::Normalization;
  const Tensor& k = l.param(isNorm ? "scale" : "kernel");
  const Tensor& b = l.param("bias");
  const int64_t channels = int64_t(b.data.size());
  const auto ch = weightChannels(l, k);
  const int64_t wq = weightQmax(weightBits);
  const std::vector<double> sw = weightScales(l, in[0].scale, weightBits);
  std::vector<double> accScale(channels);
  for (int64_t c = 0; c < channels; ++c) accScale[c] = in[0].scale * sw[c];
  IntTensor kq;
  kq.shape = k.shape;
  kq.bits = weightBits;
  kq.isSigned = true;
  kq.data.resize(k.data.size());
  const std::vector<float> w = clippedKernel(l);
  for (size_t i = 0; i < w.size(); ++i)
    kq.data[i] = std::max(-wq, std::min(wq, int64_t(std::llround(double(w[i]) / sw[ch[i]]))));
  IntTensor bq;
  bq.shape = {channels};
  bq.bits = 64;
  for (int64_t c = 0; c < channels; ++c)
    bq.data.push_back(std::llround(double(b.data[c]) / accScale[c]));
  l.qparams["kernel"] = std::move(kq);
  l.qparams["bias"] = std::move(bq);
  prepareStage(l, accScale, s.pre.at(id));
}

Layer withDequantizedWeights(const Layer& l, double inScale) {
  Layer out = l;
  const bool linear = l.type == LayerType::Conv || l.type == LayerType::Dw ||
                      l.type == LayerType::Deconv || l.type == LayerType::Fc;
  if (!linear || !l.qparams.count("kernel") || !l.qparams.count("bias") ||
      !l.params.count("kernel") || !l.params.count("bias"))
    return out;
  const IntTensor& kq = l.qparams.at("kernel");
  const IntTensor& bq = l.qparams.at("bias");
  const std::vector<double> acc = linearAccScale(l, inScale, kq.bits);
  const auto ch = weightChannels(l, l.param("kernel"));
  Tensor& k = out.params.at("kernel");
  Tensor& b = out.params.at("bias");
  if (k.data.size() != kq.data.size() || b.data.size() != bq.data.size()) return Layer(l);
  for (size_t i = 0; i < k.data.size(); ++i)
    k.data[i] = float(double(kq.data[i]) * acc[size_t(ch[i])] / inScale);
  for (size_t c = 0; c < b.data.size(); ++c) b.data[c] = float(double(bq.data[c]) * acc[c]);
  return out;
}

}  // namespace kiln::quant
