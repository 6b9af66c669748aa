// optimize(): `kiln optimize` as a pipeline of named steps over one OptimizeState. Each step has
// its own file (step_<name>.cpp, declared in optimize_steps.h); this file only says the order.
#include "compiler/optimize/optimizer.h"

#include "compiler/emulator/quant_executor.h"
#include "compiler/optimize/optimize_state.h"
#include "compiler/optimize/optimize_steps.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::optimize {

Archive optimize(const Archive& parsed, const OptimizeOptions& o) {
  for (const auto& s : parsed.stages)
    if (s == "optimize")
      throw Error(
          "the archive is already optimized; run kiln optimize on the parsed archive "
          "(the output of kiln parser)");
  OptimizeState s(parsed, o);
  // The float emulation's kernels split their work over the emulation pool, as the quantized
  // emulation's do (the same bytes for any thread count, KILN_THREADS).
  const rt::ThreadPool::Scope pool(emulationPool());
  // Each step is announced to o.stepStarted (per-step times, progress lines in CI logs).
  // script: the float graph changes (normalization, ...) and the script's settings.
  o.stepStarted("script");
  stepScript(s);
  // calibrate: the calibration samples, in the network inputs' layout.
  o.stepStarted("calibration data");
  stepCalibrate(s);
  // equalize: cross-layer equalization of the float weights.
  o.stepStarted("equalization");
  stepEqualize(s);
  // select ranges: calibration statistics of the equalized graph, the ranges the script sets.
  o.stepStarted("calibration");
  stepSelectRanges(s);
  // assign precision: precision_mode, compression_level, 16-bit outputs.
  o.stepStarted("quantization");
  stepAssignPrecision(s);
  // select ranges, second part: the least-error range of every other 8-bit tensor (it needs the
  // bits the precision gives, and comes after it).
  stepSelectLeastErrorRanges(s);
  // prepare: every tensor's quantization and every layer's integer parameters.
  stepPrepare(s);
  // check ranges: a range that excludes most of a sign that matters is reported.
  stepCheckRanges(s);
  // correct: bias correction and error-compensating weight rounding.
  if (s.biasCorrection || s.compensateRounding)
    o.stepStarted(s.compensateRounding ? "bias correction and weight rounding" : "bias correction");
  stepCorrect(s);
  // report: the noise report, stored in the archive with the script.
  o.stepStarted("noise report");
  stepReport(s);
  return std::move(s.archive);
}

}  // namespace kiln::optimize
