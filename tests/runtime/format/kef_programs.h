// Small hand-built runtime Programs for the .kef format tests and the loader's fuzzer seeds.
// Together they use every opcode, per-tensor and per-channel stages, negative-side multipliers,
// an activation table, 8- and 16-bit tensors, several streams and contexts. Realistic stage
// multipliers: m in [2^30, 2^31), shift 30 to 50.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/engine/program.h"

namespace kiln::test {

using rt::ConstType;
using rt::OpCode;

class ProgramBuilder {
 public:
  std::unique_ptr<rt::OwnedProgram> owned = std::make_unique<rt::OwnedProgram>();
  rt::Program& p() { return owned->program; }

  /// A tensor placed after the previous ones in the arena.
  uint32_t tensor(const std::vector<int64_t>& shape, int32_t bits) {
    rt::TensorDesc t{shape, bits, p().arenaElems};
    p().arenaElems += t.numel();
    p().tensors.push_back(t);
    return uint32_t(p().tensors.size() - 1);
  }
  template <typename T>
  uint32_t konst(ConstType type, const std::vector<T>& v) {
    return owned->addConst(type, v);
  }
  /// Pseudo-random integers in [lo, hi] (deterministic).
  std::vector<int64_t> values(size_t n, int64_t lo, int64_t hi) {
    std::vector<int64_t> v(n);
    for (auto& x : v) {
      seed_ = seed_ * 6364136223846793005ULL + 1442695040888963407ULL;
      x = lo + int64_t((seed_ >> 33) % uint64_t(hi - lo + 1));
    }
    return v;
  }
  template <typename T>
  uint32_t randomConst(ConstType type, size_t n, int64_t lo, int64_t hi) {
    const auto v = values(n, lo, hi);
    return konst(type, std::vector<T>(v.begin(), v.end()));
  }
  /// Stage multipliers (m, shift) as an int32 constant.
  uint32_t mults(const std::vector<std::pair<int32_t, int32_t>>& ms) {
    std::vector<int32_t> v;
    for (const auto& [m, s] : ms) v.push_back(m), v.push_back(s);
    return konst(ConstType::I32, v);
  }
  /// `n` per-channel multipliers around 2^-(shift - 30).
  uint32_t channelMults(size_t n, int32_t shift) {
    std::vector<std::pair<int32_t, int32_t>> ms;
    for (int64_t m : values(n, int64_t(1) << 30, (int64_t(1) << 31) - 1)) ms.push_back({m, shift});
    return mults(ms);
  }
  static std::vector<int64_t> stage(int64_t outZp, int64_t qmin, int64_t qmax, int64_t lutOff = 0,
                                    int64_t lutFrac = 0, int64_t lutValueBits = 0) {
    return {outZp, qmin, qmax, lutOff, lutFrac, lutValueBits};
  }
  static std::vector<int64_t> cat(std::vector<int64_t> a, const std::vector<int64_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  void op(OpCode code, const std::string& name, std::vector<uint32_t> inputs, uint32_t output,
          std::vector<int64_t> ints, std::vector<uint32_t> consts = {}) {
    p().ops.push_back(
        {uint32_t(code), name, std::move(inputs), output, std::move(ints), std::move(consts)});
  }
  void stream(bool input, const std::string& name, uint32_t t, double scale, int64_t zp,
              const std::string& layout = "") {
    rt::StreamDesc s;
    s.name = name, s.tensor = t, s.shape = p().tensors[t].shape, s.layout = layout;
    s.bits = p().tensors[t].bits, s.scale = scale, s.zeroPoint = zp;
    s.limMin = float(-zp * scale);
    s.limMax = float(((int64_t(1) << s.bits) - 1 - zp) * scale);
    (input ? p().inputs : p().outputs).push_back(s);
  }
  void meta(const std::string& name) {
    p().meta = {name, "hailo8", "kiln 0.1.0", "sha256:" + std::string(64, 'a')};
  }

 private:
  uint64_t seed_ = 12345;
};

constexpr uint32_t kNone = rt::kNoConst;

/// conv -> depthwise conv (leaky) -> eltwise add -> concat -> max pool -> fc (16-bit) -> table.
inline std::unique_ptr<rt::OwnedProgram> makeCnnProgram() {
  ProgramBuilder b;
  b.meta("cnn");
  const uint32_t x = b.tensor({1, 3, 8, 8}, 8), c1 = b.tensor({1, 4, 8, 8}, 8),
                 c2 = b.tensor({1, 4, 8, 8}, 8), sum = b.tensor({1, 4, 8, 8}, 8),
                 cat = b.tensor({1, 8, 8, 8}, 8), pooled = b.tensor({1, 8, 4, 4}, 8),
                 logits = b.tensor({1, 10}, 16), probs = b.tensor({1, 10}, 8);
  const std::vector<int64_t> conv3x3 = {3, 3, 1, 1, 1, 1, 1, 1, 1, 1};
  b.op(OpCode::Conv, "conv1", {x}, c1, b.cat(b.cat(conv3x3, {1, 128}), b.stage(0, 0, 255)),
       {b.randomConst<int8_t>(ConstType::I8, 4 * 3 * 9, -60, 60),
        b.randomConst<int64_t>(ConstType::I64, 4, -2000, 2000), b.channelMults(4, 39), kNone,
        kNone});
  b.op(OpCode::Conv, "dw1", {c1}, c2, b.cat(b.cat(conv3x3, {4, 0}), b.stage(64, 0, 255)),
       {b.randomConst<int8_t>(ConstType::I8, 4 * 9, -100, 100),
        b.randomConst<int64_t>(ConstType::I64, 4, -500, 500), b.channelMults(4, 40),
        b.channelMults(4, 43), kNone});
  b.op(OpCode::Eltwise, "add1", {c1, c2}, sum,
       b.cat({0, 0, 64, 1 << 20, 3 << 19, 0, 1, -1}, b.stage(10, 0, 255)),
       {b.mults({{1 << 30, 51}}), kNone, kNone});
  b.op(OpCode::Concat, "cat1", {sum, c1}, cat, b.cat({1, 10, 0}, b.stage(5, 0, 255)),
       {b.mults({{1 << 30, 30}, {1610612736, 31}}), kNone, kNone});
  b.op(OpCode::Pool, "maxpool1", {cat}, pooled,
       b.cat({2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 0, 5}, b.stage(0, 0, 0)), {kNone, kNone, kNone});
  b.op(OpCode::Fc, "fc1", {pooled}, logits, b.cat({128, 10, 5}, b.stage(32768, 0, 65535)),
       {b.randomConst<int8_t>(ConstType::I8, 128 * 10, -127, 127),
        b.randomConst<int64_t>(ConstType::I64, 10, -5000, 5000), b.mults({{1395864371, 34}}), kNone,
        kNone});
  // A sigmoid table of 1024 entries (6 fractional bits) addressed with 4 fractional bits.
  std::vector<int32_t> lut;
  for (int i = 0; i < 1024; ++i)
    lut.push_back(int32_t(std::lround(255.0 * 64 / (1 + std::exp(-(i - 512) / 64.0)))));
  b.op(OpCode::Unary, "sigmoid1", {logits}, probs,
       b.cat({-1, 32768}, b.stage(0, 0, 255, 512, 4, 6)),
       {kNone, kNone, b.mults({{1 << 30, 34}}), kNone, b.konst(ConstType::I32, lut)});
  b.stream(true, "image", x, 1.0 / 64, 128, "NCHW");
  b.stream(false, "probs", probs, 1.0 / 255, 0);
  b.stream(false, "logits", logits, 1.0 / 1024, 32768);
  b.p().contexts = {{0, 3, 1000, 20000}, {3, 4, 1280, 1280}};
  return std::move(b.owned);
}

/// Movement, resize, pooling, reductions, softmax, layer norm, matmul, const, deconv, div.
inline std::unique_ptr<rt::OwnedProgram> makeMiscProgram() {
  ProgramBuilder b;
  b.meta("misc");
  const uint32_t x = b.tensor({1, 4, 4, 4}, 8), tr = b.tensor({1, 4, 4, 4}, 8),
                 sl = b.tensor({1, 4, 2, 4}, 8), pd = b.tensor({1, 4, 4, 4}, 8),
                 d2s = b.tensor({1, 1, 8, 8}, 8), s2d = b.tensor({1, 4, 4, 4}, 8),
                 rs = b.tensor({1, 4, 8, 8}, 8), ap = b.tensor({1, 4, 4, 4}, 8),
                 gap = b.tensor({1, 4, 1, 1}, 8), red = b.tensor({1, 4}, 8),
                 sm = b.tensor({1, 4}, 8), ln = b.tensor({1, 4, 4, 4}, 16),
                 mm = b.tensor({1, 4, 4, 4}, 8), cst = b.tensor({1, 4}, 8),
                 prod = b.tensor({1, 4}, 8), flat = b.tensor({1, 4}, 8),
                 up = b.tensor({1, 2, 8, 8}, 8), ratio = b.tensor({1, 4}, 8);
  b.op(OpCode::Transpose, "tr", {x}, tr, {0, 2, 3, 1});
  b.op(OpCode::Slice, "slice", {tr}, sl, {0, 0, 0, 0, 1, 1, 2, 1});
  b.op(OpCode::Pad, "pad", {sl}, pd, {1, 0, 0, 0, 1, 0});
  b.op(OpCode::DepthToSpace, "d2s", {pd}, d2s, {2, 0});
  b.op(OpCode::SpaceToDepth, "s2d", {d2s}, s2d, {2});
  // Bilinear x2 on H and W (half-pixel), weights in Q10.
  std::vector<int64_t> i0 = {0, 0, 1, 2, 3}, i1 = {0, 0, 1, 2, 3}, w1(5, 0);
  for (int d = 0; d < 2; ++d)
    for (int o = 0; o < 8; ++o) {
      const double src = std::max(0.0, (o + 0.5) / 2 - 0.5);
      const int64_t lo = int64_t(src);
      i0.push_back(lo), i1.push_back(std::min<int64_t>(lo + 1, 3));
      w1.push_back(std::lround((src - double(lo)) * 1024));
    }
  b.op(OpCode::Resize, "resize", {s2d}, rs, b.cat({10, 0, 0, 0, 1, 1}, b.stage(0, 0, 255)),
       {b.konst(ConstType::I64, i0), b.konst(ConstType::I64, i1), b.konst(ConstType::I64, w1),
        b.mults({{1 << 30, 50}}), kNone, kNone});
  b.op(OpCode::Pool, "avgpool", {rs}, ap,
       b.cat({2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0}, b.stage(0, 0, 255)),
       {b.mults({{1 << 30, 30}, {1 << 30, 31}, {715827883, 31}, {1 << 30, 32}}), kNone, kNone});
  b.op(OpCode::GlobalAvgPool, "gap", {ap}, gap, b.cat({0}, b.stage(0, 0, 255)),
       {b.mults({{1 << 30, 34}}), kNone, kNone});
  b.op(OpCode::Reduce, "mean", {ap}, red, b.cat({0, 0, 0, 0, 1, 1}, b.stage(0, 0, 255)),
       {b.mults({{1 << 30, 34}}), kNone, kNone});
  std::vector<int32_t> expTable;
  for (int d = 0; d < 256; ++d)
    expTable.push_back(int32_t(std::lround(std::exp(-d * 0.05) * (1 << 30))));
  b.op(OpCode::Softmax, "softmax", {red}, sm, {1, 4, 1, 255}, {b.konst(ConstType::I32, expTable)});
  b.op(OpCode::LayerNorm, "ln", {ap}, ln, b.cat({16, 0, 16, 20}, b.stage(32768, 0, 65535)),
       {b.randomConst<int64_t>(ConstType::I64, 16, 500, 1500),
        b.randomConst<int64_t>(ConstType::I64, 16, -(1 << 20), 1 << 20), b.mults({{1 << 30, 47}}),
        kNone, kNone});
  b.op(OpCode::MatMul, "matmul", {ln, ap}, mm, b.cat({32768, 0}, b.stage(128, 0, 255)),
       {b.mults({{1 << 30, 48}}), kNone, kNone});
  b.op(OpCode::Const, "const", {}, cst, {},
       {b.konst(ConstType::I32, std::vector<int32_t>{1, 2, 3, 4})});
  b.op(OpCode::Eltwise, "mul", {sm, cst}, prod, b.cat({2, 0, 0, 1, 1, 0, 1, 1}, b.stage(0, 0, 255)),
       {b.channelMults(4, 32), kNone, kNone});
  b.op(OpCode::Copy, "flatten", {gap}, flat, {});
  b.op(OpCode::Deconv, "up", {mm}, up,
       b.cat({2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 128}, b.stage(100, 0, 255)),
       {b.randomConst<int16_t>(ConstType::I16, 4 * 2 * 4, -3000, 3000),
        b.randomConst<int64_t>(ConstType::I64, 2, -100, 100), b.channelMults(2, 43), kNone, kNone});
  b.op(OpCode::Eltwise, "div", {prod, flat}, ratio,
       b.cat({3, 0, 0, 1 << 24, 0, 0, 1, -1}, b.stage(0, 0, 255)),
       {b.mults({{1 << 30, 50}}), kNone, kNone});
  b.stream(true, "x", x, 0.02, 0, "NCHW");
  b.stream(false, "ratio", ratio, 0.1, 0);
  b.stream(false, "up", up, 0.05, 100, "NCHW");
  b.stream(false, "norm", ln, 1.0 / 8192, 32768, "NCHW");
  b.p().contexts = {{0, 8, 0, 500}, {8, 9, 64, 3000}};
  return std::move(b.owned);
}

/// The smallest useful program: a per-channel affine with relu.
inline std::unique_ptr<rt::OwnedProgram> makeTinyProgram() {
  ProgramBuilder b;
  b.meta("tiny");
  const uint32_t x = b.tensor({1, 8}, 8), y = b.tensor({1, 8}, 8);
  b.op(OpCode::Unary, "affine", {x}, y, b.cat({1, 3}, b.stage(3, 3, 255)),
       {b.randomConst<int64_t>(ConstType::I64, 8, -300, 300),
        b.randomConst<int64_t>(ConstType::I64, 8, -1000, 1000), b.channelMults(8, 38), kNone,
        kNone});
  b.stream(true, "x", x, 0.5, 3);
  b.stream(false, "y", y, 0.25, 3);
  return std::move(b.owned);
}

/// A camera input: an NV12 frame (4 x 6 pixels, [1, 2, 6, 3]) -> format_conversion ->
/// color_conversion (BT.601 limited range, docs/arithmetic.md §7).
inline std::unique_ptr<rt::OwnedProgram> makeCameraProgram() {
  ProgramBuilder b;
  b.meta("camera");
  const uint32_t x = b.tensor({1, 2, 6, 3}, 8), yuv = b.tensor({1, 3, 4, 6}, 8),
                 rgb = b.tensor({1, 3, 4, 6}, 8);
  b.op(OpCode::FormatConversion, "nv12", {x}, yuv, {2});
  b.op(OpCode::ColorConversion, "yuv_to_rgb", {yuv}, rgb,
       {14, 16, 128, 128, 19077, 0, 26149, 19077, -6419, -13320, 19077, 33050, 0});
  b.stream(true, "frame", x, 1.0, 0, "NV12");
  b.stream(false, "rgb", rgb, 1.0, 0, "NCHW");
  return std::move(b.owned);
}

}  // namespace kiln::test
