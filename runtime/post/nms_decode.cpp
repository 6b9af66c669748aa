// Box decoding of the three meta-architectures into candidates (nms.h). Every float operation
// happens in a fixed order, so a sample decodes to the same bits every time. The scores are used
// as the outputs hold them: the reference's scripts put the sigmoid in the network
// (change_output_activation(..., sigmoid)).
#include <algorithm>
#include <cmath>

#include "runtime/post/nms_internal.h"

namespace kiln::rt::nms {

namespace {

// Adds one candidate per class whose score (times `scale`: yolov5's objectness) reaches the
// threshold.
void addBox(const NmsConfig& c, std::vector<Candidate>& out, const std::vector<float>& scores,
            float scale, float ymin, float xmin, float ymax, float xmax) {
  for (uint32_t k = 0; k < c.classes; ++k) {
    if (c.backgroundRemoval && k == c.backgroundIndex) continue;
    const float s = scores[k] * scale;
    if (!(s >= c.scoreThreshold)) continue;
    out.push_back({{ymin, xmin, ymax, xmax}, s, k, uint32_t(out.size())});
  }
}

void decodeSsd(const NmsConfig& c, const NmsDecoder& d, const View& reg, const View& cls,
               std::vector<Candidate>& out) {
  std::vector<float> sc(c.classes);
  for (int64_t y = 0; y < reg.H; ++y)
    for (int64_t x = 0; x < reg.W; ++x) {
      const int64_t cell = y * reg.W + x;
      const float xa = (float(x) + 0.5f) / float(reg.W), ya = (float(y) + 0.5f) / float(reg.H);
      for (int64_t a = 0; a < reg.A; ++a) {
        bool any = false;
        for (uint32_t k = 0; k < c.classes; ++k) {
          sc[k] = cls.at(cell, a, k);
          any = any || sc[k] >= c.scoreThreshold;
        }
        if (!any) continue;
        const float wa = d.anchorW[size_t(a)], ha = d.anchorH[size_t(a)];
        const float ty = reg.at(cell, a, c.regIndex[0]) / c.centersScale;
        const float tx = reg.at(cell, a, c.regIndex[1]) / c.centersScale;
        const float th = reg.at(cell, a, c.regIndex[2]) / c.dimsScale;
        const float tw = reg.at(cell, a, c.regIndex[3]) / c.dimsScale;
        const float w = c.expBoxSize ? std::exp(tw) * wa : tw * wa;
        const float h = c.expBoxSize ? std::exp(th) * ha : th * ha;
        const float cx = tx * wa + xa, cy = ty * ha + ya;
        addBox(c, out, sc, 1.0f, cy - h * 0.5f, cx - w * 0.5f, cy + h * 0.5f, cx + w * 0.5f);
      }
    }
}

void decodeYolov5(const NmsConfig& c, const NmsDecoder& d, const View& v,
                  std::vector<Candidate>& out) {
  const float s = float(d.stride), iw = float(c.imageW), ih = float(c.imageH);
  std::vector<float> sc(c.classes);
  for (int64_t y = 0; y < v.H; ++y)
    for (int64_t x = 0; x < v.W; ++x) {
      const int64_t cell = y * v.W + x;
      for (int64_t a = 0; a < v.A; ++a) {
        const float obj = v.at(cell, a, 4);
        for (uint32_t k = 0; k < c.classes; ++k) sc[k] = v.at(cell, a, 5 + k);
        const float cx = (v.at(cell, a, 0) * 2.0f - 0.5f + float(x)) * s;
        const float cy = (v.at(cell, a, 1) * 2.0f - 0.5f + float(y)) * s;
        const float tw = v.at(cell, a, 2) * 2.0f, th = v.at(cell, a, 3) * 2.0f;
        const float w = tw * tw * d.anchorW[size_t(a)], h = th * th * d.anchorH[size_t(a)];
        addBox(c, out, sc, obj, (cy - h * 0.5f) / ih, (cx - w * 0.5f) / iw, (cy + h * 0.5f) / ih,
               (cx + w * 0.5f) / iw);
      }
    }
}

// Distance of one side in cells: the expectation of the softmax over the DFL bins, or the value
// itself (regression_length 0).
float side(const NmsConfig& c, const View& reg, int64_t cell, int64_t sideIndex) {
  const int64_t R = c.regressionLength;
  if (R == 0) return reg.at(cell, 0, sideIndex);
  float mx = reg.at(cell, 0, sideIndex * R);
  for (int64_t i = 1; i < R; ++i) mx = std::max(mx, reg.at(cell, 0, sideIndex * R + i));
  float sum = 0, acc = 0;
  for (int64_t i = 0; i < R; ++i) {
    const float e = std::exp(reg.at(cell, 0, sideIndex * R + i) - mx);
    sum += e;
    acc += e * float(i);
  }
  return acc / sum;
}

void decodeYolov8(const NmsConfig& c, const NmsDecoder& d, const View& reg, const View& cls,
                  std::vector<Candidate>& out) {
  const float s = float(d.stride), iw = float(c.imageW), ih = float(c.imageH);
  std::vector<float> sc(c.classes);
  for (int64_t y = 0; y < reg.H; ++y)
    for (int64_t x = 0; x < reg.W; ++x) {
      const int64_t cell = y * reg.W + x;
      bool any = false;
      for (uint32_t k = 0; k < c.classes; ++k) {
        sc[k] = cls.at(cell, 0, k);
        any = any || sc[k] >= c.scoreThreshold;
      }
      if (!any) continue;  // the DFL softmax only for cells with a candidate
      const float l = side(c, reg, cell, 0), t = side(c, reg, cell, 1);
      const float r = side(c, reg, cell, 2), b = side(c, reg, cell, 3);
      const float ax = float(x) + 0.5f, ay = float(y) + 0.5f;
      addBox(c, out, sc, 1.0f, (ay - t) * s / ih, (ax - l) * s / iw, (ay + b) * s / ih,
             (ax + r) * s / iw);
    }
}

}  // namespace

void decode(const NmsConfig& c, const std::vector<NmsTensor>& outputs,
            std::vector<Candidate>& out) {
  const std::vector<Views> views = layoutViews(c, outputs);
  for (size_t i = 0; i < c.decoders.size(); ++i) {
    const NmsDecoder& d = c.decoders[i];
    switch (c.arch) {
      case NmsArch::Ssd:
        decodeSsd(c, d, views[i].reg, views[i].cls, out);
        break;
      case NmsArch::Yolov5:
        decodeYolov5(c, d, views[i].reg, out);
        break;
      case NmsArch::Yolov8:
        decodeYolov8(c, d, views[i].reg, views[i].cls, out);
        break;
    }
  }
}

}  // namespace kiln::rt::nms
