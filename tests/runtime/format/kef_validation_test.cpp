// Files with valid checksums whose content is wrong: each must be refused with an error that
// names the section, stream or operation and the field. Crafted through the Program (writeKef),
// or by patching a section and recomputing the checksums.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "runtime/api/runtime.h"
#include "tests/runtime/format/kef_programs.h"
#include "tests/runtime/format/kef_test_util.h"

namespace kiln::test {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// Builds the CNN sample, lets `edit` change it, writes it and returns the load error.
std::string cnnError(const std::function<void(ProgramBuilder&)>& edit, rt::LoadOptions o = {}) {
  ProgramBuilder b;
  b.owned = makeCnnProgram();
  edit(b);
  return loadError(rt::writeKef(b.p()), o);
}

rt::OpDesc& opNamed(ProgramBuilder& b, const std::string& name) {
  for (auto& op : b.p().ops)
    if (op.name == name) return op;
  throw std::runtime_error("no operation " + name);
}

TEST(KefValidation, TheSamplesLoad) {
  EXPECT_EQ(cnnError([](ProgramBuilder&) {}), "");
  EXPECT_EQ(loadError(rt::writeKef(makeMiscProgram()->program)), "");
}

// The camera sample (an NV12 frame through format_conversion and color_conversion), edited.
std::string cameraError(const std::function<void(ProgramBuilder&)>& edit) {
  ProgramBuilder b;
  b.owned = makeCameraProgram();
  edit(b);
  return loadError(rt::writeKef(b.p()));
}

TEST(KefValidation, CameraConversions) {
  EXPECT_EQ(cameraError([](ProgramBuilder&) {}), "");
  EXPECT_THAT(
      cameraError([](ProgramBuilder& b) { opNamed(b, "nv12").ints[0] = 6; }),
      HasSubstr("operation 0 'nv12' (format_conversion): format = 6, expected within [1, 5]"));
  // yuy2 frames of a 4 x 6 image are [1, 4, 6, 2], not the NV12 frame given.
  EXPECT_THAT(cameraError([](ProgramBuilder& b) { opNamed(b, "nv12").ints[0] = 1; }),
              HasSubstr("the input is not a yuy2 frame of the output's size"));
  EXPECT_THAT(cameraError([](ProgramBuilder& b) {
                b.p().tensors[1].shape = {1, 3, 4, 5};
                b.p().tensors[2].shape = {1, 3, 4, 5};
                b.p().outputs[0].shape = {1, 3, 4, 5};
              }),
              HasSubstr("so it needs an even width; the image is 4 x 5"));
  EXPECT_THAT(
      cameraError([](ProgramBuilder& b) { opNamed(b, "yuv_to_rgb").ints[0] = 31; }),
      HasSubstr(
          "operation 1 'yuv_to_rgb' (color_conversion): shift = 31, expected within [0, 30]"));
  EXPECT_THAT(cameraError([](ProgramBuilder& b) { opNamed(b, "yuv_to_rgb").ints[6] = 1 << 25; }),
              HasSubstr("m02 = 33554432, expected within [-16777216, 16777216]"));
  EXPECT_THAT(cameraError([](ProgramBuilder& b) { opNamed(b, "yuv_to_rgb").ints.pop_back(); }),
              HasSubstr("yuv_to_rgb"));
  EXPECT_THAT(cameraError([](ProgramBuilder& b) { b.p().tensors[1].shape[1] = 4; }),
              HasSubstr("3 channels"));
}

TEST(KefValidation, TensorShapes) {
  EXPECT_THAT(
      cnnError([](ProgramBuilder& b) { b.p().tensors[2].shape[1] = (int64_t(1) << 31) + 1; }),
      HasSubstr("tensors: tensor 2: dimension 1 is 2147483649, expected within [1, 2^31]"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { b.p().tensors[3].shape[0] = 0; }),
              HasSubstr("tensors: tensor 3: dimension 0 is 0"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { b.p().tensors[3].shape[0] = -5; }),
              HasSubstr("dimension 0 is -5"));
  // The element count would overflow int64: refused before it is formed.
  const int64_t big = int64_t(1) << 31;
  EXPECT_THAT(cnnError([&](ProgramBuilder& b) {
                b.p().tensors[1].shape = {big, big, big, big};
              }),
              HasSubstr("tensors: tensor 1: shape [2147483648, 2147483648, 2147483648, "
                        "2147483648] has more elements than the runtime's limit"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { b.p().tensors[1].shape.assign(9, 1); }),
              HasSubstr("tensors: tensor 1: rank 9 > 8"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { b.p().tensors[4].bits = 12; }),
              HasSubstr("tensors: tensor 4: bit width 12, expected 8 or 16"));
}

TEST(KefValidation, MemoryPlan) {
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { b.p().tensors[5].offset = b.p().arenaElems - 10; }),
              HasSubstr("memplan: tensor 5: arena offset"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { b.p().tensors[5].offset = -1; }),
              HasSubstr("memplan: tensor 5: arena offset -1"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { b.p().arenaElems = -3; }),
              HasSubstr("memplan: arena of -3 elements"));
  rt::LoadOptions small;
  small.maxArenaBytes = 1024;  // 512 two-byte elements
  EXPECT_THAT(cnnError([](ProgramBuilder&) {}, small),
              HasSubstr("exceeds the runtime's limit of 512 elements (1024 bytes)"));
}

