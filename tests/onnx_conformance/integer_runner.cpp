// ONNX exact-integer node tests through Kiln's integer kernels.
//
// For the ONNX backend node tests of the quantized operators (QuantizeLinear, DequantizeLinear,
// QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger), reads the test's inputs and the node's
// attributes, computes the outputs with the kernels of runtime/kernels (the ones the runtime and
// the quantized emulation execute) plus the compile-time multiplier of
// kiln::quant::quantizeMultiplier, and compares them EXACTLY with the expected outputs (integers
// equal; float32 outputs of DequantizeLinear bit-equal).
//
// How the ONNX semantics map onto Kiln's (docs/arithmetic.md):
//  - activations: Kiln holds unsigned values. An int8 activation/output is shifted by +128 into
//    [0, 255] (value and zero point alike) and back on output; (x - zp) is unchanged, so exact.
//  - weights: Kiln's weights are signed, without zero point. ONNX weights (uint8 or int8, with a
//    zero point per tensor or per output channel) become w - w_zp in Kiln's int32 weight
//    container; exact (|w - w_zp| <= 255).
//  - QLinearConv / QLinearMatMul: the ONNX rescale acc * (s_x * s_w / s_y) becomes Kiln's output
//    stage with M = quantizeMultiplier(s_x * s_w[c] / s_y) (per channel / column when s_w is),
//    outZp = y_zp, clamp [0, 255]; the int32 bias is already in accumulator units.
//  - ConvInteger / MatMulInteger: the int32 accumulator is the output. The kernels always end in
//    the output stage; an identity stage is used: M = quantizeMultiplier(1.0) = {2^30, 30}, so
//    requantize(acc) = floor((acc * 2^30 + 2^29) / 2^30) = acc exactly, outZp = 0, clamp to the
//    int32 range (the ONNX output type).
//  - QuantizeLinear: kiln::quantizeInput (the runtime's host conversion, rint half-even with
//    clipping); DequantizeLinear: kiln::dequantize. Per-axis scales along axis 1 (Kiln's channel
//    dimension) apply the per-tensor conversion to each channel's slice.
//
// Usage: kiln_onnx_integer_conformance <node-tests-dir> [name-filter]
// Prints PASS/FAIL/SKIP per test (with the reason), then "N passed, N failed, N skipped"; exits 1
// on any failure.
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/emulator/quant_executor.h"
#include "compiler/onnx/const_tensor.h"
#include "compiler/quant/quant_math.h"
#include "runtime/kernels/kernels.h"
#include "tests/onnx_conformance/suite_files.h"

namespace fs = std::filesystem;
using kiln::test::parseFile;
using kiln::test::readFile;
using namespace kiln;
using kiln::onnx::ConstTensor;
using TP = ::onnx::TensorProto;

namespace {

const char* const kOps[] = {"QuantizeLinear", "DequantizeLinear", "QLinearConv",
                            "QLinearMatMul",  "ConvInteger",      "MatMulInteger"};

struct Outcome {
  enum Kind { Pass, Fail, Skip } kind = Pass;
  std::string reason;
};

// Thrown to skip a test with a reason (a variant Kiln does not model).
struct SkipTest {
  std::string reason;
};

// The node's inputs by position (absent optional inputs are null).
struct NodeInputs {
  std::vector<const ConstTensor*> v;
  const ConstTensor* at(size_t i) const { return i < v.size() ? v[i] : nullptr; }
};

int64_t attrInt(const ::onnx::NodeProto& n, const std::string& name, int64_t dflt) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.i();
  return dflt;
}
std::vector<int64_t> attrInts(const ::onnx::NodeProto& n, const std::string& name,
                              std::vector<int64_t> dflt) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return {a.ints().begin(), a.ints().end()};
  return dflt;
}
std::string attrString(const ::onnx::NodeProto& n, const std::string& name, std::string dflt) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.s();
  return dflt;
}

