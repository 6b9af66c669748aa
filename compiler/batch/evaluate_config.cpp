#include "compiler/batch/evaluate_config.h"

#include <algorithm>

#include "common/file_io.h"
#include "common/output_dir.h"
#include "common/strings.h"
#include "compiler/archive/json_text.h"
#include "compiler/batch/network_config.h"
#include "compiler/flow/compile_flow.h"

namespace kiln::batch {

EvaluateConfigResult evaluateConfig(const std::string& config, const EvaluateConfigOptions& a) {
  NetworkSpec over;
  if (a.hwArch) over.targets.assign({*a.hwArch}, "command line (--hw-arch)");
  if (a.calibSize) over.calibSize.assign(*a.calibSize, "command line (--calib-size)");
  NetworkJob job = loadNetworkConfig(config, over);
  eval::EvalSpec& spec = job.evalSpec;
  if (!a.data.empty()) spec.data = resolvePath("", a.data);
  if (a.size > 0) spec.size = a.size;
  if (spec.data.empty())
    throw Error(config +
                ": no evaluation set: add an eval: section with data: (images, .npy or .npz), "
                "or give --data (docs/batch.md)");
  for (const std::string& t : a.targets)
    if (std::find(eval::targetNames().begin(), eval::targetNames().end(), t) ==
        eval::targetNames().end())
      throw Error("--targets: unknown target '" + t + "' (expected " +
                  join(eval::targetNames(), ", ") + ")");
  const bool kef = std::find(a.targets.begin(), a.targets.end(), "kef") != a.targets.end();

  const files::DirLock lock(a.outputDir, a.note);
  flow::CompileOptions o = job.opts;
  o.outputDir = a.outputDir;
  o.warn = a.warn;
  o.info = a.info;
  o.progress = a.progress;
  o.reportProgress = a.reportProgress;
  if (a.stepStarted) o.stepStarted = a.stepStarted;
  if (job.imageSize.size() == 2) o.afterParse = [&job](const Graph& g) { checkImageSize(job, g); };
  const flow::OptimizedNetwork n = flow::optimizeNetwork(o);
  eval::EvalOptions eo;
  eo.targets = a.targets;
  if (kef) {
    const flow::CompileResult c = flow::compileTarget(n, o, job.targets.front(), a.outputDir);
    eo.kefPath = c.kefPath;
  }
  eo.progress = a.evalProgress;
  EvaluateConfigResult res;
  res.result = eval::evaluate(n.optimized.graph, spec, eo);
  res.name = job.name;
  res.jsonPath = a.outputDir + "/" + sanitizeFileName(n.netName) + ".eval.json";
  files::writeTextAtomic(res.jsonPath, jsonText(res.result.toJson(), 2) + "\n");
  return res;
}

}  // namespace kiln::batch
