// Integer reference kernels: plain functions over raw buffers and a params struct, executed
// identically by the optimizer's quantized emulation and by the runtime. Activations are read and
// written as Act (uint16_t): every value lies in the tensor's unsigned range ([0, 255] or
// [0, 65535]); wide intermediates (im2col columns, accumulators) live in each kernel's scratch.
// The params were validated by whoever built them (the optimizer, or the executable loader);
// kernels trust them.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/kernels/kernel_path.h"
#include "runtime/kernels/output_stage.h"

namespace kiln::rt {

namespace gemm {
struct PackedWeights;  // gemm.h
}

/// An activation value as the arena stores it (docs/runtime.md "Memory"): 16 bits, so both
/// 8-bit and 16-bit tensors hold their device values exactly.
using Act = uint16_t;

/// Signed integer weights stored in 8, 16 or 32 bits (the executable keeps them as stored).
struct WeightPtr {
  const void* data = nullptr;
  int32_t bytes = 4;
  WeightPtr() = default;
  WeightPtr(const int8_t* p) : data(p), bytes(1) {}   // NOLINT(google-explicit-constructor)
  WeightPtr(const int16_t* p) : data(p), bytes(2) {}  // NOLINT(google-explicit-constructor)
  WeightPtr(const int32_t* p) : data(p), bytes(4) {}  // NOLINT(google-explicit-constructor)
  int64_t operator[](int64_t i) const {
    switch (bytes) {
      case 1:
        return static_cast<const int8_t*>(data)[i];
      case 2:
        return static_cast<const int16_t*>(data)[i];
      default:
        return static_cast<const int32_t*>(data)[i];
    }
  }
  WeightPtr operator+(int64_t i) const {
    WeightPtr r = *this;
    r.data = static_cast<const char*>(data) + i * bytes;
    return r;
  }
};

/// out[i] = stage.apply(acc[i], channel) for i < n (the loop with its branches hoisted).
void applyStage(const OutputStage& s, const int32_t* acc, int64_t n, int64_t channel, Act* out);
void applyStage(const OutputStage& s, const int64_t* acc, int64_t n, int64_t channel, Act* out);
/// OutputStage::lutPairs for a table of n entries: empty unless every entry lies in [0, 32767].
std::vector<uint32_t> lutPairTable(const int32_t* lut, int64_t n);

/// NCHW convolution geometry (conv, dw, deconv).
struct ConvGeometry {
  int64_t n = 1, c = 0, h = 0, w = 0;  // input
  int64_t k = 0, oh = 0, ow = 0;       // output channels and size
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0, pb = 0, pr = 0;
  int64_t groups = 1;
};

struct ConvParams {
  ConvGeometry g;
  int32_t inZp = 0;
  // The input lies in [0, 2^inBits): with 8 bits the kernels bound |x - inZp| by the range
  // instead of reading the input for it at every call.
  int32_t inBits = 16;
  WeightPtr weights;              // conv/dw: [K, C/g, kh, kw]; deconv: [C, K/g, kh, kw]
  const int64_t* bias = nullptr;  // [K], in accumulator units
  OutputStage out;
  // conv: the weights packed for the GEMM micro-kernels (packConvWeights) and the path that runs
  // them; without them conv2d takes its int32/int64 multiply-accumulate loops.
  const gemm::PackedWeights* packed = nullptr;
  KernelPath path = KernelPath::Portable;
};

/// conv (not depthwise) weights as the GEMM micro-kernels read them, prepared once per model;
/// null when the layer has no such path (depthwise, or a weight outside int16).
std::shared_ptr<const gemm::PackedWeights> packConvWeights(const ConvParams& p);
void conv2d(const ConvParams& p, const Act* in, Act* out);
/// The plain loop conv2d must match bit for bit (tests only).
void conv2dReference(const ConvParams& p, const Act* in, Act* out);
void deconv2d(const ConvParams& p, const Act* in, Act* out);
/// The plain scatter loop deconv2d must match bit for bit (tests only).
void deconv2dReference(const ConvParams& p, const Act* in, Act* out);

/// y[m, n] = stage(sum_k (x[m, k] - inZp) * w[k, n] + bias[n]), channel = n.
struct FcParams {
  int64_t m = 1, k = 0, n = 0;
  int32_t inZp = 0;
  WeightPtr weights;              // [K, N]
  const int64_t* bias = nullptr;  // [N]
  OutputStage out;
};
void fullyConnected(const FcParams& p, const Act* in, Act* out);

/// Two-input element-wise layers with broadcasting. add/sub/max/min/equal: each operand is
/// rescaled to a common fixed-point scale, acc = (a - zpA) * multA ± (b - zpB) * multB, and the
/// output stage brings acc to the output. mult: acc = (a - zpA) * (b - zpB). div: see eltwise.cpp.
/// The numbers are file values (eltwise's `op` field): explicit, never renumbered.
enum class EltwiseOp { Add = 0, Sub = 1, Mult = 2, Div = 3, Max = 4, Min = 5, Equal = 6 };
struct EltwiseParams {
  EltwiseOp op = EltwiseOp::Add;
  std::vector<int64_t> outShape, strideA, strideB;  // strides 0 on broadcast dimensions
  int32_t zpA = 0, zpB = 0;
  int64_t multA = 1,
          multB = 1;     // integer operand scales (add/sub/max/min/equal), or div numerator scale
  int32_t divShift = 0;  // div: quotient = divRound((a - zpA) * multA, (b - zpB) << divShift)
  int32_t equalOne = 1;  // equal: output value for "true" (false is outZp of stage)
  OutputStage out;       // channel = index along dimension 1 (per-channel stages)
  int64_t channelDim = -1;         // which dimension is the channel for the output stage (-1: none)
  int32_t bitsA = 16, bitsB = 16;  // the operands' widths: a in [0, 2^bitsA), b in [0, 2^bitsB)
  KernelPath path = KernelPath::Portable;
};
void eltwise(const EltwiseParams& p, const Act* a, const Act* b, Act* out);

/// Unary: acc = x - inZp, then the output stage (standalone activations, per-channel affine
/// `normalization` with its own multipliers and bias).
struct UnaryParams {
  std::vector<int64_t> shape;
  int64_t channelDim = -1;
  int32_t inZp = 0;
  const int64_t* scale = nullptr;  // per channel integer scale (normalization) or null (= 1)
  const int64_t* bias = nullptr;   // per channel, in accumulator units, or null
  OutputStage out;
  int32_t inBits = 16;  // the input lies in [0, 2^inBits)
  KernelPath path = KernelPath::Portable;
};
void unary(const UnaryParams& p, const Act* in, Act* out);

struct PoolParams {
  ConvGeometry g;  // k == c
  bool isMax = true;
  bool countIncludePad = false;
  int32_t inZp = 0;
  // avg: acc = sum(x - inZp); the stage's multiplier for a window of `count` elements is
  // countMult[count] (the division folded into the multiplier: one rounding).
  const Multiplier* countMult = nullptr;
  OutputStage out;  // avg only; max keeps the input's quantization
  KernelPath path = KernelPath::Portable;
};
void pool2d(const PoolParams& p, const Act* in, Act* out);
/// The per-window loop pool2d must match bit for bit (tests only).
void pool2dReference(const PoolParams& p, const Act* in, Act* out);
/// Global average pool over all positions after the channel dimension.
void globalAvgPool(int64_t nc, int64_t inner, int32_t inZp, const OutputStage& out, const Act* in,
                   Act* outBuf);

/// Data movement (quantization unchanged): transpose, slice, pad, depth/space.
void transpose(const std::vector<int64_t>& inShape, const std::vector<int64_t>& perm, const Act* in,
               Act* out, KernelPath path = KernelPath::Portable);
/// The per-element loop transpose must match (tests; and permutations transpose.cpp has no
/// kernel for).
void transposeReference(const std::vector<int64_t>& inShape, const std::vector<int64_t>& perm,
                        const Act* in, Act* out);
void slice(const std::vector<int64_t>& inShape, const std::vector<int64_t>& outShape,
           const std::vector<int64_t>& starts, const std::vector<int64_t>& steps, const Act* in,
           Act* out);
/// The numbers are file values (pad's `mode` field): explicit, never renumbered.
enum class PadMode { Constant = 0, Reflect = 1, Edge = 2 };
void pad(const std::vector<int64_t>& inShape, const std::vector<int64_t>& outShape,
         const std::vector<int64_t>& pads, PadMode mode, int32_t value, const Act* in, Act* out);
/// The per-element loop pad must match bit for bit (tests only).
void padReference(const std::vector<int64_t>& inShape, const std::vector<int64_t>& outShape,
                  const std::vector<int64_t>& pads, PadMode mode, int32_t value, const Act* in,
                  Act* out);

/// depth_to_space (mode DCR or CRD) and space_to_depth on NCHW, blocksize b.
void depthToSpace(int64_t n, int64_t c, int64_t h, int64_t w, int64_t b, bool crd, const Act* in,
                  Act* out);
void spaceToDepth(int64_t n, int64_t c, int64_t h, int64_t w, int64_t b, const Act* in, Act* out);

/// Concat: each input is rescaled to the output domain (acc = x - zp_i, stage i). copy[i] (when
/// given): stage i maps every value of input i to itself (concatCopies), so its chunks are copied.
void concatAxis(const std::vector<std::vector<int64_t>>& inShapes, int64_t axis,
                const std::vector<const Act*>& ins, const std::vector<int32_t>& inZps,
                const std::vector<OutputStage>& stages, Act* out,
                const std::vector<bool>& copy = {}, KernelPath path = KernelPath::Portable);
/// Whether `stage` gives back every value x of [0, 2^bits) from acc = x - inZp: a multiplier of
/// exactly 1, outZp = inZp, a clamp that keeps the range (no table, no negative multiplier).
bool stageIsIdentity(const OutputStage& stage, int32_t inZp, int32_t bits);

/// Resize: per output coordinate of each dimension, two source indices and an integer weight of
/// the second in Q(weightBits); acc = sum over corners of weight products * (x - inZp); the
/// stage's multiplier includes 2^-(weightBits * interpolated dims).
struct ResizeParams {
  std::vector<int64_t> inShape, outShape;
  std::vector<std::vector<int64_t>> i0, i1, w1;  // per dimension, per output coordinate
  std::vector<bool> interpolated;                // dimension uses two taps
  int32_t weightBits = 10;
  int32_t inZp = 0;
  OutputStage out;
  KernelPath path = KernelPath::Portable;
};
void resize(const ResizeParams& p, const Act* in, Act* out);
/// The general per-element loop resize must match bit for bit (tests; and any layout whose
/// leading dimensions interpolate).
void resizeReference(const ResizeParams& p, const Act* in, Act* out);

/// MatMul of two run-time tensors with numpy broadcasting of the batch dimensions:
/// y[.., m, n] = stage(sum_k (a[.., m, k] - zpA) * (b[.., k, n] - zpB)), one stage channel.
struct MatMulParams {
  std::vector<int64_t> batch;                       // output batch dimensions
  std::vector<int64_t> batchStrideA, batchStrideB;  // in matrices, 0 on broadcast dimensions
  int64_t m = 0, k = 0, n = 0;
  int32_t zpA = 0, zpB = 0;
  OutputStage out;
};
void matmul(const MatMulParams& p, const Act* a, const Act* b, Act* out);

/// reduce_mean / reduce_sum / reduce_max over the dimensions flagged in `reduced` (the output
/// holds the kept dimensions in order; keepdims does not change the layout).
/// sum/mean: acc = sum (x - inZp), then the stage (mean: the count is folded into its multiplier).
/// max: the largest quantized value (the quantization is kept; no stage).
struct ReduceParams {
  std::vector<int64_t> inShape;
  std::vector<bool> reduced;
  bool isMax = false;
  int32_t inZp = 0;
  OutputStage out;  // sum/mean only
};
void reduce(const ReduceParams& p, const Act* in, Act* out);
/// The same in one pass over the input on the calling thread (the test reference).
void reduceReference(const ReduceParams& p, const Act* in, Act* out);

/// Softmax over rows of `len` elements spaced `inner` apart (outer * inner rows). Per row:
/// d = max - x (input units, >= 0), e = expTable[d] (0 for d >= expTableSize; the table holds
/// round(exp(-d * s_in) * 2^expBits)), out = divRound(e * outMax, sum e). The output quantization
/// is fixed: scale 1 / outMax, zero point 0.
struct SoftmaxParams {
  int64_t outer = 1, len = 1, inner = 1;
  const int32_t* expTable = nullptr;
  int64_t expTableSize = 0;
  int32_t outMax = 255;
};
void softmax(const SoftmaxParams& p, const Act* in, Act* out);

/// Layer normalization over rows of `len` elements (the trailing dimensions). Per row, with
/// x' = x - inZp: S1 = sum x', S2 = sum x'^2, D = len * S2 - S1^2 + epsQ (= len^2 (var + eps) in
/// input units^2); the row multiplier m / 2^shift = floor(2^(normBits + shift) / sqrt(D)) with
/// m in [2^30, 2^31) is found with integer division and integer square root; the normalized value
/// z = requantize(len * x' - S1, m, shift) (unit 2^-normBits); acc = z * gamma[k] + beta[k]
/// goes through the stage with channel k (the index within the row).
struct LayerNormParams {
  int64_t rows = 1, len = 1;
  int32_t inZp = 0;
  int64_t epsQ = 0;
  int32_t normBits = 20;
  const int64_t* gamma = nullptr;  // [len], signed integer
  const int64_t* beta = nullptr;   // [len], in accumulator units
  OutputStage out;                 // per channel k (or one)
};
void layerNorm(const LayerNormParams& p, const Act* in, Act* out);
/// The row multiplier of layerNorm: m / 2^shift ~ 2^normBits / sqrt(d), m = floor of it at its
/// shift, for 0 < d < 2^61 (exposed for tests).
Multiplier invSqrtMultiplier(int64_t d, int32_t normBits);
/// floor(sqrt(v)), exact.
uint64_t isqrt64(uint64_t v);

}  // namespace kiln::rt
