// The optimizer's script command table (compiler/optimize/script_commands.h) against the alls
// command table: every command and feature the alls table says Kiln applies has a handler row
// (apart from the known gaps, reported as not applied), and every row and key names one the alls
// table declares; applyScript's applied and not-applied lines; RangeMethod names round-trip.
#include <gtest/gtest.h>

#include <set>

#include "alls/alls.h"
#include "compiler/optimize/range_method.h"
#include "compiler/optimize/script_apply.h"
#include "compiler/optimize/script_commands.h"
#include "tests/support/test_util.h"

namespace kiln::optimize {
namespace {

TEST(ScriptCommands, EveryAppliedCommandHasAHandler) {
  // Every command the alls table calls applied has a handler, so kiln check-script (the
  // validator) and kiln optimize agree on what is applied. A new applied command without a
  // handler fails here; one kiln optimize does not act on is marked not applied in the table.
  const std::set<std::string> knownGaps = {};
  std::set<std::string> missing;
  for (const alls::CommandSpec& c : alls::commandTable()) {
    if (!c.applied) continue;
    if (c.features.empty()) {
      if (!findScriptCommand(c.name, "")) missing.insert(c.name);
      continue;
    }
    for (const alls::FeatureSpec& f : c.features)
      if (f.applied && !findScriptCommand(c.name, f.name))
        missing.insert(c.name + "(" + f.name + ")");
  }
  EXPECT_EQ(missing, knownGaps);
}

TEST(ScriptCommands, RowsNameAppliedCommandsAndDeclaredKeys) {
  std::set<std::string> seen;
  for (const ScriptCommand& row : scriptCommands()) {
    const std::string label = row.command + "(" + row.feature + ")";
    EXPECT_TRUE(seen.insert(label).second) << label << " has two rows";
    const alls::CommandSpec* spec = alls::findCommand(row.command);
    ASSERT_NE(spec, nullptr) << label;
    EXPECT_TRUE(spec->applied) << label;
    std::vector<alls::KeySpec> keys = spec->keys;
    if (row.feature.empty()) {
      EXPECT_TRUE(spec->features.empty()) << label << " needs a feature";
    } else {
      const alls::FeatureSpec* f = alls::findFeature(*spec, row.feature);
      ASSERT_NE(f, nullptr) << label;
      EXPECT_TRUE(f->applied) << label;
      keys.insert(keys.end(), f->keys.begin(), f->keys.end());
    }
    for (const ScriptKey& k : row.keys) {
      bool declared = false;
      for (const alls::KeySpec& d : keys) declared = declared || d.name == k.name;
      EXPECT_TRUE(declared) << label << " key " << k.name << " is not in the alls table";
    }
    // A row acts on something: a statement handler, keys (possibly none, all reported), or a
    // stated meaning.
    EXPECT_TRUE(row.apply || !row.keys.empty() || row.otherKeys == OtherKeys::Reported ||
                !row.meaning.empty())
        << label;
  }
}

TEST(ScriptCommands, AppliedAndNotAppliedLines) {
  Graph g = test::importText(
      "<ir_version: 8, opset_import: [\"\" : 17]>\n"
      "g (float[1,3,8,8] x) => (float[1,4,8,8] y) {\n"
      "  w = Constant <value = " +
      test::tensorLiteral({4, 3, 3, 3}, 1) +
      "> ()\n"
      "  c = Conv <pads = [1, 1, 1, 1]> (x, w)\n"
      "  y = Relu (c)\n"
      "}");
  const std::string text =
      "model_optimization_flavor(optimization_level=2, batch_size=4)\n"
      "model_optimization_config(calibration, calibset_size=32, batch_size=8)\n"
      "model_optimization_config(compression_params, auto_4bit_weights_ratio=0.2)\n"
      "quantization_param(conv1, precision_mode=a16_w8, bias_mode=double_scale_initialization)\n"
      "pre_quantization_optimization(weights_clipping, layers=[conv1], mode=mmse)\n"
      "pre_quantization_optimization(equalization, policy=disabled)\n"
      "logits_layer(conv1, softmax)\n"
      "resize(resize_shapes=[8, 8])\n"
      "quantization_param(conv1, max_elementwise_feed_repeat=1)\n"
      "pre_quantization_optimization(matmul_correction, layers={*}, "
      "correction_type=zp_comp_block)\n";
  const alls::Script script = alls::parseScript(text, "t.alls");
  const ScriptSettings s = applyScript(g, script);
  EXPECT_EQ(s.applied,
            (std::vector<std::string>{
                "t.alls:1 model_optimization_flavor(optimization_level=2, batch_size=4)",
                "t.alls:2 model_optimization_config(calibration, calibset_size=32, batch_size=8)",
                "t.alls:4 quantization_param(conv1, precision_mode=a16_w8, "
                "bias_mode=double_scale_initialization)",
                "t.alls:5 pre_quantization_optimization(weights_clipping, layers=[conv1], "
                "mode=mmse)",
                "t.alls:6 pre_quantization_optimization(equalization, policy=disabled)",
                "t.alls:7 logits_layer(conv1, softmax)",
                "t.alls:8 resize(resize_shapes=[8, 8])",
                "t.alls:9 quantization_param(conv1, max_elementwise_feed_repeat=1)"}));
  // compression_params is not an applied command: the validator warns about it, applyScript
  // skips it. Batch sizes are accepted silently.
  EXPECT_EQ(s.notApplied,
            (std::vector<std::string>{
                "t.alls:9: quantization_param key max_elementwise_feed_repeat is parsed, not "
                "applied"}));
  // bias_mode and matmul_correction are accepted with a meaning: info lines.
  ASSERT_EQ(s.accepted.size(), 2u);
  EXPECT_EQ(s.accepted[0].rfind("t.alls:4: quantization_param bias_mode=double_scale_"
                                "initialization: accepted, nothing to change: Kiln's bias is "
                                "one int64 integer in accumulator units",
                                0),
            0u)
      << s.accepted[0];
  EXPECT_EQ(s.accepted[1].rfind("t.alls:10: pre_quantization_optimization(matmul_correction): "
                                "accepted, nothing to correct",
                                0),
            0u)
      << s.accepted[1];
  // The same lines without a network, as kiln check-script reports them.
  const std::vector<alls::Diagnostic> d = scriptNotApplied(script);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].pos.line, 9);
  EXPECT_TRUE(d[0].notApplied);
  EXPECT_EQ(d[0].label, "quantization_param key max_elementwise_feed_repeat");
  const std::vector<alls::Diagnostic> notes = scriptAccepted(script);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0].severity, alls::Diagnostic::Note);
  EXPECT_EQ(notes[0].pos.line, 4);
  EXPECT_FALSE(notes[0].notApplied);
  EXPECT_EQ(notes[1].pos.line, 10);
  EXPECT_EQ(notes[1].label, "pre_quantization_optimization(matmul_correction)");
  EXPECT_EQ(s.optimizationLevel, 2);
  EXPECT_EQ(s.calibsetSize, 32);
  EXPECT_FALSE(s.equalization);
  ASSERT_EQ(s.precision.count("conv1"), 1u);
  EXPECT_EQ(s.precision.at("conv1").mode.name, "a16_w8");
  EXPECT_EQ(s.precision.at("conv1").source, "t.alls:4");
}

