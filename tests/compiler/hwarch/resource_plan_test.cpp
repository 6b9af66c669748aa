// Hardware profiles and the resource plan: a small CNN fits one context on hailo8, splits into
// several when memory is tiny, context_switch_param(mode=disabled) refuses what does not fit,
// script options are read (and bad values rejected), unknown architectures are listed, and the
// JSON is deterministic.
#include <algorithm>

#include "alls/errors.h"
#include "alls/parser.h"
#include "compiler/hwarch/hw_arch.h"
#include "compiler/hwarch/resource_plan.h"
#include "compiler/quant/prepare.h"
#include "tests/support/test_util.h"

namespace kiln::test {
namespace {

using hwarch::planResources;

// input [1,3,16,16] -> conv 8 (3x3) relu -> conv 16 (3x3) relu -> conv 16 (3x3) -> global
// average pool -> flatten -> fc 10.
std::string cnnText() {
  return std::string("<ir_version: 8, opset_import: [\"\" : 17]>\n") +
         "g (float[1,3,16,16] x) => (float[1,10] y) {\n"
         "  w1 = Constant <value = " +
         tensorLiteral({8, 3, 3, 3}, 1) +
         "> ()\n"
         "  b1 = Constant <value = " +
         tensorLiteral({8}, 2) +
         "> ()\n"
         "  w2 = Constant <value = " +
         tensorLiteral({16, 8, 3, 3}, 3) +
         "> ()\n"
         "  b2 = Constant <value = " +
         tensorLiteral({16}, 4) +
         "> ()\n"
         "  w3 = Constant <value = " +
         tensorLiteral({16, 16, 3, 3}, 5) +
         "> ()\n"
         "  b3 = Constant <value = " +
         tensorLiteral({16}, 6) +
         "> ()\n"
         "  wf = Constant <value = " +
         tensorLiteral({10, 16}, 7) +
         "> ()\n"
         "  bf = Constant <value = " +
         tensorLiteral({10}, 8) +
         "> ()\n"
         "  c1 = Conv <pads = [1,1,1,1]> (x, w1, b1)\n"
         "  r1 = Relu (c1)\n"
         "  c2 = Conv <pads = [1,1,1,1]> (r1, w2, b2)\n"
         "  r2 = Relu (c2)\n"
         "  c3 = Conv <pads = [1,1,1,1]> (r2, w3, b3)\n"
         "  p = GlobalAveragePool (c3)\n"
         "  f = Flatten (p)\n"
         "  y = Gemm <transB = 1> (f, wf, bf)\n"
         "}";
}

Graph quantizedCnn(const std::string& mode = "a8_w8") {
  Graph g = importText(cnnText());
  std::vector<std::vector<FloatBuffer>> calib;
  for (unsigned s = 0; s < 3; ++s) calib.push_back({randomInput({1, 3, 16, 16}, 40 + s)});
  quant::PrepareOptions opts;
  quant::LayerPrecision p;
  EXPECT_TRUE(quant::parsePrecisionMode(mode, p.mode));
  for (size_t i = 0; i < g.layers.size(); ++i) opts.precision[int(i)] = p;
  quant::prepareQuantization(g, quant::collectStats(g, calib), opts);
  return g;
}

constexpr int64_t kWeights = 8 * 3 * 9 + 16 * 8 * 9 + 16 * 16 * 9 + 16 * 10;
constexpr int64_t kMacs = 16 * 16 * (8 * 3 * 9 + 16 * 8 * 9 + 16 * 16 * 9) + 10 * 16;

hwarch::PlanOptions optionsFrom(const std::string& script) {
  return hwarch::planOptionsFromScript(alls::parseScript(script, "model.alls"));
}

TEST(HwArch, ProfilesAndLookup) {
  EXPECT_EQ(hwarch::archNames(),
            (std::vector<std::string>{"hailo8", "hailo8l", "hailo15h", "hailo15m", "hailo10h"}));
  EXPECT_EQ(hwarch::findArch("hailo8").topsInt8, 26);
  EXPECT_EQ(hwarch::findArch("Hailo-8L").name, "hailo8l");
  EXPECT_EQ(hwarch::findArch("hailo8l").topsInt8, 13);
  EXPECT_EQ(hwarch::findArch("hailo15h").topsInt8, 20);
  EXPECT_EQ(hwarch::findArch("hailo15m").topsInt8, 11);
  EXPECT_EQ(hwarch::findArch("hailo10h").topsInt8, 20);  // 40 TOPS is its INT4 figure
  for (const hwarch::HwArch& a : hwarch::allArchs()) {
    EXPECT_GT(a.clusters, 0) << a.name;
    EXPECT_GT(a.onChipMemoryBytes, 0) << a.name;
    EXPECT_GT(a.hostIoGBps, 0) << a.name;
    EXPECT_GT(a.contextLoadGBps, 0) << a.name;
    EXPECT_EQ(a.topsSource, hwarch::Source::Published) << a.name;
    EXPECT_FALSE(a.toJson()["estimated"].empty()) << a.name;
  }
}

TEST(HwArch, UnknownArchListsTheKnownOnes) {
  try {
    hwarch::findArch("hailo9");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("'hailo9'"), std::string::npos) << m;
    for (const std::string& n : hwarch::archNames()) EXPECT_NE(m.find(n), std::string::npos) << m;
  }
}

TEST(ResourcePlan, SmallNetFitsOneContext) {
  const Graph g = quantizedCnn();
  const hwarch::ResourcePlan p = planResources(g, hwarch::findArch("hailo8"), {});
  ASSERT_EQ(p.contexts.size(), 1u);
  const hwarch::ContextPlan& c = p.contexts[0];
  EXPECT_EQ(c.firstLayer, 0);
  EXPECT_EQ(c.lastLayer, int(g.layers.size()) - 1);
  EXPECT_EQ(p.totalWeightBytes, kWeights);
  EXPECT_EQ(c.weightBytes, kWeights);
  EXPECT_GT(c.auxBytes, 0);  // biases and multipliers
  // MACs of conv/fc exactly; the other layers add their small op cost.
  int64_t convFc = 0;
  for (const hwarch::LayerPlan& l : p.layers)
    if (l.type == "conv" || l.type == "fc") convFc += l.macs;
  EXPECT_EQ(convFc, kMacs);
  EXPECT_GT(p.totalMacs, kMacs);
  // Peak activations: conv2's output (16x16x16 bytes) is live with its input (8x16x16).
  EXPECT_GE(c.activationBytes, 16 * 16 * 16 + 8 * 16 * 16);
  EXPECT_LE(c.activationBytes, 4 * 16 * 16 * 16);
  // One context: no switch or reload cost.
  EXPECT_EQ(c.loadUs, 0);
  EXPECT_EQ(c.switchUs, 0);
  EXPECT_EQ(p.ioBytes, 3 * 16 * 16 + 10);
  EXPECT_GT(p.latencyUs, 0);
  EXPECT_NEAR(p.fps, 1e6 / p.latencyUs, 1e-6 * p.fps);
  EXPECT_TRUE(p.warnings.empty());
  for (const hwarch::LayerPlan& l : p.layers) EXPECT_EQ(l.costFactor, 1.0);
}

TEST(ResourcePlan, SixteenBitDoublesWeightsAndCosts) {
  const hwarch::ResourcePlan p8 =
      planResources(quantizedCnn("a8_w8"), hwarch::findArch("hailo8"), {});
  const hwarch::ResourcePlan p16 =
      planResources(quantizedCnn("a16_w16"), hwarch::findArch("hailo8"), {});
  EXPECT_EQ(p16.totalWeightBytes, 2 * kWeights);
  EXPECT_GT(p16.peakActivationBytes, p8.peakActivationBytes);
  EXPECT_GT(p16.contexts[0].computeUs, 3.9 * p8.contexts[0].computeUs);
}

TEST(ResourcePlan, SplitsIntoContextsWhenMemoryIsTiny) {
  const Graph g = quantizedCnn();
  hwarch::PlanOptions o;
  o.memoryBytesOverride = 8000;
  const hwarch::ResourcePlan one = planResources(g, hwarch::findArch("hailo8l"), {});
  const hwarch::ResourcePlan p = planResources(g, hwarch::findArch("hailo8l"), o);
  EXPECT_EQ(p.usableMemoryBytes, 8000);
  ASSERT_GE(p.contexts.size(), 3u);
  int next = 0;
  int64_t weights = 0;
  for (const hwarch::ContextPlan& c : p.contexts) {
    EXPECT_EQ(c.firstLayer, next);  // consecutive, in layer order, covering every layer
    next = c.lastLayer + 1;
    weights += c.weightBytes;
    if (c.fits) {
      EXPECT_LE(c.memoryBytes(), p.usableMemoryBytes) << c.index;
    } else {
      EXPECT_EQ(c.firstLayer, c.lastLayer) << "only a lone layer may overflow";
    }
    EXPECT_GT(c.switchUs, 0);
    for (int i = c.firstLayer; i <= c.lastLayer; ++i)
      EXPECT_EQ(p.layers[size_t(i)].context, c.index);
  }
  EXPECT_EQ(next, int(g.layers.size()));
  // A lone layer that overflows a context is reported.
  const auto overflowing = std::count_if(p.contexts.begin(), p.contexts.end(),
                                         [](const hwarch::ContextPlan& c) { return !c.fits; });
  EXPECT_EQ(p.warnings.size(), size_t(overflowing));
  EXPECT_EQ(weights, kWeights);
  // Activations cross context boundaries; reloading and switching make it slower.
  EXPECT_GT(p.contexts[1].inBytes, 0);
  EXPECT_GT(p.contexts[0].outBytes, 0);
  EXPECT_GT(p.latencyUs, one.latencyUs + 2 * hwarch::kContextSwitchUs);

  // Halving max_memory_utilization halves the usable memory: at least as many contexts.
  hwarch::PlanOptions half = optionsFrom("resources_param(max_memory_utilization=0.5)\n");
  half.memoryBytesOverride = 16000;
  const hwarch::ResourcePlan h = planResources(g, hwarch::findArch("hailo8l"), half);
  EXPECT_EQ(h.usableMemoryBytes, 8000);
  EXPECT_EQ(h.contexts.size(), p.contexts.size());

  // A batch amortises the weight reloads: more frames per second.
  o.batchSize = 8;
  const hwarch::ResourcePlan b = planResources(g, hwarch::findArch("hailo8l"), o);
  EXPECT_GT(b.fps, p.fps);
  EXPECT_DOUBLE_EQ(b.latencyUs, p.latencyUs);

  // Control resources: one layer slot per context puts every computing layer alone.
  hwarch::PlanOptions ctl;
  ctl.maxControlUtilization = 1e-9;
  const hwarch::ResourcePlan c = planResources(g, hwarch::findArch("hailo8"), ctl);
  EXPECT_EQ(c.layerSlotsPerContext, 1);
  for (const hwarch::ContextPlan& x : c.contexts) EXPECT_LE(x.layerSlots, 1);
}

TEST(ResourcePlan, ContextSwitchDisabledRefusesWhatDoesNotFit) {
  const Graph g = quantizedCnn();
  hwarch::PlanOptions o = optionsFrom(
      "resources_param(max_utilization=0.0)\n"
      "context_switch_param(mode=disabled)\n");
  EXPECT_EQ(o.contextSwitch, hwarch::ContextSwitchMode::Disabled);
  EXPECT_EQ(o.maxMemoryUtilization, 1.0);  // max_utilization=0.0 means "not set"
  EXPECT_EQ(planResources(g, hwarch::findArch("hailo8"), o).contexts.size(), 1u);
  o.memoryBytesOverride = 8000;
  try {
    planResources(g, hwarch::findArch("hailo8"), o);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("context_switch_param(mode=disabled) (model.alls:2)"), std::string::npos) << m;
    EXPECT_NE(m.find("too much"), std::string::npos) << m;
    EXPECT_NE(m.find("8.0 KB usable"), std::string::npos) << m;
    // Activations (two 16x16x16 maps live at once) outweigh the 4 KB of weights: 4-bit weights
    // would not make it fit, and the advice says so instead of suggesting them.
    EXPECT_NE(m.find("The activations (8.2 KB) take most of it, so 4-bit weights would not help"),
              std::string::npos)
        << m;
    EXPECT_EQ(m.find("a8_w4"), std::string::npos) << m;
  }
}