// 8-bit quantized element types: uint8 maps as is, int8 by +128 into Kiln's unsigned domain.
int32_t domainOffset(int32_t dtype, const std::string& what) {
  if (dtype == TP::UINT8) return 0;
  if (dtype == TP::INT8) return 128;
  throw SkipTest{what + " is " + kiln::onnx::dtypeName(dtype) +
                 "; Kiln's activations are unsigned 8/16-bit affine (int8 via +128)"};
}
void requireWeightType(int32_t dtype, const std::string& what) {
  if (dtype != TP::UINT8 && dtype != TP::INT8)
    throw SkipTest{what + " is " + kiln::onnx::dtypeName(dtype) +
                   "; only 8-bit weights are mapped"};
}

// A per-tensor value: a scalar or a 1-element tensor.
bool isPerTensor(const ConstTensor& t) {
  return t.numel() == 1 && t.shape.size() <= 1;
}

int64_t scalarInt(const ConstTensor* t, int64_t dflt, const std::string& what, const char* why) {
  if (!t) return dflt;
  if (!isPerTensor(*t)) throw SkipTest{what + " is not per-tensor; " + why};
  return t->intValue(0);
}

// Per-channel (or per-tensor, broadcast) values of a 1-D/scalar tensor for `count` channels.
std::vector<double> perChannel(const ConstTensor* t, int64_t count, double dflt,
                               const std::string& what) {
  if (!t) return std::vector<double>(size_t(count), dflt);
  if (isPerTensor(*t)) return std::vector<double>(size_t(count), t->value(0));
  if (t->shape.size() != 1 || t->shape[0] != count)
    throw SkipTest{what + " has shape " + shapeStr(t->shape) + ", neither per-tensor nor 1-D of " +
                   std::to_string(count)};
  std::vector<double> v(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) v[size_t(i)] = t->value(i);
  return v;
}

// Reports the first mismatch of integer outputs (and how many elements differ).
std::string compareInts(const std::vector<int32_t>& got, const ConstTensor& exp,
                        const Shape& gotShape, std::string* detail = nullptr) {
  if (gotShape != exp.shape)
    return "shape " + shapeStr(gotShape) + ", expected " + shapeStr(exp.shape);
  const std::vector<int64_t> e = exp.ints();
  if (e.size() != got.size()) return "wrong element count";
  int bad = 0;
  size_t first = 0;
  for (size_t k = 0; k < e.size(); ++k)
    if (int64_t(got[k]) != e[k]) {
      if (!bad) first = k;
      ++bad;
    }
  if (!bad) return "";
  std::ostringstream os;
  os << bad << " of " << e.size() << " elements differ, first at " << first << ": got "
     << got[first] << ", expected " << e[first];
  if (detail && !detail->empty()) os << "; " << *detail;
  return os.str();
}

// ---------------------------------------------------------------------------------------------
// QuantizeLinear / DequantizeLinear

// Splits a tensor into [outer, channels, inner] around `axis` for per-axis parameters.
struct AxisSplit {
  int64_t outer = 1, channels = 1, inner = 1;
};
AxisSplit splitAxis(const Shape& s, const ConstTensor* scale, const ::onnx::NodeProto& n) {
  AxisSplit a;
  a.inner = numel(s);
  if (!scale || isPerTensor(*scale)) return a;
  int64_t axis = attrInt(n, "axis", 1);
  if (axis < 0) axis += int64_t(s.size());
  if (axis != 1)
    throw SkipTest{"per-axis quantization along axis " + std::to_string(axis) +
                   "; Kiln's per-channel dimension is 1 (NCHW channel)"};
  if (s.size() < 2 || scale->shape.size() != 1 || scale->shape[0] != s[1])
    throw SkipTest{"per-axis scale of shape " + shapeStr(scale->shape) + " does not match axis 1"};
  a.outer = s[0];
  a.channels = s[1];
  a.inner = numel(s) / (a.outer * a.channels);
  return a;
}

