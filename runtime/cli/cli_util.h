// Helpers shared by the kilnrt subcommands: text formatting, file names, memory figures,
// latency statistics, and preparing the user buffers of a model (from .npy files or random).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/npy.h"
#include "common/strings.h"
#include "runtime/api/runtime.h"

namespace kiln::rt::cli {

/// Peak resident set size of this process (VmHWM in /proc/self/status); -1 when unknown.
int64_t peakRssBytes();
/// Sum of the bytes of every constant of a program.
int64_t constantBytes(const Program& p);
/// Prints "kilnrt: warning: ..." on stderr.
void warn(const std::string& msg);

/// Latency statistics over per-frame seconds (nearest-rank percentiles), in milliseconds.
struct LatencyStats {
  int64_t frames = 0;  // how many frames the figures come from
  double minMs = 0, p50Ms = 0, p90Ms = 0, p99Ms = 0, maxMs = 0, meanMs = 0;
};
LatencyStats latencyStats(std::vector<double> seconds);

/// The user-side buffers of one model for kilnrt infer (kilnrt run and benchmark use
/// FrameFeeder): inputs in stream order, `frames` samples each, outputs for one frame.
struct FrameBuffers {
  std::vector<BufferType> inTypes, outTypes;
  std::vector<std::vector<uint8_t>> inData;  // per input: all samples back to back
  std::vector<size_t> inBytes;               // per input: bytes of one sample
  int64_t samples = 1;
  std::vector<std::vector<uint8_t>> outData;  // per output: one frame
  /// The run() arguments for sample `s` (taken modulo the sample count).
  std::vector<InputBuffer> inputs(int64_t s) const;
  std::vector<OutputBuffer> outputs();
};

/// Loads one .npy per input stream (shape = the stream's, or [N, ...] with N samples) and checks
/// dtype and shape; errors name the file, the stream, what was expected and what was found.
/// `inputFormat` is the --input-format-type: "" = follow each file's dtype (float32, uint8 or
/// uint16), else auto|uint8|uint16|float32 and the dtype must match it.
FrameBuffers loadInputs(const Model& m, const std::vector<std::string>& files,
                        const std::string& inputFormat);
/// Allocates one frame of output buffers of `type` for every output stream.
void allocateOutputs(const Model& m, BufferType type, FrameBuffers& fb);

/// Per-operation profile summed over frames; prints the `top` slowest operations.
struct OpProfile {
  std::vector<double> total;  // seconds per operation, summed
  int64_t frames = 0;
  void add(const std::vector<double>& opSeconds);
  void print(const Program& p, size_t top = 10) const;
  Json toJson(const Program& p, size_t top = 10) const;
};

}  // namespace kiln::rt::cli