TEST(ResourcePlan, ScriptOptions) {
  const hwarch::PlanOptions o = optionsFrom(
      "normalization1 = normalization([0, 0, 0], [1, 1, 1])\n"
      "resources_param(max_utilization=0.8, max_compute_utilization=0.5, max_apu_utilization=0.9)\n"
      "performance_param(compiler_optimization_level=max, fps=1e9, optimize_for_batch=4)\n"
      "context_switch_param(mode=automatic)\n");
  EXPECT_DOUBLE_EQ(o.maxMemoryUtilization, 0.8);
  EXPECT_DOUBLE_EQ(o.maxControlUtilization, 0.8);
  EXPECT_DOUBLE_EQ(o.maxComputeUtilization, 0.5);
  EXPECT_EQ(o.compilerOptimizationLevel, "max");
  EXPECT_EQ(o.targetFps, 1e9);
  EXPECT_EQ(o.batchSize, 4);
  EXPECT_EQ(o.contextSwitch, hwarch::ContextSwitchMode::Allowed);
  ASSERT_EQ(o.applied.size(), 3u);
  EXPECT_EQ(o.applied[0].rfind("model.alls:2 resources_param(", 0), 0u) << o.applied[0];

  const hwarch::ResourcePlan p = planResources(quantizedCnn(), hwarch::findArch("hailo15m"), o);
  EXPECT_FALSE(p.fpsMet);
  ASSERT_EQ(p.warnings.size(), 2u);  // max_apu_utilization is not read (below), fps is missed
  EXPECT_NE(p.warnings[1].find("(model.alls:3)"), std::string::npos) << p.warnings[1];

  EXPECT_THROW(optionsFrom("resources_param(max_memory_utilization=80)\n"), alls::ScriptError);
  EXPECT_THROW(optionsFrom("context_switch_param(mode=sometimes)\n"), alls::ScriptError);
  EXPECT_THROW(optionsFrom("performance_param(fps=-3)\n"), alls::ScriptError);
  // A specific utilization of 0 used to be ignored while 0.0001 was applied: an error now.
  try {
    optionsFrom("resources_param(max_memory_utilization=0)\n");
    ADD_FAILURE() << "expected a ScriptError";
  } catch (const alls::ScriptError& e) {
    EXPECT_EQ(e.detail(),
              "max_memory_utilization expects a number in (0, 2] (e.g. 0.8), found 0 (only "
              "max_utilization=0 means \"not set\")");
  }
  EXPECT_DOUBLE_EQ(
      optionsFrom("resources_param(max_memory_utilization=0.0001)\n").maxMemoryUtilization, 0.0001);
  // What the zoo's scripts hold (issue 16): fps=None / null is no target; mode=manual is planned
  // as allowed; utilizations above 1 are planned as 1, with a note unless rounding noise.
  const hwarch::PlanOptions zoo = optionsFrom(
      "performance_param(fps=100)\n"
      "performance_param(fps=None)\n"
      "context_switch_param(mode=manual)\n"
      "resources_param(max_utilization=1.125, max_control_utilization=1.0000000000000007)\n");
  EXPECT_EQ(zoo.targetFps, 0);
  EXPECT_EQ(zoo.fpsSource, "");
  EXPECT_EQ(optionsFrom("performance_param(fps=null)\n").targetFps, 0);
  EXPECT_EQ(zoo.contextSwitch, hwarch::ContextSwitchMode::Allowed);
  EXPECT_DOUBLE_EQ(zoo.maxMemoryUtilization, 1);
  EXPECT_DOUBLE_EQ(zoo.maxControlUtilization, 1);
  EXPECT_EQ(zoo.adjusted,
            (std::vector<std::string>{
                "model.alls:3: context_switch_param mode=manual is planned as mode=allowed "
                "(Kiln's plan splits the network into contexts itself, in layer order; the "
                "script's placement commands are not applied)",
                "model.alls:4: resources_param max_utilization=1.125 is planned as 1 (Kiln's "
                "plan uses at most all of a resource; the reference lets a context overcommit "
                "it)"}));
  const hwarch::ResourcePlan zp = planResources(quantizedCnn(), hwarch::findArch("hailo8"), zoo);
  EXPECT_EQ(zp.warnings, zoo.adjusted);
  EXPECT_THROW(optionsFrom("resources_param(max_utilization=2.5)\n"), alls::ScriptError);
  EXPECT_THROW(optionsFrom("performance_param(fps=none_at_all)\n"), alls::ScriptError);

  // Keys the plan does not read are listed, and become plan warnings.
  EXPECT_EQ(o.notApplied,
            (std::vector<std::string>{"model.alls:2: resources_param key max_apu_utilization is "
                                      "parsed, not applied (the plan models memory, compute and "
                                      "control only)"}));
  EXPECT_EQ(p.warnings[0], o.notApplied[0]);

  // The script stored in an optimized archive.
  Archive a;
  const std::string text = "context_switch_param(mode=disabled)\n";
  a.extra["optimize/script.alls"] = std::vector<uint8_t>(text.begin(), text.end());
  EXPECT_EQ(hwarch::planOptionsFromArchive(a).contextSwitch, hwarch::ContextSwitchMode::Disabled);
  EXPECT_EQ(hwarch::planOptionsFromArchive(Archive{}).contextSwitch,
            hwarch::ContextSwitchMode::Allowed);
}

