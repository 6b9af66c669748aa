// ResourcePlan::toJson and ResourcePlan::summary.
#include <cmath>
#include <cstdio>
#include <sstream>

#include "compiler/hwarch/resource_plan.h"

namespace kiln::hwarch {

namespace {

// Microseconds and rates rounded to 1/1000 so the JSON is stable and readable.
double r3(double v) {
  return std::round(v * 1000.0) / 1000.0;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string mb(int64_t bytes) {
  return formatBytes(bytes);
}

std::string macsStr(int64_t m) {
  if (m >= 1000000000) return fmt("%.2f G", double(m) / 1e9);
  if (m >= 1000000) return fmt("%.2f M", double(m) / 1e6);
  if (m >= 1000) return fmt("%.2f K", double(m) / 1e3);
  return std::to_string(m);
}

std::string ms(double us) {
  return us < 1000 ? fmt("%.1f us", us) : fmt("%.3f ms", us / 1000.0);
}

}  // namespace

nlohmann::ordered_json ResourcePlan::toJson() const {
  using J = nlohmann::ordered_json;
  J j;
  j["arch"] = arch.toJson();
  J o;
  o["max_memory_utilization"] = options.maxMemoryUtilization;
  o["max_compute_utilization"] = options.maxComputeUtilization;
  o["max_control_utilization"] = options.maxControlUtilization;
  o["context_switch"] = contextSwitchModeName(options.contextSwitch);
  o["compiler_optimization_level"] = options.compilerOptimizationLevel;
  o["target_fps"] = options.targetFps;
  o["batch_size"] = options.batchSize;
  o["memory_bytes_override"] = options.memoryBytesOverride;
  o["applied"] = options.applied;
  j["options"] = o;
  J m;
  m["compute_efficiency"] = kComputeEfficiency;
  m["context_switch_us"] = kContextSwitchUs;
  m["other_op_macs_per_element"] = kOtherOpMacsPerElement;
  j["cost_model"] = m;
  j["usable_memory_bytes"] = usableMemoryBytes;
  j["layer_slots_per_context"] = layerSlotsPerContext;

  J ctxs = J::array();
  for (const ContextPlan& c : contexts) {
    J x;
    x["index"] = c.index;
    x["first_layer"] = layers.at(size_t(c.firstLayer)).name;
    x["last_layer"] = layers.at(size_t(c.lastLayer)).name;
    x["layer_count"] = c.lastLayer - c.firstLayer + 1;
    x["layer_slots"] = c.layerSlots;
    x["weight_bytes"] = c.weightBytes;
    x["aux_bytes"] = c.auxBytes;
    x["activation_bytes"] = c.activationBytes;
    x["memory_bytes"] = c.memoryBytes();
    x["in_bytes"] = c.inBytes;
    x["out_bytes"] = c.outBytes;
    x["macs"] = c.macs;
    x["compute_us"] = r3(c.computeUs);
    x["load_us"] = r3(c.loadUs);
    x["switch_us"] = r3(c.switchUs);
    x["boundary_us"] = r3(c.boundaryUs);
    x["latency_us"] = r3(c.latencyUs);
    x["fits"] = c.fits;
    ctxs.push_back(x);
  }
  j["contexts"] = ctxs;

  J ls = J::array();
  for (const LayerPlan& l : layers) {
    J x;
    x["name"] = l.name;
    x["type"] = l.type;
    x["context"] = l.context;
    x["weight_bytes"] = l.weightBytes;
    x["aux_bytes"] = l.auxBytes;
    x["activation_bytes"] = l.activationBytes;
    x["macs"] = l.macs;
    x["cost_factor"] = l.costFactor;
    ls.push_back(x);
  }
  j["layers"] = ls;

  J t;
  t["contexts"] = contexts.size();
  t["macs"] = totalMacs;
  t["weight_bytes"] = totalWeightBytes;
  t["aux_bytes"] = totalAuxBytes;
  t["peak_activation_bytes"] = peakActivationBytes;
  t["io_bytes"] = ioBytes;
  t["io_us"] = r3(ioUs);
  t["latency_us"] = r3(latencyUs);
  t["batch_size"] = options.batchSize;
  t["batch_us"] = r3(batchUs);
  t["fps"] = r3(fps);
  t["target_fps"] = options.targetFps;
  t["fps_met"] = fpsMet;
  j["totals"] = t;
  j["activation_arena_bytes"] = activationArenaBytes;
  j["warnings"] = warnings;
  return j;
}

std::string ResourcePlan::unfit() const {
  std::string out;
  for (const ContextPlan& c : contexts)
    if (!c.fits)
      out += (out.empty() ? "" : "; ") + std::string("context ") + std::to_string(c.index) +
             " (layer " + layers[size_t(c.firstLayer)].name + ") needs " + mb(c.memoryBytes()) +
             " of " + mb(usableMemoryBytes) + " usable";
  return out.empty() ? out
                     : "the resource plan on " + arch.name + " does not fit: " + out +
                           " (--fail-on-unfit; without it the .kef is written anyway)";
}

std::string ResourcePlan::summary() const {
  std::ostringstream os;
  const int64_t mem =
      options.memoryBytesOverride > 0 ? options.memoryBytesOverride : arch.onChipMemoryBytes;
  os << "Resource plan on " << arch.name << " (" << arch.displayName
     << "): " << fmt("%g", arch.topsInt8) << " TOPS int8, " << mb(mem) << " on-chip ("
     << (options.memoryBytesOverride > 0 ? "override" : sourceName(arch.memorySource)) << "), "
     << mb(usableMemoryBytes) << " usable, " << layerSlotsPerContext
     << " layers per context; context switch " << contextSwitchModeName(options.contextSwitch)
     << "\n";
  char line[256];
  std::snprintf(line, sizeof line, "%3s  %-32s %5s %10s %10s %11s %10s %10s %10s\n", "ctx",
                "layers", "count", "weights", "other", "activations", "memory", "MACs", "latency");
  os << line;
  for (const ContextPlan& c : contexts) {
    std::string range = layers[size_t(c.firstLayer)].name;
    if (c.lastLayer > c.firstLayer) range += " .. " + layers[size_t(c.lastLayer)].name;
    std::snprintf(line, sizeof line, "%3d  %-32s %5d %10s %10s %11s %10s %10s %10s%s\n", c.index,
                  range.c_str(), c.lastLayer - c.firstLayer + 1, mb(c.weightBytes).c_str(),
                  mb(c.auxBytes).c_str(), mb(c.activationBytes).c_str(),
                  mb(c.memoryBytes()).c_str(), macsStr(c.macs).c_str(), ms(c.latencyUs).c_str(),
                  c.fits ? "" : "  (does not fit)");
    os << line;
  }
  std::snprintf(line, sizeof line, "%3s  %-32s %5zu %10s %10s %11s %10s %10s %10s\n", "all", "",
                layers.size(), mb(totalWeightBytes).c_str(), mb(totalAuxBytes).c_str(),
                mb(peakActivationBytes).c_str(), "", macsStr(totalMacs).c_str(),
                ms(latencyUs).c_str());
  os << line;
  os << contexts.size() << (contexts.size() == 1 ? " context" : " contexts");
  if (contexts.size() > 1)
    os << " (weights reloaded every frame at " << fmt("%.2f", arch.contextLoadGBps) << " GB/s, "
       << fmt("%g", kContextSwitchUs) << " us per switch)";
  os << "; latency " << ms(latencyUs) << " per frame incl. host I/O " << ms(ioUs) << "; "
     << fmt("%.1f", fps) << " FPS at batch " << options.batchSize;
  if (options.targetFps > 0)
    os << "; target " << fmt("%g", options.targetFps) << " FPS " << (fpsMet ? "met" : "NOT met");
  os << "\nactivation arena: "
     << (activationArenaBytes > 0 ? mb(activationArenaBytes) : "not computed") << "\n";
  for (const std::string& w : warnings) os << "warning: " << w << "\n";
  return os.str();
}

}  // namespace kiln::hwarch
