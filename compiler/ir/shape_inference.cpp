// Output shapes of each layer type from its input shapes and attributes.
#include <algorithm>

#include "common/yuv.h"
#include "compiler/ir/graph.h"

namespace kiln {

namespace {

Error shapeError(const Layer& l, const std::string& what) {
  return Error("layer " + (l.name.empty() ? std::string(typeWord(l.type)) : l.name) +
               (l.originalNames.empty() ? "" : " (ONNX " + l.originalNames.front() + ")") + ": " +
               what);
}

int64_t poolOut(int64_t in, int64_t k, int64_t s, int64_t padBegin, int64_t padEnd, int64_t d,
                bool ceilMode) {
  const int64_t eff = d * (k - 1) + 1;
  const int64_t span = in + padBegin + padEnd - eff;
  if (span < 0) return 0;
  int64_t out = ceilMode ? (span + s - 1) / s + 1 : span / s + 1;
  // ONNX/PyTorch: the last window must start inside the input or the left padding.
  if (ceilMode && (out - 1) * s >= in + padBegin) --out;
  return out;
}

Shape spatial(const Layer& l, const Shape& in, int64_t channels) {
  if (in.size() != 4) throw shapeError(l, "expects a 4-D NCHW input, got " + shapeStr(in));
  return {in[0], channels, 0, 0};
}

}  // namespace

std::vector<Shape> inferShapes(const Layer& l, const std::vector<Shape>& in) {
  switch (l.type) {
    case LayerType::InputLayer: {
      Shape user = l.attrInts("user_shape");
      if (!l.hasAttr("perm")) return {user};
      const auto& perm = l.attrInts("perm");
      Shape out;
      for (int64_t p : perm) out.push_back(user.at(p));
      return {out};
    }
    case LayerType::OutputLayer:
    case LayerType::Transpose: {
      if (!l.hasAttr("perm")) return {in[0]};
      const auto& perm = l.attrInts("perm");
      if (perm.size() != in[0].size())
        throw shapeError(l, "perm has " + std::to_string(perm.size()) + " entries for a rank-" +
                                std::to_string(in[0].size()) + " input");
      Shape out;
      for (int64_t p : perm) {
        if (p < 0 || p >= int64_t(in[0].size())) throw shapeError(l, "perm entry out of range");
        out.push_back(in[0][p]);
      }
      return {out};
    }
    case LayerType::ConstInput:
      return {l.param("value").shape};
    case LayerType::Conv:
    case LayerType::Dw: {
      const Shape& k = l.param("kernel").shape;
      const int64_t g = l.attrInt("group", 1);
      if (in[0].size() != 4 || k.size() != 4 || in[0][1] != k[1] * g)
        throw shapeError(l, "input " + shapeStr(in[0]) + " does not fit kernel " + shapeStr(k) +
                                " with group " + std::to_string(g));
      const auto& s = l.attrInts("strides");
      const auto& d = l.attrInts("dilations");
      const auto& p = l.attrInts("pads");
      Shape out = spatial(l, in[0], k[0]);
      out[2] = poolOut(in[0][2], k[2], s[0], p[0], p[2], d[0], false);
      out[3] = poolOut(in[0][3], k[3], s[1], p[1], p[3], d[1], false);
      return {out};
    }
    case LayerType::Deconv: {
      const Shape& k = l.param("kernel").shape;
      const int64_t g = l.attrInt("group", 1);
      if (in[0].size() != 4 || k.size() != 4 || in[0][1] != k[0])
        throw shapeError(l, "input " + shapeStr(in[0]) + " does not fit kernel " + shapeStr(k));
      const auto& s = l.attrInts("strides");
      const auto& d = l.attrInts("dilations");
      const auto& p = l.attrInts("pads");
      const auto op = l.attrInts("output_padding", {0, 0});
      Shape out = spatial(l, in[0], k[1] * g);
      for (int i = 0; i < 2; ++i)
        out[2 + i] =
            (in[0][2 + i] - 1) * s[i] - p[i] - p[i + 2] + d[i] * (k[2 + i] - 1) + 1 + op[i];
      return {out};
    }
    case LayerType::Fc: {
      const Shape& k = l.param("kernel").shape;
      if (in[0].empty() || in[0].back() != k[0])
        throw shapeError(l, "input " + shapeStr(in[0]) + " does not fit weights " + shapeStr(k));
      Shape out = in[0];
      out.back() = k[1];
      return {out};
    }
    case LayerType::MatMul: {
      const Shape &a = in[0], &b = in[1];
      if (a.size() < 2 || b.size() < 2 || a.back() != b[b.size() - 2])
        throw shapeError(l, "cannot multiply " + shapeStr(a) + " by " + shapeStr(b));
      Shape ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
      Shape out = broadcastShapes(ba, bb);
      out.push_back(a[a.size() - 2]);
      out.push_back(b.back());
      return {out};
    }
    case LayerType::EwAdd:
    case LayerType::EwSub:
    case LayerType::EwMult:
    case LayerType::EwDiv:
    case LayerType::EwMax:
    case LayerType::EwMin:
    case LayerType::EwEqual:
      return {broadcastShapes(in[0], in[1])};
    case LayerType::MaxPool:
    case LayerType::AvgPool: {
      const auto& k = l.attrInts("kernel");
      const auto& s = l.attrInts("strides");
      const auto& p = l.attrInts("pads");
      const auto d = l.attrInts("dilations", {1, 1});
      const bool ceilMode = l.attrInt("ceil_mode", 0) != 0;
      Shape out = spatial(l, in[0], in[0][1]);
      out[2] = poolOut(in[0][2], k[0], s[0], p[0], p[2], d[0], ceilMode);
      out[3] = poolOut(in[0][3], k[1], s[1], p[1], p[3], d[1], ceilMode);
      return {out};
    }
    case LayerType::GlobalAvgPool: {
      if (in[0].size() < 3) throw shapeError(l, "expects N, C and spatial dims");
      Shape out = in[0];
      std::fill(out.begin() + 2, out.end(), 1);
      return {out};
    }
    case LayerType::Concat: {
      const int64_t axis = l.attrInt("axis");
      Shape out = in[0];
      if (axis < 0 || axis >= int64_t(out.size())) throw shapeError(l, "axis out of range");
      for (size_t i = 1; i < in.size(); ++i) {
        if (in[i].size() != out.size()) throw shapeError(l, "inputs differ in rank");
        for (size_t d = 0; d < out.size(); ++d)
          if (int64_t(d) != axis && in[i][d] != out[d])
            throw shapeError(l, "input " + shapeStr(in[i]) + " does not match " + shapeStr(in[0]) +
                                    " outside axis " + std::to_string(axis));
        out[axis] += in[i][axis];
      }
      return {out};
    }
    case LayerType::Resize: {
      Shape out = l.attrInts("sizes");
      if (out.size() != in[0].size()) throw shapeError(l, "sizes rank differs from input rank");
      return {out};
    }
    case LayerType::Slice: {
      const auto& st = l.attrInts("starts");
      const auto& en = l.attrInts("ends");
      const auto& sp = l.attrInts("steps");
      if (st.size() != in[0].size() || en.size() != st.size() || sp.size() != st.size())
        throw shapeError(l, "starts/ends/steps must have one entry per dimension");
      Shape out(in[0].size());
      for (size_t i = 0; i < out.size(); ++i) {
        if (sp[i] == 0) throw shapeError(l, "step 0");
        const int64_t n = sp[i] > 0 ? (en[i] - st[i] + sp[i] - 1) / sp[i]
                                    : (st[i] - en[i] + (-sp[i]) - 1) / (-sp[i]);
        out[i] = std::max<int64_t>(0, n);
      }
      return {out};
    }
    case LayerType::Reshape: {
      Shape out = l.attrInts("shape");
      if (numel(out) != numel(in[0]))
        throw shapeError(l, "cannot reshape " + shapeStr(in[0]) + " to " + shapeStr(out));
      return {out};
    }
    case LayerType::Pad: {
      const auto& p = l.attrInts("pads");
      if (p.size() != 2 * in[0].size()) throw shapeError(l, "pads must have 2 × rank entries");
      Shape out = in[0];
      for (size_t i = 0; i < out.size(); ++i) out[i] += p[i] + p[i + out.size()];
      return {out};
    }
    case LayerType::Softmax:
    case LayerType::Activation:
    case LayerType::Normalization:
    case LayerType::LayerNormalization:
      return {in[0]};
    case LayerType::ReduceMean:
    case LayerType::ReduceMax:
    case LayerType::ReduceSum: {
      const auto& axes = l.attrInts("axes");
      const bool keep = l.attrInt("keepdims", 1) != 0;
      Shape out;
      for (size_t i = 0; i < in[0].size(); ++i) {
        const bool reduced = std::find(axes.begin(), axes.end(), int64_t(i)) != axes.end();
        if (!reduced)
          out.push_back(in[0][i]);
        else if (keep)
          out.push_back(1);
      }
      return {out};
    }
    case LayerType::DepthToSpace: {
      const int64_t b = l.attrInt("blocksize");
      if (in[0].size() != 4 || in[0][1] % (b * b)) throw shapeError(l, "channels not divisible");
      return {{in[0][0], in[0][1] / (b * b), in[0][2] * b, in[0][3] * b}};
    }
    case LayerType::SpaceToDepth: {
      const int64_t b = l.attrInt("blocksize");
      if (in[0].size() != 4 || in[0][2] % b || in[0][3] % b)
        throw shapeError(l, "spatial dims not divisible");
      return {{in[0][0], in[0][1] * b * b, in[0][2] / b, in[0][3] / b}};
    }
    case LayerType::FormatConversion: {
      // A raw camera frame [N, a, b, c] (common/yuv.h) -> planar [N, 3, H, W].
      yuv::Format f;
      if (!yuv::parseFormat(l.attrString("format"), f))
        throw shapeError(l, "unknown format '" + l.attrString("format") + "'");
      const auto hw = in[0].size() == 4 ? yuv::imageSizeOf(f, {in[0][1], in[0][2], in[0][3]})
                                        : std::vector<int64_t>{};
      if (hw.empty())
        throw shapeError(l, std::string("the input is not a ") + yuv::formatName(f) + " frame");
      return {{in[0][0], 3, hw[0], hw[1]}};
    }
    case LayerType::ColorConversion:
      if (in[0].size() != 4 || in[0][1] != 3)
        throw shapeError(l, "expects a 3-channel NCHW image");
      return {in[0]};
  }
  throw shapeError(l, "no shape rule");
}

void reinferShapes(Graph& g) {
  for (Layer& l : g.layers) {
    std::vector<Shape> in;
    for (const ValueRef& v : l.inputs) in.push_back(g.shapeOf(v));
    l.outputShapes = inferShapes(l, in);
  }
}

}  // namespace kiln