TEST(ResourcePlan, NeedsAQuantizedGraph) {
  const Graph g = importText(cnnText());
  EXPECT_THROW(planResources(g, hwarch::findArch("hailo8"), {}), Error);
}

TEST(ResourcePlan, JsonIsDeterministic) {
  hwarch::PlanOptions o;
  o.memoryBytesOverride = 8000;
  hwarch::ResourcePlan a = planResources(quantizedCnn(), hwarch::findArch("hailo8l"), o);
  hwarch::ResourcePlan b = planResources(quantizedCnn(), hwarch::findArch("hailo8l"), o);
  a.activationArenaBytes = b.activationArenaBytes = 12345;
  const std::string ja = a.toJson().dump(2), jb = b.toJson().dump(2);
  EXPECT_EQ(ja, jb);
  const nlohmann::ordered_json j = a.toJson();
  EXPECT_EQ(j.begin().key(), "arch");
  EXPECT_EQ(j["activation_arena_bytes"], 12345);
  EXPECT_EQ(j["contexts"].size(), a.contexts.size());
  EXPECT_EQ(j["totals"]["weight_bytes"], kWeights);
  EXPECT_EQ(a.summary(), b.summary());
  EXPECT_NE(a.summary().find("activation arena: 12.3 KB"), std::string::npos) << a.summary();
  std::cout << a.summary();
}

}  // namespace
}  // namespace kiln::test
