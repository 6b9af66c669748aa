// Model-script command table and validator: unknown commands, keys and values, and the
// "parsed, not applied" warnings.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "alls/alls.h"

namespace kiln::alls {
namespace {

std::vector<Diagnostic> check(const std::string& text) {
  return validateScript(parseScript(text, "v.alls"));
}

std::vector<std::string> formatted(const std::vector<Diagnostic>& diags) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diags) out.push_back(formatDiagnostic(d));
  return out;
}

TEST(AllsCommands, TableCoversTheLanguageReference) {
  for (const char* name :
       {"normalization", "quantization_param", "model_optimization_flavor",
        "model_optimization_config", "pre_quantization_optimization",
        "post_quantization_optimization", "change_output_activation", "input_conversion", "resize",
        "logits_layer", "nms_postprocess", "remove_node", "set_seed", "transpose"}) {
    ASSERT_NE(findCommand(name), nullptr) << name;
    EXPECT_EQ(findCommand(name)->category, Category::Applied) << name;
  }
  for (const char* name :
       {"performance_param", "resources_param", "context_switch_param", "allocator_param",
        "hef_param", "platform_param", "network_group", "buffer_calc_param"}) {
    ASSERT_NE(findCommand(name), nullptr) << name;
    EXPECT_EQ(findCommand(name)->category, Category::Recorded) << name;
  }
  // The three kiln compiler's plan reads declare their keys; the others accept any.
  for (const char* name : {"performance_param", "resources_param", "context_switch_param"}) {
    EXPECT_TRUE(findCommand(name)->planned) << name;
    EXPECT_FALSE(findCommand(name)->anyKeys) << name;
  }
  for (const char* name : {"allocator_param", "hef_param", "platform_param", "network_group"})
    EXPECT_TRUE(findCommand(name)->anyKeys) << name;
  for (const char* name :
       {"defuse", "compilation_param", "buffers", "context", "place", "l4_portal",
        "format_conversion", "yuv_to_rgb", "resize_input", "optimize_buffers"}) {
    ASSERT_NE(findCommand(name), nullptr) << name;
    EXPECT_EQ(findCommand(name)->category, Category::NotApplied) << name;
  }
  // Names are unique.
  const auto& t = commandTable();
  for (size_t i = 0; i < t.size(); ++i)
    for (size_t j = i + 1; j < t.size(); ++j) EXPECT_NE(t[i].name, t[j].name);
}

TEST(AllsCommands, AppliedStatementsGiveNoDiagnostics) {
  const auto d = check(
      "n = normalization([123.68, 116.78, 103.94], [58.4, 57.1, 57.4])\n"
      "quantization_param({conv*}, precision_mode=a16_w16, bias_mode=single_scale_decomposition)\n"
      "quantization_param([conv1, conv2], precision_mode=a8_w4, force_range_out=[-1.5, 1.5])\n"
      "model_optimization_flavor(optimization_level=-100, compression_level=5, batch_size=8)\n"
      "model_optimization_config(calibration, calibset_size=128, batch_size=8)\n"
      "model_optimization_config(globals, output_16bit=enabled)\n"
      "pre_quantization_optimization(activation_clipping, layers={conv*}, mode=percentile, "
      "clipping_values=[0.01, 99.99])\n"
      "pre_quantization_optimization(weights_clipping, policy=disabled, mode=mmse_if4b)\n"
      "pre_quantization_optimization(equalization, policy=enabled)\n"
      "post_quantization_optimization(bias_correction, policy=enabled)\n"
      "post_quantization_optimization(finetune, policy=disabled)\n"
      "change_output_activation(conv5, tanh)\n"
      "change_output_activation(linear)\n"
      "c = input_conversion(bgr_to_rgb)\n"
      "c2 = input_conversion(input_layer1, rgb_to_bgr)\n"
      "set_seed(seed=7)\n"
      "model_optimization_config(negative_exponent, layers={*}, rank=0)\n"
      "performance_param(fps=None)\n"
      "resources_param(max_utilization=0.8)\n"
      "context_switch_param(mode=manual)\n");
  EXPECT_TRUE(d.empty()) << ::testing::PrintToString(formatted(d));
}

