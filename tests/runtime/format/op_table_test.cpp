// The operation table (runtime/engine/ops.def): docs/file-format.md's opcode table matches it
// column by column, and the positions the lowering writes (OpWriter) are those the engine reads
// (OpLayout, OpCheck).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "runtime/engine/op_kernel.h"
#include "runtime/engine/op_table.h"

namespace kiln::rt {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line.substr(1));
  std::string cell;
  while (std::getline(ss, cell, '|')) {
    const size_t b = cell.find_first_not_of(' '), e = cell.find_last_not_of(' ');
    out.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
  }
  return out;
}

// The ints or consts column as the docs write it: `names` + stage, stage, or —.
std::string column(const std::vector<std::string>& names, bool stage) {
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : " ") + n;
  std::string col = list.empty() ? "" : "`" + list + "`";
  if (stage) col += col.empty() ? "stage" : " + stage";
  return col.empty() ? "—" : col;
}

std::string intsColumn(const OpInfo& op) {
  std::vector<std::string> names(op.ints.begin(), op.ints.end());
  for (const char* a : op.arrays)
    names.push_back(std::string(a) + (op.arrayLength == ArrayLength::rank ? "[rank]" : "[inputs]"));
  return column(names, op.stage);
}

std::string constsColumn(const OpInfo& op) {
  return column({op.consts.begin(), op.consts.end()}, op.stage);
}

TEST(OpTable, FileFormatDocMatchesTheTable) {
  const std::string path = std::string(KILN_SOURCE_DIR) + "/docs/file-format.md";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  // The rows of the table whose header is "| code | name | inputs → output | ints | consts |".
  std::map<uint32_t, std::vector<std::string>> rows;
  bool inTable = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| code | name | inputs", 0) == 0) {
      inTable = true;
      continue;
    }
    if (!inTable) continue;
    if (line.empty() || line[0] != '|') break;
    const std::vector<std::string> c = cells(line);
    if (c.empty() || c[0].empty() || c[0].find_first_not_of("0123456789") != std::string::npos)
      continue;  // the "| --- |" line
    ASSERT_GE(c.size(), 5u) << line;
    EXPECT_TRUE(rows.emplace(uint32_t(std::stoul(c[0])), c).second) << "opcode twice: " << line;
  }
  ASSERT_EQ(rows.size(), opTable().size()) << path << ": the opcode table has another row count";
  for (const OpInfo& op : opTable()) {
    const auto it = rows.find(uint32_t(op.code));
    ASSERT_NE(it, rows.end()) << path << ": no row for opcode " << uint32_t(op.code);
    const std::vector<std::string>& c = it->second;
    EXPECT_EQ(c[1], op.name) << "opcode " << uint32_t(op.code);
    EXPECT_EQ(c[3], intsColumn(op)) << op.name << ": ints";
    EXPECT_EQ(c[4], constsColumn(op)) << op.name << ": consts";
  }
}

TEST(OpTable, CodesNamesAndLookup) {
  ASSERT_EQ(opTable().size(), size_t(kMaxOpCode));
  for (uint32_t code = 1; code <= kMaxOpCode; ++code) {
    ASSERT_NE(opInfo(code), nullptr);
    EXPECT_EQ(uint32_t(opInfo(code)->code), code);
    EXPECT_EQ(opName(code), opInfo(code)->name);
  }
  EXPECT_EQ(opInfo(0), nullptr);
  EXPECT_EQ(opInfo(kMaxOpCode + 1), nullptr);
  EXPECT_EQ(opName(kMaxOpCode + 1), "opcode " + std::to_string(kMaxOpCode + 1));
  EXPECT_EQ(opName(uint32_t(OpCode::LayerNorm)), "layer_norm");
}

TEST(OpTable, DeconvHasTheFieldsOfConv) {  // one kernel reads both through ops::Conv
  const OpInfo &conv = *opInfo(uint32_t(OpCode::Conv)), &deconv = *opInfo(uint32_t(OpCode::Deconv));
  EXPECT_EQ(std::vector<std::string>(conv.ints.begin(), conv.ints.end()),
            std::vector<std::string>(deconv.ints.begin(), deconv.ints.end()));
  EXPECT_EQ(std::vector<std::string>(conv.consts.begin(), conv.consts.end()),
            std::vector<std::string>(deconv.consts.begin(), deconv.consts.end()));
  EXPECT_EQ(conv.stage, deconv.stage);
}

TEST(OpTable, WriterPositionsAreTheLayoutsOfTheReader) {
  // Slice at rank 3: start[3] then step[3]; Resize: two fields, interpolated[4], then the stage.
  OpDesc slice;
  OpWriter(slice, OpCode::Slice, 3)
      .setArray(ops::Slice::start, {1, 2, 3})
      .setArray(ops::Slice::step, {4, 5, 6});
  EXPECT_EQ(slice.code, uint32_t(OpCode::Slice));
  EXPECT_EQ(slice.ints, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(slice.consts.empty());

  OpDesc resize;
  OpWriter w(resize, OpCode::Resize, 4);
  w.set(ops::Resize::in_zp, 7).setArray(ops::Resize::interpolated, {0, 0, 1, 1});
  w.setConst(ops::Resize::w1, 9).setStage({1, 2, 3, 4, 5, 6}, 10, kNoConst, 11);
  const OpLayout l{*opInfo(uint32_t(OpCode::Resize)), 4};
  ASSERT_EQ(resize.ints.size(), l.intCount());
  ASSERT_EQ(resize.consts.size(), l.constCount());
  EXPECT_EQ(resize.ints, (std::vector<int64_t>{0, 7, 0, 0, 1, 1, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(l.arrayInt(ops::Resize::interpolated, 2), 4u);
  EXPECT_EQ(l.stageInt(), 6u);
  EXPECT_EQ(resize.consts, (std::vector<uint32_t>{kNoConst, kNoConst, 9, 10, kNoConst, 11}));

  // An operation without a stage takes none; misuse is a compiler bug, reported as such.
  OpDesc tr;
  EXPECT_THROW(OpWriter(tr, OpCode::Transpose, 2).setArray(ops::Transpose::perm, {0}),
               std::logic_error);
  EXPECT_THROW(OpWriter(tr, OpCode::Copy).setStage({0, 0, 0, 0, 0, 0}, 0, 0, 0), std::logic_error);
}

// Validation names the field from the table, at the position the table gives.
TEST(OpTable, ValidationNamesTableFields) {
  OwnedProgram owned;
  Program& p = owned.program;
  p.tensors = {{{2, 3}, 8, 0}, {{2, 3}, 8, 6}};
  p.arenaElems = 12;
  OpDesc op;
  op.name = "s";
  op.inputs = {0};
  op.output = 1;
  OpWriter(op, OpCode::Slice, 2)
      .setArray(ops::Slice::start, {0, 0})
      .setArray(ops::Slice::step, {1, 7});
  p.ops = {op};
  try {
    makeKernel(p, 0);
    FAIL() << "step[1] = 7 was accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("operation 0 's' (slice): step[1] = 7, expected within [-3, 3]"));
  }
  p.ops[0].ints.pop_back();
  try {
    makeKernel(p, 0);
    FAIL() << "a missing int was accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("expects 4 integer parameters, has 3"));
  }
}

}  // namespace
}  // namespace kiln::rt