// nms_postprocess: statements Kiln cannot decode are reported, by kiln optimize and without a
// network alike (kiln check-script), with the reason; one with a config file Kiln decodes is not.
TEST(ScriptCommands, NmsPostprocessReportsWhatItCannotDecode) {
  Graph g = test::importText(
      "<ir_version: 8, opset_import: [\"\" : 17]>\n"
      "g (float[1,3,8,8] x) => (float[1,4,8,8] y) {\n"
      "  w = Constant <value = " +
      test::tensorLiteral({4, 3, 3, 3}, 1) +
      "> ()\n"
      "  y = Conv <pads = [1, 1, 1, 1]> (x, w)\n"
      "}");
  const std::string text =
      "nms_postprocess(\"a.json\", yolox, engine=cpu)\n"
      "nms_postprocess(meta_arch=ssd)\n"
      "nms_postprocess(\"b.json\", meta_arch=yolov8, engine=cpu, bbox_decoding_only=True)\n"
      "nms_postprocess(\"c.json\", yolov5, engine=nn_core)\n";
  const alls::Script script = alls::parseScript(text, "t.alls");
  const std::vector<alls::Diagnostic> d = scriptNotApplied(script);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].message,
            "nms_postprocess is parsed, not applied: meta_arch=yolox is not decoded by Kiln (ssd, "
            "yolov5, yolov6 and yolov8 are); the network's outputs are returned as they are");
  EXPECT_EQ(d[1].pos.line, 2);
  EXPECT_NE(d[1].message.find("without a config file"), std::string::npos);
  EXPECT_NE(d[2].message.find("bbox_decoding_only=True"), std::string::npos);
  // kiln optimize: the same three lines; the fourth needs its config file, which is missing.
  const alls::Script first3 =
      alls::parseScript(text.substr(0, text.rfind("nms_postprocess(\"c")), "t.alls");
  const ScriptSettings s = applyScript(g, first3);
  EXPECT_EQ(s.notApplied.size(), 3u);
  EXPECT_TRUE(s.applied.empty());
  EXPECT_TRUE(s.nms.empty());
  try {
    applyScript(g, script);
    FAIL() << "a missing config file was accepted";
  } catch (const alls::ScriptError& e) {
    EXPECT_NE(std::string(e.what()).find("nms_postprocess config c.json cannot be read"),
              std::string::npos)
        << e.what();
  }
}

