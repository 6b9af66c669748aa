// The Kiln runtime's C++ API: open a .kef (memory-mapped), list its streams, run it
// synchronously on user buffers. See docs/runtime.md. The C API (kilnrt.h) wraps this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/engine/program.h"
#include "runtime/kernels/kernel_path.h"
#include "runtime/post/nms.h"

namespace kiln::rt {

class Executor;
class PreparedProgram;

struct LoadOptions {
  bool verifyChecksums = true;
  int64_t maxArenaBytes = int64_t(1) << 30;
  /// The largest estimated work per frame (multiply-accumulates and element visits, summed over
  /// the operations; Model::work): a file beyond it is refused, naming the operation.
  int64_t maxWork = int64_t(1) << 40;
};

/// A loaded executable. Immutable and shareable: several sessions (and several models) may be
/// used in one process. Validated once, when opened: the sessions share its prepared operations.
class Model {
 public:
  /// Opens and validates a .kef file; Error messages start with the path.
  static std::shared_ptr<const Model> open(const std::string& path, const LoadOptions& = {});
  /// The same from bytes in memory (copied into an aligned buffer); `name` is used in errors.
  static std::shared_ptr<const Model> fromBytes(const uint8_t* data, size_t size,
                                                const std::string& name, const LoadOptions& = {});
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const Program& program() const { return program_; }
  const std::vector<StreamDesc>& inputs() const { return program_.inputs; }
  const std::vector<StreamDesc>& outputs() const { return program_.outputs; }
  const std::string& path() const { return path_; }
  size_t fileBytes() const { return size_; }
  /// The compiler's resource plan summary stored in the file ("" when absent).
  const std::string& planText() const { return planText_; }
  /// The detector post-processing the file carries (section "nms"), or nullptr.
  const NmsConfig* nms() const { return nms_.get(); }
  uint32_t formatVersion() const { return version_; }
  const LoadOptions& options() const { return options_; }
  /// Estimated work of one frame: multiply-accumulates and element visits (docs/runtime.md),
  /// in total and per operation.
  int64_t work() const;
  int64_t opWork(size_t op) const;
  /// The micro-kernel path chosen when the model was opened: the CPU's best, or the one named
  /// by the environment variable KILN_KERNEL_PATH (docs/runtime.md "Kernel paths").
  KernelPath kernelPath() const;
  /// The validated operations, which every Session of the model runs (they refer to the
  /// model's program and constants: keep the model alive while using them).
  const std::shared_ptr<const PreparedProgram>& prepared() const { return prepared_; }

 private:
  Model() = default;
  void load(const LoadOptions& opts);
  Program program_;
  std::shared_ptr<const PreparedProgram> prepared_;  // refers to program_
  std::string path_, planText_;
  std::shared_ptr<const NmsConfig> nms_;
  uint32_t version_ = 0;
  LoadOptions options_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  std::unique_ptr<uint64_t[]> owned_;
};

/// User buffer element types. Auto = the stream's device type (uint8 or uint16).
enum class BufferType { Auto, UInt8, UInt16, Float32 };
const char* bufferTypeName(BufferType t);
/// Parses "auto", "uint8", "uint16", "float32"; throws Error listing them.
BufferType parseBufferType(const std::string& s);

struct InputBuffer {
  const void* data = nullptr;
  size_t bytes = 0;
  BufferType type = BufferType::Float32;
};
struct OutputBuffer {
  void* data = nullptr;
  size_t bytes = 0;
  BufferType type = BufferType::Float32;
};

/// Element size of a buffer type for a stream (Auto: 1 or 2 bytes by the stream's bits).
size_t elementBytes(BufferType t, const StreamDesc& s);
/// Number of elements of a stream.
int64_t streamElements(const StreamDesc& s);

/// Runs one model: holds the activation memory. Not thread-safe; one session per thread.
class Session {
 public:
  /// Allocates the activation arena (the model was validated when opened).
  explicit Session(std::shared_ptr<const Model> model);
  ~Session();
  const Model& model() const { return *model_; }

  /// Runs one frame. inputs/outputs in stream order. Byte sizes must match exactly (expected vs
  /// given in the error); uint16 data into a uint8 stream is an error, uint8 into a uint16
  /// stream is widened with a warning (onWarning).
  void run(const std::vector<InputBuffer>& inputs, const std::vector<OutputBuffer>& outputs);
  /// One frame in pieces, for callers that do not hold whole buffers (kilnrt run streams a
  /// file's floats this way, a few hundred KB at a time): setInput writes elements [first,
  /// first + piece elements) of input stream k, converted as run() converts a whole buffer
  /// (every element of every input, before compute()); compute() runs the operations;
  /// getOutput reads elements [first, ...) of output stream k, valid until the next compute().
  /// A piece's bytes must be a whole number of elements within the stream. run() is these three
  /// steps on whole buffers, so the bytes are the same.
  void setInput(size_t k, int64_t first, const InputBuffer& piece);
  void compute();
  void getOutput(size_t k, int64_t first, const OutputBuffer& piece);
  /// Seconds the last run took (conversions included) and the part spent in the operations
  /// (compute() sets the second).
  double lastRunSeconds() const { return lastRun_; }
  double lastComputeSeconds() const { return lastCompute_; }
  /// Per-operation seconds of the last run when profiling is on.
  void setProfiling(bool on) { profile_ = on; }
  /// Threads each operation may split its output over (a persistent pool of this session; the
  /// default 1 uses none). Outputs are the same bytes for every count. Throws Error unless
  /// 1 <= n <= 256.
  void setThreads(int n);
  int threads() const;
  const std::vector<double>& opSeconds() const;
  size_t arenaBytes() const;

  std::function<void(const std::string&)> onWarning;

 private:
  // The elements of stream `s` a piece of `bytes` bytes of type `t` starting at `first` covers;
  // throws Error naming the stream when it is not whole elements within the stream.
  int64_t pieceElements(const StreamDesc& s, BufferType t, int64_t first, size_t bytes,
                        const char* kind) const;
  void convertIn(size_t k, int64_t first, int64_t n, const InputBuffer& b);
  void convertOut(size_t k, int64_t first, int64_t n, const OutputBuffer& b);
  std::shared_ptr<const Model> model_;
  std::unique_ptr<Executor> exec_;
  bool profile_ = false, warnedWiden_ = false;
  double lastRun_ = 0, lastCompute_ = 0;
};

}  // namespace kiln::rt