Outcome runQuantizeLinear(const ::onnx::NodeProto& n, const NodeInputs& in,
                          const std::vector<ConstTensor>& expected) {
  const ConstTensor& x = *in.at(0);
  const ConstTensor& scale = *in.at(1);
  const ConstTensor* zpT = in.at(2);
  if (x.dtype != TP::FLOAT)
    throw SkipTest{"input is " + kiln::onnx::dtypeName(x.dtype) +
                   "; Kiln's host conversion takes float32"};
  const int32_t outType = zpT ? zpT->dtype : int32_t(TP::UINT8);
  const int32_t off = domainOffset(outType, "output");
  const AxisSplit a = splitAxis(x.shape, &scale, n);
  const std::vector<double> scales = perChannel(&scale, a.channels, 1.0, "y_scale");
  const std::vector<double> zps = perChannel(zpT, a.channels, 0.0, "y_zero_point");
  const std::vector<float> xf = x.floats();
  std::vector<int32_t> got(xf.size());
  for (int64_t o = 0; o < a.outer; ++o)
    for (int64_t c = 0; c < a.channels; ++c) {
      const size_t base = size_t((o * a.channels + c) * a.inner);
      FloatBuffer slice{{a.inner}, {xf.begin() + base, xf.begin() + base + a.inner}};
      QuantInfo q;
      q.bits = 8;
      q.scale = scales[size_t(c)];  // a float32 value, exact in double
      q.zeroPoint = int64_t(zps[size_t(c)]) + off;
      const IntBuffer r = quantizeInput(slice, q);
      for (int64_t i = 0; i < a.inner; ++i) got[base + size_t(i)] = r.data[size_t(i)] - off;
    }
  const std::string err = compareInts(got, expected[0], x.shape);
  return err.empty() ? Outcome{Outcome::Pass, ""} : Outcome{Outcome::Fail, err};
}

Outcome runDequantizeLinear(const ::onnx::NodeProto& n, const NodeInputs& in,
                            const std::vector<ConstTensor>& expected) {
  const ConstTensor& x = *in.at(0);
  const ConstTensor& scale = *in.at(1);
  const ConstTensor* zpT = in.at(2);
  if (x.dtype == TP::INT32)
    throw SkipTest{"int32 input (a raw accumulator); Kiln's quantized tensors are 8/16-bit"};
  const int32_t off = domainOffset(x.dtype, "input");
  const AxisSplit a = splitAxis(x.shape, &scale, n);
  const std::vector<double> scales = perChannel(&scale, a.channels, 1.0, "x_scale");
  const std::vector<double> zps = perChannel(zpT, a.channels, 0.0, "x_zero_point");
  const std::vector<int64_t> xi = x.ints();
  std::vector<float> got(xi.size());
  for (int64_t o = 0; o < a.outer; ++o)
    for (int64_t c = 0; c < a.channels; ++c) {
      const size_t base = size_t((o * a.channels + c) * a.inner);
      IntBuffer b;
      b.shape = {a.inner};
      for (int64_t i = 0; i < a.inner; ++i) b.data.push_back(int32_t(xi[base + size_t(i)] + off));
      QuantInfo q;
      q.bits = 8;
      q.scale = scales[size_t(c)];
      q.zeroPoint = int64_t(zps[size_t(c)]) + off;
      const FloatBuffer r = dequantize(b, q);
      std::copy(r.data.begin(), r.data.end(), got.begin() + std::ptrdiff_t(base));
    }
  const ConstTensor& e = expected[0];
  if (e.shape != x.shape)
    return {Outcome::Fail, "shape " + shapeStr(x.shape) + ", expected " + shapeStr(e.shape)};
  const std::vector<float> ef = e.floats();
  for (size_t k = 0; k < ef.size(); ++k)
    if (std::memcmp(&got[k], &ef[k], sizeof(float)) != 0) {
      std::ostringstream os;
      os << "element " << k << ": got " << got[k] << ", expected " << ef[k] << " (bitwise)";
      return {Outcome::Fail, os.str()};
    }
  return {Outcome::Pass, ""};
}

// ---------------------------------------------------------------------------------------------
// Convolutions and matmuls