// set_seed(seed=N) seeds the random calibration set (--use-random-calib-set).
TEST(ScriptCommands, SetSeed) {
  Graph g = test::importText(
      "<ir_version: 8, opset_import: [\"\" : 17]>\n"
      "g (float[1,2] x) => (float[1,2] y) {\n"
      "  y = Relu (x)\n"
      "}");
  const ScriptSettings none = applyScript(g, alls::parseScript("", "t.alls"));
  EXPECT_EQ(none.seed, 0u);
  const ScriptSettings s =
      applyScript(g, alls::parseScript("set_seed(seed=4294967295)\n", "t.alls"));
  EXPECT_EQ(s.seed, 4294967295u);
  EXPECT_EQ(s.applied, std::vector<std::string>{"t.alls:1 set_seed(seed=4294967295)"});
  EXPECT_TRUE(s.notApplied.empty());
}

// Keys that only say how the reference distributes its work are accepted without a report.
TEST(ScriptCommands, WorkDistributionKeysAreAccepted) {
  const alls::Script script = alls::parseScript(
      "model_optimization_config(globals, multiproc_policy=disabled, gpu_policy=enabled)\n"
      "model_optimization_config(calibration, batch_size=4, use_acceleras=disabled)\n"
      "model_optimization_config(negative_exponent, layers={*}, rank=0)\n",
      "t.alls");
  EXPECT_TRUE(alls::validateScript(script).empty());
  EXPECT_TRUE(scriptNotApplied(script).empty());
  // negative_exponent says why Kiln's arithmetic needs nothing for it (docs/arithmetic.md §3).
  const std::vector<alls::Diagnostic> notes = scriptAccepted(script);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].pos.line, 3);
  EXPECT_NE(notes[0].message.find("m / 2^shift with m in [2^30, 2^31) and shift in [0, 62]"),
            std::string::npos)
      << notes[0].message;
}

TEST(RangeMethods, NamesRoundTrip) {
  const std::vector<std::pair<RangeMethod, std::string>> all = {
      {RangeMethod::MinMax, "min_max"},
      {RangeMethod::ActivationClipping, "activation_clipping"},
      {RangeMethod::ForceRangeOut, "force_range_out"},
      {RangeMethod::ForceRangeIn, "force_range_in"},
      {RangeMethod::Mse, "mse"},
      {RangeMethod::NotOwn, "not_own"}};
  for (const auto& [method, name] : all) {
    EXPECT_EQ(rangeMethodName(method), name);
    RangeMethod back = RangeMethod::NotOwn;
    ASSERT_TRUE(rangeMethodFromName(name, back)) << name;
    EXPECT_EQ(back, method) << name;
  }
  RangeMethod m;
  EXPECT_FALSE(rangeMethodFromName("minmax", m));
  EXPECT_FALSE(rangeMethodFromName("", m));
}

}  // namespace
}  // namespace kiln::optimize
