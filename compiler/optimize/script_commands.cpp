// The handlers of the model-script commands `kiln optimize` applies, and the table that registers
// them with the keys they apply (script_commands.h).
#include "compiler/optimize/script_commands.h"

#include <cmath>
#include <tuple>

#include "common/strings.h"
#include "compiler/optimize/nms_script.h"
#include "compiler/optimize/script_input.h"
#include "compiler/optimize/weights_clipping.h"
#include "compiler/passes/pipeline.h"
#include "runtime/format/kef.h"

namespace kiln::optimize {

namespace {

using alls::Arg;
using alls::Statement;
using alls::Value;

alls::ScriptError errorAt(const Statement& st, const alls::SourcePos& pos,
                          const std::string& what) {
  return alls::ScriptError(pos, what, st.lineText(pos.line));
}

std::vector<double> numbers(const Statement& st, const Value& v) {
  std::vector<double> out;
  if (v.kind == Value::Kind::Number) return {v.number};
  if (v.kind != Value::Kind::List)
    throw errorAt(st, v.pos, "expected a list of numbers, found " + v.text);
  for (const Value& item : v.items) {
    if (item.kind != Value::Kind::Number)
      throw errorAt(st, item.pos, "expected a number, found " + item.text);
    out.push_back(item.number);
  }
  return out;
}

std::pair<double, double> rangeArg(const Statement& st, const Value& v) {
  const auto n = numbers(st, v);
  if (n.size() != 2 || !(n[0] <= n[1]))
    throw errorAt(st, v.pos, "expected [low, high] with low <= high, found " + v.text);
  return {n[0], n[1]};
}

// Clipping bounds [low, high]: percentiles (within [0, 100]) unless `manual`.
ScriptSettings::Clipping clippingArg(const Statement& st, const Value& values, bool manual) {
  ScriptSettings::Clipping c;
  c.percentile = !manual;
  std::tie(c.lo, c.hi) = rangeArg(st, values);
  if (c.percentile && (c.lo < 0 || c.hi > 100))
    throw errorAt(st, values.pos, "percentiles must lie within [0, 100]");
  return c;
}

// policy=enabled|disabled of a feature statement (absent: enabled).
bool policyEnabled(const Statement& st) {
  const Arg* policy = st.find("policy");
  return !policy || policy->value.text == "enabled";
}

// ---- float graph changes --------------------------------------------------------------------

// Inserts `l` right after layer `id` (keeping topological order), reading its first output, and
// makes every other reader of that output read `l` instead.
void insertAfter(Graph& g, int id, Layer l) {
  l.inputs = {{id, 0}};
  l.outputShapes = {g.at(id).outputShapes[0]};
  const int pos = id + 1;
  for (Layer& x : g.layers)
    for (ValueRef& v : x.inputs)
      if (v.layer >= pos) ++v.layer;
  g.layers.insert(g.layers.begin() + pos, std::move(l));
  for (size_t i = 0; i < g.layers.size(); ++i)
    if (int(i) != pos)
      for (ValueRef& v : g.layers[i].inputs)
        if (v == ValueRef{id, 0}) v = {pos, 0};
}

// Inserts y = (x - mean) / std per channel right after input layer `inputId`.
void insertNormalization(Graph& g, int inputId, const std::vector<double>& mean,
                         const std::vector<double>& stdv, const Statement& st) {
  const Shape& s = g.at(inputId).outputShapes[0];
  if (s.size() < 2)
    throw errorAt(st, st.pos, "normalization needs an input with a channel dimension");
  const int64_t C = s[1];
  auto expand = [&](const std::vector<double>& v, const char* what) {
    if (v.size() == 1) return std::vector<double>(C, v[0]);
    if (int64_t(v.size()) != C)
      throw errorAt(st, st.pos,
                    std::string("normalization ") + what + " has " + std::to_string(v.size()) +
                        " values, the input has " + std::to_string(C) + " channels");
    return v;
  };
  const auto m = expand(mean, "mean"), d = expand(stdv, "std");
  Layer l;
  l.type = LayerType::Normalization;
  l.originalNames = {"alls:" + std::to_string(st.pos.line)};
  Tensor scale, bias;
  scale.shape = bias.shape = {C};
  for (int64_t c = 0; c < C; ++c) {
    if (d[c] == 0) throw errorAt(st, st.pos, "normalization std must not be 0");
    scale.data.push_back(float(1.0 / d[c]));
    bias.data.push_back(float(-m[c] / d[c]));
  }
  l.params["scale"] = scale;
  l.params["bias"] = bias;
  insertAfter(g, inputId, std::move(l));
}

// ---- statement handlers ---------------------------------------------------------------------

void normalization(ScriptContext& c) {
  const Statement& st = c.st;
  const Value* mean = st.positional(0);
  const Value* stdv = st.positional(1);
  if (!mean || !stdv)
    throw errorAt(st, st.pos, "normalization needs (mean list, std list [, layer])");
  int input = c.g.inputLayers().at(0);
  if (const Value* at = st.positional(2)) {
    const auto ids = alls::resolveLayers(*at, layerNames(c.g), c.g.name, &st);
    if (ids.size() != 1 || c.g.at(ids[0]).type != LayerType::InputLayer)
      throw errorAt(st, at->pos, "normalization takes one input layer");
    input = ids[0];
  }
  insertNormalization(c.g, input, numbers(st, *mean), numbers(st, *stdv), st);
  assignNames(c.g);
  c.settings.normalizes = true;
}

// logits_layer(layer, softmax, axis [, engine]): a softmax over `axis` of the layer's output,
// which its readers (the network output) read instead. Kiln runs it in the network, exact between
// the emulation and the runtime, whatever `engine` says (the reference may run it on the host).
void logitsLayer(ScriptContext& c) {
  const Statement& st = c.st;
  const Value* ref = st.positional(0);
  if (!ref || st.positionalCount() < 2)
    throw errorAt(st, st.pos, "logits_layer needs (layer, softmax, axis [, engine])");
  const auto ids = alls::resolveLayers(*ref, layerNames(c.g), c.g.name, &st);
  if (ids.size() != 1) throw errorAt(st, ref->pos, "logits_layer takes one layer");
  const Shape& shape = c.g.at(ids[0]).outputShapes.at(0);
  int64_t axis = -1;
  const Value* a = st.positionalCount() >= 3 ? st.positional(2) : nullptr;
  if (const Arg* k = st.find("axis")) a = &k->value;
  if (a) {
    if (a->kind != Value::Kind::Number || a->number != std::floor(a->number))
      throw errorAt(st, a->pos, "logits_layer axis must be a whole number, found " + a->text);
    axis = int64_t(a->number);
  }
  const int64_t rank = int64_t(shape.size());
  if (axis < -rank || axis >= rank)
    throw errorAt(st, a ? a->pos : st.pos,
                  "logits_layer axis " + std::to_string(axis) + " is outside the " +
                      std::to_string(rank) + " dimensions of " + c.g.at(ids[0]).name);
  Layer l;
  l.type = LayerType::Softmax;
  l.originalNames = {"alls:" + std::to_string(st.pos.line)};
  l.attrs["axis"] = axis < 0 ? axis + rank : axis;
  l.attrs["coerce_2d"] = int64_t(0);
  insertAfter(c.g, ids[0], std::move(l));
  assignNames(c.g);
}

void changeOutputActivation(ScriptContext& c) {
  const Statement& st = c.st;
  const Value* act = st.positional(st.positionalCount() - 1);
  ActKind kind;
  if (!act || !actFromName(act->text == "linear" ? "linear" : act->text, kind))
    throw errorAt(st, st.pos, "change_output_activation needs sigmoid, tanh or linear");
  std::vector<int> targets;
  if (st.positionalCount() >= 2) {
    targets = alls::resolveLayers(*st.positional(0), layerNames(c.g), c.g.name, &st);
  } else {
    for (int o : c.g.outputLayers()) targets.push_back(c.g.at(o).inputs[0].layer);
  }
  for (int t : targets) {
    Layer& l = c.g.at(t);
    if (l.type == LayerType::OutputLayer) {
      const int src = l.inputs[0].layer;
      c.g.at(src).activation = Activation{kind, 0, 0};
    } else {
      l.activation = Activation{kind, 0, 0};
    }
  }
}

// nms_postprocess: box decoding + NMS on the host after the outputs (nms_script.h); the config
// goes into the archive and from there into the .kef.
void nmsPostprocess(ScriptContext& c) {
  const NmsScript n = nmsFromStatement(c.g, c.st);
  const std::string where = statementWhere(c.st);
  if (!n.applied) {
    c.settings.notApplied.push_back(where +
                                    ": nms_postprocess is parsed, not applied: " + n.notApplied);
    c.notApplied = true;
    return;
  }
  // The decoders against the outputs now, not first in kiln compiler: the float graph's shapes
  // (channels first) give the same checks as the runtime's streams.
  std::vector<rt::StreamDesc> streams;
  for (int o : c.g.outputLayers()) {
    rt::StreamDesc sd;
    sd.shape = c.g.at(o).outputShapes.at(0);
    sd.layout = sd.shape.size() == 4 ? "NCHW" : "";
    streams.push_back(std::move(sd));
  }
  try {
    rt::checkNmsConfig(n.config, streams);
  } catch (const rt::Error& e) {
    throw errorAt(c.st, c.st.pos, std::string("nms_postprocess: ") + e.what());
  }
  for (const std::string& note : n.notes)
    c.settings.notApplied.push_back(where + ": nms_postprocess " + note);
  c.settings.nms = rt::writeNmsSection(n.config);
}

// quantization_param: resolves the layer reference its keys apply to.
void quantizationParamLayers(ScriptContext& c) {
  const Value* ref = c.st.positional(0);
  if (!ref) throw errorAt(c.st, c.st.pos, "quantization_param needs a layer reference first");
  c.layers = alls::resolveLayers(*ref, layerNames(c.g), c.g.name, &c.st);
}

void equalization(ScriptContext& c) {
  c.settings.equalization = policyEnabled(c.st);
}

void biasCorrection(ScriptContext& c) {
  c.settings.biasCorrection = policyEnabled(c.st) ? 1 : 0;
}

void activationClipping(ScriptContext& c) {
  const Statement& st = c.st;
  const Arg* layers = st.find("layers");
  const Arg* mode = st.find("mode");
  const Arg* values = st.find("clipping_values");
  if (!layers || !values)
    throw errorAt(st, st.pos,
                  "activation_clipping needs layers=... and clipping_values=[low, high]");
  const auto clip = clippingArg(st, values->value, mode && mode->value.text == "manual");
  for (int id : alls::resolveLayers(layers->value, layerNames(c.g), c.g.name, &st))
    if (policyEnabled(st)) c.settings.activationClipping[c.g.at(id).name] = clip;
}

// pre_quantization_optimization(weights_clipping, layers=..., mode=..., clipping_values=[lo, hi])
// (weights_clipping.h). Without a mode: manual when clipping_values are given, else mmse.
void weightsClipping(ScriptContext& c) {
  const Statement& st = c.st;
  if (!policyEnabled(st)) return;
  const Arg* layers = st.find("layers");
  const Arg* mode = st.find("mode");
  const Arg* values = st.find("clipping_values");
  if (!layers) throw errorAt(st, st.pos, "weights_clipping needs layers=...");
  const std::string m = mode ? mode->value.text : (values ? "manual" : "mmse");
  WeightsClipMode wm = WeightsClipMode::Manual;
  double lo = 0, hi = 0;
  if (m == "manual" || m == "percentile") {
    if (!values)
      throw errorAt(st, mode ? mode->value.pos : st.pos,
                    "weights_clipping mode=" + m + " needs clipping_values=[low, high]");
    const auto clip = clippingArg(st, values->value, m == "manual");
    lo = clip.lo;
    hi = clip.hi;
    wm = m == "manual" ? WeightsClipMode::Manual : WeightsClipMode::Percentile;
    if (wm == WeightsClipMode::Manual && (lo > 0 || hi < 0))
      throw errorAt(st, values->value.pos,
                    "weights_clipping clipping_values must contain 0 (weights are quantized on "
                    "a grid symmetric around 0), found " +
                        values->value.text);
  } else {
    wm = m == "mmse" ? WeightsClipMode::Mmse : WeightsClipMode::MmseIf4b;
  }
  for (int id : alls::resolveLayers(layers->value, layerNames(c.g), c.g.name, &st)) {
    try {
      setWeightsClipping(c.g.at(id), wm, lo, hi);
    } catch (const Error& e) {
      throw errorAt(st, layers->value.pos, e.what());
    }
  }
}

// post_quantization_optimization(adaround, policy=...): Kiln's error-compensating rounding.
void adaround(ScriptContext& c) {
  c.settings.weightRounding = policyEnabled(c.st) ? 1 : 0;
}

// ---- key handlers ---------------------------------------------------------------------------

void precisionMode(ScriptContext& c, const Arg& a) {
  for (int id : c.layers) {
    quant::LayerPrecision p;
    if (!quant::parsePrecisionMode(a.value.text, p.mode))
      throw errorAt(c.st, a.value.pos,
                    "precision_mode '" + a.value.text + "' is not one of " +
                        join(alls::precisionModes(), ", "));
    p.source = statementWhere(c.st);
    c.settings.precision[c.g.at(id).name] = p;
  }
}

void forceRangeOut(ScriptContext& c, const Arg& a) {
  for (int id : c.layers) c.settings.forceRangeOut[c.g.at(id).name] = rangeArg(c.st, a.value);
}

void forceRangeIn(ScriptContext& c, const Arg& a) {
  for (int id : c.layers) c.settings.forceRangeIn[c.g.at(id).name] = rangeArg(c.st, a.value);
}

// The old spelling of activation_clipping; the mode comes from activation_clipping_mode.
void activationClippingValues(ScriptContext& c, const Arg& a) {
  const Arg* mode = c.st.find("activation_clipping_mode");
  for (int id : c.layers)
    c.settings.activationClipping[c.g.at(id).name] =
        clippingArg(c.st, a.value, mode && mode->value.text == "manual");
}

void optimizationLevel(ScriptContext& c, const Arg& a) {
  c.settings.optimizationLevel = int(a.value.number);
}

void compressionLevel(ScriptContext& c, const Arg& a) {
  c.settings.compressionLevel = int(a.value.number);
}

void calibsetSize(ScriptContext& c, const Arg& a) {
  c.settings.calibsetSize = int(a.value.number);
}

void seed(ScriptContext& c, const Arg& a) {
  c.settings.seed = uint32_t(a.value.number);  // the validator bounds it to 0..2^32-1
}

void output16bit(ScriptContext& c, const Arg& a) {
  c.settings.output16 = a.value.text == "enabled";
}

// ---- the table ------------------------------------------------------------------------------

// What the commands Kiln accepts with a meaning mean in Kiln (docs/alls.md, "Accepted with a
// meaning"). The reference's side is what its scripts and key names say it does.
constexpr const char* kBiasMeaning =
    "accepted, nothing to change: Kiln's bias is one int64 integer in accumulator units, "
    "round(b / (s_x s_w[c])), added before the single rounding of the output stage "
    "(docs/arithmetic.md §2), so it is exact to half an accumulator unit for any value up to 2^40 "
    "units; the reference stores a bias in fewer bits than its accumulator and bias_mode / "
    "use_16bit_bias choose how (one scale, or a coarse and a fine part): both give Kiln's one "
    "exact encoding";
constexpr const char* kNegativeExponentMeaning =
    "accepted, nothing to change: a negative exponent is the reference's answer to an output "
    "scale finer than the accumulator unit (a rescale factor M = s_acc / s_out above 1, a left "
    "shift its output stage cannot do); Kiln writes every M in (0, 2^31) as m / 2^shift with m "
    "in [2^30, 2^31) and shift in [0, 62] (M > 1 is shift < 31) and multiplies the int64 "
    "accumulator by m in 128 bits (docs/arithmetic.md §3), so every layer is rescaled exactly "
    "with one rounding and no layer needs splitting (rank has nothing to choose)";
constexpr const char* kAdaroundMeaning =
    "applied as Kiln's error-compensating weight rounding (GPTQ, docs/arithmetic.md §2, the "
    "weight rounding of optimization level 2) instead of AdaRound's trained rounding: the same "
    "aim, each layer's weights rounded against its output error on calibration samples, without "
    "training, so epochs, warmup, weight, b_range, decay_start and the other training keys have "
    "nothing to set";
constexpr const char* kMatmulMeaning =
    "accepted, nothing to correct: Kiln's matmul subtracts both zero points before multiplying "
    "and accumulates sum (a - z_a)(b - z_b) exactly in int64 (docs/arithmetic.md §5), so there is "
    "no zero-point term to compensate (the reference's correction_type zp_comp_block*)";
constexpr const char* kLayerNormMeaning =
    "accepted, nothing to decompose: Kiln runs layer_normalization as one integer kernel (exact "
    "int64 sums, an integer inverse square root, one rounding before gamma and beta; "
    "docs/arithmetic.md §5); the reference splits it into primitive layers, which "
    "bit_decomposition_mode, equalization and eq_consumer tune";
constexpr const char* kAvgpoolMeaning =
    "accepted, nothing to reduce: Kiln sums a global average pool's whole window in int64 and "
    "divides once, in the output multiplier (docs/arithmetic.md §5); the reference splits a large "
    "pool into stages (division_factors) for its hardware, which in Kiln would only add roundings";
constexpr const char* kDecompositionMeaning =
    "accepted, nothing to decompose: Kiln runs every precision mode natively (a16_w16 layers "
    "accumulate 16-bit products in int64); the reference splits layers into lower-precision "
    "parts for its hardware";

// A key the handler applies (nullptr: another key's handler reads it).
ScriptKey key(std::string name, KeyHandler apply = nullptr) {
  ScriptKey k;
  k.name = std::move(name);
  k.apply = apply;
  return k;
}

// A statement handled as a whole; its keys are the handler's business.
ScriptCommand statement(std::string command, std::string feature, StatementHandler apply) {
  ScriptCommand c;
  c.command = std::move(command);
  c.feature = std::move(feature);
  c.apply = apply;
  return c;
}

// A statement accepted with a meaning: an info line, no effect on the numbers.
ScriptCommand accepted(std::string command, std::string feature, std::string meaning) {
  ScriptCommand c = statement(std::move(command), std::move(feature), nullptr);
  c.meaning = std::move(meaning);
  return c;
}

// A key accepted with a meaning.
ScriptKey acceptedKey(std::string name, std::string meaning) {
  ScriptKey k = key(std::move(name));
  k.meaning = std::move(meaning);
  return k;
}

// A statement applied key by key; the other keys are reported.
ScriptCommand byKeys(std::string command, std::string feature, StatementHandler apply,
                     std::vector<ScriptKey> keys, bool needsAppliedKey) {
  ScriptCommand c = statement(std::move(command), std::move(feature), apply);
  c.keys = std::move(keys);
  c.otherKeys = OtherKeys::Reported;
  c.needsAppliedKey = needsAppliedKey;
  return c;
}

std::vector<ScriptCommand> buildTable() {
  std::vector<ScriptCommand> t;
  t.push_back(statement("normalization", "", normalization));
  t.push_back(byKeys(
      "quantization_param", "", quantizationParamLayers,
      {key("precision_mode", precisionMode), key("force_range_out", forceRangeOut),
       key("force_range_in", forceRangeIn),
       key("activation_clipping_values", activationClippingValues), key("activation_clipping_mode"),
       acceptedKey("bias_mode", kBiasMeaning), acceptedKey("use_16bit_bias", kBiasMeaning)},
      false));
  {
    // Keys other than these are not reported: the validator has rejected them already.
    ScriptCommand c = statement("model_optimization_flavor", "", nullptr);
    c.keys = {key("optimization_level", optimizationLevel),
              key("compression_level", compressionLevel),
              key("batch_size")};  // groups images only: Kiln's results are the same
    t.push_back(c);
  }
  // model_optimization_config: a statement is applied when one of its feature's keys is.
  // batch_size only groups the calibration images (Kiln's statistics are the same for any
  // grouping); use_acceleras picks the reference's emulator backend, which Kiln does not have:
  // both are accepted with that meaning (docs/alls.md), not reported.
  t.push_back(byKeys("model_optimization_config", "calibration", nullptr,
                     {key("calibset_size", calibsetSize), key("batch_size"), key("use_acceleras")},
                     true));
  // multiproc_policy / gpu_policy choose how the reference spreads its work over processes and
  // GPUs; Kiln's results are the same for any thread count: accepted with that meaning.
  t.push_back(byKeys("model_optimization_config", "globals", nullptr,
                     {key("output_16bit", output16bit), key("multiproc_policy"), key("gpu_policy")},
                     true));
  {
    ScriptCommand c = byKeys("model_optimization_config", "negative_exponent", nullptr,
                             {key("layers"), key("rank")}, false);
    c.meaning = kNegativeExponentMeaning;
    t.push_back(c);
  }
  t.push_back(statement("pre_quantization_optimization", "equalization", equalization));
  t.push_back(
      statement("pre_quantization_optimization", "activation_clipping", activationClipping));
  t.push_back(statement("post_quantization_optimization", "bias_correction", biasCorrection));
  t.push_back(statement("pre_quantization_optimization", "weights_clipping", weightsClipping));
  {
    ScriptCommand c = statement("post_quantization_optimization", "adaround", adaround);
    c.meaning = kAdaroundMeaning;
    t.push_back(c);
  }
  // The reference's decompositions and corrections of what Kiln computes exactly in one kernel.
  t.push_back(accepted("pre_quantization_optimization", "matmul_correction", kMatmulMeaning));
  t.push_back(
      accepted("pre_quantization_optimization", "layer_norm_decomposition", kLayerNormMeaning));
  t.push_back(
      accepted("pre_quantization_optimization", "global_avgpool_reduction", kAvgpoolMeaning));
  t.push_back(
      accepted("pre_quantization_optimization", "layer_decomposition", kDecompositionMeaning));
  t.push_back(statement("change_output_activation", "", changeOutputActivation));
  // input_conversion and resize change the network's input (script_input.cpp).
  // emulator_support asks the reference to emulate the conversion; Kiln's emulation always runs
  // it, so the key is accepted with that meaning.
  t.push_back(statement("input_conversion", "", inputConversion));
  t.push_back(statement("logits_layer", "", logitsLayer));
  {
    // The handler reads these; engine=nn_core asks the reference to run NMS on the device, Kiln
    // always runs it on the host (the same boxes). Other keys are reported.
    ScriptCommand c = statement("nms_postprocess", "", nmsPostprocess);
    for (const char* k :
         {"meta_arch", "engine", "classes", "config_path", "nms_scores_th", "nms_iou_th",
          "image_dims", "max_proposals_per_class", "bbox_decoding_only"})
      c.keys.push_back(key(k));
    c.otherKeys = OtherKeys::Reported;
    t.push_back(c);
  }
  {
    // engine: Kiln runs the resize inside the network on every target (accepted with that
    // meaning); pixels_mode is reported.
    ScriptCommand c = byKeys("resize", "", resizeInput,
                             {key("resize_shapes"), key("resize_method"), key("engine")}, false);
    t.push_back(c);
  }
  t.push_back(byKeys("set_seed", "", nullptr, {key("seed", seed)}, true));
  return t;
}

}  // namespace

const ScriptKey* ScriptCommand::findKey(const std::string& name) const {
  for (const ScriptKey& k : keys)
    if (k.name == name) return &k;
  return nullptr;
}

const std::vector<ScriptCommand>& scriptCommands() {
  static const std::vector<ScriptCommand> table = buildTable();
  return table;
}

const ScriptCommand* findScriptCommand(const std::string& command, const std::string& feature) {
  for (const ScriptCommand& c : scriptCommands())
    if (c.command == command && c.feature == feature) return &c;
  return nullptr;
}

std::string statementWhere(const alls::Statement& st) {
  return st.pos.file + ":" + std::to_string(st.pos.line);
}

}  // namespace kiln::optimize