// The identity output stage (ConvInteger, MatMulInteger): requantize by {2^30, 30} is exact.
// The int32 accumulators of n outputs of a kernel, whose outputs are device values (rt::Act, in
// [0, 2^16)): run(stage, out) runs the kernel with that output stage. A first pass reads the high
// part j = round(acc / 2^16) (stage x 2^-16 + 2^15), then one pass per distinct j reads
// acc - j * 2^16 + 2^15, which lies in [0, 2^16) (stage x 1): the kernel's own sums, exactly.
template <typename Run>
std::vector<int32_t> wideAccumulators(size_t n, Run run) {
  const rt::Multiplier one{1 << 30, 30}, coarse{1 << 30, 30 + 16};
  rt::OutputStage s;
  s.mult = &coarse;
  s.outZp = 1 << 15;
  s.qmin = 0;
  s.qmax = 65535;
  std::vector<rt::Act> hi(n), lo(n);
  run(s, hi.data());
  std::vector<int32_t> acc(n);
  std::vector<int64_t> js;
  for (rt::Act h : hi) js.push_back(int64_t(h) - (1 << 15));
  std::sort(js.begin(), js.end());
  js.erase(std::unique(js.begin(), js.end()), js.end());
  s.mult = &one;
  for (int64_t j : js) {
    const int64_t zp = (int64_t(1) << 15) - j * 65536;
    if (zp < INT32_MIN || zp > INT32_MAX || j == 32767)
      throw std::runtime_error("an accumulator beyond int32 - 2^15");
    s.outZp = int32_t(zp);
    run(s, lo.data());
    for (size_t k = 0; k < n; ++k)
      if (int64_t(hi[k]) - (1 << 15) == j) acc[k] = int32_t(int64_t(lo[k]) - zp);
  }
  return acc;
}

// Weights in Kiln's signed form: w - w_zp[channel] in int32.
std::vector<int32_t> signedWeights(const ConstTensor& w, const ConstTensor* zpT, int64_t channels,
                                   int64_t channelStride, int64_t channelDivisor,
                                   const std::string& what) {
  requireWeightType(w.dtype, what);
  if (zpT && zpT->dtype != w.dtype)
    throw SkipTest{what + " zero point type differs from the weights'"};
  const std::vector<double> zps = perChannel(zpT, channels, 0.0, what + " zero point");
  const std::vector<int64_t> wi = w.ints();
  std::vector<int32_t> out(wi.size());
  for (size_t k = 0; k < wi.size(); ++k) {
    const int64_t c = (int64_t(k) / channelDivisor) % channelStride;
    out[k] = int32_t(wi[k] - int64_t(zps[size_t(c)]));
  }
  return out;
}

// Explains a mismatching requantized element: the accumulator, the exact real rescale and
// Kiln's multiplier.
std::string explainRescale(int64_t acc, double ratio, rt::Multiplier m, int64_t yzp) {
  std::ostringstream os;
  const long double exact = static_cast<long double>(acc) * ratio;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.12Lf", exact);
  os << "acc = " << acc << ", acc * M = " << buf << " (M = " << ratio
     << "), Kiln m/2^shift = " << m.m << "/2^" << m.shift << " -> " << rt::requantize(acc, m)
     << ", + y_zp " << yzp;
  return os.str();
}

// Geometry of a 2-D ONNX convolution (ConvInteger, QLinearConv).
rt::ConvGeometry convGeometry(const ::onnx::NodeProto& n, const Shape& xs, const Shape& ws) {
  if (xs.size() != 4 || ws.size() != 4)
    throw SkipTest{"not a 2-D convolution (input rank " + std::to_string(xs.size()) +
                   "); Kiln maps the 2-D (NCHW) form only"};
  rt::ConvGeometry g;
  g.n = xs[0], g.c = xs[1], g.h = xs[2], g.w = xs[3];
  g.k = ws[0];
  g.groups = attrInt(n, "group", 1);
  if (g.groups < 1 || g.c % g.groups || g.k % g.groups || ws[1] != g.c / g.groups)
    throw std::runtime_error("inconsistent group / channel counts");
  const std::vector<int64_t> ks = attrInts(n, "kernel_shape", {ws[2], ws[3]});
  g.kh = ks[0], g.kw = ks[1];
  const std::vector<int64_t> st = attrInts(n, "strides", {1, 1}),
                             dl = attrInts(n, "dilations", {1, 1});
  g.sh = st[0], g.sw = st[1], g.dh = dl[0], g.dw = dl[1];
  std::vector<int64_t> pads = attrInts(n, "pads", {0, 0, 0, 0});
  const std::string autoPad = attrString(n, "auto_pad", "NOTSET");
  const int64_t ekh = (g.kh - 1) * g.dh + 1, ekw = (g.kw - 1) * g.dw + 1;
  if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    const int64_t oh = (g.h + g.sh - 1) / g.sh, ow = (g.w + g.sw - 1) / g.sw;
    const int64_t th = std::max<int64_t>(0, (oh - 1) * g.sh + ekh - g.h);
    const int64_t tw = std::max<int64_t>(0, (ow - 1) * g.sw + ekw - g.w);
    const bool upper = autoPad == "SAME_UPPER";
    pads = {upper ? th / 2 : th - th / 2, upper ? tw / 2 : tw - tw / 2,
            upper ? th - th / 2 : th / 2, upper ? tw - tw / 2 : tw / 2};
  } else if (autoPad == "VALID") {
    pads = {0, 0, 0, 0};
  }
  g.pt = pads[0], g.pl = pads[1], g.pb = pads[2], g.pr = pads[3];
  g.oh = (g.h + g.pt + g.pb - ekh) / g.sh + 1;
  g.ow = (g.w + g.pl + g.pr - ekw) / g.sw + 1;
  return g;
}

