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

#include "runtime/engine/op_table.h"
#include "runtime/engine/program.h"
#include "runtime/kernels/kernel_path.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/output_stage.h"

namespace kiln::rt {

/// Resource limits a program must respect; validation refuses programs beyond them.
struct Limits {
  int64_t maxArenaElems = int64_t(1) << 29;  // 1 GiB of activations (Act elements)
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
/// range, movement ops copy values, constants and fill values are checked), so the arena holds
/// them as Act (uint16_t) and |x - zp| < 2^16. The accumulator bounds below build on this.
constexpr int64_t kMaxActivation = int64_t(1) << 16;
/// The largest |accumulator| an operation may reach (int64 with headroom for the stage's adds).
constexpr int64_t kMaxAcc = int64_t(1) << 62;

/// A validated operation, ready to run. Immutable: it holds parameters only (pointers into the
/// program's constants), the arena belongs to the caller, so one kernel may run on several
/// arenas at once (sessions on threads).
class OpKernel {
 public:
  virtual ~OpKernel() = default;
  /// Runs the operation on the arena (tensors at the offsets of the memory plan, in elements).
  virtual void run(Act* arena) const = 0;
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

// Per-family factories (ops_*.cpp; ops.def names the one of each opcode); `op` was checked for
// tensor indices in range.
class OpCheck;
std::unique_ptr<OpKernel> makeLinearKernel(const OpCheck& c);    // conv, deconv, fc, matmul
std::unique_ptr<OpKernel> makeEltwiseKernel(const OpCheck& c);   // eltwise, unary
std::unique_ptr<OpKernel> makePoolKernel(const OpCheck& c);      // pool, global avg, reduce
std::unique_ptr<OpKernel> makeMovementKernel(const OpCheck& c);  // copy, transpose, slice, pad,
                                                                 // depth/space, concat, const
std::unique_ptr<OpKernel> makeResizeKernel(const OpCheck& c);
std::unique_ptr<OpKernel> makeNormKernel(const OpCheck& c);   // softmax, layer norm
std::unique_ptr<OpKernel> makeColorKernel(const OpCheck& c);  // format / color conversion

/// An output stage decoded from an operation (pointers into the program's constants).
struct StageHolder {
  std::vector<Multiplier> mult, multNeg;  // copied: small, and aligned for any source
  std::vector<uint32_t> lutPairs;         // OutputStage::lutPairs, when the table has them
  OutputStage stage;
  int64_t channels = 1;
};

/// Reads and validates operation fields; every failure names the operation. Fields are read by
/// their ops.def position (ops::Conv::kernel_h) and named in messages by the table.
class OpCheck {
 public:
  OpCheck(const Program& prog, size_t index, const Limits& limits);
  const Program& prog;
  const OpDesc& op;
  size_t index;
  const Limits& limits;
  const OpInfo* info;  // the operation's row of ops.def (null: unknown opcode)

  [[noreturn]] void fail(const std::string& what) const;
  OpCode code() const { return OpCode(op.code); }
  void inputs(size_t n) const;  // exactly n inputs
  const TensorDesc& in(size_t k) const { return prog.tensors[op.inputs[k]]; }
  const TensorDesc& out() const { return prog.tensors[op.output]; }
  /// Where the fields lie (the arrays' length from input 0's rank or the input count: check the
  /// inputs first).
  OpLayout layout() const;
  /// The ints and consts counts are exactly those of the layout.
  void fieldCounts() const;
  /// Integer field `f` (ops::X::Ints), required within [lo, hi].
  int64_t field(size_t f, int64_t lo, int64_t hi) const;
  /// Value i of array `a` (ops::X::Arrays), required within [lo, hi].
  int64_t element(size_t a, size_t i, int64_t lo, int64_t hi) const;
  /// A zero point of tensor t (field f, or value i of array a): within its range.
  int32_t zeroPoint(size_t f, const TensorDesc& t) const;
  int32_t zeroPointElement(size_t a, size_t i, const TensorDesc& t) const;
  /// Constant `f` (ops::X::Consts) of type t with `count` elements (-1: any); the optional form
  /// returns null when it is absent.
  const ConstView& constant(size_t f, ConstType t, int64_t count) const;
  const ConstView* optConstant(size_t f, ConstType t, int64_t count) const;
  /// Weights (constant f): I8, I16 or I32 (|w| < 2^24) with `count` elements.
  const ConstView& weights(size_t f, int64_t count) const;
  void valuesWithin(const ConstView& c, int64_t lo, int64_t hi, const char* field) const;
  void rank(const TensorDesc& t, size_t r, const char* which) const;
  void sameShape(const TensorDesc& a, const TensorDesc& b, const char* what) const;
  /// a * b for non-negative operands; fails naming `what` when it exceeds `limit`.
  int64_t product(int64_t a, int64_t b, int64_t limit, const char* what) const;
  /// Fails unless bound <= kMaxAcc (the accumulator cannot overflow int64).
  void accumulatorFits(int64_t bound, const char* what) const;
  /// The work of the operation (OpKernel::work): the product of `factors` (non-negative; the
  /// product saturates at INT64_MAX). Fails when it alone exceeds limits.maxWork, naming
  /// `formula` ("output elements x C/groups x kh x kw") with the factors.
  int64_t work(std::initializer_list<int64_t> factors, const char* formula) const;
  /// The output stage (its place in ints and consts from the layout), with `channels` output
  /// channels (a stage holds 1 or `channels` multipliers). `accBound` bounds |accumulator| (one
  /// value, or one per channel): every multiplier must keep the rescaled value within 2^62, so
  /// neither the zero point nor the table offset added to it can overflow.
  void stage(int64_t channels, StageHolder& h, const std::vector<int64_t>& accBound) const;

 private:
  /// ints[k] named `field`, required within [lo, hi].
  int64_t intAt(size_t k, int64_t lo, int64_t hi, const std::string& field) const;
  const ConstView* optConst(size_t k, ConstType t, int64_t count, const std::string& field) const;
  const char* constName(size_t f) const;
};

inline const Act* tensorIn(const Act* arena, const TensorDesc& t) {
  return arena + t.offset;
}
inline Act* tensorOut(Act* arena, const TensorDesc& t) {
  return arena + t.offset;
}

}  // namespace kiln::rt
