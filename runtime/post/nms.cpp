// Layout of the outputs for the decoders, the config's checks, and per-class greedy NMS (nms.h).
#include "runtime/post/nms.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "runtime/post/nms_internal.h"

namespace kiln::rt {

const char* nmsArchName(NmsArch a) {
  switch (a) {
    case NmsArch::Ssd:
      return "ssd";
    case NmsArch::Yolov5:
      return "yolov5";
    case NmsArch::Yolov8:
      return "yolov8";
  }
  return "unknown";
}

int64_t nmsOutputSize(const NmsConfig& c) {
  return int64_t(c.classes) * (1 + 5 * int64_t(c.maxProposalsPerClass));
}

namespace nms {

namespace {

std::string shapeText(const std::vector<int64_t>& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

// A view of `t` for decoder `d`: P values per anchor, A anchors per cell. Maps give the grid;
// rows need the decoder's stride. `rowsUsed` counts the rows earlier decoders took from the
// same output.
View viewOf(const NmsConfig& c, const NmsDecoder& d, const NmsTensor& t, uint32_t index, int64_t A,
            int64_t P, int64_t& rowsUsed, const char* role) {
  auto fail = [&](const std::string& what) -> View {
    throw Error("nms decoder '" + d.name + "': " + role + " output " + std::to_string(index) +
                " of shape " + shapeText(t.shape) + ": " + what);
  };
  View v;
  v.data = t.data;
  v.A = A;
  v.P = P;
  const auto& s = t.shape;
  if (s.size() == 4 && s[0] == 1) {
    const bool nhwc = t.layout == "NHWC";
    v.kind = nhwc ? View::Kind::Nhwc : View::Kind::Nchw;
    v.H = nhwc ? s[1] : s[2];
    v.W = nhwc ? s[2] : s[3];
    const int64_t C = nhwc ? s[3] : s[1];
    if (C != A * P)
      return fail("expected " + std::to_string(A * P) + " channels (" + std::to_string(A) +
                  " anchor(s) x " + std::to_string(P) + "), found " + std::to_string(C));
    if (d.stride && c.imageH && (v.H * d.stride < c.imageH || v.W * d.stride < c.imageW))
      return fail("a " + std::to_string(v.H) + "x" + std::to_string(v.W) + " grid at stride " +
                  std::to_string(d.stride) + " does not cover the image " +
                  std::to_string(c.imageH) + "x" + std::to_string(c.imageW));
    return v;
  }
  if ((s.size() == 3 && s[0] == 1) || s.size() == 2) {
    v.kind = View::Kind::Rows;
    const int64_t N = s[s.size() - 2];
    v.K = s.back();
    if (d.stride == 0) return fail("rows of boxes need the decoder's \"stride\" to know the grid");
    v.H = (int64_t(c.imageH) + d.stride - 1) / d.stride;
    v.W = (int64_t(c.imageW) + d.stride - 1) / d.stride;
    if (v.K < P)
      return fail("rows of " + std::to_string(v.K) + " values, " + std::to_string(P) + " needed");
    v.rowOffset = rowsUsed;
    rowsUsed += v.H * v.W * A;
    if (rowsUsed > N)
      return fail("the decoders reading it need " + std::to_string(rowsUsed) + " rows (" +
                  std::to_string(v.H) + "x" + std::to_string(v.W) + " cells x " +
                  std::to_string(A) + " anchor(s) from row " + std::to_string(v.rowOffset) +
                  "), it has " + std::to_string(N));
    return v;
  }
  return fail("expected a map [1, C, H, W] or rows [1, N, K]");
}

}  // namespace

std::vector<Views> layoutViews(const NmsConfig& c, const std::vector<NmsTensor>& outputs) {
  std::vector<Views> out;
  std::map<uint32_t, int64_t> rowsUsed;
  for (const NmsDecoder& d : c.decoders) {
    for (uint32_t i : {d.regOutput, d.clsOutput})
      if (i >= outputs.size())
        throw Error("nms decoder '" + d.name + "': output " + std::to_string(i) +
                    " does not exist (the network has " + std::to_string(outputs.size()) + ")");
    const int64_t A = c.arch == NmsArch::Yolov8 ? 1 : int64_t(d.anchorW.size());
    Views v;
    switch (c.arch) {
      case NmsArch::Ssd:
        v.reg = viewOf(c, d, outputs[d.regOutput], d.regOutput, A, 4, rowsUsed[d.regOutput],
                       "regression");
        v.cls = viewOf(c, d, outputs[d.clsOutput], d.clsOutput, A, c.classes, rowsUsed[d.clsOutput],
                       "class");
        if (v.reg.H != v.cls.H || v.reg.W != v.cls.W)
          throw Error("nms decoder '" + d.name + "': the regression and class grids differ");
        break;
      case NmsArch::Yolov5:
        v.reg = viewOf(c, d, outputs[d.regOutput], d.regOutput, A, 5 + int64_t(c.classes),
                       rowsUsed[d.regOutput], "encoded");
        v.cls = v.reg;
        break;
      case NmsArch::Yolov8:
        v.reg = viewOf(c, d, outputs[d.regOutput], d.regOutput, 1,
                       4 * std::max<int64_t>(1, c.regressionLength), rowsUsed[d.regOutput],
                       "regression");
        v.cls = viewOf(c, d, outputs[d.clsOutput], d.clsOutput, 1, c.classes, rowsUsed[d.clsOutput],
                       "class");
        if (v.reg.H != v.cls.H || v.reg.W != v.cls.W)
          throw Error("nms decoder '" + d.name + "': the regression and class grids differ");
        break;
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace nms

void checkNmsConfig(const NmsConfig& c, const std::vector<StreamDesc>& outputs) {
  auto bad = [](const std::string& what) { throw Error("nms config: " + what); };
  if (c.arch != NmsArch::Ssd && c.arch != NmsArch::Yolov5 && c.arch != NmsArch::Yolov8)
    bad("unknown meta-architecture " + std::to_string(uint32_t(c.arch)));
  if (!(c.scoreThreshold >= 0 && c.scoreThreshold <= 1)) bad("score threshold must be in [0, 1]");
  if (!(c.iouThreshold >= 0 && c.iouThreshold <= 1)) bad("IoU threshold must be in [0, 1]");
  if (c.classes < 1 || c.classes > 100000) bad("classes must be in [1, 100000]");
  if (c.maxProposalsPerClass < 1 || c.maxProposalsPerClass > 100000)
    bad("max proposals per class must be in [1, 100000]");
  if (nmsOutputSize(c) > (int64_t(1) << 26)) bad("the output would exceed 64 M floats");
  if (c.imageH < 1 || c.imageW < 1 || c.imageH > 65536 || c.imageW > 65536)
    bad("image dims must be in [1, 65536]");
  if (c.regressionLength > 1024) bad("regression length must be at most 1024");
  if (!(std::isfinite(c.centersScale) && c.centersScale != 0 && std::isfinite(c.dimsScale) &&
        c.dimsScale != 0))
    bad("scale factors must be finite and not 0");
  for (uint32_t i : c.regIndex)
    if (i > 3) bad("regression indices must be in [0, 3]");
  if (c.backgroundRemoval && c.backgroundIndex >= c.classes)
    bad("background index must be below the class count");
  if (c.decoders.empty() || c.decoders.size() > 64) bad("1 to 64 bbox decoders expected");
  for (const NmsDecoder& d : c.decoders) {
    if (c.arch != NmsArch::Ssd && (d.stride < 1 || d.stride > 4096))
      bad("decoder '" + d.name + "': stride must be in [1, 4096]");
    if (c.arch != NmsArch::Yolov8) {
      if (d.anchorW.empty() || d.anchorW.size() != d.anchorH.size() || d.anchorW.size() > 64)
        bad("decoder '" + d.name + "': 1 to 64 anchors with as many widths as heights expected");
      for (size_t a = 0; a < d.anchorW.size(); ++a)
        if (!(std::isfinite(d.anchorW[a]) && std::isfinite(d.anchorH[a])))
          bad("decoder '" + d.name + "': anchors must be finite");
    }
    if (c.arch == NmsArch::Yolov5 && d.clsOutput != d.regOutput)
      bad("decoder '" + d.name + "': yolov5 reads one encoded output");
  }
  // The shapes: views over null data check every index without reading.
  std::vector<NmsTensor> t;
  for (const StreamDesc& s : outputs) t.push_back({nullptr, s.shape, s.layout});
  nms::layoutViews(c, t);
}

namespace {

float iou(const float* a, const float* b) {
  const float ih = std::min(a[2], b[2]) - std::max(a[0], b[0]);
  const float iw = std::min(a[3], b[3]) - std::max(a[1], b[1]);
  if (!(ih > 0 && iw > 0)) return 0;
  const float inter = ih * iw;
  const float areaA = (a[2] - a[0]) * (a[3] - a[1]), areaB = (b[2] - b[0]) * (b[3] - b[1]);
  const float uni = areaA + areaB - inter;
  return uni > 0 ? inter / uni : 0;
}

}  // namespace

std::vector<float> runNms(const NmsConfig& c, const std::vector<NmsTensor>& outputs) {
  std::vector<nms::Candidate> cand;
  nms::decode(c, outputs, cand);
  // Highest score first; equal scores in decoding order (deterministic for any sort).
  std::sort(cand.begin(), cand.end(), [](const nms::Candidate& a, const nms::Candidate& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.order < b.order;
  });
  std::vector<std::vector<const nms::Candidate*>> kept(c.classes);
  for (const nms::Candidate& k : cand) {
    auto& list = kept[k.cls];
    if (list.size() >= c.maxProposalsPerClass) continue;
    bool suppressed = false;
    for (const nms::Candidate* p : list)
      if (iou(p->box, k.box) > c.iouThreshold) {
        suppressed = true;
        break;
      }
    if (!suppressed) list.push_back(&k);
  }
  std::vector<float> out(size_t(nmsOutputSize(c)), 0.0f);
  size_t at = 0;
  for (const auto& list : kept) {
    out[at++] = float(list.size());
    for (const nms::Candidate* p : list) {
      for (float v : p->box) out[at++] = v;
      out[at++] = p->score;
    }
  }
  return out;
}

std::string describeNms(const NmsConfig& c) {
  std::string s = std::string(nmsArchName(c.arch)) + ", " + std::to_string(c.classes) +
                  " class(es), " + std::to_string(c.decoders.size()) + " decoder(s), image " +
                  std::to_string(c.imageH) + "x" + std::to_string(c.imageW) + ", score >= ";
  char buf[160];
  std::snprintf(buf, sizeof buf, "%g, IoU > %g suppressed, at most %u per class",
                double(c.scoreThreshold), double(c.iouThreshold), c.maxProposalsPerClass);
  return s + buf;
}

}  // namespace kiln::rt
