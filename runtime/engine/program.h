// A Program: the executable form of a quantized network, as the runtime runs it and as the .kef
// file stores it (docs/file-format.md). It is a flat list of integer operations over numbered
// tensors that live in one arena (uint16_t elements) at offsets the compiler's memory plan chose,
// plus the constants (weights, biases, multipliers, tables) the operations read, and the streams:
// the network's inputs and outputs with their host-side quantization.
//
// A Program holds views: constants point either into the compiler's own storage (OwnedProgram)
// or into the memory-mapped .kef file (zero copy).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace kiln::rt {

/// Every runtime failure: a message that names the file, section, stream or operation.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Operation codes, from the table in runtime/engine/ops.def (the numbers are file values:
/// explicit and append-only).
enum class OpCode : uint32_t {
#define KILN_OP(code, Name, ...) Name = code,
#include "runtime/engine/ops.def"
};
namespace detail {
constexpr uint32_t kOpCodes[] = {
#define KILN_OP(code, ...) code,
#include "runtime/engine/ops.def"
};
constexpr bool numberedInOrder() {
  for (size_t i = 0; i < sizeof(kOpCodes) / sizeof(kOpCodes[0]); ++i)
    if (kOpCodes[i] != i + 1) return false;
  return true;
}
static_assert(numberedInOrder(), "ops.def: opcodes are 1, 2, 3, ... in table order");
}  // namespace detail
/// The largest known opcode (the loader refuses others).
constexpr uint32_t kMaxOpCode = uint32_t(sizeof(detail::kOpCodes) / sizeof(detail::kOpCodes[0]));
/// Readable name of an opcode ("conv"), or "opcode N" when unknown.
std::string opName(uint32_t code);
/// "2.31 G", "512 k", "37": a count (e.g. an operation's work) with a decimal prefix.
std::string formatCount(int64_t n);
/// The exact count, followed by formatCount's form when they differ: "2335730944 (2.34 G)".
std::string exactCount(int64_t n);

/// Element type of a constant. The numbers are file values (section `consts`).
enum class ConstType : uint32_t { I8 = 1, I16 = 2, I32 = 3, I64 = 4 };
size_t constTypeSize(ConstType t);
const char* constTypeName(ConstType t);

struct ConstView {
  ConstType type = ConstType::I32;
  int64_t count = 0;
  const void* data = nullptr;  // aligned to the element size at least
  template <typename T>
  const T* as() const {
    return static_cast<const T*>(data);
  }
};

/// Bytes of one arena element: the arena holds every activation as a uint16_t (kernels.h's Act),
/// which holds both 8-bit and 16-bit device values exactly.
constexpr int64_t kArenaElementBytes = 2;

/// An activation tensor: shape, bit width of its values (8 or 16; unsigned), and where it lives
/// in the arena (in arena elements).
struct TensorDesc {
  std::vector<int64_t> shape;
  int32_t bits = 8;
  int64_t offset = 0;
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

/// Marks an absent optional constant in OpDesc::consts.
constexpr uint32_t kNoConst = 0xFFFFFFFFu;

struct OpDesc {
  uint32_t code = 0;
  std::string name;  // the layer's name (for errors and kilnrt parse)
  std::vector<uint32_t> inputs;
  uint32_t output = 0;
  std::vector<int64_t> ints;
  std::vector<uint32_t> consts;
};

/// A network input or output as the host sees it.
struct StreamDesc {
  std::string name;  // the ONNX tensor name
  uint32_t tensor = 0;
  std::vector<int64_t> shape;    // the user's shape (ONNX layout)
  std::string layout;            // e.g. "NCHW", "NHWC" or "" when not an image tensor
  int32_t bits = 8;              // device type: 8 = uint8, 16 = uint16
  double scale = 1.0;            // qp_scale
  int64_t zeroPoint = 0;         // qp_zp
  float limMin = 0, limMax = 0;  // limvals: the float range that quantizes into [0, 2^bits - 1]
};

/// A group of consecutive operations the compiler planned to fit the target's on-chip memory
/// together. The CPU runtime runs contexts one after the other.
struct ContextDesc {
  uint32_t firstOp = 0, opCount = 0;
  int64_t weightBytes = 0, macs = 0;
};

struct Metadata {
  std::string netName, hwArch, toolVersion, graphHash;
};

struct Program {
  Metadata meta;
  std::vector<TensorDesc> tensors;
  std::vector<ConstView> consts;
  std::vector<OpDesc> ops;
  std::vector<StreamDesc> inputs, outputs;
  std::vector<ContextDesc> contexts;
  int64_t arenaElems = 0;  // arena elements the memory plan needs
  int64_t arenaBytes() const { return arenaElems * kArenaElementBytes; }
};

/// A Program that owns its constants (built by the compiler, or copied out of a file).
class OwnedProgram {
 public:
  Program program;
  /// Adds a constant (copied, 8-byte aligned) and returns its index.
  template <typename T>
  uint32_t addConst(ConstType type, const std::vector<T>& values) {
    const size_t bytes = values.size() * sizeof(T);
    auto block = std::make_unique<uint64_t[]>((bytes + 7) / 8 + 1);
    if (bytes) std::copy(values.begin(), values.end(), reinterpret_cast<T*>(block.get()));
    program.consts.push_back({type, int64_t(values.size()), block.get()});
    storage_.push_back(std::move(block));
    return uint32_t(program.consts.size() - 1);
  }

 private:
  std::vector<std::unique_ptr<uint64_t[]>> storage_;
};

}  // namespace kiln::rt
