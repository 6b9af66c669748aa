// `kiln analyze-noise`: how much of each output's quantization noise comes from which tensor, on
// held-out samples (not the calibration ones).
//
// simple: every output's and every layer's SNR against float (all layers quantized).
// advanced: for each candidate tensor (a layer output that has its own quantization), two
// figures per network output, computed incrementally (the float and the integer activations of
// the whole network are kept per sample, and only the layers downstream of the changed tensor
// are re-run):
//   - quantize-only: the float network with only this tensor rounded to its quantization grid;
//   - lift to 16 bits: the quantized network with this tensor in 16 bits. The layer computes its
//     output in float from its integer inputs with its integer weights and bias dequantized
//     (16-bit rounding is ~48 dB below 8-bit and is left out), the layers reading it do the same
//     and round to their own unchanged quantization, everything further down runs the unchanged
//     integer layers. That is what `quantization_param(L, precision_mode=a8_w8_a16)` builds, up
//     to the bias correction and range selection kiln optimize re-runs for it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "compiler/emulator/float_executor.h"
#include "compiler/ir/graph.h"

namespace kiln::optimize {

struct NoiseAnalysisOptions {
  bool advanced = false;
  /// Advanced: also the quantize-only runs (the mixed-precision search needs only the lifts).
  bool quantizeOnly = true;
  /// (done, total) units of work: samples (simple) or sample x candidate steps (advanced).
  std::function<void(int, int)> progress;
  /// Threads for the advanced what-if runs (0: the emulation pool's count, KILN_THREADS or the
  /// CPU count up to 8). Each thread takes whole candidates and runs their layers inline; the
  /// figures do not depend on the count.
  int threads = 0;
  /// Advanced: called with the network outputs (user layout, dequantized) of every lift run of
  /// one sample, `candidate` being its index in NoiseAnalysis::candidates, and of the quantized
  /// network itself (candidate -1), with the float reference's: for task figures (the
  /// mixed-precision search's gates, compiler/eval/tally.h). Called from the worker threads,
  /// never at the same time for the same candidate; samples in order.
  std::function<void(int candidate, const std::vector<const FloatBuffer*>& ref,
                     const std::vector<const FloatBuffer*>& got)>
      observeLift;
};

/// Signal and noise energy of a quantized tensor against its float reference.
struct SnrAccumulator {
  double signal = 0, noise = 0;
  void add(const std::vector<float>& ref, const std::vector<float>& got);
  /// 10 log10(signal / noise); 200 dB when there is no noise at all.
  double db() const;
};

struct NoiseAnalysis {
  int samples = 0;
  std::vector<int> outputs;               // output layer ids, in output order
  std::vector<SnrAccumulator> outputSnr;  // per output: the quantized network
  std::vector<SnrAccumulator> layerSnr;   // per layer id (inputs and output layers empty)
  std::vector<int> candidates;            // advanced: layer ids, in layer order
  std::vector<std::vector<SnrAccumulator>> quantizeOnly;  // [candidate][output]; empty
                                                          // without options' quantizeOnly
  std::vector<std::vector<SnrAccumulator>> lifted16;      // [candidate][output]
};

/// The layers whose output tensors the advanced analysis varies: every quantized layer that has
/// its own 8-bit quantization (not the inputs, the output layers, layers that keep their input's,
/// or tensors already in 16 bits).
std::vector<int> noiseCandidates(const Graph& g);

/// Runs the analysis of an optimized graph on `samples` ([sample][input], user layout).
NoiseAnalysis analyzeNoise(const Graph& g, const std::vector<std::vector<FloatBuffer>>& samples,
                           const NoiseAnalysisOptions& o);

}  // namespace kiln::optimize
