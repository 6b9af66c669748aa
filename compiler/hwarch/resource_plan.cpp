#include "compiler/hwarch/resource_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "alls/errors.h"
#include "alls/parser.h"
#include "common/strings.h"
#include "compiler/ir/macs.h"

namespace kiln::hwarch {

const char* contextSwitchModeName(ContextSwitchMode m) {
  switch (m) {
    case ContextSwitchMode::Allowed:
      return "allowed";
    case ContextSwitchMode::Enabled:
      return "enabled";
    case ContextSwitchMode::Disabled:
      return "disabled";
  }
  return "allowed";
}

// ---------------------------------------------------------------------------------------------
// Options from a model script
// ---------------------------------------------------------------------------------------------

namespace {

using alls::Arg;
using alls::Statement;

std::string where(const Statement& st) {
  return st.pos.file + ":" + std::to_string(st.pos.line);
}

alls::ScriptError errorAt(const Statement& st, const Arg& a, const std::string& what) {
  return alls::ScriptError(a.value.pos, what, st.lineText(a.value.pos.line));
}

double number(const Statement& st, const Arg& a, const std::string& expected) {
  if (a.value.kind != alls::Value::Kind::Number)
    throw errorAt(st, a, a.key + " expects " + expected + ", found " + a.value.text);
  return a.value.number;
}

// Utilizations the reference's scripts hold go up to 2 (max_utilization=1.125,
// max_memory_utilization=1.5, and rounding leaves 1.0000000000000007); the validator's command
// table accepts (0, 2] for the same reason. Kiln's plan cannot use more than all of a resource, so
// a value above 1 is planned as 1, with a note unless it is only rounding noise.
constexpr double kMaxScriptUtilization = 2;
constexpr double kRoundingNoise = 1e-9;

double clampUtilization(const Statement& st, const Arg& a, double v, PlanOptions& o) {
  if (v <= 1) return v;
  if (v > 1 + kRoundingNoise)
    o.adjusted.push_back(where(st) + ": " + st.command + " " + a.key + "=" +
                         alls::shorten(a.value.text) +
                         " is planned as 1 (Kiln's plan uses at most all of a resource; the "
                         "reference lets a context overcommit it)");
  return 1;
}

// max_utilization: a fraction in [0, 2] (above 1 planned as 1); 0 means "not set"
// (compiler-written scripts have max_utilization=0.0 beside the specific keys).
double fraction(const Statement& st, const Arg& a, PlanOptions& o) {
  const double v = number(st, a, "a fraction in [0, 2] (e.g. 0.8)");
  if (v < 0 || v > kMaxScriptUtilization)
    throw errorAt(
        st, a,
        a.key + " expects a fraction in [0, 2] (e.g. 0.8), found " + alls::shorten(a.value.text));
  return clampUtilization(st, a, v, o);
}

// A specific utilization: in (0, 2] (above 1 planned as 1). 0 would leave the plan nothing to
// place, so it is an error rather than silently "not set".
double utilization(const Statement& st, const Arg& a, PlanOptions& o) {
  const double v = number(st, a, "a number in (0, 2] (e.g. 0.8)");
  if (!(v > 0 && v <= kMaxScriptUtilization))
    throw errorAt(st, a,
                  a.key + " expects a number in (0, 2] (e.g. 0.8), found " +
                      alls::shorten(a.value.text) +
                      (v == 0 ? " (only max_utilization=0 means \"not set\")" : ""));
  return clampUtilization(st, a, v, o);
}

// Keys of a planned command the plan does not read: "model.alls:3: resources_param key
// max_apu_utilization is parsed, not applied (why)".
void reportUnread(const Statement& st, const std::vector<std::string>& read, const char* why,
                  PlanOptions& o) {
  for (const Arg& a : st.args)
    if (!a.key.empty() && std::find(read.begin(), read.end(), a.key) == read.end())
      o.notApplied.push_back(where(st) + ": " + st.command + " key " + a.key +
                             " is parsed, not applied (" + why + ")");
}

void readResources(const Statement& st, PlanOptions& o) {
  if (const Arg* a = st.find("max_utilization")) {
    const double v = fraction(st, *a, o);
    if (v > 0) o.maxMemoryUtilization = o.maxComputeUtilization = o.maxControlUtilization = v;
  }
  const std::pair<const char*, double*> keys[] = {
      {"max_memory_utilization", &o.maxMemoryUtilization},
      {"max_compute_utilization", &o.maxComputeUtilization},
      {"max_control_utilization", &o.maxControlUtilization}};
  for (const auto& [key, field] : keys)
    if (const Arg* a = st.find(key)) *field = utilization(st, *a, o);
  reportUnread(st,
               {"max_utilization", "max_memory_utilization", "max_compute_utilization",
                "max_control_utilization"},
               "the plan models memory, compute and control only", o);
}

void readContextSwitch(const Statement& st, PlanOptions& o) {
  const Arg* a = st.find("mode");
  if (!a) {
    reportUnread(st, {"mode"}, "the plan takes its utilizations from resources_param", o);
    return;
  }
  const std::string& m = a->value.text;
  if (m == "allowed" || m == "automatic")
    o.contextSwitch = ContextSwitchMode::Allowed;
  else if (m == "enabled")
    o.contextSwitch = ContextSwitchMode::Enabled;
  else if (m == "disabled")
    o.contextSwitch = ContextSwitchMode::Disabled;
  else if (m == "manual") {
    // The reference then takes the contexts from the script's context(...) placement commands,
    // which Kiln does not apply: its plan splits the network itself, as for `allowed`.
    o.contextSwitch = ContextSwitchMode::Allowed;
    o.adjusted.push_back(where(st) +
                         ": context_switch_param mode=manual is planned as mode=allowed (Kiln's "
                         "plan splits the network into contexts itself, in layer order; the "
                         "script's placement commands are not applied)");
  } else
    throw errorAt(st, *a,
                  "context_switch_param mode must be one of enabled, disabled, allowed, automatic, "
                  "manual; found " +
                      m);
  o.contextSwitchSource = where(st);
  reportUnread(st, {"mode"}, "the plan takes its utilizations from resources_param", o);
}

void readPerformance(const Statement& st, PlanOptions& o) {
  if (const Arg* a = st.find("compiler_optimization_level"))
    o.compilerOptimizationLevel = a->value.text;
  // fps=None / null (the reference's default, written out by 51 zoo scripts): no target.
  const Arg* fps = st.find("fps");
  if (fps && fps->value.kind == alls::Value::Kind::Word &&
      (fps->value.text == "None" || fps->value.text == "null")) {
    o.targetFps = 0;
    o.fpsSource.clear();
  } else if (const Arg* a = fps) {
    const double v = number(st, *a, "a frame rate > 0");
    if (v <= 0) throw errorAt(st, *a, "fps expects a frame rate > 0, found " + a->value.text);
    o.targetFps = v;
    o.fpsSource = where(st);
  }
  if (const Arg* a = st.find("optimize_for_batch")) {
    const double v = number(st, *a, "a batch size ≥ 1");
    if (v < 1 || v != std::floor(v) || v > 1024)
      throw errorAt(
          st, *a,
          "optimize_for_batch expects a whole batch size in 1..1024, found " + a->value.text);
    o.batchSize = int(v);
  }
  reportUnread(st, {"compiler_optimization_level", "fps", "optimize_for_batch"},
               "the plan does not model it", o);
}

}  // namespace

PlanOptions planOptionsFromScript(const alls::Script& script) {
  PlanOptions o;
  for (const Statement& st : script.statements) {
    if (st.command == "resources_param")
      readResources(st, o);
    else if (st.command == "context_switch_param")
      readContextSwitch(st, o);
    else if (st.command == "performance_param")
      readPerformance(st, o);
    else
      continue;
    o.applied.push_back(where(st) + " " + st.sourceLine);
  }
  return o;
}

PlanOptions planOptionsFromArchive(const Archive& a) {
  const auto it = a.extra.find("optimize/script.alls");
  if (it == a.extra.end()) return {};
  const std::string text(it->second.begin(), it->second.end());
  return planOptionsFromScript(alls::parseScript(text, "optimize/script.alls"));
}

// ---------------------------------------------------------------------------------------------
// Per-layer costs
// ---------------------------------------------------------------------------------------------

namespace {

int64_t bytesPerElement(int bits) {
  return bits > 8 ? 2 : 1;
}

int64_t packedBytes(const IntTensor& t, int maxBits) {
  return (t.numel() * std::min(t.bits, maxBits) + 7) / 8;
}

// MACs of the layers that multiply-accumulate; MAC-equivalents of the others.
int64_t planMacs(const Graph& g, const Layer& l) {
  if (multipliesAccumulates(l.type)) return layerMacs(g, l);
  return int64_t(std::llround(double(layerElementOps(g, l)) * kOtherOpMacsPerElement));
}

LayerPlan layerPlan(const Graph& g, int id) {
  const Layer& l = g.at(id);
  LayerPlan p;
  p.layer = id;
  p.name = l.name;
  p.type = typeWord(l.type);
  if (l.outputQuant.size() != l.outputShapes.size() ||
      std::any_of(l.outputQuant.begin(), l.outputQuant.end(),
                  [](const QuantInfo& q) { return q.bits == 0; }))
    throw Error("resource planning needs an optimized (quantized) network, but layer " + l.name +
                " (" + p.type + ") has no output quantization; run `kiln optimize` first");
  for (const auto& [role, t] : l.qparams) {
    if (role == "kernel")
      p.weightBytes += packedBytes(t, t.bits);
    else
      p.auxBytes += packedBytes(t, 32);
  }
  if (l.type != LayerType::OutputLayer)
    for (size_t port = 0; port < l.outputShapes.size(); ++port)
      p.activationBytes += numel(l.outputShapes[port]) * bytesPerElement(l.outputQuant[port].bits);
  p.macs = planMacs(g, l);
  int inBits = 0;
  for (const ValueRef& v : l.inputs)
    inBits = std::max(inBits, g.at(v.layer).outputQuant.at(v.port).bits);
  const int wBits = l.qparams.count("kernel") ? l.qparams.at("kernel").bits : 0;
  p.costFactor = (inBits > 8 ? 2.0 : 1.0) * (wBits > 8 ? 2.0 : 1.0);
  return p;
}

bool usesControl(LayerType t) {
  return t != LayerType::InputLayer && t != LayerType::OutputLayer && t != LayerType::ConstInput;
}

// ---------------------------------------------------------------------------------------------
// Contexts
// ---------------------------------------------------------------------------------------------

struct Value {
  int producer = 0;
  int64_t bytes = 0;
  std::vector<int> consumers;
};

std::vector<Value> values(const Graph& g, const std::vector<LayerPlan>& layers) {
  std::vector<std::vector<int>> first(g.layers.size());  // value index of (layer, port)
  std::vector<Value> vals;
  for (size_t id = 0; id < g.layers.size(); ++id) {
    const Layer& l = g.layers[id];
    for (size_t port = 0; port < l.outputShapes.size(); ++port) {
      first[id].push_back(int(vals.size()));
      Value v;
      v.producer = int(id);
      v.bytes = l.type == LayerType::OutputLayer
                    ? 0
                    : numel(l.outputShapes[port]) * bytesPerElement(l.outputQuant[port].bits);
      vals.push_back(v);
    }
    for (const ValueRef& in : l.inputs) vals[first[in.layer][in.port]].consumers.push_back(int(id));
  }
  return vals;
}

struct RangeStats {
  int64_t weightBytes = 0, auxBytes = 0, peak = 0, inBytes = 0, outBytes = 0, macs = 0;
  int slots = 0;
  int64_t memory() const { return weightBytes + auxBytes + peak; }
};

// Layers [a, b] as one context. A value produced inside lives from its producer to its last
// reader inside, or to the end when a later context reads it (it is written out then); a value
// from an earlier context lives from the start to its last reader inside.
RangeStats rangeStats(const Graph& g, const std::vector<LayerPlan>& layers,
                      const std::vector<Value>& vals, int a, int b) {
  RangeStats s;
  for (int i = a; i <= b; ++i) {
    s.weightBytes += layers[i].weightBytes;
    s.auxBytes += layers[i].auxBytes;
    s.macs += layers[i].macs;
    s.slots += usesControl(g.at(i).type) ? 1 : 0;
  }
  std::vector<int64_t> diff(size_t(b - a + 2), 0);
  for (const Value& v : vals) {
    if (v.bytes == 0 || v.producer > b) continue;
    const bool imported = v.producer < a;
    int lastInside = -1;
    bool later = false;
    for (int c : v.consumers) {
      if (c > b)
        later = true;
      else if (c >= a)
        lastInside = std::max(lastInside, c);
    }
    if (imported && lastInside < 0) continue;
    const int start = imported ? a : v.producer;
    const int end = imported ? lastInside : (later ? b : std::max(lastInside, start));
    diff[size_t(start - a)] += v.bytes;
    diff[size_t(end - a + 1)] -= v.bytes;
    if (imported)
      s.inBytes += v.bytes;
    else if (later)
      s.outBytes += v.bytes;
  }
  int64_t live = 0;
  for (size_t i = 0; i + 1 < diff.size(); ++i) s.peak = std::max(s.peak, live += diff[i]);
  return s;
}

std::string mb(int64_t bytes) {
  return formatBytes(bytes);
}

[[noreturn]] void throwDoesNotFit(const HwArch& arch, const PlanOptions& o, const RangeStats& all,
                                  int64_t usable, int slots) {
  std::string msg = "context_switch_param(mode=disabled)";
  if (!o.contextSwitchSource.empty()) msg += " (" + o.contextSwitchSource + ")";
  msg += " needs the whole network in one context, but on " + arch.name + " ";
  std::vector<std::string> fitsOn;
  for (const HwArch& other : allArchs()) {
    const int64_t mem = o.memoryBytesOverride > 0 ? o.memoryBytesOverride : other.onChipMemoryBytes;
    if (all.memory() <= int64_t(double(mem) * o.maxMemoryUtilization) &&
        all.slots <= int(other.layerSlots() * o.maxControlUtilization))
      fitsOn.push_back(other.name);
  }
  if (all.memory() > usable) {
    msg += "it needs " + mb(all.memory()) + " (weights " + mb(all.weightBytes) +
           " + other parameters " + mb(all.auxBytes) + " + activations " + mb(all.peak) + ") of " +
           mb(usable) + " usable on-chip memory (" +
           mb(o.memoryBytesOverride > 0 ? o.memoryBytesOverride : arch.onChipMemoryBytes) +
           " x max_memory_utilization " + shortNumber(o.maxMemoryUtilization, 6) +
           "): " + mb(all.memory() - usable) + " too much";
    if (all.slots > slots) msg += ", and ";
  }
  if (all.slots > slots)
    msg += "it has " + std::to_string(all.slots) + " layers where one context holds at most " +
           std::to_string(slots) + " (max_control_utilization " +
           shortNumber(o.maxControlUtilization, 6) + ")";
  msg += ". ";
  msg += fitsOn.empty() ? "It fits no known architecture in one context. "
                        : "It fits in one context on: " + join(fitsOn, ", ") + ". ";
  // 4-bit weights help only when the weights, not the activations, are what is too big.
  const bool activationsDominate =
      all.memory() > usable && all.peak >= all.weightBytes + all.auxBytes;
  if (activationsDominate)
    msg += "The activations (" + mb(all.peak) +
           ") take most of it, so 4-bit weights would not help: reduce the input resolution or "
           "use 8-bit activations where 16-bit ones are set, or allow context switching "
           "(context_switch_param(mode=allowed)).";
  else
    msg +=
        "Otherwise compress the weights to 4 bits (model_optimization_flavor(compression_level=..."
        ") or quantization_param(..., precision_mode=a8_w4)), or allow context switching "
        "(context_switch_param(mode=allowed)).";
  throw Error(msg);
}

}  // namespace

ResourcePlan planResources(const Graph& g, const HwArch& arch, const PlanOptions& opts) {
  const std::pair<const char*, double> utils[] = {
      {"max_memory_utilization", opts.maxMemoryUtilization},
      {"max_compute_utilization", opts.maxComputeUtilization},
      {"max_control_utilization", opts.maxControlUtilization}};
  for (const auto& [key, v] : utils)
    if (!(v > 0 && v <= 1))
      throw Error(std::string("resource planning: ") + key + " must be in (0, 1], got " +
                  shortNumber(v, 6));
  if (opts.batchSize < 1)
    throw Error("resource planning: the batch size must be at least 1, got " +
                std::to_string(opts.batchSize));
  ResourcePlan plan;
  plan.arch = arch;
  plan.options = opts;
  plan.warnings = opts.notApplied;  // nothing the script asks for is dropped silently
  plan.warnings.insert(plan.warnings.end(), opts.adjusted.begin(), opts.adjusted.end());
  const int64_t memory =
      opts.memoryBytesOverride > 0 ? opts.memoryBytesOverride : arch.onChipMemoryBytes;
  plan.usableMemoryBytes = int64_t(double(memory) * opts.maxMemoryUtilization);
  plan.layerSlotsPerContext = std::max(1, int(arch.layerSlots() * opts.maxControlUtilization));
  const int n = int(g.layers.size());
  if (n == 0) throw Error("resource planning: the network has no layers");
  for (int id = 0; id < n; ++id) plan.layers.push_back(layerPlan(g, id));
  const std::vector<Value> vals = values(g, plan.layers);
  const int64_t usable = plan.usableMemoryBytes;
  const int slots = plan.layerSlotsPerContext;
  auto fits = [&](const RangeStats& s) { return s.memory() <= usable && s.slots <= slots; };

  if (opts.contextSwitch == ContextSwitchMode::Disabled) {
    const RangeStats all = rangeStats(g, plan.layers, vals, 0, n - 1);
    if (!fits(all)) throwDoesNotFit(arch, opts, all, usable, slots);
  }

  // Greedy in layer-id order: a context takes layers while they fit.
  std::vector<std::pair<int, int>> ranges;
  int start = 0;
  for (int i = 1; i < n; ++i)
    if (!fits(rangeStats(g, plan.layers, vals, start, i))) {
      ranges.push_back({start, i - 1});
      start = i;
    }
  ranges.push_back({start, n - 1});

  const bool multi = ranges.size() > 1;
  const double opsPerUs = arch.topsInt8 * 1e6 * opts.maxComputeUtilization * kComputeEfficiency;
  const double loadBytesPerUs = arch.contextLoadGBps * 1e3;
  for (size_t c = 0; c < ranges.size(); ++c) {
    const auto [a, b] = ranges[c];
    const RangeStats s = rangeStats(g, plan.layers, vals, a, b);
    ContextPlan cp;
    cp.index = int(c);
    cp.firstLayer = a;
    cp.lastLayer = b;
    cp.layerSlots = s.slots;
    cp.weightBytes = s.weightBytes;
    cp.auxBytes = s.auxBytes;
    cp.activationBytes = s.peak;
    cp.inBytes = s.inBytes;
    cp.outBytes = s.outBytes;
    cp.macs = s.macs;
    double ops = 0;
    for (int i = a; i <= b; ++i) {
      plan.layers[size_t(i)].context = int(c);
      ops += 2.0 * double(plan.layers[size_t(i)].macs) * plan.layers[size_t(i)].costFactor;
    }
    cp.computeUs = ops / opsPerUs;
    if (multi) {
      cp.switchUs = kContextSwitchUs;
      cp.loadUs = double(cp.weightBytes + cp.auxBytes) / loadBytesPerUs;
      cp.boundaryUs = double(cp.inBytes + cp.outBytes) / loadBytesPerUs;
    }
    cp.latencyUs = cp.computeUs + cp.switchUs + cp.loadUs + cp.boundaryUs;
    cp.fits = fits(s);
    if (!cp.fits)
      plan.warnings.push_back("layer " + g.at(a).name + " alone needs " + mb(s.memory()) +
                              " with " + std::to_string(s.slots) +
                              " layer(s), more than one context holds (" + mb(usable) + ", " +
                              std::to_string(slots) +
                              " layers): it would have to be split, which this plan "
                              "does not model");
    plan.contexts.push_back(cp);
  }

  // Totals.
  for (const ContextPlan& cp : plan.contexts) {
    plan.totalMacs += cp.macs;
    plan.totalWeightBytes += cp.weightBytes;
    plan.totalAuxBytes += cp.auxBytes;
    plan.peakActivationBytes = std::max(plan.peakActivationBytes, cp.activationBytes);
  }
  for (int id : g.inputLayers()) plan.ioBytes += plan.layers[size_t(id)].activationBytes;
  for (int id : g.outputLayers()) {
    const Layer& l = g.at(id);
    plan.ioBytes += numel(l.outputShapes.at(0)) * bytesPerElement(l.outputQuant.at(0).bits);
  }
  plan.ioUs = double(plan.ioBytes) / (arch.hostIoGBps * 1e3);
  const double batch = opts.batchSize;
  plan.latencyUs = plan.ioUs;
  plan.batchUs = batch * plan.ioUs;
  for (const ContextPlan& cp : plan.contexts) {
    plan.latencyUs += cp.latencyUs;
    plan.batchUs += cp.switchUs + cp.loadUs + batch * (cp.computeUs + cp.boundaryUs);
  }
  plan.fps = plan.batchUs > 0 ? batch * 1e6 / plan.batchUs : 0;
  plan.fpsMet = opts.targetFps <= 0 || plan.fps >= opts.targetFps;
  if (!plan.fpsMet) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "estimated %.1f FPS on %s is below the target of %g FPS",
                  plan.fps, arch.name.c_str(), opts.targetFps);
    plan.warnings.push_back(std::string("performance_param(fps=") + shortNumber(opts.targetFps, 6) +
                            ")" + (opts.fpsSource.empty() ? "" : " (" + opts.fpsSource + ")") +
                            ": " + buf);
  }
  return plan;
}

}  // namespace kiln::hwarch