Outcome runConv(const ::onnx::NodeProto& n, const NodeInputs& in,
                const std::vector<ConstTensor>& expected, bool qlinear) {
  // ConvInteger: x, w, x_zp?, w_zp?   QLinearConv: x, xs, xzp, w, ws, wzp, ys, yzp, B?
  const ConstTensor& x = *in.at(0);
  const ConstTensor& w = *in.at(qlinear ? 3 : 1);
  const ConstTensor* xzpT = in.at(2);
  const ConstTensor* wzpT = in.at(qlinear ? 5 : 3);
  const int32_t xoff = domainOffset(x.dtype, "x");
  const int64_t xzp =
      scalarInt(xzpT, 0, "x_zero_point", "Kiln's activations are per-tensor") + xoff;
  const rt::ConvGeometry g = convGeometry(n, x.shape, w.shape);
  const int64_t perK = numel(w.shape) / g.k;
  const std::vector<int32_t> wq = signedWeights(w, wzpT, g.k, g.k, perK, "w");
  std::vector<rt::Act> xu(size_t(x.numel()));
  const std::vector<int64_t> xi = x.ints();
  for (size_t k = 0; k < xi.size(); ++k) xu[k] = rt::Act(xi[k] + xoff);

  std::vector<int64_t> bias(size_t(g.k), 0);
  std::vector<rt::Multiplier> mult;
  std::vector<double> ratio;
  rt::ConvParams p;
  p.g = g;
  p.inZp = int32_t(xzp);
  p.weights = wq.data();
  int32_t yoff = 0;
  int64_t yzp = 0;
  if (qlinear) {
    if (!isPerTensor(*in.at(1))) throw SkipTest{"x_scale is not per-tensor"};
    if (!isPerTensor(*in.at(6))) throw SkipTest{"y_scale is not per-tensor"};
    const double xs = in.at(1)->value(0), ys = in.at(6)->value(0);
    const std::vector<double> ws = perChannel(in.at(4), g.k, 1.0, "w_scale");
    yoff = domainOffset(in.at(7) ? in.at(7)->dtype : int32_t(TP::UINT8), "y");
    yzp = scalarInt(in.at(7), 0, "y_zero_point", "Kiln's activations are per-tensor") + yoff;
    for (int64_t c = 0; c < g.k; ++c) {
      ratio.push_back(xs * ws[size_t(c)] / ys);
      mult.push_back(quant::quantizeMultiplier(ratio.back()));
    }
    if (const ConstTensor* b = in.at(8)) {
      const std::vector<int64_t> bi = b->ints();
      if (int64_t(bi.size()) != g.k) throw std::runtime_error("bias size");
      bias.assign(bi.begin(), bi.end());
    }
    p.out.mult = mult.data();
    p.out.perChannel = true;
    p.out.outZp = int32_t(yzp);
    p.out.qmin = 0;
    p.out.qmax = 255;
  }
  p.bias = bias.data();
  const size_t outCount = size_t(g.n * g.k * g.oh * g.ow);
  // ConvInteger's output is the accumulator; QLinearConv's the device value.
  auto accumulators = [&] {
    return wideAccumulators(outCount, [&](const rt::OutputStage& st, rt::Act* out) {
      rt::ConvParams pa = p;
      pa.out = st;
      rt::conv2d(pa, xu.data(), out);
    });
  };
  std::vector<int32_t> got;
  if (qlinear) {
    std::vector<rt::Act> dev(outCount);
    rt::conv2d(p, xu.data(), dev.data());
    for (rt::Act v : dev) got.push_back(int32_t(v) - yoff);
  } else {
    got = accumulators();
  }

  std::string detail;
  const std::vector<int64_t> e = expected[0].ints();
  if (qlinear && e.size() == got.size()) {
    // Accumulators for the diagnosis of the first mismatch: the same kernel.
    const std::vector<int32_t> acc = accumulators();
    int shown = 0;
    for (size_t k = 0; k < e.size() && shown < 8; ++k)
      if (int64_t(got[k]) != e[k]) {
        const int64_t c = int64_t(k) / (g.oh * g.ow) % g.k;
        detail += std::string(shown ? " | " : "") + "[" + std::to_string(k) + "] " +
                  explainRescale(acc[k], ratio[size_t(c)], mult[size_t(c)], yzp - yoff) +
                  ", expected " + std::to_string(e[k]);
        ++shown;
      }
  }
  const std::string err = compareInts(got, expected[0], {g.n, g.k, g.oh, g.ow}, &detail);
  return err.empty() ? Outcome{Outcome::Pass, ""} : Outcome{Outcome::Fail, err};
}