TEST(KefValidation, Streams) {
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { b.p().inputs[0].tensor = 99; }),
              HasSubstr("input stream 'image': tensor 99 out of range"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) {
                b.p().outputs[0].shape = {1, 11};
              }),
              HasSubstr("output stream 'probs': shape differs"));
  for (double scale : {0.0, -1.0, 1e-40, 1e300, std::nan("")})
    EXPECT_THAT(cnnError([&](ProgramBuilder& b) { b.p().inputs[0].scale = scale; }),
                HasSubstr("input stream 'image': qp_scale"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { b.p().inputs[0].zeroPoint = 256; }),
              HasSubstr("input stream 'image': qp_zp 256"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { b.p().inputs[0].limMax = INFINITY; }),
              HasSubstr("input stream 'image': limvals"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { b.p().outputs.clear(); }),
              HasSubstr("section 'streams': the network needs at least one input and one output"));
}

TEST(KefValidation, OperationsAndConstants) {
  EXPECT_THAT(
      cnnError([](ProgramBuilder& b) { opNamed(b, "fc1").code = 99; }),
      AllOf(HasSubstr("section 'layers'"), HasSubstr("operation 'fc1': unknown opcode 99")));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { opNamed(b, "fc1").consts[0] = 999; }),
              HasSubstr("operation 5 'fc1' (fc): weights: missing or out-of-range constant"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { opNamed(b, "conv1").consts[1] = 999; }),
              HasSubstr("'conv1' (conv): bias: constant index 999 out of range"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { opNamed(b, "add1").inputs[1] = 77; }),
              HasSubstr("'add1' (eltwise): input tensor 77 out of range"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { b.p().consts[0].type = rt::ConstType(7); }),
              AllOf(HasSubstr("section 'consts'"), HasSubstr("constant 0: unknown type 7")));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { opNamed(b, "conv1").ints[0] = 5000; }),
              HasSubstr("'conv1' (conv): kernel_h = 5000, expected within [1, 4096]"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { opNamed(b, "maxpool1").ints[0] = 5; }),
              HasSubstr("'maxpool1' (pool): output height 4 does not follow"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { opNamed(b, "add1").ints[7] = 4; }),
              HasSubstr("'add1' (eltwise): channel_dim out of range"));
  // Shared constants would make validation work grow with operations x constant size.
  EXPECT_THAT(cnnError([](ProgramBuilder& b) {
                opNamed(b, "dw1").consts[1] = opNamed(b, "conv1").consts[1];
              }),
              HasSubstr("operation 1 'dw1' (conv): constant 1 is also used by operation 0 'conv1' "
                        "(each constant belongs to one operation)"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { b.p().contexts[1].opCount = 3; }),
              HasSubstr("contexts: they cover 6 of 7 operations"));
}

