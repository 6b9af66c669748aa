// Deconvolution (transposed convolution) through the packed conv GEMM (internal to
// runtime/kernels, used by deconv.cpp).
//
// Output (iy*sh - pt + ky*dh, ix*sw - pl + kx*dw) of channel j receives
// sum_ic w[ic, j, ky, kx] * (x[ic, iy, ix] - zp): per kernel tap, a 1x1 convolution of the input.
// So one GEMM gives them all: rows (j, ky, kx) of the weights [C/g][K/g * kh * kw] read transposed
// (gemm::packWeights), columns the input positions (the pair panel of a 1x1 conv, conv_panel.h),
// and each row's results are then added to the output positions its tap reaches (col2im), on
// accumulators that start at the bias; then the output stage. Bands of output rows are the tasks:
// a band takes the input rows that reach it (with kh * dh > sh, neighbouring bands share some).
// Exact: with every |x - zp| and |w| within int16, each pair product fits int32, and with
// sum |w| * max |x - zp| + |bias| < 2^31 for every output channel, every GEMM sum and every
// partial sum of the accumulators (the bias plus some of the channel's products) fits int32: the
// integers of deconv2dReference in any order.
#pragma once

#include <cstdint>

#include "runtime/kernels/kernels.h"

namespace kiln::rt::deconvpk {

/// Group grp of batch image n of the deconvolution p through the packed GEMM, into the output
/// tensor `out` (all of it: N x K x oh x ow). x: the group's input planes; maxX: the largest
/// |x - zp| over them. Returns false, having written nothing, when a condition above does not hold
/// (the caller then runs its loops).
bool deconvGroupPacked(const ConvParams& p, int64_t n, int64_t grp, const Act* x, int64_t maxX,
                       Act* out);

/// dst[2i] += a[i] and dst[2i + 1] += b[i] for i < len (the two taps kx, kx + 1 of a stride-2
/// dilation-1 row), per path.
void addInterleaved(KernelPath path, const int32_t* a, const int32_t* b, int64_t len, int32_t* dst);
void addInterleavedPortable(const int32_t* a, const int32_t* b, int64_t len, int32_t* dst);
void addInterleavedAvx2(const int32_t* a, const int32_t* b, int64_t len, int32_t* dst);

}  // namespace kiln::rt::deconvpk