// numpy matmul broadcasting of the leading (batch) dimensions.
Outcome runMatMul(const ::onnx::NodeProto&, const NodeInputs& in,
                  const std::vector<ConstTensor>& expected, bool qlinear) {
  // MatMulInteger: A, B, a_zp?, b_zp?   QLinearMatMul: a, as, azp, b, bs, bzp, ys, yzp
  const ConstTensor& A = *in.at(0);
  const ConstTensor& B = *in.at(qlinear ? 3 : 1);
  const ConstTensor* azpT = in.at(2);
  const ConstTensor* bzpT = in.at(qlinear ? 5 : 3);
  if (A.shape.size() < 2 || B.shape.size() < 2)
    throw SkipTest{"1-D matmul operand; Kiln's fully connected layer is [M, K] x [K, N]"};
  const int64_t M = A.shape[A.shape.size() - 2], K = A.shape.back(), N = B.shape.back();
  if (B.shape[B.shape.size() - 2] != K) throw std::runtime_error("K mismatch");
  const int32_t aoff = domainOffset(A.dtype, "A");
  const int64_t azp = scalarInt(azpT, 0, "a_zero_point",
                                "per-row zero points; Kiln's activation zero point is per-tensor") +
                      aoff;
  // Per-column (N) weight zero points fold into the signed weights.
  const std::vector<int32_t> bq = signedWeights(B, bzpT, N, N, 1, "B");
  std::vector<rt::Act> au(size_t(A.numel()));
  const std::vector<int64_t> ai = A.ints();
  for (size_t k = 0; k < ai.size(); ++k) au[k] = rt::Act(ai[k] + aoff);

  // Broadcast batch shape.
  const Shape ab(A.shape.begin(), A.shape.end() - 2), bb(B.shape.begin(), B.shape.end() - 2);
  const size_t rank = std::max(ab.size(), bb.size());
  Shape batch(rank, 1), sa(rank, 0), sb(rank, 0);
  {
    int64_t stA = M * K, stB = K * N;
    for (size_t i = 0; i < rank; ++i) {
      const size_t d = rank - 1 - i;
      const int64_t da = i < ab.size() ? ab[ab.size() - 1 - i] : 1;
      const int64_t db = i < bb.size() ? bb[bb.size() - 1 - i] : 1;
      if (da != db && da != 1 && db != 1) throw std::runtime_error("batch dims do not broadcast");
      batch[d] = std::max(da, db);
      sa[d] = da == 1 ? 0 : stA;
      sb[d] = db == 1 ? 0 : stB;
      stA *= da;
      stB *= db;
    }
  }
  Shape outShape = batch;
  outShape.push_back(M);
  outShape.push_back(N);

  std::vector<int64_t> bias(size_t(N), 0);
  std::vector<rt::Multiplier> mult;
  std::vector<double> ratio;
  rt::FcParams p;
  p.m = M, p.k = K, p.n = N;
  p.inZp = int32_t(azp);
  p.bias = bias.data();
  int32_t yoff = 0;
  int64_t yzp = 0;
  if (qlinear) {
    if (!isPerTensor(*in.at(1))) throw SkipTest{"a_scale is not per-tensor"};
    if (!isPerTensor(*in.at(6))) throw SkipTest{"y_scale is not per-tensor"};
    const double as = in.at(1)->value(0), ys = in.at(6)->value(0);
    const std::vector<double> bs = perChannel(in.at(4), N, 1.0, "b_scale");
    yoff = domainOffset(in.at(7) ? in.at(7)->dtype : int32_t(TP::UINT8), "y");
    yzp = scalarInt(in.at(7), 0, "y_zero_point", "Kiln's activations are per-tensor") + yoff;
    for (int64_t c = 0; c < N; ++c) {
      ratio.push_back(as * bs[size_t(c)] / ys);
      mult.push_back(quant::quantizeMultiplier(ratio.back()));
    }
    p.out.mult = mult.data();
    p.out.perChannel = true;
    p.out.outZp = int32_t(yzp);
    p.out.qmin = 0;
    p.out.qmax = 255;
  }

  const int64_t nb = numel(batch);
  std::vector<int32_t> got(size_t(nb * M * N)), acc(got.size());
  std::vector<rt::Act> dev(size_t(M * N));
  for (int64_t b = 0; b < nb; ++b) {
    int64_t offA = 0, offB = 0, r = b;
    for (size_t d = rank; d-- > 0;) {
      const int64_t idx = r % batch[d];
      r /= batch[d];
      offA += idx * sa[d];
      offB += idx * sb[d];
    }
    rt::FcParams pb = p;
    pb.weights = bq.data() + offB;
    // MatMulInteger's output is the accumulator; QLinearMatMul's the device value (and the
    // accumulator explains a mismatch).
    const std::vector<int32_t> wide =
        wideAccumulators(dev.size(), [&](const rt::OutputStage& st, rt::Act* out) {
          rt::FcParams pa = pb;
          pa.out = st;
          rt::fullyConnected(pa, au.data() + offA, out);
        });
    std::copy(wide.begin(), wide.end(), acc.begin() + b * M * N);
    if (qlinear) {
      rt::fullyConnected(pb, au.data() + offA, dev.data());
      for (size_t k = 0; k < dev.size(); ++k) got[size_t(b * M * N) + k] = int32_t(dev[k]) - yoff;
    } else {
      std::copy(wide.begin(), wide.end(), got.begin() + b * M * N);
    }
  }

  std::string detail;
  const std::vector<int64_t> e = expected[0].ints();
  if (qlinear && e.size() == got.size()) {
    int shown = 0;
    for (size_t k = 0; k < e.size() && shown < 8; ++k)
      if (int64_t(got[k]) != e[k]) {
        const size_t c = k % size_t(N);
        detail += std::string(shown ? " | " : "") + "[" + std::to_string(k) + "] " +
                  explainRescale(acc[k], ratio[c], mult[c], yzp - yoff) + ", expected " +
                  std::to_string(e[k]);
        ++shown;
      }
  }
  const std::string err = compareInts(got, expected[0], outShape, &detail);
  return err.empty() ? Outcome{Outcome::Pass, ""} : Outcome{Outcome::Fail, err};
}

