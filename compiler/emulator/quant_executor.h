// Quantized emulation ("quantized" target): runs an optimized graph on integers with the
// runtime's kernels (runtime/kernels), bit for bit what the runtime computes.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "compiler/emulator/float_executor.h"

namespace kiln {

namespace rt {
class ThreadPool;
class Executor;
}  // namespace rt

struct LoweredProgram;

/// An integer tensor in a layer's output quantization (values within [0, 2^bits - 1]).
struct IntBuffer {
  Shape shape;
  std::vector<int32_t> data;
};

/// Host-side input conversion, exactly as the runtime does it:
/// q = rint(clip(x, limvals_min, limvals_max) / scale + zero_point), round half to even.
IntBuffer quantizeInput(const FloatBuffer& x, const QuantInfo& q);
/// The same into `out`, reusing its storage.
void quantizeInput(const FloatBuffer& x, const QuantInfo& q, IntBuffer& out);
/// (q - zero_point) * scale in float32.
FloatBuffer dequantize(const IntBuffer& b, const QuantInfo& q);
/// The same for q[0..n) into out[0..n).
void dequantize(const int32_t* q, size_t n, const QuantInfo& info, float* out);

/// Runs the quantized graph on float inputs (user layout); returns the integer outputs in the
/// user layout. With `all`, every layer's integer output (IR layout) is kept, index = layer id.
std::vector<IntBuffer> runQuantized(const Graph& g, const std::vector<FloatBuffer>& inputs,
                                    std::vector<IntBuffer>* all = nullptr);

/// The same on an executor of lp's program that the caller keeps across samples (no validation
/// and no arena allocation per sample; makeExecutor builds it on the emulation pool).
std::vector<IntBuffer> runLowered(const LoweredProgram& lp, const Graph& g,
                                  const std::vector<FloatBuffer>& inputs,
                                  std::vector<IntBuffer>* all, rt::Executor& ex);
std::unique_ptr<rt::Executor> makeExecutor(const LoweredProgram& lp);

/// The worker pool the quantized emulation runs its operations on (the runtime's kernels split
/// their outputs over it; the results are the same bytes for any thread count): one per
/// process, of KILN_THREADS threads (1 to 256), by default the CPU's count up to 8.
rt::ThreadPool* emulationPool();

/// The same with a program lowered once (lowerProgram with keepAll when `all` is wanted); the
/// buffers `all` holds from an earlier call are reused.
std::vector<IntBuffer> runLowered(const LoweredProgram& lp, const Graph& g,
                                  const std::vector<FloatBuffer>& inputs,
                                  std::vector<IntBuffer>* all = nullptr);

/// The same on an executor of lp's program that the caller keeps across samples (no validation
/// and no arena allocation per sample; makeExecutor builds it on the emulation pool).
std::vector<IntBuffer> runLowered(const LoweredProgram& lp, const Graph& g,
                                  const std::vector<FloatBuffer>& inputs,
                                  std::vector<IntBuffer>* all, rt::Executor& ex);
std::unique_ptr<rt::Executor> makeExecutor(const LoweredProgram& lp);

}  // namespace kiln
