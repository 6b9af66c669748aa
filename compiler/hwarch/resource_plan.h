// The compiler's resource plan: how an optimized (quantized) network is split into contexts that
// fit a target's on-chip memory, and what that costs in latency and throughput. A first-order
// estimate (docs/hw-arch.md gives the cost model and its constants); the placement of layers on
// clusters is not modelled.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "alls/ast.h"
#include "common/strings.h"
#include "compiler/archive/archive.h"
#include "compiler/hwarch/hw_arch.h"
#include "compiler/ir/graph.h"

namespace kiln::hwarch {

// ---- Cost-model constants (docs/hw-arch.md explains each) ----
/// Fraction of peak TOPS a layer sustains (calibrated on ResNet-50 at 1,372 FPS on Hailo-8).
inline constexpr double kComputeEfficiency = 0.45;
/// Fixed cost of one context switch (firmware reconfiguration), in microseconds.
inline constexpr double kContextSwitchUs = 50;
/// MAC-equivalents per output element of a layer without multiply-accumulates (elementwise,
/// activation, resize, …); pooling costs its window size per element.
inline constexpr double kOtherOpMacsPerElement = 1;

/// context_switch_param(mode=…).
enum class ContextSwitchMode {
  Allowed,   // `allowed` / `automatic` (default): split into contexts only when needed
  Enabled,   // `enabled`: the same in this estimate (one context when the network fits)
  Disabled,  // `disabled`: the network must fit in one context, else an Error
};
const char* contextSwitchModeName(ContextSwitchMode m);

/// What the planner honours from a model script, plus overrides for tests and what-if runs.
struct PlanOptions {
  double maxMemoryUtilization = 1.0;   // resources_param(max_memory_utilization | max_utilization)
  double maxComputeUtilization = 1.0;  // resources_param(max_compute_utilization | …)
  double maxControlUtilization = 1.0;  // resources_param(max_control_utilization | …)
  ContextSwitchMode contextSwitch = ContextSwitchMode::Allowed;
  std::string compilerOptimizationLevel;  // performance_param: recorded, no effect ("" = unset)
  double targetFps = 0;                   // performance_param(fps=…): 0 = no target
  int batchSize = 1;                      // performance_param(optimize_for_batch=…)
  int64_t memoryBytesOverride = 0;        // > 0: replaces the arch's on-chip memory
  std::string contextSwitchSource;        // "model.alls:4" of the statement setting the mode
  std::string fpsSource;                  // "model.alls:5" of the statement setting fps
  std::vector<std::string> applied;       // "model.alls:3 resources_param(…)", in script order
  /// Keys of those commands the plan does not read ("model.alls:3: resources_param key
  /// max_apu_utilization is parsed, not applied (…)"); planResources makes them warnings.
  std::vector<std::string> notApplied;
  /// Values the plan uses differently from how the script states them ("model.alls:3:
  /// resources_param max_utilization=1.125 is planned as 1 (…)", mode=manual planned as allowed);
  /// planResources makes them warnings too.
  std::vector<std::string> adjusted;
};

/// Reads resources_param, context_switch_param and performance_param from a parsed script (later
/// statements override earlier ones; other commands are ignored, other keys of these three are
/// listed in notApplied). fps=None / null is "no target"; utilizations in (1, 2] are planned as 1
/// and context_switch_param(mode=manual) as `allowed`, each listed in `adjusted`. A value out of
/// range, or a specific utilization of 0, is an alls::ScriptError pointing at it.
PlanOptions planOptionsFromScript(const alls::Script& script);
/// The same for the script stored in an optimized archive (optimize/script.alls); defaults when
/// the archive has none.
PlanOptions planOptionsFromArchive(const Archive& a);

/// One layer's resources.
struct LayerPlan {
  int layer = 0;
  std::string name;
  std::string type;
  int context = 0;
  int64_t weightBytes = 0;      // qparams "kernel", packed at its bit width
  int64_t auxBytes = 0;         // other qparams (bias, multipliers, tables), ≤ 32 bits each
  int64_t activationBytes = 0;  // its outputs at 1 or 2 bytes per element (0 for output_layer)
  int64_t macs = 0;             // conv/dw/deconv/fc/matmul; op cost for others (MAC-equivalents)
  double costFactor = 1;        // ×2 for 16-bit input activations, ×2 for 16-bit weights
};

/// One context: a run of consecutive layers (in layer-id order) loaded together.
struct ContextPlan {
  int index = 0;
  int firstLayer = 0, lastLayer = 0;  // layer ids, inclusive
  int layerSlots = 0;                 // layers using control resources (not input/output/const)
  int64_t weightBytes = 0, auxBytes = 0;
  int64_t activationBytes = 0;  // peak of the live activation buffers while it runs
  int64_t inBytes = 0;          // activations read from earlier contexts
  int64_t outBytes = 0;         // activations kept for later contexts
  int64_t macs = 0;             // sum of the layers' MACs (without cost factors)
  double computeUs = 0, loadUs = 0, switchUs = 0, boundaryUs = 0;
  double latencyUs = 0;  // per frame at batch 1
  bool fits = true;      // false: one layer alone exceeds the context (it must be split)
  int64_t memoryBytes() const { return weightBytes + auxBytes + activationBytes; }
};

struct ResourcePlan {
  HwArch arch;
  PlanOptions options;
  int64_t usableMemoryBytes = 0;  // (override or arch memory) × max_memory_utilization
  int layerSlotsPerContext = 0;   // arch layer slots × max_control_utilization
  std::vector<LayerPlan> layers;
  std::vector<ContextPlan> contexts;

  int64_t totalMacs = 0, totalWeightBytes = 0, totalAuxBytes = 0;
  int64_t peakActivationBytes = 0;   // largest context activation peak
  int64_t ioBytes = 0;               // input + output frame bytes
  double ioUs = 0;                   // their transfer time over the host interface
  double latencyUs = 0;              // one frame at batch 1
  double batchUs = 0;                // one batch of options.batchSize frames
  double fps = 0;                    // options.batchSize frames per batchUs
  bool fpsMet = true;                // fps ≥ options.targetFps (true without a target)
  int64_t activationArenaBytes = 0;  // the runtime's activation memory plan: filled by the caller
  std::vector<std::string> warnings;

  nlohmann::ordered_json toJson() const;  // deterministic key order and values
  std::string summary() const;            // a short table: contexts, totals, FPS
  /// "" when every context fits; else what does not (for --fail-on-unfit).
  std::string unfit() const;
};

/// Plans `g` (an optimized graph: every layer has outputQuant) on `arch`. Throws Error when the
/// graph is not quantized, or when context switching is disabled and the network does not fit in
/// one context (saying by how much, and which architectures it would fit).
ResourcePlan planResources(const Graph& g, const HwArch& arch, const PlanOptions& opts);

}  // namespace kiln::hwarch
