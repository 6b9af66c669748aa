#include "compiler/optimize/error_rounding.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "compiler/quant/prepare.h"
#include "compiler/quant/quant_math.h"

namespace kiln::optimize {

namespace {

using Mat = Eigen::MatrixXd;

// Rows (sampled output positions) used to measure the input correlation of one group.
constexpr int64_t kMinRows = 8192, kMaxRows = 16384, kDepthwiseRows = 65536;

struct Geometry {
  int64_t N, C, H, W, K, OH, OW, kh, kw, sh, sw, dh, dw, pt, pl, groups;
};

Geometry geometry(const Layer& l, const Shape& in) {
  const auto& k = l.param("kernel").shape;
  const auto& out = l.outputShapes.at(0);
  const auto& s = l.attrInts("strides");
  const auto d = l.attrInts("dilations", {1, 1});
  const auto& p = l.attrInts("pads");
  return {in[0], in[1], in[2], in[3], out[1], out[2], out[3], k[2],
          k[3],  s[0],  s[1],  d[0],  d[1],   p[0],   p[1],   l.attrInt("group", 1)};
}

// Deterministic, evenly spread choice of about `want` of `total` positions.
std::vector<int64_t> samplePositions(int64_t total, int64_t want) {
  std::vector<int64_t> pos;
  if (total <= want) {
    pos.resize(size_t(total));
    for (int64_t t = 0; t < total; ++t) pos[size_t(t)] = t;
    return pos;
  }
  // A golden-ratio stride visits the positions in a low-discrepancy order, so the sample is not
  // aligned with the image rows; sorted for a cache-friendly walk.
  const double step = 0.6180339887498949 * double(total);
  pos.reserve(size_t(want));
  double at = 0;
  for (int64_t i = 0; i < want; ++i) {
    pos.push_back(int64_t(at) % total);
    at = std::fmod(at + step, double(total));
  }
  std::sort(pos.begin(), pos.end());
  pos.erase(std::unique(pos.begin(), pos.end()), pos.end());
  return pos;
}

// The input patch of output position `p` (over all samples) for input channels [c0, c0 + cg),
// in kernel order (c, ky, kx), with the zero point removed (padding reads 0).
void patch(const std::vector<const IntBuffer*>& inputs, const Geometry& g, int64_t zp, int64_t p,
           int64_t c0, int64_t cg, double* out) {
  const int64_t perImage = g.OH * g.OW, perSample = g.N * perImage;
  const IntBuffer& x = *inputs[size_t(p / perSample)];
  const int64_t n = (p % perSample) / perImage, oy = (p % perImage) / g.OW, ox = p % g.OW;
  for (int64_t c = 0; c < cg; ++c) {
    const int32_t* plane = x.data.data() + ((n * g.C) + c0 + c) * g.H * g.W;
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
        const bool inside = iy >= 0 && iy < g.H && ix >= 0 && ix < g.W;
        *out++ = inside ? double(plane[iy * g.W + ix] - zp) : 0.0;
      }
    }
  }
}

// Rounding error energy sum_r e_r^T H e_r of weights W (rows) against their integers Q.
double errorEnergy(const Mat& H, const Mat& W, const Mat& Q, const std::vector<double>& scale) {
  double total = 0;
  for (Eigen::Index r = 0; r < W.rows(); ++r) {
    const Eigen::VectorXd e = W.row(r).transpose() - Q.row(r).transpose() * scale[size_t(r)];
    total += e.dot(H * e);
  }
  return total;
}

// GPTQ on one group: W (rows = output channels, cols = inputs), H the inputs' second moment.
// Returns the integer weights; `nearest`/`chosen` receive the error energies of both roundings.
Mat roundGroup(const Mat& W0, Mat H, const std::vector<double>& scale, int64_t qmax,
               double& nearest, double& chosen) {
  const Eigen::Index K = W0.cols(), R = W0.rows();
  Mat Qn(R, K);
  for (Eigen::Index r = 0; r < R; ++r)
    for (Eigen::Index i = 0; i < K; ++i)
      Qn(r, i) = std::clamp(std::round(W0(r, i) / scale[size_t(r)]), -double(qmax), double(qmax));
  const Mat Hraw = H;
  nearest = errorEnergy(Hraw, W0, Qn, scale);
  chosen = nearest;
  // Inputs that never vary carry no information: their weights stay rounded to nearest.
  for (Eigen::Index i = 0; i < K; ++i)
    if (H(i, i) <= 0) H(i, i) = 1;
  // Largest second moment first ("act order"): the inputs that matter most are rounded while the
  // most weights remain to absorb their error.
  std::vector<Eigen::Index> order{};
  order.resize(size_t(K));
  for (Eigen::Index i = 0; i < K; ++i) order[size_t(i)] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return H(a, a) > H(b, b); });
  Mat Hp(K, K), W(R, K);
  for (Eigen::Index i = 0; i < K; ++i) {
    W.col(i) = W0.col(order[size_t(i)]);
    for (Eigen::Index j = 0; j < K; ++j) Hp(i, j) = H(order[size_t(i)], order[size_t(j)]);
  }
  const double damp = 0.01 * Hp.diagonal().mean();
  Hp.diagonal().array() += damp;
  // The update needs the upper Cholesky factor U of H^-1 (H^-1 = U^T U).
  Eigen::LLT<Mat> llt(Hp);
  if (llt.info() != Eigen::Success) return Qn;
  const Mat Hinv = llt.solve(Mat::Identity(K, K));
  Eigen::LLT<Mat> lltInv(Hinv);
  if (lltInv.info() != Eigen::Success) return Qn;
  const Mat U = lltInv.matrixU();
  Mat Q(R, K);
  Eigen::VectorXd err(R);
  for (Eigen::Index i = 0; i < K; ++i) {
    for (Eigen::Index r = 0; r < R; ++r) {
      const double s = scale[size_t(r)];
      const double q = std::clamp(std::round(W(r, i) / s), -double(qmax), double(qmax));
      Q(r, i) = q;
      err(r) = (W(r, i) - q * s) / U(i, i);
    }
    if (i + 1 < K) W.rightCols(K - i - 1).noalias() -= err * U.row(i).tail(K - i - 1);
  }
  Mat Qo(R, K);
  for (Eigen::Index i = 0; i < K; ++i) Qo.col(order[size_t(i)]) = Q.col(i);
  const double e = errorEnergy(Hraw, W0, Qo, scale);
  if (!(e < nearest)) return Qn;
  chosen = e;
  return Qo;
}

}  // namespace

