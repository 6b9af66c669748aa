// Host-side detector post-processing (runtime/post/nms.h): each meta-architecture's decoding on
// hand-made outputs with boxes worked out by hand, the per-class greedy NMS (suppression, ties by
// decoding order, the cap per class), the by-class output layout, the config checks and the .kef
// section's round trip and bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/format/kef.h"
#include "runtime/post/nms.h"

namespace kiln::test {
namespace {

using ::testing::HasSubstr;

rt::StreamDesc stream(std::vector<int64_t> shape, std::string layout = "NCHW") {
  rt::StreamDesc s;
  s.shape = std::move(shape);
  s.layout = std::move(layout);
  return s;
}

// A yolov8 config on one 2x2 map at stride 16 (image 32x32), direct ltrb distances.
rt::NmsConfig yolov8Config(uint32_t classes = 2) {
  rt::NmsConfig c;
  c.arch = rt::NmsArch::Yolov8;
  c.classes = classes;
  c.imageH = c.imageW = 32;
  c.regressionLength = 0;
  c.scoreThreshold = 0.5f;
  c.iouThreshold = 0.5f;
  c.maxProposalsPerClass = 3;
  rt::NmsDecoder d;
  d.name = "d16";
  d.regOutput = 0;
  d.clsOutput = 1;
  d.stride = 16;
  c.decoders = {d};
  return c;
}

TEST(Nms, Yolov8DirectDistancesGiveTheBoxAndLayout) {
  rt::NmsConfig c = yolov8Config();
  // reg [1, 4, 2, 2] (l, t, r, b in cells), cls [1, 2, 2, 2].
  std::vector<float> reg(16, 0.5f), cls(8, 0.0f);
  // Cell (y=1, x=0): centre (0.5, 1.5) cells; l=0.5, t=1, r=1, b=0.25.
  const int cell = 1 * 2 + 0;
  reg[0 * 4 + cell] = 0.5f, reg[1 * 4 + cell] = 1.0f, reg[2 * 4 + cell] = 1.0f,
              reg[3 * 4 + cell] = 0.25f;
  cls[1 * 4 + cell] = 0.9f;  // class 1
  const std::vector<rt::StreamDesc> streams = {stream({1, 4, 2, 2}), stream({1, 2, 2, 2})};
  rt::checkNmsConfig(c, streams);
  const auto out =
      rt::runNms(c, {{reg.data(), {1, 4, 2, 2}, "NCHW"}, {cls.data(), {1, 2, 2, 2}, "NCHW"}});
  ASSERT_EQ(int64_t(out.size()), rt::nmsOutputSize(c));
  EXPECT_EQ(out[0], 0.0f);  // class 0: no box
  EXPECT_EQ(out[1], 1.0f);  // class 1: one box
  // y0 = (1.5 - 1) * 16 / 32, x0 = (0.5 - 0.5) * 16 / 32, y1 = (1.5 + 0.25) * 16 / 32, x1 = 0.75.
  EXPECT_FLOAT_EQ(out[2], 0.25f);
  EXPECT_FLOAT_EQ(out[3], 0.0f);
  EXPECT_FLOAT_EQ(out[4], 0.875f);
  EXPECT_FLOAT_EQ(out[5], 0.75f);
  EXPECT_FLOAT_EQ(out[6], 0.9f);
  for (size_t i = 7; i < out.size(); ++i) EXPECT_EQ(out[i], 0.0f);
}

TEST(Nms, Yolov8DflIsTheSoftmaxExpectation) {
  rt::NmsConfig c = yolov8Config(1);
  c.regressionLength = 2;
  // reg [1, 8, 1, 1] at stride 32 on a 32x32 image: bins (0, ln 3) per side -> 0.75 cells.
  c.decoders[0].stride = 32;
  std::vector<float> reg = {0, std::log(3.0f), 0, std::log(3.0f),
                            0, std::log(3.0f), 0, std::log(3.0f)};
  std::vector<float> cls = {0.8f};
  const auto out =
      rt::runNms(c, {{reg.data(), {1, 8, 1, 1}, "NCHW"}, {cls.data(), {1, 1, 1, 1}, "NCHW"}});
  ASSERT_EQ(out[0], 1.0f);
  EXPECT_NEAR(out[1], (0.5 - 0.75), 1e-6);  // y0 in image units (one cell = the image)
  EXPECT_NEAR(out[3], (0.5 + 0.75), 1e-6);
}

TEST(Nms, Yolov5AnchorsAndObjectness) {
  rt::NmsConfig c;
  c.arch = rt::NmsArch::Yolov5;
  c.classes = 1;
  c.imageH = c.imageW = 64;
  c.scoreThreshold = 0.25f;
  rt::NmsDecoder d;
  d.stride = 32;
  d.anchorW = {10, 20};
  d.anchorH = {30, 40};
  c.decoders = {d};
  // [1, 2 * 6, 2, 2]: anchor 1 of cell (0, 1) has x=y=0.5, w=h=0.5 (-> anchor size), obj 0.5,
  // class 0.8 -> score 0.4; every other value 0.
  std::vector<float> v(12 * 4, 0.0f);
  const int cell = 0 * 2 + 1;
  for (int k = 0; k < 4; ++k) v[(6 + k) * 4 + cell] = 0.5f;
  v[(6 + 4) * 4 + cell] = 0.5f;
  v[(6 + 5) * 4 + cell] = 0.8f;
  rt::checkNmsConfig(c, {stream({1, 12, 2, 2})});
  const auto out = rt::runNms(c, {{v.data(), {1, 12, 2, 2}, "NCHW"}});
  ASSERT_EQ(out[0], 1.0f);
  // centre x = (1 - 0.5 + 1) * 32 = 48, y = 16; w = 20, h = 40.
  EXPECT_FLOAT_EQ(out[1], (16 - 20) / 64.0f);
  EXPECT_FLOAT_EQ(out[2], (48 - 10) / 64.0f);
  EXPECT_FLOAT_EQ(out[3], (16 + 20) / 64.0f);
  EXPECT_FLOAT_EQ(out[4], (48 + 10) / 64.0f);
  EXPECT_FLOAT_EQ(out[5], 0.4f);
}

TEST(Nms, SsdRowsWithLinearSizesAndXywhOrder) {
  // BlazeFace's form: rows [1, N, K], x/y/w/h first, linear sizes, scale 128, anchors of size 1.
  rt::NmsConfig c;
  c.arch = rt::NmsArch::Ssd;
  c.classes = 1;
  c.imageH = c.imageW = 128;
  c.scoreThreshold = 0.5f;
  c.centersScale = c.dimsScale = 128;
  c.expBoxSize = false;
  c.regIndex[0] = 1, c.regIndex[1] = 0, c.regIndex[2] = 3, c.regIndex[3] = 2;
  rt::NmsDecoder d;
  d.stride = 64;  // 2x2 cells, 1 anchor
  d.regOutput = 0;
  d.clsOutput = 1;
  d.anchorW = d.anchorH = {1};
  c.decoders = {d};
  std::vector<float> reg(4 * 6, 0.0f), cls(4, 0.0f);
  // Row 3 = cell (1, 1): anchor centre (0.75, 0.75); x += 12.8 px, w = 32 px, h = 64 px.
  reg[3 * 6 + 0] = 12.8f, reg[3 * 6 + 2] = 32, reg[3 * 6 + 3] = 64;
  cls[3] = 0.7f;
  rt::checkNmsConfig(c, {stream({1, 4, 6}, ""), stream({1, 4, 1}, "")});
  const auto out = rt::runNms(c, {{reg.data(), {1, 4, 6}, ""}, {cls.data(), {1, 4, 1}, ""}});
  ASSERT_EQ(out[0], 1.0f);
  EXPECT_FLOAT_EQ(out[1], 0.75f - 0.25f);
  EXPECT_FLOAT_EQ(out[2], 0.85f - 0.125f);
  EXPECT_FLOAT_EQ(out[3], 0.75f + 0.25f);
  EXPECT_FLOAT_EQ(out[4], 0.85f + 0.125f);
}

TEST(Nms, SsdExponentialSizesOnAMap) {
  rt::NmsConfig c;
  c.arch = rt::NmsArch::Ssd;
  c.classes = 2;
  c.imageH = c.imageW = 100;
  c.scoreThreshold = 0.5f;
  c.centersScale = 10;
  c.dimsScale = 5;
  c.backgroundRemoval = true;  // class 0 never gives boxes
  rt::NmsDecoder d;
  d.regOutput = 0;
  d.clsOutput = 1;
  d.anchorW = {0.5f};
  d.anchorH = {0.25f};
  c.decoders = {d};
  // One cell: ty = 1 (-> +0.1 * ha), tx = 0, th = 5 * ln 2 (-> h = 2 ha), tw = 0.
  std::vector<float> reg = {1.0f, 0.0f, 5 * std::log(2.0f), 0.0f};
  std::vector<float> cls = {0.99f, 0.6f};
  const auto out =
      rt::runNms(c, {{reg.data(), {1, 4, 1, 1}, "NCHW"}, {cls.data(), {1, 2, 1, 1}, "NCHW"}});
  EXPECT_EQ(out[0], 0.0f);  // background removed despite 0.99
  ASSERT_EQ(out[1], 1.0f);
  EXPECT_NEAR(out[2], 0.525f - 0.25f, 1e-6);
  EXPECT_NEAR(out[3], 0.5f - 0.25f, 1e-6);
  EXPECT_NEAR(out[4], 0.525f + 0.25f, 1e-6);
  EXPECT_NEAR(out[5], 0.5f + 0.25f, 1e-6);
}

TEST(Nms, GreedySuppressionTiesAndCap) {
  // Four cells of one class on a 2x2 map: cells 0 and 1 overlap (IoU 0.6), equal score: cell 0
  // (decoded first) wins; cells 2 and 3 are apart; the cap of 2 keeps the two best.
  rt::NmsConfig c = yolov8Config(1);
  c.maxProposalsPerClass = 2;
  c.iouThreshold = 0.5f;
  std::vector<float> reg(16, 0.5f), cls = {0.8f, 0.8f, 0.6f, 0.7f};
  // Make cells 0 and 1 (same row) wide enough to overlap: l = r = 2 cells (IoU 3 / 5).
  for (int cell : {0, 1}) reg[0 * 4 + cell] = reg[2 * 4 + cell] = 2.0f;
  const auto out =
      rt::runNms(c, {{reg.data(), {1, 4, 2, 2}, "NCHW"}, {cls.data(), {1, 1, 2, 2}, "NCHW"}});
  ASSERT_EQ(out[0], 2.0f);
  EXPECT_FLOAT_EQ(out[5], 0.8f);
  EXPECT_FLOAT_EQ(out[2], -0.75f);  // cell 0: x0 = (0.5 - 2) * 16 / 32
  EXPECT_FLOAT_EQ(out[10], 0.7f);   // then cell 3, not cell 1 (suppressed) or 2 (cap)
}

TEST(Nms, ChecksNameTheDecoderAndTheMismatch) {
  rt::NmsConfig c = yolov8Config();
  try {
    rt::checkNmsConfig(c, {stream({1, 4, 2, 2}), stream({1, 3, 2, 2})});
    FAIL() << "accepted 3 class channels for 2 classes";
  } catch (const rt::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("nms decoder 'd16': class output 1"));
    EXPECT_THAT(e.what(), HasSubstr("expected 2 channels"));
  }
  c.decoders[0].clsOutput = 5;
  EXPECT_THROW(rt::checkNmsConfig(c, {stream({1, 4, 2, 2}), stream({1, 2, 2, 2})}), rt::Error);
  c = yolov8Config();
  c.iouThreshold = 2;
  EXPECT_THROW(rt::checkNmsConfig(c, {stream({1, 4, 2, 2}), stream({1, 2, 2, 2})}), rt::Error);
}

TEST(Nms, SectionRoundTripAndBadBytes) {
  rt::NmsConfig c = yolov8Config();
  c.decoders[0].anchorW = {1.5f};
  c.decoders[0].anchorH = {2.5f};
  const auto bytes = rt::writeNmsSection(c);
  const rt::NmsConfig back = rt::readNmsSection(bytes.data(), bytes.size());
  EXPECT_EQ(rt::writeNmsSection(back), bytes);
  EXPECT_EQ(back.decoders[0].name, "d16");
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_THROW(rt::readNmsSection(bytes.data(), n), rt::Error) << n;
  auto extra = bytes;
  extra.push_back(0);
  EXPECT_THROW(rt::readNmsSection(extra.data(), extra.size()), rt::Error);
  auto flag = bytes;
  flag[4 * 10] = 7;  // the exponential-box-size flag must be 0 or 1
  try {
    rt::readNmsSection(flag.data(), flag.size());
    FAIL();
  } catch (const rt::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("section 'nms'"));
  }
}

}  // namespace
}  // namespace kiln::test