TEST(KefValidation, OutputStages) {
  // fc: consts weights, bias, multipliers...; eltwise: multipliers first.
  auto mult = [](ProgramBuilder& b, const char* op, int32_t m, int32_t shift) {
    opNamed(b, op).consts[std::string(op) == "fc1" ? 2 : 0] = b.mults({{m, shift}});
  };
  EXPECT_THAT(cnnError([&](ProgramBuilder& b) { mult(b, "fc1", 1 << 30, 70); }),
              HasSubstr("'fc1' (fc): stage multipliers[0]: multiplier 1073741824 shift 70"));
  EXPECT_THAT(cnnError([&](ProgramBuilder& b) { mult(b, "fc1", -5, 30); }),
              HasSubstr("stage multipliers[0]: multiplier -5"));
  // A gain that would carry an accumulator past int64 in the stage.
  EXPECT_THAT(cnnError([&](ProgramBuilder& b) { mult(b, "add1", (1 << 30) + 1, 0); }),
              HasSubstr("'add1' (eltwise): stage multipliers[0]: multiplier 1073741825 shift 0 "
                        "rescales accumulators up to"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { opNamed(b, "fc1").ints[3] = -1; }),
              HasSubstr("'fc1' (fc): stage out_zp = -1, expected within [0, 65535]"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) {
                opNamed(b, "sigmoid1").ints[6] = 10;
                opNamed(b, "sigmoid1").ints[7] = 24;
              }),
              HasSubstr("'sigmoid1' (unary): stage lut_frac_bits + lut_value_bits = 34, expected"));
  EXPECT_THAT(cnnError([](ProgramBuilder& b) { opNamed(b, "sigmoid1").ints[5] = -512; }),
              HasSubstr("'sigmoid1' (unary): stage lut_offset = -512"));
  EXPECT_THAT(
      cnnError([](ProgramBuilder& b) {
        opNamed(b, "sigmoid1").consts[4] = b.konst(ConstType::I32, std::vector<int32_t>{1, -2});
      }),
      HasSubstr("'sigmoid1' (unary): stage table[1] = -2"));
  EXPECT_THAT(
      cnnError([](ProgramBuilder& b) { opNamed(b, "conv1").consts[2] = b.channelMults(3, 39); }),
      HasSubstr("'conv1' (conv): stage multipliers: 6 values, expected 2 or 2 x 4"));
}

TEST(KefValidation, ArithmeticOverflowIsRefused) {
  // Weight counts whose product overflows: C x kh x kw of a 1x1 -> 2x2 conv with a 4096 stride.
  ProgramBuilder b;
  const int64_t c = int64_t(1) << 16;
  const uint32_t x = b.tensor({1, c, 1, 1}, 8), y = b.tensor({1, c, 2, 2}, 8);
  b.op(OpCode::Conv, "huge", {x}, y,
       b.cat({4096, 4096, 4096, 4096, 1, 1, 4096, 4096, 4096, 4096, 1, 0}, b.stage(0, 0, 255)),
       {b.konst(ConstType::I8, std::vector<int8_t>{1}),
        b.konst(ConstType::I64, std::vector<int64_t>{0}), b.mults({{1 << 30, 40}}), kNone, kNone});
  b.stream(true, "x", x, 1, 0);
  b.stream(false, "y", y, 1, 0);
  EXPECT_THAT(loadError(rt::writeKef(b.p())),
              HasSubstr("'huge' (conv): weights: 65536 x 16777216 exceeds the limit"));
  // Softmax rows whose product overflows int64 (each factor within the element count).
  ProgramBuilder s;
  const int64_t n = int64_t(1) << 22;
  const uint32_t a = s.tensor({1, n}, 8), o = s.tensor({1, n}, 8);
  s.op(OpCode::Softmax, "sm", {a}, o, {n, n, n, 255},
       {s.konst(ConstType::I32, std::vector<int32_t>{1})});
  s.stream(true, "a", a, 1, 0);
  s.stream(false, "o", o, 1, 0);
  EXPECT_THAT(loadError(rt::writeKef(s.p())),
              HasSubstr("'sm' (softmax): outer x len: 4194304 x 4194304 exceeds the limit"));
  s.p().ops[0].ints = {64, 64, 64, 255};
  EXPECT_THAT(loadError(rt::writeKef(s.p())),
              HasSubstr("'sm' (softmax): outer x len x inner != elements"));
}