TEST(AllsCommands, UnknownCommandSuggestsClosestName) {
  const auto d = check(
      "normalization1 = normalization([0], [1])\nquantisation_param(conv1, "
      "precision_mode=a8_w8)\n");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].severity, Diagnostic::Error);
  EXPECT_EQ(
      formatDiagnostic(d[0]),
      "v.alls:2:1: error: unknown command 'quantisation_param'; did you mean quantization_param?\n"
      "quantisation_param(conv1, precision_mode=a8_w8)\n"
      "^");
  // After targets the position is the command's.
  const auto e = check("x = normalisation([0], [1])\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].pos.col, 5);
  EXPECT_EQ(e[0].message, "unknown command 'normalisation'; did you mean normalization?");
  const auto f = check("frobnicate()\n");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].message,
            "unknown command 'frobnicate' (alls-language.md §3 lists the commands Kiln knows)");
}

TEST(AllsCommands, UnknownKeyListsAcceptedKeys) {
  const auto d = check("quantization_param(conv1, precison_mode=a8_w8)\n");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(formatDiagnostic(d[0]),
            "v.alls:1:27: error: unknown key 'precison_mode' for quantization_param; did you mean "
            "precision_mode? "
            "accepted keys: precision_mode, bias_mode, use_16bit_bias, force_range_in, "
            "force_range_index, "
            "force_range_out, weight_group_size, activation_fit, max_elementwise_feed_repeat, "
            "null_channels_cutoff_factor, activation_clipping_mode, activation_clipping_values\n"
            "quantization_param(conv1, precison_mode=a8_w8)\n"
            "                          ^");
  const auto f = check("model_optimization_flavor(optimisation_level=2)\n");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].message,
            "unknown key 'optimisation_level' for model_optimization_flavor; did you mean "
            "optimization_level? "
            "accepted keys: optimization_level, compression_level, batch_size");
  // Feature commands list the feature's keys, then the common ones.
  const auto g = check("model_optimization_config(calibration, calibset=64)\n");
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].message,
            "unknown key 'calibset' for model_optimization_config(calibration); did you mean "
            "calibset_size? "
            "accepted keys: calibset_size, batch_size, use_acceleras");
  const auto n = check("normalization([0], [1], scale=2)\n");
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].message, "unknown key 'scale': normalization takes no keyword arguments");
}

TEST(AllsCommands, BadValueListsAcceptedValues) {
  const auto d = check("quantization_param(conv1, precision_mode=a7_w9)\n");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(
      formatDiagnostic(d[0]),
      "v.alls:1:42: error: bad value 'a7_w9' for precision_mode; did you mean a8_w8 or a8_w4? "
      "accepted values: a8_w8, a8_w4, a16_w16, a16_w8, a16_w8_a16, a8_w8_a16\n"
      "quantization_param(conv1, precision_mode=a7_w9)\n"
      "                                         ^");
  const auto lvl = check("model_optimization_flavor(optimization_level=5)\n");
  ASSERT_EQ(lvl.size(), 1u);
  EXPECT_EQ(lvl[0].message,
            "bad value '5' for optimization_level; accepted values: -100, 0, 1, 2, 3, 4");
  EXPECT_TRUE(
      check("model_optimization_flavor(optimization_level=2.0, compression_level=0)\n").empty());
  const auto comp = check("model_optimization_flavor(compression_level=6)\n");
  ASSERT_EQ(comp.size(), 1u);
  EXPECT_EQ(comp[0].message,
            "bad value '6' for compression_level; accepted values: 0, 1, 2, 3, 4, 5");
  const auto pol = check("post_quantization_optimization(bias_correction, policy=on)\n");
  ASSERT_EQ(pol.size(), 1u);
  EXPECT_EQ(pol[0].message, "bad value 'on' for policy; accepted values: enabled, disabled");
  // Items of a list are checked one by one and the bad one is pointed at.
  const auto loss = check("post_quantization_optimization(finetune, loss_types=[l2rel, l3])\n");
  ASSERT_EQ(loss.size(), 1u);
  EXPECT_EQ(loss[0].pos.col, 61);
  EXPECT_EQ(
      loss[0].message,
      "bad value 'l3' for loss_types; did you mean l2? accepted values: l2, l2rel, ce, cosine, "
      "l2rel_channelwise_weighted, L2, L2REL, CE, COSINE");
  const auto act = check("change_output_activation(conv3, relu)\n");
  ASSERT_EQ(act.size(), 1u);
  EXPECT_EQ(
      act[0].message,
      "bad activation 'relu' for change_output_activation; accepted values: sigmoid, tanh, linear");
  const auto conv = check("input_conversion(bgr_to_rbg)\n");
  ASSERT_EQ(conv.size(), 1u);
  EXPECT_EQ(conv[0].message.rfind(
                "bad conversion 'bgr_to_rbg' for input_conversion; did you mean bgr_to_rgb", 0),
            0u)
      << conv[0].message;
}

