// input_conversion and resize of an input, end to end: parse -> optimize with the script ->
// compile (with kiln compile's own .kef-against-emulation check) -> the runtime on raw camera
// frames. A network that only moves values (a 1x1 max pool) shows the conversion's output as it
// is, so every converted pixel is compared with a reference written here from the definition in
// docs/arithmetic.md §7 (own loops over byte offsets, coefficients from the standard's Kr and Kb),
// not with common/yuv.h: runtime == emulation == reference, bit for bit; float within 0.5.
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <random>

#include "alls/alls.h"
#include "common/npy.h"
#include "compiler/archive/archive.h"
#include "compiler/emulator/quant_executor.h"
#include "compiler/flow/compile_flow.h"
#include "runtime/api/runtime.h"
#include "tests/support/test_util.h"

namespace kiln::test {
namespace {

std::string model(int64_t h, int64_t w) {
  const std::string s = "[1,3," + std::to_string(h) + "," + std::to_string(w) + "]";
  return "<ir_version: 8, opset_import: [\"\" : 17]>\n"
         "g (float" +
         s + " x) => (float" + s +
         " y) {\n"
         "  y = MaxPool <kernel_shape = [1, 1]> (x)\n}";
}

// ---- the reference: the written definition ---------------------------------------------------

// Y, U, V of pixel (y, x) of a raw frame (a flat byte vector), by the byte offsets of each format.
void yuvAt(const std::string& fmt, const std::vector<int>& f, int64_t H, int64_t W, int64_t y,
           int64_t x, int v[3]) {
  if (fmt == "yuy2") {  // 4 bytes per pixel pair: Y0 U Y1 V
    const int64_t pair = (y * W + x - x % 2) * 2;
    v[0] = f[size_t((y * W + x) * 2)], v[1] = f[size_t(pair + 1)], v[2] = f[size_t(pair + 3)];
    return;
  }
  v[0] = f[size_t(y * W + x)];
  const int64_t c = (y / 2) * (W / 2) + x / 2;
  if (fmt == "i420") {
    v[1] = f[size_t(H * W + c)], v[2] = f[size_t(H * W + H * W / 4 + c)];
  } else {
    const int a = f[size_t(H * W + 2 * c)], b = f[size_t(H * W + 2 * c + 1)];
    v[1] = fmt == "nv12" ? a : b, v[2] = fmt == "nv12" ? b : a;
  }
}

struct Standard {
  double kr, kb;
  bool full;
};

// RGB (or BGR) of a YUV pixel: exact (real) and as the definition rounds it (Q14 coefficients,
// round half up, clamp to 0..255).
void rgbOf(const Standard& s, bool bgr, const int yuv[3], double exact[3], int rounded[3]) {
  const double kg = 1 - s.kr - s.kb;
  const double a[3][3] = {{1, 0, 2 * (1 - s.kr)},
                          {1, -2 * (1 - s.kb) * s.kb / kg, -2 * (1 - s.kr) * s.kr / kg},
                          {1, 2 * (1 - s.kb), 0}};
  const double sc[3] = {s.full ? 1 : 255.0 / 219, s.full ? 1 : 255.0 / 224,
                        s.full ? 1 : 255.0 / 224};
  const int off[3] = {s.full ? 0 : 16, 128, 128};
  for (int o = 0; o < 3; ++o) {
    const int row = bgr ? 2 - o : o;
    int64_t acc = 0;
    double real = 0;
    for (int k = 0; k < 3; ++k) {
      const int64_t m = std::llround(a[row][k] * sc[k] * 16384.0);
      acc += m * (yuv[k] - off[k]);
      real += double(m) / 16384.0 * (yuv[k] - off[k]);
    }
    const int64_t q = int64_t(std::floor((double(acc) + 8192.0) / 16384.0));
    rounded[o] = int(std::min<int64_t>(255, std::max<int64_t>(0, q)));
    exact[o] = std::min(255.0, std::max(0.0, real));
  }
}

// Frames of n images: the first ones hold the edge values (all 0, all 255, chroma at 0 and 255
// against luma 0 and 255), the rest uniform random bytes.
std::vector<std::vector<int>> frames(int n, int64_t bytes, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> u(0, 255);
  std::vector<std::vector<int>> out;
  for (int i = 0; i < n; ++i) {
    std::vector<int> f(static_cast<size_t>(bytes));
    for (size_t k = 0; k < f.size(); ++k) {
      switch (i) {
        case 0:
          f[k] = 0;
          break;
        case 1:
          f[k] = 255;
          break;
        case 2:
          f[k] = k % 2 ? 255 : 0;
          break;
        case 3:
          f[k] = k % 3 ? 0 : 255;
          break;
        default:
          f[k] = u(rng);
      }
    }
    out.push_back(f);
  }
  return out;
}

struct Case {
  std::string script;  // the statements, in order
  std::string format;  // the raw frame's format ("" = planar YUV 4:4:4, NCHW)
  Standard standard;
  bool bgr = false;
  bool rgbx = false;
};

constexpr int64_t kH = 6, kW = 8;

std::vector<int64_t> frameShape(const std::string& fmt) {
  if (fmt == "yuy2") return {1, kH, kW, 2};
  if (fmt == "rgbx") return {1, kH, kW, 4};
  if (fmt.empty()) return {1, 3, kH, kW};
  return {1, kH / 2, kW, 3};
}

void checkCase(const Case& c, const std::string& name) {
  SCOPED_TRACE(name + ": " + c.script);
  const std::string dir = ::testing::TempDir() + "/input_conversion_" + name;
  ::mkdir(dir.c_str(), 0755);
  const std::string onnxPath = dir + "/net.onnx", calib = dir + "/calib.npy";
  {
    std::ofstream f(onnxPath, std::ios::binary);
    ASSERT_TRUE(parseText(model(kH, kW)).SerializeToOstream(&f));
  }
  const std::vector<int64_t> shape = frameShape(c.format);
  const int64_t bytes = shape[1] * shape[2] * shape[3];
  const auto fr = frames(12, bytes, 7);
  std::vector<float> all;
  for (const auto& f : fr) all.insert(all.end(), f.begin(), f.end());
  npy::save(calib, npy::fromFloat(all, {int64_t(fr.size()), shape[1], shape[2], shape[3]}));
  flow::CompileOptions o;
  o.onnxPath = onnxPath;
  o.calibPath = calib;
  o.outputDir = dir;
  o.scriptText = c.script;
  o.verifySamples = 12;
  const flow::CompileResult r = flow::compileModel(o);  // includes the .kef == emulation check
  const Graph g = readArchive(r.optimizedPath).graph;

  auto rtModel = rt::Model::open(r.kefPath);
  ASSERT_EQ(rtModel->inputs().size(), 1u);
  const rt::StreamDesc& in = rtModel->inputs()[0];
  EXPECT_EQ(in.shape, shape);
  EXPECT_EQ(in.bits, 8);
  EXPECT_EQ(in.scale, 1.0);
  EXPECT_EQ(in.zeroPoint, 0);
  if (!c.format.empty()) {
    std::string layout = c.format;  // the stream's layout label is the format in capitals
    for (char& ch : layout) ch = char(std::toupper(ch));
    EXPECT_EQ(in.layout, layout);
  }
  rt::Session session(rtModel);
  int mismatches = 0;
  double worstFloat = 0;
  for (size_t i = 0; i < fr.size(); ++i) {
    std::vector<uint8_t> raw(fr[i].begin(), fr[i].end());
    std::vector<uint8_t> y(size_t(3 * kH * kW));
    session.run({{raw.data(), raw.size(), rt::BufferType::UInt8}},
                {{y.data(), y.size(), rt::BufferType::Auto}});
    const FloatBuffer x{shape, std::vector<float>(fr[i].begin(), fr[i].end())};
    const IntBuffer q = runQuantized(g, {x})[0];
    const FloatBuffer f = runFloat(g, {x})[0];
    for (int64_t py = 0; py < kH; ++py)
      for (int64_t px = 0; px < kW; ++px) {
        int yuv[3], want[3];
        double exact[3];
        if (c.rgbx) {
          for (int k = 0; k < 3; ++k) want[k] = fr[i][size_t((py * kW + px) * 4 + k)];
          for (int k = 0; k < 3; ++k) exact[k] = want[k];
        } else {
          if (c.format.empty())
            for (int k = 0; k < 3; ++k) yuv[k] = fr[i][size_t((k * kH + py) * kW + px)];
          else
            yuvAt(c.format, fr[i], kH, kW, py, px, yuv);
          rgbOf(c.standard, c.bgr, yuv, exact, want);
        }
        for (int k = 0; k < 3; ++k) {
          const size_t at = size_t((k * kH + py) * kW + px);
          if (y[at] != want[k] || q.data[at] != want[k]) {
            if (++mismatches <= 5)
              ADD_FAILURE() << "frame " << i << " pixel (" << py << ", " << px << ") channel " << k
                            << ": runtime " << int(y[at]) << ", emulation " << q.data[at]
                            << ", definition " << want[k];
          }
          worstFloat = std::max(worstFloat, std::abs(double(f.data[at]) - exact[k]));
        }
      }
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_LE(worstFloat, 1e-3) << "the float emulation is the unrounded definition";
}

const Standard kBt601{0.299, 0.114, false}, kBt601Full{0.299, 0.114, true},
    kBt709{0.2126, 0.0722, false}, kBt709Full{0.2126, 0.0722, true};

TEST(InputConversion, Yuy2ToRgbHybrid) {
  checkCase({"c = input_conversion(input_layer1, yuy2_to_rgb)\n", "yuy2", kBt601}, "yuy2_rgb");
}
TEST(InputConversion, Nv12ToRgbHybrid) {
  checkCase({"reshape, yuv_to_rgb1 = input_conversion(input_layer1, nv12_to_rgb, "
             "emulator_support=True)\n",
             "nv12", kBt601},
            "nv12_rgb");
}
TEST(InputConversion, Nv21AndI420) {
  checkCase({"c = input_conversion(nv21_to_rgb)\n", "nv21", kBt601}, "nv21_rgb");
  checkCase({"c = input_conversion(i420_to_rgb)\n", "i420", kBt601}, "i420_rgb");
}
TEST(InputConversion, TheZooTwoStatementForm) {
  // As the zoo writes it: the colour conversion first, then the format (which goes in front).
  checkCase({"yuv_to_rgb1 = input_conversion(yuv_to_rgb)\n"
             "reshape_yuy2 = input_conversion(input_layer1, yuy2_to_hailo_yuv, "
             "emulator_support=True)\n",
             "yuy2", kBt601},
            "zoo_yuy2");
  checkCase({"yuv_to_rgb1 = input_conversion(yuv_to_rgb)\n"
             "nv = input_conversion(input_layer1, nv12_to_hailo_yuv, emulator_support = True)\n",
             "nv12", kBt601},
            "zoo_nv12");
}
TEST(InputConversion, ColourMatricesOnPlanarYuv) {
  checkCase({"c = input_conversion(yuv_to_rgb)\n", "", kBt601}, "yuv");
  checkCase({"c = input_conversion(yuv601_to_bgr)\n", "", kBt601, true}, "yuv601_bgr");
  checkCase({"c = input_conversion(yuv_full_range_to_rgb)\n", "", kBt601Full}, "yuv_full");
  checkCase({"c = input_conversion(yuv709_to_rgb)\n", "", kBt709}, "yuv709");
  checkCase({"c = input_conversion(yuv709_full_range_to_bgr)\n", "", kBt709Full, true},
            "yuv709_full_bgr");
}
TEST(InputConversion, BgrToRgbAfterYuvFlipsTheMatrix) {
  // lprnet_yuy2.alls: bgr_to_rgb, then yuv_to_rgb and yuy2. Here bgr_to_rgb comes after
  // yuv_to_rgb, so it reaches the colour conversion and makes it produce BGR.
  checkCase(
      {"c = input_conversion(yuv_to_rgb)\nd = input_conversion(bgr_to_rgb)\n", "", kBt601, true},
      "yuv_then_bgr");
}
TEST(InputConversion, RgbxDropsTheFourthChannel) {
  Case c{"r = input_conversion(input_layer1, tf_rgbx_to_hailo_rgb, emulator_support=True)\n",
         "rgbx", kBt601};
  c.rgbx = true;
  checkCase(c, "rgbx");
}

// ---- errors ----------------------------------------------------------------------------------

std::string scriptError(const std::string& script, int64_t h, int64_t w) {
  // One folder per call: ctest runs the tests of this file in parallel processes.
  static int calls = 0;
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string dir = ::testing::TempDir() + "/input_conversion_err_" + info->name() + "_" +
                          std::to_string(++calls);
  ::mkdir(dir.c_str(), 0755);
  {
    std::ofstream f(dir + "/net.onnx", std::ios::binary);
    EXPECT_TRUE(parseText(model(h, w)).SerializeToOstream(&f));
  }
  flow::CompileOptions o;
  o.onnxPath = dir + "/net.onnx";
  o.randomCalib = true;
  o.calibSize = 2;
  o.outputDir = dir;
  o.scriptText = script;
  try {
    flow::compileModel(o);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(InputConversion, OddSizesAreRejectedWithTheReason) {
  const std::string e = scriptError("c = input_conversion(nv12_to_rgb)\n", 6, 7);
  EXPECT_NE(e.find(":1:1: error: input_conversion(nv12_to_rgb): nv12 shares each chroma sample "
                   "between 2 x 2 pixels, so it needs an even width; the image is 6 x 7"),
            std::string::npos)
      << e;
  const std::string h = scriptError("c = input_conversion(i420_to_hailo_yuv)\n", 5, 8);
  EXPECT_NE(h.find("needs an even height; the image is 5 x 8"), std::string::npos) << h;
  const std::string y = scriptError("c = input_conversion(yuy2_to_rgb)\n", 5, 7);
  EXPECT_NE(y.find("yuy2 shares each chroma sample between 2 horizontal pixels"), std::string::npos)
      << y;
  EXPECT_EQ(scriptError("c = input_conversion(yuy2_to_rgb)\n", 5, 8), "(no error)");
}

TEST(InputConversion, WrongLayerAndOrderAreErrors) {
  const std::string e = scriptError("c = input_conversion(maxpool1, yuv_to_rgb)\n", 4, 4);
  EXPECT_NE(e.find(":1:22: error: input_conversion applies to one input layer; 'maxpool1' is "
                   "maxpool1 (maxpool)"),
            std::string::npos)
      << e;
  const std::string o = scriptError(
      "a = input_conversion(nv12_to_hailo_yuv)\nb = input_conversion(yuv_to_rgb)\n", 4, 4);
  EXPECT_NE(o.find(":2:1: error: input_conversion(yuv_to_rgb): input_layer1 already takes nv12 "
                   "frames"),
            std::string::npos)
      << o;
  const std::string n = scriptError("a = input_conversion(nv13_to_rgb)\n", 4, 4);
  EXPECT_NE(n.find(":1:22: error:"), std::string::npos) << n;
  EXPECT_NE(n.find("nv12_to_rgb"), std::string::npos) << n;  // the accepted choices
}

// ---- resize ----------------------------------------------------------------------------------

TEST(ResizeInput, BilinearHalfPixelToTheNetworkSize) {
  const std::string dir = ::testing::TempDir() + "/resize_input";
  ::mkdir(dir.c_str(), 0755);
  {
    std::ofstream f(dir + "/net.onnx", std::ios::binary);
    ASSERT_TRUE(parseText(model(4, 6)).SerializeToOstream(&f));
  }
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> u(0, 255);
  std::vector<float> calib(size_t(8 * 3 * 10 * 9));
  for (float& v : calib) v = float(u(rng));
  npy::save(dir + "/calib.npy", npy::fromFloat(calib, {8, 3, 10, 9}));
  flow::CompileOptions o;
  o.onnxPath = dir + "/net.onnx";
  o.calibPath = dir + "/calib.npy";
  o.outputDir = dir;
  o.scriptText = "resize_input1 = resize(input_layer1, resize_shapes=[10, 9])\n";
  const flow::CompileResult r = flow::compileModel(o);
  const Graph g = readArchive(r.optimizedPath).graph;
  auto m = rt::Model::open(r.kefPath);
  EXPECT_EQ(m->inputs()[0].shape, (std::vector<int64_t>{1, 3, 10, 9}));
  EXPECT_EQ(m->outputs()[0].shape, (std::vector<int64_t>{1, 3, 4, 6}));
  // tf.image.resize bilinear (half-pixel centres, no antialiasing), written out per axis.
  const FloatBuffer x{{1, 3, 10, 9}, std::vector<float>(calib.begin(), calib.begin() + 270)};
  const FloatBuffer f = runFloat(g, {x})[0];
  auto axis = [](int64_t o, int64_t in, int64_t out, int64_t& i0, int64_t& i1, double& w) {
    const double s = (double(o) + 0.5) * double(in) / double(out) - 0.5;
    const double c = std::max(0.0, s);
    i0 = std::min<int64_t>(int64_t(std::floor(c)), in - 1);
    i1 = std::min<int64_t>(i0 + 1, in - 1);
    w = c - double(i0);
  };
  double worst = 0;
  for (int64_t ch = 0; ch < 3; ++ch)
    for (int64_t oy = 0; oy < 4; ++oy)
      for (int64_t ox = 0; ox < 6; ++ox) {
        int64_t y0, y1, x0, x1;
        double wy, wx;
        axis(oy, 10, 4, y0, y1, wy);
        axis(ox, 9, 6, x0, x1, wx);
        auto px = [&](int64_t yy, int64_t xx) {
          return double(x.data[size_t((ch * 10 + yy) * 9 + xx)]);
        };
        const double want = (1 - wy) * ((1 - wx) * px(y0, x0) + wx * px(y0, x1)) +
                            wy * ((1 - wx) * px(y1, x0) + wx * px(y1, x1));
        worst = std::max(worst, std::abs(want - double(f.data[size_t((ch * 4 + oy) * 6 + ox)])));
      }
  EXPECT_LE(worst, 1e-3);
}

}  // namespace
}  // namespace kiln::test
