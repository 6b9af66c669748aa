// The fold_affine_forward pass, before and after: a normalization left before a padded or grouped
// convolution folds into it (scale into the weights, shift into the bias); with a shift and
// padding, the padding moves into a pad layer of the value the affine maps to 0, so the borders
// stay exact. Per-channel shifts that disagree on that value, or another reader, leave it alone.
#include "common/npy.h"
#include "compiler/emulator/quant_executor.h"
#include "compiler/optimize/noise_analysis.h"
#include "compiler/optimize/optimizer.h"
#include "tests/support/pass_test_util.h"

namespace kiln::test {
namespace {

const char* kPass = "fold_affine_forward";
const char* kHeader = "<ir_version: 8, opset_import: [\"\" : 13]>\n";

// x * `scale` + `shift` (constant literals) -> depthwise conv 3x3 (3 channels) with pads 1.
std::string affineThenPaddedDw(const std::string& scale, const std::string& shift) {
  return std::string(kHeader) +
         "g (float[1,3,6,6] x) => (float[1,3,6,6] y) {\n"
         "  s = Constant <value = " +
         scale +
         "> ()\n"
         "  m = Mul (x, s)\n"
         "  t = Constant <value = " +
         shift +
         "> ()\n"
         "  a = Add (m, t)\n"
         "  w = Constant <value = " +
         tensorLiteral({3, 1, 3, 3}, 4) +
         "> ()\n"
         "  b = Constant <value = " +
         tensorLiteral({3}, 5) +
         "> ()\n"
         "  y = Conv <pads = [1,1,1,1], group = 3> (a, w, b)\n"
         "}";
}

TEST(FoldAffineForward, ScalarAffineBeforeAPaddedDepthwiseConvBecomesAPad) {
  const Graph before = importBefore(affineThenPaddedDw("float[1] {0.5}", "float[1] {0.25}"), kPass);
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 3, 6, 6] -> [1, 3, 6, 6]
normalization1 = normalization(input_layer1) bias[3] scale[3] -> [1, 3, 6, 6]
dw1 = dw(normalization1) dilations=[1, 1] group=3 pads=[1, 1, 1, 1] strides=[1, 1] bias[3] kernel[3, 1, 3, 3] -> [1, 3, 6, 6]
output_layer1 = output_layer(dw1) onnx_name=y -> [1, 3, 6, 6]
)");
  passes::PassNotes notes;
  Graph after = before;
  passes::runPass(after, kPass, &notes);
  // 0.5 x + 0.25 is 0 at x = -0.5: the pad writes that, and the dw pads no more.
  expectIr(after, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 3, 6, 6] -> [1, 3, 6, 6]
pad1 = pad(input_layer1) mode=constant pads=[0, 0, 1, 1, 0, 0, 1, 1] value=-0.5 -> [1, 3, 8, 8]
dw1 = dw(pad1) dilations=[1, 1] group=3 pads=[0, 0, 0, 0] strides=[1, 1] bias[3] kernel[3, 1, 3, 3] -> [1, 3, 6, 6]
output_layer1 = output_layer(dw1) onnx_name=y -> [1, 3, 6, 6]
)");
  expectSameFloatOutputs(before, after);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("1 affine layer(s) folded"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("into dw1 (padding of dw1 moved to a pad of value -0.5)"),
            std::string::npos)
      << notes[0];
}

TEST(FoldAffineForward, PerChannelScalesWithOneZeroOfTheAffineBecomeAPad) {
  // Scales 1.1 .. 747 (PP-OCR's range of channel scales) and shifts with one ratio: -t/s = 0.2.
  const Graph before = importBefore(affineThenPaddedDw("float[1,3,1,1] {1.1, 30.0, 747.0}",
                                                       "float[1,3,1,1] {-0.22, -6.0, -149.4}"),
                                    kPass);
  const Graph after = runPassOn(before, kPass);
  expectIr(after, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 3, 6, 6] -> [1, 3, 6, 6]
pad1 = pad(input_layer1) mode=constant pads=[0, 0, 1, 1, 0, 0, 1, 1] value=0.2 -> [1, 3, 8, 8]
dw1 = dw(pad1) dilations=[1, 1] group=3 pads=[0, 0, 0, 0] strides=[1, 1] bias[3] kernel[3, 1, 3, 3] -> [1, 3, 6, 6]
output_layer1 = output_layer(dw1) onnx_name=y -> [1, 3, 6, 6]
)");
  expectSameFloatOutputs(before, after, 1e-3f);
}

TEST(FoldAffineForward, AScaleAloneFoldsIntoAPaddedConvWithoutAPad) {
  // Zero padding commutes with a scale: nothing is left.
  const Graph before =
      importBefore(affineThenPaddedDw("float[1,3,1,1] {0.5, 3.0, -2.0}", "float[1] {0.0}"), kPass);
  const Graph after = runPassOn(before, kPass);
  expectIr(after, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 3, 6, 6] -> [1, 3, 6, 6]
dw1 = dw(input_layer1) dilations=[1, 1] group=3 pads=[1, 1, 1, 1] strides=[1, 1] bias[3] kernel[3, 1, 3, 3] -> [1, 3, 6, 6]
output_layer1 = output_layer(dw1) onnx_name=y -> [1, 3, 6, 6]
)");
  expectSameFloatOutputs(before, after);
}