TEST(AllsCommands, FeatureErrors) {
  const auto d = check("pre_quantization_optimization(activation_cliping, mode=manual)\n");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].pos.col, 31);
  EXPECT_EQ(d[0].message.rfind(
                "unknown feature 'activation_cliping' for pre_quantization_optimization; did you "
                "mean activation_clipping? accepted features: equalization, activation_clipping, ",
                0),
            0u)
      << d[0].message;
  const auto m = check("model_optimization_config(calibset_size=64)\n");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].message,
            "model_optimization_config needs a feature as its first argument; accepted features: "
            "calibration, "
            "globals, compression_params, checker_cfg, negative_exponent");
  const auto mode =
      check("pre_quantization_optimization(weights_clipping, mode=percentile_force)\n");
  ASSERT_EQ(mode.size(), 1u);
  EXPECT_EQ(mode[0].message,
            "bad value 'percentile_force' for mode; did you mean percentile? accepted values: "
            "mmse, mmse_if4b, "
            "percentile, manual");
  const auto dup =
      check("quantization_param(conv1, precision_mode=a8_w8, precision_mode=a16_w16)\n");
  ASSERT_EQ(dup.size(), 1u);
  EXPECT_EQ(dup[0].message, "key 'precision_mode' is given twice (first at line 1, column 27)");
}

TEST(AllsCommands, NotAppliedWarningsNameCommandAndLine) {
  const auto d = check(
      "normalization1 = normalization([0.0], [255.0])\n"
      "post_quantization_optimization(finetune, policy=enabled, epochs=4)\n"
      "resources_param(max_utilization=0.8)\n"  // honoured by kiln compiler: no warning
      "\n"
      "conv5_d0, conv5_d1, conv5_dc = defuse(conv5, 2)\n"
      "obj.place(0, [conv1])\n"
      "nms_postprocess(\"cfg.json\", meta_arch=yolov8, engine=cpu)\n"  // applied: no warning
      "y = input_conversion(tf_rgb_to_hailo_rgb)\n"
      "pre_quantization_optimization(dead_channels_removal, policy=enabled)\n"
      "post_quantization_optimization(adaround, policy=disabled)\n");
  EXPECT_EQ(
      formatted(d),
      (std::vector<std::string>{
          "v.alls:2:1: warning: post_quantization_optimization(finetune) (line 2) is parsed, not "
          "applied (fine-tuning is not run, Kiln does not train; the reference's level-2 step "
          "maps to Kiln's error-compensating rounding: optimization_level=2 or adaround)",
          "v.alls:5:1: warning: defuse (line 5) is parsed, not applied (compiler placement "
          "command)",
          "v.alls:6:1: warning: place (line 6) is parsed, not applied (compiler placement command)",
          "v.alls:8:1: warning: input_conversion(tf_rgb_to_hailo_rgb) (line 8) is parsed, not "
          "applied (Kiln does not implement it)",
          "v.alls:9:1: warning: pre_quantization_optimization(dead_channels_removal) (line 9) is "
          "parsed, not applied (Kiln does not implement it)",
      }));
  for (const Diagnostic& x : d) EXPECT_EQ(x.severity, Diagnostic::Warning);
}

