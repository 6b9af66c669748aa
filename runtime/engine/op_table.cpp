// The run-time form of ops.def and the writer of operation fields.
#include "runtime/engine/op_table.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace kiln::rt {

const std::vector<OpInfo>& opTable() {
  static const std::vector<OpInfo> table = {
#define KILN_OP(code, Name, text, factory, ints, arrays, consts, stage) \
  {OpCode::Name, text, {ints}, {arrays}, {consts}, ops::Name::kArrayLength, ops::Name::kStage},
#define FIELD(name) #name,
#define ARRAY(name, len) #name,
#define CONSTANT(name) #name,
#include "runtime/engine/ops.def"
  };
  return table;
}

const OpInfo* opInfo(uint32_t code) {
  // Opcodes are 1..kMaxOpCode in table order (program.h checks it at compile time).
  if (code < 1 || code > kMaxOpCode) return nullptr;
  return &opTable()[code - 1];
}

std::string opName(uint32_t code) {
  if (const OpInfo* info = opInfo(code)) return info->name;
  return "opcode " + std::to_string(code);
}

OpWriter::OpWriter(OpDesc& op, OpCode code, size_t arrayLength)
    : op_(op), layout_{*opInfo(uint32_t(code)), arrayLength} {
  if (layout_.info.arrays.empty() && arrayLength != 0)
    throw std::logic_error(std::string(layout_.info.name) + " has no arrays");
  op_.code = uint32_t(code);
  op_.ints.assign(layout_.intCount(), 0);
  op_.consts.assign(layout_.constCount(), kNoConst);
}

OpWriter& OpWriter::set(size_t field, int64_t value) {
  if (field >= layout_.info.ints.size())
    throw std::logic_error(std::string(layout_.info.name) + ": no int field " +
                           std::to_string(field));
  op_.ints[field] = value;
  return *this;
}

OpWriter& OpWriter::setArray(size_t array, const std::vector<int64_t>& values) {
  if (array >= layout_.info.arrays.size() || values.size() != layout_.arrayLength)
    throw std::logic_error(std::string(layout_.info.name) + ": array " + std::to_string(array) +
                           " of " + std::to_string(values.size()) + " values, expected " +
                           std::to_string(layout_.arrayLength));
  for (size_t i = 0; i < values.size(); ++i) op_.ints[layout_.arrayInt(array, i)] = values[i];
  return *this;
}

OpWriter& OpWriter::setConst(size_t field, uint32_t id) {
  if (field >= layout_.info.consts.size())
    throw std::logic_error(std::string(layout_.info.name) + ": no constant " +
                           std::to_string(field));
  op_.consts[field] = id;
  return *this;
}

OpWriter& OpWriter::setStage(const std::vector<int64_t>& ints, uint32_t mult, uint32_t multNeg,
                             uint32_t table) {
  if (!layout_.info.stage || ints.size() != kStageInts)
    throw std::logic_error(std::string(layout_.info.name) + ": no output stage, or " +
                           std::to_string(ints.size()) + " stage ints");
  std::copy(ints.begin(), ints.end(), op_.ints.begin() + std::ptrdiff_t(layout_.stageInt()));
  const size_t k = layout_.stageConst();
  op_.consts[k] = mult, op_.consts[k + 1] = multNeg, op_.consts[k + 2] = table;
  return *this;
}

}  // namespace kiln::rt
