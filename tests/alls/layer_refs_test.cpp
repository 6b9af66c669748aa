// Layer references of model scripts: Kiln names, scoped names, ONNX names, lists and globs.
#include <gtest/gtest.h>

#include "alls/alls.h"

namespace kiln::alls {
namespace {

std::vector<LayerName> network() {
  return {
      {"input_layer1", {"input"}},       {"normalization1", {}},          {"conv1", {"Conv_0"}},
      {"conv2", {"/model.0/conv/Conv"}}, {"conv3", {"Conv_7", "Relu_8"}}, {"ew_add1", {"Add_9"}},
      {"conv10", {"Conv_12"}},           {"conv21", {"Conv_30"}},         {"fc1", {"Gemm_129"}},
      {"output_layer1", {"output"}},
  };
}

// The first argument of `quantization_param(<ref>)`, parsed.
Value ref(const std::string& text) {
  return parseScript("quantization_param(" + text + ", precision_mode=a8_w8)\n", "r.alls")
      .statements[0]
      .args[0]
      .value;
}

std::vector<int> resolve(const std::string& text, const std::string& net = "net") {
  return resolveLayers(ref(text), network(), net);
}

std::string errorOf(const std::string& text) {
  const Script s =
      parseScript("quantization_param(" + text + ", precision_mode=a8_w8)\n", "r.alls");
  try {
    resolveLayers(s.statements[0].args[0].value, network(), "net", &s.statements[0]);
  } catch (const ScriptError& e) {
    return e.what();
  }
  return "";
}

using V = std::vector<int>;

TEST(AllsLayerRefs, KilnScopedAndOnnxNames) {
  EXPECT_EQ(resolve("conv3"), V{4});
  EXPECT_EQ(resolve("net/conv3"), V{4});
  EXPECT_EQ(resolve("centerpose_regnetx_800mf/conv3"), V{4});  // any scope
  EXPECT_EQ(resolve("Gemm_129"), V{8});
  EXPECT_EQ(resolve("Relu_8"), V{4});
  EXPECT_EQ(resolve("/model.0/conv/Conv"), V{3});
  EXPECT_EQ(resolve("\"Conv_0\""), V{2});
}

TEST(AllsLayerRefs, AlreadyScopedKilnNames) {
  std::vector<LayerName> layers = {{"net/conv1", {}}, {"net/conv2", {}}};
  EXPECT_EQ(resolveLayers(ref("conv2"), layers, "net"), V{1});
  EXPECT_EQ(resolveLayers(ref("net/conv2"), layers, "net"), V{1});
  EXPECT_EQ(resolveLayers(ref("{net/*}"), layers, "net"), (V{0, 1}));
}

TEST(AllsLayerRefs, ListsInLayerOrderWithoutDuplicates) {
  EXPECT_EQ(resolve("[fc1, conv1, Conv_0, net/conv1]"), (V{2, 8}));
  EXPECT_EQ(resolve("[{conv*}, ew_add1]"), (V{2, 3, 4, 5, 6, 7}));
}

TEST(AllsLayerRefs, Globs) {
  EXPECT_EQ(resolve("{*}").size(), 10u);
  EXPECT_EQ(resolve("{conv*}"), (V{2, 3, 4, 6, 7}));
  EXPECT_EQ(resolve("{conv?}"), (V{2, 3, 4}));
  EXPECT_EQ(resolve("{conv[0-9]}"), (V{2, 3, 4}));
  EXPECT_EQ(resolve("{conv[2-3]*}"), (V{3, 4, 7}));
  EXPECT_EQ(resolve("{conv[!1]}"), (V{3, 4}));
  EXPECT_EQ(resolve("{net/conv1*}"), (V{2, 6}));
  EXPECT_EQ(resolve("{Conv_*}"), (V{2, 4, 6, 7}));  // ONNX names
  EXPECT_EQ(resolve("{/model.0/*}"), V{3});
  EXPECT_EQ(resolve("{*_layer1}"), (V{0, 9}));
}

TEST(AllsLayerRefs, GlobMatch) {
  EXPECT_TRUE(globMatch("*", ""));
  EXPECT_TRUE(globMatch("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(globMatch("a*b*c", "aXXbYY"));
  EXPECT_TRUE(globMatch("conv[0-9][0-9]", "conv42"));
  EXPECT_FALSE(globMatch("conv[0-9][0-9]", "conv4"));
  EXPECT_TRUE(globMatch("x[ab]y", "xby"));
  EXPECT_TRUE(globMatch("a[b", "a[b"));  // unclosed class: literal '['
  EXPECT_TRUE(globMatch("net/*", "net/conv1"));
}

TEST(AllsLayerRefs, UnmatchedNameSuggestsClosest) {
  EXPECT_EQ(errorOf("conv4"),
            "r.alls:1:20: error: layer reference 'conv4' matches no layer of the network; closest "
            "names: conv1, "
            "conv2, conv3\n"
            "quantization_param(conv4, precision_mode=a8_w8)\n"
            "                   ^");
  EXPECT_NE(errorOf("Gemm_128")
                .find("layer reference 'Gemm_128' matches no layer of the network; closest names: "
                      "Gemm_129"),
            std::string::npos);
  EXPECT_NE(
      errorOf("net/fc2").find("'net/fc2' matches no layer of the network; closest names: fc1"),
      std::string::npos);
  // In a list the failing item is pointed at.
  const std::string list = errorOf("[conv1, ew_add2]");
  EXPECT_NE(
      list.find(
          "r.alls:1:28: error: layer reference 'ew_add2' matches no layer of the network; closest "
          "names: ew_add1"),
      std::string::npos)
      << list;
}

TEST(AllsLayerRefs, UnmatchedGlobAndEmptyList) {
  const std::string g = errorOf("{deconv*}");
  EXPECT_NE(g.find("r.alls:1:20: error: layer reference '{deconv*}' matches no layer of the "
                   "network; closest "
                   "names: conv1"),
            std::string::npos)
      << g;
  EXPECT_NE(errorOf("[]").find("an empty list [] selects no layer"), std::string::npos);
  // Without a statement there is no source excerpt.
  try {
    resolveLayers(ref("nothing"), {}, "net");
    FAIL();
  } catch (const ScriptError& e) {
    EXPECT_STREQ(
        e.what(),
        "r.alls:1:20: error: layer reference 'nothing' matches no layer of the network (the "
        "network has no layers)");
  }
}

}  // namespace
}  // namespace kiln::alls
