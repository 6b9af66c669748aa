#include "compiler/optimize/script_apply.h"

#include <cmath>
#include <set>
#include <tuple>

#include "common/strings.h"
#include "compiler/passes/pipeline.h"

namespace kiln::optimize {

namespace {

using alls::Statement;
using alls::Value;

std::string where(const Statement& st) {
  return st.pos.file + ":" + std::to_string(st.pos.line);
}

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
  l.inputs = {{inputId, 0}};
  l.outputShapes = {s};
  // Insert right after the input, keeping topological order, and redirect its readers.
  const int pos = inputId + 1;
  for (Layer& x : g.layers)
    for (ValueRef& v : x.inputs)
      if (v.layer >= pos) ++v.layer;
  g.layers.insert(g.layers.begin() + pos, l);
  for (size_t i = 0; i < g.layers.size(); ++i)
    if (int(i) != pos)
      for (ValueRef& v : g.layers[i].inputs)
        if (v == ValueRef{inputId, 0}) v = {pos, 0};
}

// Swaps channels 0 and 2 of an input: permutes the input channels of the convolutions reading it
// (exact); anything else reading it gets a 1x1 conv that swaps.
void swapRedBlue(Graph& g, int inputId, const Statement& st) {
  const Shape& s = g.at(inputId).outputShapes[0];
  if (s.size() != 4 || s[1] != 3)
    throw errorAt(st, st.pos, "input_conversion needs a 3-channel NCHW image input");
  for (int c : g.consumers({inputId, 0})) {
    Layer& l = g.at(c);
    if (l.type != LayerType::Conv || l.attrInt("group", 1) != 1)
      throw errorAt(st, st.pos,
                    "input_conversion: the input is read by " + l.name + " (" + typeWord(l.type) +
                        "); Kiln applies it to inputs read only by convolutions");
  }
  for (int c : g.consumers({inputId, 0})) {
    Tensor& k = g.at(c).params["kernel"];
    const int64_t per = k.shape[2] * k.shape[3], cin = k.shape[1];
    for (int64_t o = 0; o < k.shape[0]; ++o)
      for (int64_t t = 0; t < per; ++t)
        std::swap(k.data[(o * cin + 0) * per + t], k.data[(o * cin + 2) * per + t]);
  }
}

}  // namespace

std::vector<alls::LayerName> layerNames(const Graph& g) {
  std::vector<alls::LayerName> names;
  for (const Layer& l : g.layers) names.push_back({l.name, l.originalNames});
  return names;
}

