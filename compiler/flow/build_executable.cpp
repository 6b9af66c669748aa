#include "compiler/flow/build_executable.h"

#include <algorithm>
#include <limits>

#include "alls/commands.h"
#include "alls/parser.h"
#include "common/strings.h"
#include "compiler/lower/lower_program.h"
#include "runtime/engine/executor.h"
#include "runtime/format/kef.h"

namespace kiln::flow {

namespace {

// Operations are in layer order; each context of the plan becomes the run of operations whose
// layers it holds.
std::vector<rt::ContextDesc> contextsOf(const LoweredProgram& lp,
                                        const hwarch::ResourcePlan& plan) {
  std::vector<int> contextOfLayer(lp.layerTensor.size(), 0);
  for (const auto& l : plan.layers) contextOfLayer[size_t(l.layer)] = l.context;
  std::vector<rt::ContextDesc> out;
  int current = -1;
  for (size_t i = 0; i < lp.opLayer.size(); ++i) {
    const int c = std::max(current, contextOfLayer[size_t(lp.opLayer[i])]);
    if (c != current) {
      out.push_back({uint32_t(i), 0, 0, 0});
      current = c;
    }
    ++out.back().opCount;
  }
  for (size_t k = 0; k < out.size() && k < plan.contexts.size(); ++k) {
    out[k].weightBytes = plan.contexts[k].weightBytes;
    out[k].macs = plan.contexts[k].macs;
  }
  return out;
}

}  // namespace

Executable buildExecutable(const Archive& a, const std::string& what, const hwarch::HwArch& arch,
                           const hwarch::PlanOptions& opts) {
  if (std::find(a.stages.begin(), a.stages.end(), "optimize") == a.stages.end())
    throw Error(what + ": this archive holds the float network only (stages: " +
                join(a.stages, ", ") + "); quantize it first:\n  kiln optimize " + what +
                " --calib-set-path <calib> [--model-script <script.alls>]");
  Executable e;
  try {
    e.plan = hwarch::planResources(a.graph, arch, opts);
    auto lowered = std::make_shared<LoweredProgram>(lowerProgram(a.graph));
    LoweredProgram& lp = *lowered;
    rt::Program& prog = lp.owned.program;
    // The hash kiln.json records (computed here when the archive was never written).
    prog.meta = {a.graph.name, arch.name, toolVersion(),
                 a.graphHash.empty() ? graphHash(a.graph) : a.graphHash};
    prog.contexts = contextsOf(lp, e.plan);
    e.plan.activationArenaBytes = prog.arenaBytes();
    // nms_postprocess (kiln optimize kept the runtime's section): checked against the outputs.
    std::unique_ptr<rt::NmsConfig> nms;
    if (const auto it = a.extra.find("optimize/nms"); it != a.extra.end()) {
      nms =
          std::make_unique<rt::NmsConfig>(rt::readNmsSection(it->second.data(), it->second.size()));
      rt::checkNmsConfig(*nms, prog.outputs);
    }
    e.bytes = rt::writeKef(prog, e.plan.summary(), nms.get());
    e.operations = prog.ops.size();
    e.constants = prog.consts.size();
    // What the runtime will read: parsed back and validated (every operation's checks, as
    // kilnrt loads it; resource limits aside) before anyone keeps it.
    const rt::KefFile parsed = rt::parseKef(e.bytes.data(), e.bytes.size());
    rt::Limits structural;
    structural.maxArenaElems = rt::kMaxElems;
    structural.maxWork = std::numeric_limits<int64_t>::max();
    rt::validateProgram(parsed.program, structural);
    e.lowered = std::move(lowered);
  } catch (const rt::Error& err) {
    // The runtime's checks of the lowered program: quantization parameters no optimizer writes
    // (an edited archive). Name the archive, which the runtime's message cannot.
    throw Error(what + ": the archive's quantization parameters do not make a valid program: " +
                err.what());
  }
  return e;
}

hwarch::PlanOptions planOptionsFromScriptFile(const std::string& path,
                                              const std::function<void(const std::string&)>& warn) {
  const alls::Script script = alls::parseScriptFile(path);
  const auto diags = alls::validateScript(script, alls::Stage::Compile);
  std::string errors;
  for (const alls::Diagnostic& d : diags)
    if (d.severity == alls::Diagnostic::Error)
      errors += (errors.empty() ? "" : "\n") + alls::formatDiagnostic(d);
  if (!errors.empty()) throw Error(errors);
  for (const alls::Diagnostic& d : diags) warn(alls::formatDiagnostic(d));
  return hwarch::planOptionsFromScript(script);
}

}  // namespace kiln::flow
