// Optimized archive -> .kef bytes for a target: the resource plan, the lowered program with its
// memory plan and contexts, serialized and re-read by the runtime's parser before it is returned.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "compiler/archive/archive.h"
#include "compiler/hwarch/resource_plan.h"

namespace kiln {
struct LoweredProgram;
}

namespace kiln::flow {

struct Executable {
  std::vector<uint8_t> bytes;
  hwarch::ResourcePlan plan;  // activationArenaBytes filled in
  size_t operations = 0, constants = 0;
  std::shared_ptr<const LoweredProgram> lowered;  // the program the bytes hold (for emulation)
};

/// Throws Error when the archive is not optimized (naming `what`, the archive's path) or the plan
/// cannot be made (context switching disabled and the network does not fit).
Executable buildExecutable(const Archive& optimized, const std::string& what,
                           const hwarch::HwArch& arch, const hwarch::PlanOptions& opts);

/// The plan options of a model script given at compile time (kiln compiler --model-script): its
/// resources_param / context_switch_param / performance_param. Validated as kiln optimize
/// validates it (errors throw Error); the other diagnostics, such as the commands that have no
/// effect when compiling, go to `warn`, one formatted diagnostic each.
hwarch::PlanOptions planOptionsFromScriptFile(const std::string& path,
                                              const std::function<void(const std::string&)>& warn);

}  // namespace kiln::flow
