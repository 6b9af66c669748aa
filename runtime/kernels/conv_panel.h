// The int16 pair panel of the packed conv GEMM (gemm.h), built straight from the activation
// planes (internal to runtime/kernels, used by conv.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/kernels/kernel_path.h"
#include "runtime/kernels/kernels.h"

namespace kiln::rt::panels {

/// d[i] = x[i * stride] - zp for i < n as int16 (16-bit wrap: exact when every |x - zp| fits
/// int16); AVX2 for strides 1 and 2 on the avx2 path.
void subRun(KernelPath path, const Act* x, int64_t stride, int64_t n, int32_t zp, int16_t* d);

/// dst[j] = gemm::pairWord(a[j], b[j]) for j < 16 (AVX2 on the avx2 path).
void interleave16(KernelPath path, const int16_t* a, const int16_t* b, int32_t* dst);

/// Row r = (c, ky, kx) of one group's im2col matrix, columns [t0, t0 + tl) (output positions
/// (oy, ox)): x - zp as int16, 0 where the window reads padding. The caller checked that every
/// |x - zp| of the planes fits int16, so the 16-bit difference (wrapping) is exact. dst has room
/// for 16 values past tl (padding runs are written 16 at a time, see zeroRun).
void im2colRow16(KernelPath path, const Act* planes, const ConvGeometry& g, int64_t r, int32_t zp,
                 int64_t t0, int64_t tl, int16_t* dst);

/// The pair panel of columns [t0, t0 + tl): word (cb * pairs + q) * kNR + j holds rows 2q and
/// 2q + 1 of column cb * kNR + j as its low and high int16 (gemm::pairWord), 0 beyond `rows` and
/// beyond tl (pan grows to at least blocks * pairs * kNR words, never shrinks). r0 and r1 are
/// scratch rows. A 1 x 1 conv of stride 1 without padding takes its pair words straight from the
/// planes in one pass.
void pairPanel(KernelPath path, const Act* planes, const ConvGeometry& g, int64_t rows,
               int64_t pairs, int32_t zp, int64_t t0, int64_t tl, std::vector<int16_t>& r0,
               std::vector<int16_t>& r1, std::vector<int32_t>& pan);

/// dst[i] = gemm::pairWord(a[i * stride] - zp, b[i * stride] - zp) for i < n, with the b value
/// 0 when b is null (16-bit differences as in subRun; AVX2 for strides 1 and 2 on the avx2 path).
void pairRun(KernelPath path, const Act* a, const Act* b, int64_t stride, int64_t n, int32_t zp,
             int32_t* dst);

/// The channel-pair band of one group's `channels` planes for a conv of strides (sh, sw): the
/// input widened by its padding, split into sh x sw phases (rows ry, ry + sh, ...; columns rx,
/// rx + sw, ...), phase rows [row0, row0 + rowsIn) of wq columns each. Word
/// ((i * sh + ry) * sw + rx) * phaseStride + r * wq + j = pairWord(x[2i] - zp, x[2i + 1] - zp) at
/// input row (row0 + r) * sh + ry - pt, column j * sw + rx - pl; 0 where that is padding (or
/// beyond the input), for channel 2i + 1 = channels (an odd count), and in words
/// [rowsIn * wq, phaseStride) of every phase. Output (oy, ox) reads tap (ky, kx), where
/// ky * dh = qy * sh + ry and kx * dw = qx * sw + rx, at phase (ry, rx), phase row oy + qy,
/// column ox + qx: for the output rows from row0, column (oy - row0) * wq + ox of the band at
/// the tap's offset (ry * sw + rx) * phaseStride + qy * wq + qx (gemm::PanelLayout). No im2col
/// copy at all. `band` grows to at least the words above (never shrinks).
void pairBand(KernelPath path, const Act* planes, const ConvGeometry& g, int64_t channels,
              int32_t zp, int64_t row0, int64_t rowsIn, int64_t wq, int64_t phaseStride,
              std::vector<int32_t>& band);

}  // namespace kiln::rt::panels