ScriptSettings applyScript(Graph& g, const alls::Script& script) {
  ScriptSettings s;
  for (const Statement& st : script.statements) {
    if (!alls::isApplied(st)) continue;
    const std::string& cmd = st.command;
    if (cmd == "normalization") {
      const Value* mean = st.positional(0);
      const Value* stdv = st.positional(1);
      if (!mean || !stdv)
        throw errorAt(st, st.pos, "normalization needs (mean list, std list [, layer])");
      int input = g.inputLayers().at(0);
      if (const Value* at = st.positional(2)) {
        const auto ids = alls::resolveLayers(*at, layerNames(g), g.name, &st);
        if (ids.size() != 1 || g.at(ids[0]).type != LayerType::InputLayer)
          throw errorAt(st, at->pos, "normalization takes one input layer");
        input = ids[0];
      }
      insertNormalization(g, input, numbers(st, *mean), numbers(st, *stdv), st);
      assignNames(g);
      s.normalizes = true;
    } else if (cmd == "input_conversion") {
      int input = g.inputLayers().at(0);
      if (st.positionalCount() == 2) {
        const auto ids = alls::resolveLayers(*st.positional(0), layerNames(g), g.name, &st);
        input = ids.at(0);
      }
      swapRedBlue(g, input, st);
    } else if (cmd == "change_output_activation") {
      const Value* act = st.positional(st.positionalCount() - 1);
      ActKind kind;
      if (!act || !actFromName(act->text == "linear" ? "linear" : act->text, kind))
        throw errorAt(st, st.pos, "change_output_activation needs sigmoid, tanh or linear");
      std::vector<int> targets;
      if (st.positionalCount() >= 2) {
        targets = alls::resolveLayers(*st.positional(0), layerNames(g), g.name, &st);
      } else {
        for (int o : g.outputLayers()) targets.push_back(g.at(o).inputs[0].layer);
      }
      for (int t : targets) {
        Layer& l = g.at(t);
        if (l.type == LayerType::OutputLayer) {
          const int src = l.inputs[0].layer;
          g.at(src).activation = Activation{kind, 0, 0};
        } else {
          l.activation = Activation{kind, 0, 0};
        }
      }
    } else if (cmd == "quantization_param") {
      const Value* ref = st.positional(0);
      if (!ref) throw errorAt(st, st.pos, "quantization_param needs a layer reference first");
      const auto ids = alls::resolveLayers(*ref, layerNames(g), g.name, &st);
      for (const alls::Arg& a : st.args) {
        if (a.key.empty()) continue;
        for (int id : ids) {
          const std::string& name = g.at(id).name;
          if (a.key == "precision_mode") {
            quant::LayerPrecision p;
            if (!quant::parsePrecisionMode(a.value.text, p.mode))
              throw errorAt(st, a.value.pos,
                            "precision_mode '" + a.value.text + "' is not one of " +
                                join(alls::precisionModes(), ", "));
            p.source = where(st);
            s.precision[name] = p;
          } else if (a.key == "force_range_out") {
            s.forceRangeOut[name] = rangeArg(st, a.value);
          } else if (a.key == "force_range_in") {
            s.forceRangeIn[name] = rangeArg(st, a.value);
          } else if (a.key == "activation_clipping_values") {
            // The old spelling of activation_clipping: mode from activation_clipping_mode.
            const alls::Arg* mode = st.find("activation_clipping_mode");
            ScriptSettings::Clipping c;
            c.percentile = !mode || mode->value.text != "manual";
            std::tie(c.lo, c.hi) = rangeArg(st, a.value);
            if (c.percentile && (c.lo < 0 || c.hi > 100))
              throw errorAt(st, a.value.pos, "percentiles must lie within [0, 100]");
            s.activationClipping[name] = c;
          }
        }
        static const std::set<std::string> used = {"precision_mode", "force_range_out",
                                                   "force_range_in", "activation_clipping_values",
                                                   "activation_clipping_mode"};
        if (!used.count(a.key))
          s.notApplied.push_back(where(st) + ": quantization_param key " + a.key +
                                 " is parsed, not applied");
      }
    } else if (cmd == "model_optimization_flavor") {
      if (const alls::Arg* a = st.find("optimization_level"))
        s.optimizationLevel = int(a->value.number);
      if (const alls::Arg* a = st.find("compression_level"))
        s.compressionLevel = int(a->value.number);
      if (st.find("batch_size"))
        s.notApplied.push_back(
            where(st) + ": model_optimization_flavor batch_size does not change Kiln's results");
    } else if (cmd == "model_optimization_config") {
      const Value* feature = st.positional(0);
      const std::string f = feature ? feature->text : "";
      bool used = false;
      for (const alls::Arg& a : st.args) {
        if (a.key.empty()) continue;
        if (f == "calibration" && a.key == "calibset_size") {
          s.calibsetSize = int(a.value.number);
          used = true;
        } else if (f == "globals" && a.key == "output_16bit") {
          s.output16 = a.value.text == "enabled";
          used = true;
        } else {
          s.notApplied.push_back(where(st) + ": model_optimization_config(" + f + ") key " + a.key +
                                 " is parsed, not applied");
        }
      }
      if (!used) continue;
    } else if (cmd == "pre_quantization_optimization" || cmd == "post_quantization_optimization") {
      const Value* feature = st.positional(0);
      const std::string f = feature ? feature->text : "";
      const alls::Arg* policy = st.find("policy");
      const bool enabled = !policy || policy->value.text == "enabled";
      if (f == "equalization") {
        s.equalization = enabled;
      } else if (f == "bias_correction") {
        s.biasCorrection = enabled ? 1 : 0;
      } else if (f == "activation_clipping") {
        const alls::Arg* layers = st.find("layers");
        const alls::Arg* mode = st.find("mode");
        const alls::Arg* values = st.find("clipping_values");
        if (!layers || !values)
          throw errorAt(st, st.pos,
                        "activation_clipping needs layers=... and clipping_values=[low, high]");
        ScriptSettings::Clipping c;
        c.percentile = !mode || mode->value.text != "manual";
        std::tie(c.lo, c.hi) = rangeArg(st, values->value);
        if (c.percentile && (c.lo < 0 || c.hi > 100))
          throw errorAt(st, values->value.pos, "percentiles must lie within [0, 100]");
        for (int id : alls::resolveLayers(layers->value, layerNames(g), g.name, &st))
          if (enabled) s.activationClipping[g.at(id).name] = c;
      } else {
        s.notApplied.push_back(where(st) + ": " + cmd + "(" + f + ") is parsed, not applied");
        continue;
      }
    } else {
      // An applied-category statement this version does not act on yet: say so, never drop it.
      s.notApplied.push_back(where(st) + ": " + cmd +
                             " is understood but not applied by this version of Kiln");
      continue;
    }
    s.applied.push_back(where(st) + " " + st.sourceLine);
  }
  return s;
}

}  // namespace kiln::optimize
