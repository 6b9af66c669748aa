// The runtime's operations: each OpCode has a kernel object built from its OpDesc. Building it
// validates everything the integer kernel will trust (shapes, indices, constant sizes and types,
// value ranges), so a Program that builds runs without reading or writing out of bounds; the
// error names the operation and the field.
#pragma once

#include <memory>

#include "engine/program.h"
#include "kernels/output_stage.h"

namespace kiln::rt {

class OpKernel {
 public:
  virtual ~OpKernel() = default;
  /// Runs the operation on the arena (tensors at the offsets of the memory plan).
  virtual void run(int32_t* arena) const = 0;
};

/// Validates operation `index` of `prog` and prepares it. Throws Error.
std::unique_ptr<OpKernel> makeKernel(const Program& prog, size_t index);

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
  OpCheck(const Program& prog, size_t index);
  const Program& prog;
  const OpDesc& op;
  size_t index;

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
  /// The output stage at ints [intBase, intBase + 6) and consts [constBase, constBase + 3), with
  /// `channels` output channels (a stage holds 1 or `channels` multipliers).
  void stage(size_t intBase, size_t constBase, int64_t channels, StageHolder& h) const;
};

inline const int32_t* tensorIn(const int32_t* arena, const TensorDesc& t) {
  return arena + t.offset;
}
inline int32_t* tensorOut(int32_t* arena, const TensorDesc& t) {
  return arena + t.offset;
}

}  // namespace kiln::rt