// ---------------------------------------------------------------------------------------------

Outcome runTest(const fs::path& dir) {
  ::onnx::ModelProto model;
  if (!parseFile(dir / "model.onnx", model)) return {Outcome::Fail, "cannot parse model.onnx"};
  const ::onnx::GraphProto& g = model.graph();
  if (g.node_size() != 1) return {Outcome::Skip, "not a single-node test"};
  const ::onnx::NodeProto& node = g.node(0);

  // Graph inputs come from input_N.pb (in order) or from initializers.
  const fs::path data = dir / "test_data_set_0";
  std::map<std::string, ConstTensor> values;
  for (const auto& t : g.initializer())
    values[t.name()] = kiln::onnx::fromProto(t, dir.string(), t.name());
  int fileIdx = 0;
  for (int i = 0; i < g.input_size(); ++i) {
    const std::string& name = g.input(i).name();
    if (values.count(name)) continue;
    const fs::path pb = data / ("input_" + std::to_string(fileIdx++) + ".pb");
    ::onnx::TensorProto t;
    if (!parseFile(pb, t)) return {Outcome::Fail, "cannot read " + pb.filename().string()};
    if (!kiln::onnx::constDtypeSupported(t.data_type()))
      return {Outcome::Skip, "input '" + name + "' has element type " +
                                 std::to_string(t.data_type()) +
                                 " (float8/int4/…), which Kiln does not model"};
    values[name] = kiln::onnx::fromProto(t, data.string(), name);
  }
  NodeInputs in;
  for (int i = 0; i < node.input_size(); ++i) {
    auto it = node.input(i).empty() ? values.end() : values.find(node.input(i));
    in.v.push_back(it == values.end() ? nullptr : &it->second);
  }
  std::vector<ConstTensor> expected;
  for (int i = 0; i < g.output_size(); ++i) {
    const fs::path pb = data / ("output_" + std::to_string(i) + ".pb");
    ::onnx::TensorProto t;
    if (!parseFile(pb, t)) return {Outcome::Fail, "cannot read " + pb.filename().string()};
    if (!kiln::onnx::constDtypeSupported(t.data_type()))
      return {Outcome::Skip, "output has element type " + std::to_string(t.data_type()) +
                                 " (float8/int4/…), which Kiln does not model"};
    expected.push_back(kiln::onnx::fromProto(t, data.string(), "output"));
  }
  if (expected.size() != 1)
    return {Outcome::Skip, "more than one output (y_scale/y_zp outputs: dynamic quantization)"};

  const std::string& op = node.op_type();
  try {
    if (op == "QuantizeLinear") return runQuantizeLinear(node, in, expected);
    if (op == "DequantizeLinear") return runDequantizeLinear(node, in, expected);
    if (op == "ConvInteger") return runConv(node, in, expected, false);
    if (op == "QLinearConv") return runConv(node, in, expected, true);
    if (op == "MatMulInteger") return runMatMul(node, in, expected, false);
    if (op == "QLinearMatMul") return runMatMul(node, in, expected, true);
  } catch (const SkipTest& s) {
    return {Outcome::Skip, s.reason};
  }
  return {Outcome::Skip, "op " + op + " is not one of the exact-integer operators"};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <onnx node tests dir> [name filter]\n", argv[0]);
    return 2;
  }
  const std::string filter = argc > 2 ? argv[2] : "";
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(argv[1])) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory() || name.find(filter) == std::string::npos) continue;
    ::onnx::ModelProto m;
    if (name.rfind("test_", 0) != 0 || !parseFile(e.path() / "model.onnx", m)) continue;
    // A test is ours when its graph is made of the exact-integer operators only.
    bool ours = m.graph().node_size() > 0;
    for (const auto& n : m.graph().node())
      ours &= (n.domain().empty() || n.domain() == "ai.onnx") &&
              std::find(std::begin(kOps), std::end(kOps), n.op_type()) != std::end(kOps);
    if (ours) dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());
  if (dirs.empty()) {
    std::fprintf(stderr, "no exact-integer node tests in %s\n", argv[1]);
    return 2;
  }
  int passed = 0, failed = 0, skipped = 0;
  for (const auto& dir : dirs) {
    Outcome o;
    try {
      o = runTest(dir);
    } catch (const std::exception& e) {
      o = {Outcome::Fail, e.what()};
    }
    const std::string name = dir.filename().string();
    switch (o.kind) {
      case Outcome::Pass:
        ++passed;
        std::printf("PASS %s\n", name.c_str());
        break;
      case Outcome::Fail:
        ++failed;
        std::printf("FAIL %s: %s\n", name.c_str(), o.reason.c_str());
        break;
      case Outcome::Skip:
        ++skipped;
        std::printf("SKIP %s: %s\n", name.c_str(), o.reason.c_str());
        break;
    }
  }
  std::printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return failed ? 1 : 0;
}
