// Integer implementations of softmax, layer_normalization, matmul, reduce_mean/max/sum,
// depth_to_space and space_to_depth: (a) end to end, a tiny ONNX model calibrated on a few random
// inputs at a8_w8 and a16_w16 stays within a few output quantization steps of float; (b) the
// kernels give hand-computed integers exactly; (c) every layer type of layer_types.def quantizes
// or is refused by canQuantize with the offending layers listed.
#include <cmath>

#include "compiler/archive/archive.h"
#include "compiler/emulator/quant_executor.h"
#include "compiler/ir/verifier.h"
#include "compiler/quant/prepare.h"
#include "compiler/quant/quant_math.h"
#include "runtime/kernels/kernels.h"
#include "tests/support/test_util.h"

namespace kiln::test {
namespace {

const char* kHeader17 = "<ir_version: 8, opset_import: [\"\" : 17]>\n";

struct Quantized {
  Graph g;
  std::vector<std::vector<FloatBuffer>> calib;
};

// Imports `body`, calibrates on four random samples per input and quantizes every layer at `mode`.
Quantized quantize(const std::string& body, const std::vector<Shape>& inputs,
                   const std::string& mode, float lo = -2, float hi = 2) {
  Quantized q;
  q.g = importText(std::string(kHeader17) + body);
  for (unsigned s = 0; s < 4; ++s) {
    std::vector<FloatBuffer> sample;
    for (size_t i = 0; i < inputs.size(); ++i)
      sample.push_back(randomInput(inputs[i], 100 + 10 * s + unsigned(i), lo, hi));
    q.calib.push_back(sample);
  }
  const quant::CalibStats stats = quant::collectStats(q.g, q.calib);
  quant::PrepareOptions opts;
  quant::LayerPrecision p;
  EXPECT_TRUE(quant::parsePrecisionMode(mode, p.mode));
  for (size_t i = 0; i < q.g.layers.size(); ++i) opts.precision[int(i)] = p;
  quant::prepareQuantization(q.g, stats, opts);
  verify(q.g);
  return q;
}

// Largest |dequantized integer result - float result| over the calibration samples, in output
// quantization steps.
double maxErrorSteps(const Quantized& q) {
  const QuantInfo& oq = q.g.at(q.g.outputLayers()[0]).outputQuant[0];
  double worst = 0;
  for (const auto& sample : q.calib) {
    const FloatBuffer f = runFloat(q.g, sample)[0];
    const FloatBuffer d = dequantize(runQuantized(q.g, sample)[0], oq);
    EXPECT_EQ(f.shape, d.shape);
    for (size_t i = 0; i < f.data.size(); ++i)
      worst = std::max(worst, std::fabs(double(f.data[i]) - double(d.data[i])) / oq.scale);
  }
  return worst;
}

void expectClose(const std::string& body, const std::vector<Shape>& inputs,
                 const std::string& types, double steps8 = 3, double steps16 = 3) {
  for (const char* mode : {"a8_w8", "a16_w16"}) {
    const Quantized q = quantize(body, inputs, mode);
    EXPECT_EQ(layerTypes(q.g), types);
    const double e = maxErrorSteps(q);
    std::cout << types << " " << mode << ": max error " << e << " steps\n";
    EXPECT_LE(e, std::string(mode) == "a8_w8" ? steps8 : steps16) << types << " " << mode;
  }
}

TEST(QuantLayers, SoftmaxLastAxis) {
  expectClose("g (float[2,3,10] x) => (float[2,3,10] y) { y = Softmax <axis = -1> (x) }",
              {{2, 3, 10}}, "input_layer softmax output_layer");
}

TEST(QuantLayers, SoftmaxMiddleAxisAndCoerced) {
  expectClose("g (float[2,5,3] x) => (float[2,5,3] y) { y = Softmax <axis = 1> (x) }", {{2, 5, 3}},
              "input_layer softmax output_layer");
  // Opset 11: every dimension from axis 1 on is one row.
  const std::string old =
      "<ir_version: 7, opset_import: [\"\" : 11]>\n"
      "g (float[2,3,4] x) => (float[2,3,4] y) { y = Softmax <axis = 1> (x) }";
  Graph g = importText(old);
  std::vector<std::vector<FloatBuffer>> calib = {{randomInput({2, 3, 4}, 5)}};
  quant::PrepareOptions opts;
  quant::prepareQuantization(g, quant::collectStats(g, calib), opts);
  const IntBuffer q = runQuantized(g, calib[0])[0];
  const QuantInfo& oq = g.at(g.outputLayers()[0]).outputQuant[0];
  EXPECT_EQ(oq.zeroPoint, 0);
  EXPECT_DOUBLE_EQ(oq.scale, 1.0 / 255);
  const FloatBuffer f = runFloat(g, calib[0])[0];
  for (size_t i = 0; i < f.data.size(); ++i) EXPECT_NEAR(q.data[i] / 255.0, f.data[i], 3.0 / 255);
}

TEST(QuantLayers, LayerNormalization) {
  const std::string body =
      "g (float[2,3,16] x) => (float[2,3,16] y) {\n"
      "  s = Constant <value = " +
      tensorLiteral({16}, 3, 0.5f, 1.5f) +
      "> ()\n"
      "  b = Constant <value = " +
      tensorLiteral({16}, 4, -0.5f, 0.5f) +
      "> ()\n"
      "  y = LayerNormalization <axis = -1, epsilon = 0.001> (x, s, b)\n}";
  expectClose(body, {{2, 3, 16}}, "input_layer layer_normalization output_layer");
}

TEST(QuantLayers, LayerNormalizationTwoAxesWithFusedActivations) {
  const std::string relu =
      "g (float[2,4,3] x) => (float[2,4,3] y) {\n"
      "  s = Constant <value = " +
      tensorLiteral({4, 3}, 5, -1.5f, 1.5f) +
      "> ()\n"
      "  b = Constant <value = " +
      tensorLiteral({4, 3}, 6, -0.5f, 0.5f) +
      "> ()\n"
      "  n = LayerNormalization <axis = 1> (x, s, b)\n"
      "  y = Relu (n)\n}";
  expectClose(relu, {{2, 4, 3}}, "input_layer layer_normalization+relu output_layer");
  const std::string sigmoid =
      "g (float[3,8] x) => (float[3,8] y) {\n"
      "  s = Constant <value = " +
      tensorLiteral({8}, 7, 0.5f, 2.f) +
      "> ()\n"
      "  b = Constant <value = " +
      tensorLiteral({8}, 8, -0.5f, 0.5f) +
      "> ()\n"
      "  n = LayerNormalization <axis = -1> (x, s, b)\n"
      "  y = Sigmoid (n)\n}";
  expectClose(sigmoid, {{3, 8}}, "input_layer layer_normalization+sigmoid output_layer");
}

TEST(QuantLayers, MatMulBroadcastsBatchAndFusesRelu) {
  expectClose("g (float[2,3,4,8] a, float[3,8,5] b) => (float[2,3,4,5] y) { y = MatMul (a, b) }",
              {{2, 3, 4, 8}, {3, 8, 5}}, "input_layer input_layer matmul output_layer");
  expectClose(
      "g (float[4,6] a, float[2,6,3] b) => (float[2,4,3] y) { m = MatMul (a, b)\n y = Relu (m) }",
      {{4, 6}, {2, 6, 3}}, "input_layer input_layer matmul+relu output_layer");
}

TEST(QuantLayers, Reductions) {
  expectClose("g (float[2,3,4,5] x) => (float[2,1,4,1] y) { y = ReduceMean <axes = [1,3]> (x) }",
              {{2, 3, 4, 5}}, "input_layer reduce_mean output_layer");
  expectClose(
      "g (float[2,3,4] x) => (float[2,4] y) { y = ReduceMean <axes = [1], keepdims = 0> (x) }",
      {{2, 3, 4}}, "input_layer reduce_mean output_layer");
  expectClose(
      "g (float[2,3,4] x) => (float[3] y) {\n"
      "  a = Constant <value = int64[2] {0, 2}> ()\n"
      "  y = ReduceSum <keepdims = 0> (x, a)\n}",
      {{2, 3, 4}}, "input_layer reduce_sum output_layer");
  expectClose("g (float[2,3,4] x) => (float[2,1,4] y) { y = ReduceMax <axes = [1]> (x) }",
              {{2, 3, 4}}, "input_layer reduce_max output_layer");
}

// Quantization-keeping layers: on inputs that are exactly representable, the dequantized integer
// result equals the float result bit for bit.
void expectExact(const std::string& body, const Shape& in, const std::string& types) {
  for (const char* mode : {"a8_w8", "a16_w16"}) {
    const Quantized q = quantize(body, {in}, mode);
    EXPECT_EQ(layerTypes(q.g), types);
    const QuantInfo& iq = q.g.at(q.g.inputLayers()[0]).outputQuant[0];
    const QuantInfo& oq = q.g.at(q.g.outputLayers()[0]).outputQuant[0];
    EXPECT_TRUE(iq == oq);
    for (const auto& sample : q.calib) {
      const FloatBuffer x = dequantize(quantizeInput(sample[0], iq), iq);
      EXPECT_EQ(dequantize(runQuantized(q.g, {x})[0], oq).data, runFloat(q.g, {x})[0].data)
          << types;
    }
  }
}

TEST(QuantLayers, DataMovementAndMaxKeepQuantization) {
  expectExact("g (float[1,8,2,3] x) => (float[1,2,4,6] y) { y = DepthToSpace <blocksize = 2> (x) }",
              {1, 8, 2, 3}, "input_layer depth_to_space output_layer");
  expectExact(
      "g (float[1,8,2,3] x) => (float[1,2,4,6] y) { y = DepthToSpace <blocksize = 2, mode = "
      "\"CRD\"> (x) }",
      {1, 8, 2, 3}, "input_layer depth_to_space output_layer");
  expectExact(
      "g (float[2,3,4,6] x) => (float[2,12,2,3] y) { y = SpaceToDepth <blocksize = 2> (x) }",
      {2, 3, 4, 6}, "input_layer space_to_depth output_layer");
  expectExact("g (float[1,3,4,5] x) => (float[1,3,1,1] y) { y = GlobalMaxPool (x) }", {1, 3, 4, 5},
              "input_layer reduce_max output_layer");
}

TEST(QuantLayers, APadValueOutsideItsInputsRangeWidensThatRange) {
  // The relu output is [0, 2]; the pad writes -0.5 (fold_affine_forward's pads write the value an
  // affine maps to 0). The pad keeps its input's quantization, so that range must hold -0.5, or
  // the borders would read 0, 64 steps away.
  const Quantized q = quantize(
      "g (float[1,2,3,3] x) => (float[1,2,5,5] y) {\n"
      "  r = Relu (x)\n"
      "  p = Constant <value = int64[8] {0, 0, 1, 1, 0, 0, 1, 1}> ()\n"
      "  v = Constant <value = float {-0.5}> ()\n"
      "  y = Pad (r, p, v)\n}",
      {{1, 2, 3, 3}}, "a8_w8");
  EXPECT_LE(q.g.at(q.g.outputLayers()[0]).outputQuant[0].min, -0.5);
  EXPECT_LE(maxErrorSteps(q), 2.0);  // the input's rounding and the relu's; clamped: 64 steps
}

TEST(QuantLayers, NewQParamsSurviveTheArchive) {
  const std::string body =
      "g (float[2,4,8] a, float[2,8,8] b) => (float[2,4,8] y) {\n"
      "  s = Constant <value = " +
      tensorLiteral({8}, 3, 0.5f, 1.5f) +
      "> ()\n"
      "  m = MatMul (a, b)\n"
      "  n = LayerNormalization <axis = -1> (m, s)\n"
      "  r = ReduceMean <axes = [1]> (n)\n"
      "  d = Add (n, r)\n"
      "  y = Softmax <axis = -1> (d)\n}";
  for (const char* mode : {"a8_w8", "a16_w16", "a8_w4"}) {
    Archive a;
    const Quantized q = quantize(body, {{2, 4, 8}, {2, 8, 8}}, mode);
    a.graph = q.g;
    const std::string path = ::testing::TempDir() + "/quant_layers.kar";
    writeArchive(path, a);
    const Archive r = readArchive(path);
    EXPECT_EQ(runQuantized(a.graph, q.calib[0])[0].data, runQuantized(r.graph, q.calib[0])[0].data)
        << mode;
    EXPECT_LE(maxErrorSteps(q), 4) << mode;
  }
}

// --- Hand-computed integers ---------------------------------------------------------------

rt::OutputStage stage(const rt::Multiplier* m, int32_t zp, int32_t qmax = 255) {
  rt::OutputStage s;
  s.mult = m;
  s.outZp = zp;
  s.qmin = 0;
  s.qmax = qmax;
  return s;
}

TEST(QuantLayersExact, Softmax) {
  // Row [5, 4, 3, 0]: d = 0, 1, 2, 5 -> e = 1024, 512, 256, 0 (past the table); sum 1792;
  // 1024·255/1792 = 145.71 -> 146, 512·255/1792 = 72.86 -> 73, 256·255/1792 = 36.43 -> 36.
  const int32_t table[] = {1024, 512, 256};
  rt::SoftmaxParams p;
  p.len = 4;
  p.expTable = table;
  p.expTableSize = 3;
  p.outMax = 255;
  const rt::Act in[] = {5, 4, 3, 0};
  rt::Act out[4];
  rt::softmax(p, in, out);
  EXPECT_EQ(std::vector<int32_t>(out, out + 4), (std::vector<int32_t>{146, 73, 36, 0}));
  // Strided rows (axis 0 of [2, 2]): columns [7, 7] and [1, 9].
  p.len = 2, p.inner = 2;
  const rt::Act in2[] = {7, 1, 7, 9};
  rt::softmax(p, in2, out);
  EXPECT_EQ(std::vector<int32_t>(out, out + 4),
            (std::vector<int32_t>{128, 0, 128, 255}));  // 127.5 -> 128
}

TEST(QuantLayersExact, SoftmaxTableFromPrepare) {
  // s_in = ln 2: the table is 2^(30 - d); with x = [0, 1, 2] (any zero point) e = 2^28, 2^29, 2^30.
  Graph g =
      importText(std::string(kHeader17) + "g (float[1,3] x) => (float[1,3] y) { y = Softmax (x) }");
  quant::CalibStats st;
  st.out.assign(g.layers.size(), {});
  st.pre.assign(g.layers.size(), {});
  quant::PrepareOptions opts;
  st.out[0] = {0.0, std::log(2.0) * 255};
  quant::prepareQuantization(g, st, opts);
  const int sm = g.outputLayers()[0] - 1;
  ASSERT_EQ(g.layers[sm].type, LayerType::Softmax);
  const auto& t = g.layers[sm].qparam("softmax_exp").data;
  // 2^(30-31) ~ 0.5 may round either way (s_in is ln 2 to 1 ulp), 2^-2 to 0.
  ASSERT_TRUE(t.size() == 31u || t.size() == 32u) << t.size();
  for (int d = 0; d < 31; ++d) EXPECT_EQ(t[d], int64_t(1) << (30 - d));
  const IntBuffer q = runQuantized(
      g, {FloatBuffer{{1, 3}, {0.f, float(std::log(2.0)), float(2 * std::log(2.0))}}})[0];
  // 2^28·255 / (7·2^28) = 36.43 -> 36, 72.86 -> 73, 145.71 -> 146.
  EXPECT_EQ(q.data, (std::vector<int32_t>{36, 73, 146}));
}

TEST(QuantLayersExact, InverseSquareRoot) {
  EXPECT_EQ(rt::isqrt64(0), 0u);
  EXPECT_EQ(rt::isqrt64(80), 8u);
  EXPECT_EQ(rt::isqrt64(81), 9u);
  EXPECT_EQ(rt::isqrt64((uint64_t(1) << 62) - 1), (uint64_t(1) << 31) - 1);
  EXPECT_EQ(rt::isqrt64(~uint64_t(0)), 0xFFFFFFFFu);
  auto eq = [](rt::Multiplier a, int32_t m, int32_t s) {
    EXPECT_EQ(a.m, m);
    EXPECT_EQ(a.shift, s);
  };
  eq(rt::invSqrtMultiplier(1, 20), 1 << 30, 10);  // 2^20 / 1
  eq(rt::invSqrtMultiplier(4, 20), 1 << 30, 11);  // 2^20 / 2
  eq(rt::invSqrtMultiplier(80, 20), 1920767766,
     14);  // floor(2^34 / sqrt(80)) = floor(1920767766.6)
  // Always the floor of the real value with m in [2^30, 2^31).
  for (int64_t d :
       {int64_t(2), int64_t(3), int64_t(12345), int64_t(1) << 40, (int64_t(1) << 61) - 1}) {
    const rt::Multiplier m = rt::invSqrtMultiplier(d, 20);
    EXPECT_GE(m.m, 1 << 30);
    const long double exact = std::ldexp(1.0L, 20 + m.shift) / std::sqrt((long double)d);
    EXPECT_EQ(m.m, int64_t(std::floor(exact))) << d;
  }
}

TEST(QuantLayersExact, LayerNorm) {
  // Row [0, 2, 4, 6], zero point 3: x' = [-3, -1, 1, 3], S1 = 0, S2 = 20, D = 80;
  // z = requantize(4 x', 1920767766, 14) = [-1406812, -468937, 468937, 1406812] (x'/sqrt(5) ·
  // 2^20); output ×64 / 2^20 + 128: [-85.86, -28.62, 28.62, 85.86] + 128 -> [42, 99, 157, 214].
  const rt::Multiplier m = {1 << 30, 30 + 14};
  const int64_t gamma[] = {1, 1, 1, 1}, beta[] = {0, 0, 0, 0};
  rt::LayerNormParams p;
  p.len = 4;
  p.inZp = 3;
  p.gamma = gamma;
  p.beta = beta;
  p.out = stage(&m, 128);
  const rt::Act in[] = {0, 2, 4, 6};
  rt::Act out[4];
  rt::layerNorm(p, in, out);
  EXPECT_EQ(std::vector<int32_t>(out, out + 4), (std::vector<int32_t>{42, 99, 157, 214}));
  // Two rows of two, gamma [3, -2], beta [2^19, 0], output ×16 / 2^20 + 128, epsQ 0:
  // [1, 3]: normalized [-1, 1] -> acc [-3·2^20 + 2^19, -2·2^20] -> [-40, -32] -> [88, 96].
  // [5, 5]: D = 0, z = 0 -> acc [2^19, 0] -> [8, 0] -> [136, 128].
  const rt::Multiplier m16 = {1 << 30, 30 + 16};
  const int64_t g2[] = {3, -2}, b2[] = {int64_t(1) << 19, 0};
  p.rows = 2, p.len = 2, p.inZp = 2, p.gamma = g2, p.beta = b2;
  p.out = stage(&m16, 128);
  const rt::Act in2[] = {1, 3, 5, 5};
  rt::layerNorm(p, in2, out);
  EXPECT_EQ(std::vector<int32_t>(out, out + 4), (std::vector<int32_t>{88, 96, 136, 128}));
}

TEST(QuantLayersExact, MatMul) {
  // (a - 1) = [[0, 1], [2, 3]], (b - 5) = same; product [[2, 3], [6, 11]]; ×1 + 10. The second
  // batch of a reuses b's only matrix (broadcast, stride 0): (a - 1) = [[1, 0], [0, 1]] ->
  // identity.
  const rt::Multiplier one = {1 << 30, 30};
  rt::MatMulParams p;
  p.batch = {2};
  p.batchStrideA = {1};
  p.batchStrideB = {0};
  p.m = p.k = p.n = 2;
  p.zpA = 1, p.zpB = 5;
  p.out = stage(&one, 10);
  const rt::Act a[] = {1, 2, 3, 4, 2, 1, 1, 2}, b[] = {5, 6, 7, 8};
  rt::Act out[8];
  rt::matmul(p, a, b, out);
  EXPECT_EQ(std::vector<int32_t>(out, out + 8),
            (std::vector<int32_t>{12, 13, 16, 21, 10, 11, 12, 13}));
}

TEST(QuantLayersExact, Reduce) {
  // [[2, 4, 5], [0, 0, 10]], zero point 2. Mean over axis 1: sums 5 and 4, /3 -> 1.67 -> 2 and
  // 1.33 -> 1, + 100. Sum over axis 0 (×1, + 50): [-2+0, 2-2, 3+8] -> [48, 50, 61]. Max over axis
  // 0: [2, 4, 10] (quantized values directly).
  const rt::Act in[] = {2, 4, 5, 0, 0, 10};
  const rt::Multiplier third = quant::quantizeMultiplier(1.0 / 3), one = {1 << 30, 30};
  rt::ReduceParams p;
  p.inShape = {2, 3};
  p.reduced = {false, true};
  p.inZp = 2;
  p.out = stage(&third, 100);
  rt::Act out[3];
  rt::reduce(p, in, out);
  EXPECT_EQ(std::vector<int32_t>(out, out + 2), (std::vector<int32_t>{102, 101}));
  p.reduced = {true, false};
  p.out = stage(&one, 50);
  rt::reduce(p, in, out);
  EXPECT_EQ(std::vector<int32_t>(out, out + 3), (std::vector<int32_t>{48, 50, 61}));
  p.isMax = true;
  rt::reduce(p, in, out);
  EXPECT_EQ(std::vector<int32_t>(out, out + 3), (std::vector<int32_t>{2, 4, 10}));
}

TEST(QuantLayersExact, DepthToSpaceModes) {
  // 8 channels of 1x1 -> 2 channels of 2x2. DCR: out[c][y][x] = in[(y·2 + x)·2 + c];
  // CRD: out[c][y][x] = in[c·4 + y·2 + x].
  const rt::Act in[] = {0, 1, 2, 3, 4, 5, 6, 7};
  rt::Act out[8], back[8];
  rt::depthToSpace(1, 8, 1, 1, 2, false, in, out);
  EXPECT_EQ(std::vector<int32_t>(out, out + 8), (std::vector<int32_t>{0, 2, 4, 6, 1, 3, 5, 7}));
  rt::spaceToDepth(1, 2, 2, 2, 2, out, back);  // space_to_depth inverts DCR
  EXPECT_EQ(std::vector<int32_t>(back, back + 8), std::vector<int32_t>(in, in + 8));
  rt::depthToSpace(1, 8, 1, 1, 2, true, in, out);
  EXPECT_EQ(std::vector<int32_t>(out, out + 8), std::vector<int32_t>(in, in + 8));
}

// --- Coverage of layer_types.def ------------------------------------------------------------

TEST(QuantLayersCoverage, EveryLayerTypeQuantizes) {
  for (LayerType t : allLayerTypes()) {
    Layer l;
    l.type = t;
    l.name = typeWord(t);
    l.outputShapes = {{2, 8}};
    l.attrs["axis"] = int64_t(1);
    EXPECT_TRUE(quant::canQuantize(l)) << typeWord(t);
  }
}

TEST(QuantLayersCoverage, TooLongLayerNormRowsAreRefusedByName) {
  const std::string body =
      "g (float[2,8] x) => (float[2,8] y) {\n"
      "  s = Constant <value = " +
      tensorLiteral({8}, 3) +
      "> ()\n"
      "  y = LayerNormalization <axis = -1> (x, s)\n}";
  Graph g = importText(std::string(kHeader17) + body);
  Layer* ln = nullptr;
  for (Layer& l : g.layers)
    if (l.type == LayerType::LayerNormalization) ln = &l;
  ASSERT_NE(ln, nullptr);
  EXPECT_TRUE(quant::canQuantize(*ln));
  ln->outputShapes = {{2, quant::kLayerNormMaxLen + 1}};  // what a 16385-wide row would infer
  EXPECT_FALSE(quant::canQuantize(*ln));
  try {
    quant::prepareQuantization(g, quant::CalibStats{}, {});
    FAIL() << "expected a refusal";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cannot quantize 1 layer(s)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("layer_normalization"), std::string::npos) << msg;
    EXPECT_NE(msg.find("rows of 16385 elements"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace kiln::test
