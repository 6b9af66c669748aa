// The operations' field layouts, generated from runtime/engine/ops.def: for every opcode a struct
// ops::<Name> whose enums give the positions of its integer fields, arrays and constants, a
// run-time description (OpInfo: names for messages and the docs check), and OpLayout, the one
// computation of where each field lies in an OpDesc's ints/consts. The engine reads fields
// through it (OpCheck, op_kernel.h); the lowering writes them through OpWriter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/engine/program.h"

namespace kiln::rt {

/// The number of ints an output stage takes after an operation's fields and arrays, and the
/// number of constants (multipliers, negative multipliers, table) after its constants.
constexpr size_t kStageInts = 6;
constexpr size_t kStageConsts = 3;

/// How many values each of an operation's arrays holds.
enum class ArrayLength { none, rank, inputs };  // rank: of input 0; inputs: the input count

namespace detail {
template <size_t N>
constexpr bool uniform(const ArrayLength (&a)[N]) {
  for (size_t i = 1; i + 1 < N; ++i)
    if (a[i] != a[0]) return false;
  return true;
}
// Each operation's array lengths, the last entry a terminator.
#define KILN_OP(code, Name, text, factory, ints, arrays, consts, stage) \
  constexpr ArrayLength k##Name##Arrays[] = {arrays ArrayLength::none};
#define FIELD(name)
#define ARRAY(name, len) ArrayLength::len,
#define CONSTANT(name)
#include "runtime/engine/ops.def"
}  // namespace detail

/// ops::Conv::kernel_h, ops::Slice::step, ops::Conv::weights: positions of an operation's fields.
/// Ints: fixed integer fields (kFixedInts of them); Arrays: the arrays that follow (kArrays, each
/// of kArrayLength values); Consts: constants (kFixedConsts); kStage: an output stage follows.
namespace ops {
constexpr bool Stage = true, NoStage = false;
#define KILN_OP(code, Name, text, factory, ints, arrays, consts, stage)        \
  struct Name {                                                                \
    static constexpr OpCode kCode = OpCode::Name;                              \
    enum Ints : size_t { ints kFixedInts };                                    \
    enum Arrays : size_t { arrays kArrays };                                   \
    enum Consts : size_t { consts kFixedConsts };                              \
    static constexpr ArrayLength kArrayLength = detail::k##Name##Arrays[0];    \
    static constexpr bool kStage = stage;                                      \
    static_assert(detail::uniform(detail::k##Name##Arrays),                    \
                  #Name ": all arrays of one operation have the same length"); \
  };
#define FIELD(name) name,
#define ARRAY(name, len) name,
#define CONSTANT(name) name,
#include "runtime/engine/ops.def"
}  // namespace ops

/// An operation's row of ops.def, at run time.
struct OpInfo {
  OpCode code;
  const char* name;
  std::vector<const char*> ints, arrays, consts;
  ArrayLength arrayLength;
  bool stage;
};
/// Every operation, in opcode order.
const std::vector<OpInfo>& opTable();
/// The row of `code`, or null when the code is unknown.
const OpInfo* opInfo(uint32_t code);

/// Where the fields of one operation lie in its OpDesc, given its arrays' length.
struct OpLayout {
  const OpInfo& info;
  size_t arrayLength = 0;

  size_t intCount() const { return stageInt() + (info.stage ? kStageInts : 0); }
  size_t constCount() const { return stageConst() + (info.stage ? kStageConsts : 0); }
  size_t arrayInt(size_t array, size_t i) const {
    return info.ints.size() + array * arrayLength + i;
  }
  size_t stageInt() const { return info.ints.size() + info.arrays.size() * arrayLength; }
  size_t stageConst() const { return info.consts.size(); }
};

/// Fills an OpDesc's ints and consts by field (the compiler's lowering). The constructor sets the
/// code and sizes ints (zeros) and consts (kNoConst, absent) for `arrayLength`; fields not set
/// keep those values. Throws std::logic_error on a misuse (a compiler bug).
class OpWriter {
 public:
  OpWriter(OpDesc& op, OpCode code, size_t arrayLength = 0);
  OpWriter& set(size_t field, int64_t value);
  OpWriter& setArray(size_t array, const std::vector<int64_t>& values);
  OpWriter& setConst(size_t field, uint32_t id);
  /// The output stage: its kStageInts ints, and the multipliers, negative multipliers and table.
  OpWriter& setStage(const std::vector<int64_t>& ints, uint32_t mult, uint32_t multNeg,
                     uint32_t table);

 private:
  OpDesc& op_;
  OpLayout layout_;
};

}  // namespace kiln::rt