RoundingResult compensateRounding(Layer& l, const QuantInfo& in,
                                  const std::vector<const IntBuffer*>& inputs) {
  RoundingResult res;
  if ((l.type != LayerType::Conv && l.type != LayerType::Dw) || !l.qparams.count("kernel") ||
      inputs.empty())
    return res;
  const Shape& xs = inputs[0]->shape;
  if (xs.size() != 4) return res;
  for (const IntBuffer* b : inputs)
    if (b->shape != xs) return res;
  const Tensor& kf = l.param("kernel");
  // The weights as they are quantized (weights_clipping bounds applied).
  const std::vector<float> kw = quant::clippedKernel(l);
  IntTensor& kq = l.qparams.at("kernel");
  if (kf.shape.size() != 4 || kq.data.size() != kf.data.size()) return res;
  const Geometry g = geometry(l, xs);
  const int64_t cg = g.C / g.groups, kg = g.K / g.groups, K = cg * g.kh * g.kw;
  const int64_t total = int64_t(inputs.size()) * g.N * g.OH * g.OW;
  const bool depthwise = cg == 1;
  const int64_t want = depthwise ? kDepthwiseRows : std::clamp(4 * K, kMinRows, kMaxRows);
  const std::vector<int64_t> pos = samplePositions(total, want);
  if (int64_t(pos.size()) < 2 * K) return res;

  const std::vector<double> acc = quant::linearAccScale(l, in.scale, kq.bits);
  std::vector<double> sw(acc.size());
  for (size_t c = 0; c < acc.size(); ++c) sw[c] = acc[c] / in.scale;
  const int64_t qmax = quant::weightQmax(kq.bits);

  std::vector<double> row(static_cast<size_t>(K));
  const int64_t chunk = 1024;
  for (int64_t gi = 0; gi < g.groups; ++gi) {
    // Second moment of the group's input patches, accumulated a chunk of positions at a time.
    Mat H = Mat::Zero(K, K);
    Mat X(std::min<int64_t>(chunk, int64_t(pos.size())), K);
    for (size_t p0 = 0; p0 < pos.size(); p0 += size_t(chunk)) {
      const int64_t rows = std::min<int64_t>(chunk, int64_t(pos.size() - p0));
      for (int64_t r = 0; r < rows; ++r) {
        patch(inputs, g, in.zeroPoint, pos[p0 + size_t(r)], gi * cg, cg, row.data());
        for (int64_t i = 0; i < K; ++i) X(r, i) = row[size_t(i)];
      }
      H.selfadjointView<Eigen::Lower>().rankUpdate(X.topRows(rows).transpose());
    }
    H = H.selfadjointView<Eigen::Lower>();
    Mat W(kg, K);
    std::vector<double> scale(static_cast<size_t>(kg));
    for (int64_t r = 0; r < kg; ++r) {
      const int64_t c = gi * kg + r;
      scale[size_t(r)] = sw[size_t(c)];
      for (int64_t i = 0; i < K; ++i) W(r, i) = double(kw[size_t(c * K + i)]);
    }
    double nearest = 0, chosen = 0;
    const Mat Q = roundGroup(W, H, scale, qmax, nearest, chosen);
    res.nearestError += nearest;
    res.chosenError += chosen;
    for (int64_t r = 0; r < kg; ++r)
      for (int64_t i = 0; i < K; ++i) kq.data[size_t((gi * kg + r) * K + i)] = int64_t(Q(r, i));
  }
  res.applied = true;
  return res;
}

}  // namespace kiln::optimize
