// The packed GEMM paths of conv2d (conv.cpp), internal to runtime/kernels: the output stage of a
// GEMM accumulator run, and the band path of k x k convs (conv_band.cpp).
#pragma once

#include <cstdint>

#include "runtime/kernels/gemm.h"
#include "runtime/kernels/kernels.h"

namespace kiln::rt::packed {

/// Whether output channel oc's bias goes into the GEMM's int32 sums (the sum of products bound,
/// sumAbsW * maxX, plus |bias| stays below 2^31); otherwise it is added in int64 afterwards.
bool channelBiasFits(const ConvParams& p, const gemm::PackedWeights& pw, int64_t oc, int64_t maxX);

/// The int32 biases of weight block blk of group grp (0 where channelBiasFits does not hold, and
/// beyond the group's channels).
void blockBias(const ConvParams& p, const gemm::PackedWeights& pw, int64_t grp, int64_t blk,
               int64_t maxX, int32_t* bias);

/// o[i] = the output stage of channel oc on a[i] (plus the bias, when channelBiasFits did not
/// let the GEMM add it), i < n.
void stageRun(const ConvParams& p, const gemm::PackedWeights& pw, int64_t oc, int64_t maxX,
              const int32_t* a, int64_t n, Act* o);

/// Whether the band path runs the conv: weights packed in channel pairs per tap (taps > 1: a
/// 1 x 1 conv's packed panel of conv.cpp is its input rows as they are, read sequentially,
/// measured faster than the band's planes).
bool bandFits(const ConvParams& p);

/// One group of one batch image by bands of output rows (packedPathMaxX gave maxX): each band's
/// input rows as channel-pair planes (panels::pairBand), read by the micro-kernels at one offset
/// per tap, every block of output channels over it, the output stage on each finished row.
void convGroupBand(const ConvParams& p, int64_t n, int64_t grp, int64_t maxX, const Act* in,
                   Act* out);

}  // namespace kiln::rt::packed