// Keys and values of the public zoo's scripts (issue 16) that the validator once rejected.
TEST(AllsCommands, ZooKeysAndValuesAreKnown) {
  const auto d = check(
      "model_optimization_config(calibration, batch_size=8, calibset_size=64, "
      "use_acceleras=False)\n"
      "post_quantization_optimization(finetune, policy=enabled, meta_arch=yolo, "
      "loss_types=[L2REL, l2rel_channelwise_weighted], use_acceleras=disabled)\n"
      "pre_quantization_optimization(activation_clipping, layers={*}, mode=disabled)\n"
      "pre_quantization_optimization(se_optimization, method=tse, mode=sequential, count=6, "
      "tile_height=8)\n"
      "pre_quantization_optimization(ew_add_fusing, policy=enabled, infusible_ew_add_type=conv)\n"
      "pre_quantization_optimization(layer_norm_decomposition, eq_consumer=False, "
      "bit_decomposition_mode=split_precision)\n"
      "pre_quantization_optimization(equalization, layers=[ew_add1], "
      "equalization_target=activation)\n"
      "nms_postprocess(meta_arch=yolov8, engine=cpu, bbox_decoding_only=True)\n"
      "allocator_param(enable_auto_spatial_reshapes=False, enable_auto_spatial_reshapes=False)\n"
      "performance_param(fps=None)\n"
      "performance_param(fps=null)\n"
      "context_switch_param(mode=manual)\n"
      "resources_param(max_utilization=1.125, max_memory_utilization=1.0000000000000007)\n");
  EXPECT_FALSE(hasErrors(d)) << formatted(d)[0];
  // The repeated allocator_param key is a plain warning (Kiln does not read allocator_param).
  bool duplicate = false;
  for (const Diagnostic& x : d)
    if (x.message.find("key 'enable_auto_spatial_reshapes' is given twice") == 0) {
      duplicate = true;
      EXPECT_FALSE(x.notApplied);
      EXPECT_EQ(x.pos.line, 9);
      EXPECT_EQ(x.pos.col, 53);
    }
  EXPECT_TRUE(duplicate);
  // Not-applied warnings carry their label, for kiln check-script's counts.
  for (const Diagnostic& x : d)
    if (x.pos.line == 2) {
      EXPECT_TRUE(x.notApplied);
      EXPECT_EQ(x.label, "post_quantization_optimization(finetune)");
    }
}

// A `)` too many at the end of a statement (a zoo script has one): a warning naming its place,
// not a not-applied warning (so --strict leaves it a warning).
TEST(AllsCommands, ExtraParenIsAWarning) {
  const auto d = check(
      "post_quantization_optimization(finetune, policy=disabled, loss_layer_names=[conv93, "
      "conv84]))\n");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(formatted(d)[0],
            "v.alls:1:93: warning: one ')' too many at the end of the statement; accepted as the "
            "reference accepts it, remove it");
  EXPECT_FALSE(d[0].notApplied);
}

TEST(AllsCommands, IsAppliedFollowsTheTable) {
  const Script s = parseScript(
      "quantization_param(conv1, precision_mode=a8_w8)\n"
      "input_conversion(bgr_to_rgb)\n"
      "input_conversion(nv12_to_rgb)\n"
      "input_conversion(tf_rgb_to_hailo_rgb)\n"
      "pre_quantization_optimization(equalization, policy=enabled)\n"
      "pre_quantization_optimization(matmul_equalization, policy=enabled)\n"
      "allocator_param(timeout=25m)\n"
      "unknown_command()\n",
      "a.alls");
  std::vector<bool> applied;
  for (const Statement& st : s.statements) applied.push_back(isApplied(st));
  EXPECT_EQ(applied, (std::vector<bool>{true, true, true, false, true, false, false, false}));
}

TEST(AllsCommands, RealScriptsWarnOnlyForWhatKilnDoesNotApply) {
  const Script s = parseScriptFile(std::string(KILN_SOURCE_DIR) +
                                   "/tests/data/alls-samples/centerpose_regnetx_800mf.alls");
  const auto d = validateScript(s);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].pos.line, 6);
  EXPECT_NE(d[0].message.find("post_quantization_optimization(finetune)"), std::string::npos);

  const Script big =
      parseScriptFile(std::string(KILN_SOURCE_DIR) +
                      "/tests/data/alls-samples/hailo8_base_deeplab_v3_mobilenet_v2.alls");
  const auto w = validateScript(big);
  EXPECT_FALSE(hasErrors(w));
  // Everything after the first five (numerics) statements is a compiler directive: a warning
  // each, of which the first kMaxDiagnostics are kept and the rest counted in the last one;
  // except resources_param and performance_param, which kiln compiler honours.
  ASSERT_GT(big.statements.size() - 7, kMaxDiagnostics);
  ASSERT_EQ(w.size(), kMaxDiagnostics + 1);
  EXPECT_EQ(w.back().message,
            fmt::format("and {} more warnings (only the first 50 errors and 50 warnings are shown)",
                        big.statements.size() - 7 - kMaxDiagnostics));
}

}  // namespace
}  // namespace kiln::alls