// Every operation's work (MACs or element visits) is estimated at validation, and a program
// whose work exceeds LoadOptions::maxWork is refused: valid but hours-long files do not load.
TEST(KefValidation, WorkIsEstimatedAndBounded) {
  const auto bytes = rt::writeKef(makeCnnProgram()->program);
  const auto model = rt::Model::fromBytes(bytes.data(), bytes.size(), "cnn.kef");
  // conv1 256 x 3 x 3 x 3, dw1 256 x 1 x 3 x 3, add1 256, cat1 512, maxpool1 128 x 2 x 2,
  // fc1 1 x 10 x 128, sigmoid1 10.
  const std::vector<int64_t> want = {6912, 2304, 256, 512, 512, 1280, 10};
  int64_t total = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(model->opWork(i), want[i]) << model->program().ops[i].name;
    total += want[i];
  }
  EXPECT_EQ(model->work(), total);
  // The total passes the limit at dw1: 6912 + 2304 > 9000.
  rt::LoadOptions o;
  o.maxWork = 9000;
  EXPECT_THAT(loadError(bytes, o),
              HasSubstr("operation 1 'dw1' (conv): its estimated work of 2304 (2.30 k) brings "
                        "the program's total to 9216 (9.22 k) per frame, beyond the runtime's "
                        "limit of 9000 (9.00 k) (LoadOptions::maxWork)"));
  o.maxWork = 5000;
  EXPECT_THAT(loadError(bytes, o),
              HasSubstr("operation 0 'conv1' (conv): estimated work of 6912 (6.91 k) per frame "
                        "(output elements x C/groups x kh x kw = 256 x 3 x 3 x 3) exceeds the "
                        "runtime's limit of 5000 (5.00 k)"));
  // A 2^28-element max pool with 4096 x 4096 windows: valid, but 4.5 P element visits.
  ProgramBuilder b;
  const int64_t side = (int64_t(1) << 14) + 4095;
  const uint32_t x = b.tensor({1, 1, side, side}, 8), y = b.tensor({1, 1, 1 << 14, 1 << 14}, 8);
  b.op(OpCode::Pool, "bigpool", {x}, y,
       b.cat({4096, 4096, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0}, b.stage(0, 0, 0)),
       {kNone, kNone, kNone});
  b.stream(true, "x", x, 1, 0);
  b.stream(false, "y", y, 1, 0);
  rt::LoadOptions big;
  big.maxArenaBytes = int64_t(1) << 32;  // the arena is not allocated at load
  EXPECT_THAT(loadError(rt::writeKef(b.p()), big),
              HasSubstr("operation 0 'bigpool' (pool): estimated work of 4503599627370496 (4.50 "
                        "P) per frame (output elements x kh x kw = 268435456 x 4096 x 4096) "
                        "exceeds the runtime's limit of 1099511627776 (1.10 T) "
                        "(LoadOptions::maxWork)"));
  big.maxWork = int64_t(1) << 53;
  EXPECT_EQ(loadError(rt::writeKef(b.p()), big), "");
}

TEST(KefValidation, ResizeWeightsAndMinimalStreams) {
  // Four interpolated dimensions of 16-bit weights: a corner weight of 2^64.
  ProgramBuilder b;
  const uint32_t x = b.tensor({1, 1, 1, 1}, 8), y = b.tensor({1, 1, 1, 1}, 8);
  const std::vector<int64_t> zeros(4, 0);
  b.op(OpCode::Resize, "r", {x}, y, b.cat({16, 0, 1, 1, 1, 1}, b.stage(0, 0, 255)),
       {b.konst(ConstType::I64, zeros), b.konst(ConstType::I64, zeros),
        b.konst(ConstType::I64, zeros), b.mults({{1 << 30, 62}}), kNone, kNone});
  b.stream(true, "x", x, 1, 0);
  b.stream(false, "y", y, 1, 0);
  EXPECT_THAT(loadError(rt::writeKef(b.p())),
              HasSubstr("'r' (resize): weight_bits = 16 over 4 interpolated dimensions exceeds"));
  b.p().ops[0].ints[0] = 10;
  EXPECT_EQ(loadError(rt::writeKef(b.p())), "");
  // Streams of the smallest encoding (44 bytes: no name, rank 0, no layout) are read.
  ProgramBuilder m;
  const uint32_t a = m.tensor({}, 8), c = m.tensor({}, 8);
  m.op(OpCode::Copy, "copy", {a}, c, {});
  m.stream(true, "", a, 1, 0);
  for (int i = 0; i < 3; ++i) m.stream(false, "", c, 1, 0);
  EXPECT_EQ(loadError(rt::writeKef(m.p())), "");
}