TEST(FoldAffineForward, ReadByAPaddedDwAndA1x1ConvBothFold) {
  // A backbone stage read by the next stage (padded dw) and by the neck (1x1 conv).
  const std::string text = std::string(kHeader) +
                           "g (float[1,3,6,6] x) => (float[1,3,6,6] y, float[1,2,6,6] z) {\n"
                           "  s = Constant <value = float[1] {2.0}> ()\n"
                           "  m = Mul (x, s)\n"
                           "  t = Constant <value = float[1] {-1.0}> ()\n"
                           "  a = Add (m, t)\n"
                           "  w = Constant <value = " +
                           tensorLiteral({3, 1, 3, 3}, 4) +
                           "> ()\n"
                           "  y = Conv <pads = [1,1,1,1], group = 3> (a, w)\n"
                           "  v = Constant <value = " +
                           tensorLiteral({2, 3, 1, 1}, 6) +
                           "> ()\n"
                           "  z = Conv (a, v)\n"
                           "}";
  const Graph before = importBefore(text, kPass);
  const Graph after = runPassOn(before, kPass);
  expectIr(after, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 3, 6, 6] -> [1, 3, 6, 6]
pad1 = pad(input_layer1) mode=constant pads=[0, 0, 1, 1, 0, 0, 1, 1] value=0.5 -> [1, 3, 8, 8]
dw1 = dw(pad1) dilations=[1, 1] group=3 pads=[0, 0, 0, 0] strides=[1, 1] bias[3] kernel[3, 1, 3, 3] -> [1, 3, 6, 6]
conv1 = conv(input_layer1) dilations=[1, 1] group=1 pads=[0, 0, 0, 0] strides=[1, 1] bias[2] kernel[2, 3, 1, 1] -> [1, 2, 6, 6]
output_layer1 = output_layer(dw1) onnx_name=y -> [1, 3, 6, 6]
output_layer2 = output_layer(conv1) onnx_name=z -> [1, 2, 6, 6]
)");
  expectSameFloatOutputs(before, after);
}

TEST(FoldAffineForward, NotWhenTheChannelsDisagreeOnThePadValue) {
  // -t/s is 0.2, 0.1, 0.2: no single pad value keeps every border.
  const Graph before = importBefore(
      affineThenPaddedDw("float[1,3,1,1] {1.0, 2.0, 3.0}", "float[1,3,1,1] {-0.2, -0.2, -0.6}"),
      kPass);
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 3, 6, 6] -> [1, 3, 6, 6]
normalization1 = normalization(input_layer1) bias[3] scale[3] -> [1, 3, 6, 6]
dw1 = dw(normalization1) dilations=[1, 1] group=3 pads=[1, 1, 1, 1] strides=[1, 1] bias[3] kernel[3, 1, 3, 3] -> [1, 3, 6, 6]
output_layer1 = output_layer(dw1) onnx_name=y -> [1, 3, 6, 6]
)");
  expectUnchangedBy(before, kPass);
}

TEST(FoldAffineForward, NotWhenAnotherLayerReadsIt) {
  const std::string text = std::string(kHeader) +
                           "g (float[1,3,6,6] x) => (float[1,3,6,6] y, float[1,3,6,6] a) {\n"
                           "  s = Constant <value = float[1] {2.0}> ()\n"
                           "  m = Mul (x, s)\n"
                           "  t = Constant <value = float[1] {-1.0}> ()\n"
                           "  a = Add (m, t)\n"
                           "  w = Constant <value = " +
                           tensorLiteral({3, 1, 3, 3}, 4) +
                           "> ()\n"
                           "  y = Conv <pads = [1,1,1,1], group = 3> (a, w)\n"
                           "}";
  const Graph before = importBefore(text, kPass);
  expectIr(before, R"(
input_layer1 = input_layer() onnx_name=x user_shape=[1, 3, 6, 6] -> [1, 3, 6, 6]
normalization1 = normalization(input_layer1) bias[3] scale[3] -> [1, 3, 6, 6]
dw1 = dw(normalization1) dilations=[1, 1] group=3 pads=[1, 1, 1, 1] strides=[1, 1] bias[3] kernel[3, 1, 3, 3] -> [1, 3, 6, 6]
output_layer1 = output_layer(dw1) onnx_name=y -> [1, 3, 6, 6]
output_layer2 = output_layer(normalization1) onnx_name=a -> [1, 3, 6, 6]
)");
  expectUnchangedBy(before, kPass);
}

