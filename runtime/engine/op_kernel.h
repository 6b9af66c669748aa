// The runtime's operations: each OpCode has a kernel object built from its OpDesc. Building it
// validates everything the integer kernel will trust (shapes, indices, constant sizes and types,
// value ranges), so a Program that builds runs without reading or writing out of bounds; the
// error names the operation and the field.
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/engine/program.h"
#include "runtime/kernels/kernel_path.h"
#include "runtime/kernels/output_stage.h"

namespace kiln::rt {

/// Resource limits a program must respect; validation refuses programs beyond them.
struct Limits {
  int64_t maxArenaElems = int64_t(1) << 28;  // 1 GiB of activations
  /// Estimated work of one frame (multiply-accumulates or element visits, see OpKernel::work),
  /// summed over the operations. 2^40 (1.1 T) is ~470 times PP-OCRv4 det at 640x640 (2.34 G);
  /// at kilnrt's ~3 G per second on one x86-64 core, some 6 minutes per frame.
  int64_t maxWork = int64_t(1) << 40;
  /// The micro-kernel path the kernels are prepared for; unset: selectKernelPath() (the CPU's
  /// best, or KILN_KERNEL_PATH), resolved once by PreparedProgram.
  std::optional<KernelPath> kernelPath;
};
/// Whatever the limit asked for, no tensor and no arena has more elements than this (16 GiB):
/// every element count then fits the integer arithmetic of the checks and kernels.
constexpr int64_t kMaxElems = int64_t(1) << 32;

/// Every activation value in the arena lies in [0, 2^16) (stage outputs are clamped to the output
/// range, movement ops copy values, constants and fill values are checked), so |x - zp| < 2^16.
/// The accumulator bounds below build on this.
constexpr int64_t kMaxActivation = int64_t(1) << 16;
/// The largest |accumulator| an operation may reach (int64 with headroom for the stage's adds).
constexpr int64_t kMaxAcc = int64_t(1) << 62;

/// A validated operation, ready to run. Immutable: it holds parameters only (pointers into the
/// program's constants), the arena belongs to the caller, so one kernel may run on several
/// arenas at once (sessions on threads).
class OpKernel {
 public:
  virtual ~OpKernel() = default;
  /// Runs the operation on the arena (tensors at the offsets of the memory plan).
  virtual void run(int32_t* arena) const = 0;
  /// The estimated work of one run, in multiply-accumulates (conv, deconv, fc, matmul) or element
  /// visits (window taps, interpolation corners, elements read or written): the figure that
  /// bounds the running time of a validated program (Limits::maxWork).
  int64_t work() const { return work_; }

 protected:
  int64_t work_ = 0;
};

/// Validates operation `index` of `prog` (whose tensors were validated) and prepares it. Throws
/// Error.
std::unique_ptr<OpKernel> makeKernel(const Program& prog, size_t index, const Limits& limits = {});

// Per-family factories (ops_*.cpp); `op` was checked for tensor indices in range.
class OpCheck;
std::unique_ptr<OpKernel> makeLinearKernel(const OpCheck& c);    // conv, deconv, fc, matmul
std::unique_ptr<OpKernel> makeEltwiseKernel(const OpCheck& c);   // eltwise, unary
std::unique_ptr<OpKernel> makePoolKernel(const OpCheck& c);      // pool, global avg, reduce
std::unique_ptr<OpKernel> makeMovementKernel(const OpCheck& c);  // copy, transpose, slice, pad,
                                                                 // depth/space, concat, const
std::unique_ptr<OpKernel> makeResizeKernel(const OpCheck& c);
std::unique_ptr<OpKernel> makeNormKernel(const OpCheck& c);  // softmax, layer norm

/// The number of ints an output stage takes at the end of an operation's ints, and the number of
/// constants (multipliers, negative multipliers, table) at the end of its consts.
constexpr size_t kStageInts = 6;
constexpr size_t kStageConsts = 3;

/// An output stage decoded from an operation (pointers into the program's constants).
struct StageHolder {
  std::vector<Multiplier> mult, multNeg;  // copied: small, and aligned for any source
  OutputStage stage;
  int64_t channels = 1;
};

/// Reads and validates operation fields; every failure names the operation.
class OpCheck {
 public:
  OpCheck(const Program& prog, size_t index, const Limits& limits);
  const Program& prog;
  const OpDesc& op;
  size_t index;
  const Limits& limits;

  [[noreturn]] void fail(const std::string& what) const;
  OpCode code() const { return OpCode(op.code); }
  void inputs(size_t n) const;  // exactly n inputs
  void intsAtLeast(size_t n) const;
  void ints(size_t n) const;
  void constsCount(size_t n) const;
  const TensorDesc& in(size_t k) const { return prog.tensors[op.inputs[k]]; }
  const TensorDesc& out() const { return prog.tensors[op.output]; }
  /// ints[k], required within [lo, hi].
  int64_t intAt(size_t k, int64_t lo, int64_t hi, const char* field) const;
  /// consts[k] of type t with `count` elements (-1: any), values within [lo, hi] (checked for
  /// I64/I32 when lo <= hi). Optional ones return null when absent.
  const ConstView& constAt(size_t k, ConstType t, int64_t count, const char* field) const;
  const ConstView* optConst(size_t k, ConstType t, int64_t count, const char* field) const;
  void valuesWithin(const ConstView& c, int64_t lo, int64_t hi, const char* field) const;
  /// Weights: I8, I16 or I32 (|w| < 2^24) with `count` elements.
  const ConstView& weightsAt(size_t k, int64_t count, const char* field) const;
  void rank(const TensorDesc& t, size_t r, const char* which) const;
  void sameShape(const TensorDesc& a, const TensorDesc& b, const char* what) const;
  /// Zero point of an input tensor: within its range.
  int32_t zeroPointAt(size_t k, const TensorDesc& t, const char* field) const;
  /// a * b for non-negative operands; fails naming `what` when it exceeds `limit`.
  int64_t product(int64_t a, int64_t b, int64_t limit, const char* what) const;
  /// Fails unless bound <= kMaxAcc (the accumulator cannot overflow int64).
  void accumulatorFits(int64_t bound, const char* what) const;
  /// The work of the operation (OpKernel::work): the product of `factors` (non-negative; the
  /// product saturates at INT64_MAX). Fails when it alone exceeds limits.maxWork, naming
  /// `formula` ("output elements x C/groups x kh x kw") with the factors.
  int64_t work(std::initializer_list<int64_t> factors, const char* formula) const;
  /// The output stage at ints [intBase, intBase + 6) and consts [constBase, constBase + 3), with
  /// `channels` output channels (a stage holds 1 or `channels` multipliers). `accBound` bounds
  /// |accumulator| (one value, or one per channel): every multiplier must keep the rescaled value
  /// within 2^62, so neither the zero point nor the table offset added to it can overflow.
  void stage(size_t intBase, size_t constBase, int64_t channels, StageHolder& h,
             const std::vector<int64_t>& accBound) const;
};

inline const int32_t* tensorIn(const int32_t* arena, const TensorDesc& t) {
  return arena + t.offset;
}
inline int32_t* tensorOut(int32_t* arena, const TensorDesc& t) {
  return arena + t.offset;
}

}  // namespace kiln::rt