TEST(KefValidation, ConstantsInsideConstdataAndAligned) {
  const auto owned = makeCnnProgram();
  const auto bytes = rt::writeKef(owned->program);
  const auto [consts, size] = sectionOf(bytes, "consts");
  size_t k = 0;  // the first int32 constant
  while (owned->program.consts[k].type != ConstType::I32) ++k;
  const std::string what = "section 'consts': constant " + std::to_string(k) + ": ";
  ASSERT_GT(size, 24u);
  // Entry 0 (after the u32 count): type u32, count i64, offset i64.
  auto b = bytes;
  writeAt<int64_t>(b, consts + 4 + 4 + 8, 2);  // int8 weights at offset 2: fine for int8
  fixChecksums(b);
  EXPECT_EQ(loadError(b), "");
  const size_t entry3 = consts + 4 + k * 20;
  ASSERT_EQ(readAt<uint32_t>(bytes, entry3), uint32_t(ConstType::I32));
  b = bytes;
  writeAt<int64_t>(b, entry3 + 12, readAt<int64_t>(b, entry3 + 12) + 2);
  fixChecksums(b);
  EXPECT_THAT(loadError(b), AllOf(HasSubstr(what + "offset"),
                                  HasSubstr("is not aligned to its element size (int32)")));
  b = bytes;
  writeAt<int64_t>(b, entry3 + 4, int64_t(1) << 40);
  fixChecksums(b);
  EXPECT_THAT(loadError(b), AllOf(HasSubstr(what + "1099511627776 x int32"),
                                  HasSubstr("lies outside section 'constdata'")));
  b = bytes;
  writeAt<int64_t>(b, entry3 + 4, -1);
  fixChecksums(b);
  EXPECT_THAT(loadError(b), HasSubstr(what + "-1 x int32"));
  b = bytes;
  writeAt<uint32_t>(b, consts, 1u << 30);  // a count no section can hold
  fixChecksums(b);
  EXPECT_THAT(loadError(b),
              HasSubstr("section 'consts': constant count = 1073741824 is more than"));
}

TEST(KefValidation, SectionsInsideTheFile) {
  const auto bytes = rt::writeKef(makeTinyProgram()->program);
  auto b = bytes;
  const size_t e = tableEntry(b, 1);
  writeAt<uint64_t>(b, e + 24, uint64_t(1) << 62);  // size
  fixTableChecksums(b);
  EXPECT_THAT(loadError(b), HasSubstr("lie outside the file"));
  b = bytes;
  writeAt<uint64_t>(b, e + 16, readAt<uint64_t>(b, e + 16) + 4);  // offset off its alignment
  fixChecksums(b);
  EXPECT_THAT(loadError(b), HasSubstr("is not aligned to 64"));
  b = bytes;
  writeAt<uint32_t>(b, kSectionCountAt, 100000);
  writeAt<uint32_t>(b, kHeaderCrcAt, rt::crc32(b.data(), kHeaderCrcAt));
  EXPECT_THAT(loadError(b), HasSubstr("header: 100000 sections"));
  b = bytes;
  writeAt<uint64_t>(b, kTableOffsetAt, b.size() - 8);
  writeAt<uint32_t>(b, kHeaderCrcAt, rt::crc32(b.data(), kHeaderCrcAt));
  EXPECT_THAT(loadError(b), HasSubstr("the section table lies outside the file"));
}

}  // namespace
}  // namespace kiln::test