// The per-channel affine problem on a small network: conv + hardswish, then an affine with channel
// scales spanning 1.1 .. 747 (shifts with one zero, -t/s = 0.2), read by a padded depthwise conv
// and by a 1x1 conv whose weights undo the scales (so every channel matters as much downstream).
// Two readers: cross-layer equalization cannot rescale the affine, so unfolded, its per-tensor
// 8-bit grid is set by the 747 channel and the others lose their values. Folded, both convs read
// the hardswish output, and the pad writes -t/s on its grid.
std::string affineReadByTwoConvs() {
  const float s[4] = {1.1f, 20.f, 200.f, 747.f};
  std::string scale, shift, dw, pw;
  for (int c = 0; c < 4; ++c) {
    scale += (c ? ", " : "") + std::to_string(s[c]);
    shift += (c ? ", " : "") + std::to_string(-0.2f * s[c]);
    for (int k = 0; k < 9; ++k)
      dw += (dw.empty() ? "" : ", ") + std::to_string((k % 3 - 0.7f) / s[c]);
  }
  for (int o = 0; o < 2; ++o)
    for (int c = 0; c < 4; ++c)
      pw += (pw.empty() ? "" : ", ") + std::to_string((o == c % 2 ? 1.f : -0.5f) / s[c]);
  return std::string(kHeader) +
         "g (float[1,3,12,12] x) => (float[1,4,12,12] y, float[1,2,12,12] z) {\n"
         "  w = Constant <value = " +
         tensorLiteral({4, 3, 3, 3}, 7) +
         "> ()\n"
         "  c = Conv <pads = [1,1,1,1]> (x, w)\n"
         "  h = HardSwish (c)\n"
         "  s = Constant <value = float[1,4,1,1] {" +
         scale +
         "}> ()\n"
         "  m = Mul (h, s)\n"
         "  t = Constant <value = float[1,4,1,1] {" +
         shift +
         "}> ()\n"
         "  a = Add (m, t)\n"
         "  d = Constant <value = float[4,1,3,3] {" +
         dw +
         "}> ()\n"
         "  y = Conv <pads = [1,1,1,1], group = 4> (a, d)\n"
         "  p = Constant <value = float[2,4,1,1] {" +
         pw +
         "}> ()\n"
         "  z = Conv (a, p)\n"
         "}";
}

// Worst output SNR (dB) of `g` optimized at the default a8_w8, on held-out random inputs.
double worstOutputSnr(const Graph& g) {
  const Shape shape{1, 3, 12, 12};
  std::vector<float> calib;
  for (unsigned k = 0; k < 32; ++k) {
    const FloatBuffer b = randomInput(shape, 100 + k, -3, 3);
    calib.insert(calib.end(), b.data.begin(), b.data.end());
  }
  Archive parsed;
  parsed.graph = g;
  parsed.stages = {"parse"};
  optimize::OptimizeOptions o;
  o.calibArrays = {npy::fromFloat(calib, {32, 3, 12, 12})};
  o.reportSamples = 1;
  const Graph q = optimize::optimize(parsed, o).graph;
  const std::vector<int> outs = q.outputLayers();
  std::vector<optimize::SnrAccumulator> acc(outs.size());
  for (unsigned k = 0; k < 8; ++k) {
    const std::vector<FloatBuffer> in{randomInput(shape, 500 + k, -3, 3)};
    const auto ref = runFloat(q, in);
    const auto got = runQuantized(q, in);
    for (size_t i = 0; i < outs.size(); ++i)
      acc[i].add(ref.at(i).data, dequantize(got.at(i), q.at(outs[i]).outputQuant[0]).data);
  }
  double worst = 1e9;
  for (const auto& a : acc) worst = std::min(worst, a.db());
  return worst;
}

TEST(FoldAffineForward, QuantizedAccuracyWithChannelScalesSpanning1To747) {
  const Graph unfolded = importBefore(affineReadByTwoConvs(), kPass);
  ASSERT_NE(dump(unfolded).find("normalization1 = normalization"), std::string::npos);
  Graph skipped = unfolded;  // the rest of the pipeline without this pass
  bool after = false;
  for (const passes::Pass& p : passes::importPipeline()) {
    if (after) passes::runPass(skipped, p.name);
    after = after || std::string(p.name) == kPass;
  }
  onnx::ImportOptions full;
  const Graph folded = importText(affineReadByTwoConvs(), full);
  ASSERT_EQ(dump(folded).find("normalization"), std::string::npos) << dump(folded);
  ASSERT_NE(dump(folded).find("pad1 = pad"), std::string::npos) << dump(folded);
  expectSameFloatOutputs(skipped, folded, 1e-3f);
  const double before = worstOutputSnr(skipped), with = worstOutputSnr(folded);
  RecordProperty("snr_unfolded_db", std::to_string(before));
  RecordProperty("snr_folded_db", std::to_string(with));
  EXPECT_GT(with, 30.0) << "unfolded " << before << " dB";
  EXPECT_GT(with, before + 10.0) << "unfolded " << before << " dB, folded " << with << " dB";
}

}  // namespace
}  // namespace kiln::test
