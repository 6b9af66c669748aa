// The packed integer GEMM behind conv and fc (internal to runtime/kernels).
//
// acc[m][j] = bias[m] + sum_r w[m][r] * x[r][j] with 16-bit operands and int32 sums. The
// reduction runs over pairs of rows: a weight word holds (w[m][2p], w[m][2p+1]) and a panel word
// (x[2p][j], x[2p+1][j]) as two int16 halves, so one vpmaddwd (AVX2) or smull+addp (NEON) forms
// w0*x0 + w1*x1 exactly (|each| < 2^30, the pair < 2^31). The caller proves the whole sum fits
// int32 (sum |w| * max |x| + |bias| < 2^31): every partial sum then does too, in any order, so
// every path gives the same int32.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/kernels/kernel_path.h"
#include "runtime/kernels/kernels.h"

namespace kiln::rt::gemm {

/// Output channels per micro-kernel call and columns per panel block.
constexpr int64_t kMR = 4;
constexpr int64_t kNR = 16;

inline int32_t pairWord(int32_t lo, int32_t hi) {
  return int32_t(uint32_t(uint16_t(int16_t(lo))) | (uint32_t(uint16_t(int16_t(hi))) << 16));
}

/// Weights [groups][kg][rows] as pair words, blocks of kMR output channels (zero beyond kg and
/// beyond rows): block b of group g is [pairs][kMR] at data + (g * blocks + b) * pairs * kMR.
/// With taps == 1, pair q holds rows 2q and 2q + 1 (rows (c, ky, kx) of a conv). With taps > 1
/// (a conv's rows are channels x taps, tap t = ky * kw + kx), pair q = t * (pairs / taps) + i holds
/// the rows of channels 2i and 2i + 1 at tap t: the channel-pair order of the band panels
/// (conv_panel.h, pairBand), where each tap is one offset into the band.
struct PackedWeights {
  int64_t groups = 0, kg = 0, rows = 0, pairs = 0, blocks = 0, taps = 1;
  std::vector<int32_t> data;
  std::vector<int64_t> sumAbsW;  // per output channel (groups * kg): sum |w| for the int32 check
  // The byte form of the dot-product path (neon-dot), when every weight fits int8: w + 128 as
  // uint8 in quads of 4 rows, block b of group g is [quads][kMR][4] bytes at
  // dot + (g * blocks + b) * quads * kMR * 4 (rows beyond `rows` hold 128, i.e. w = 0), and
  // sumW, each output channel's sum of w. Empty otherwise.
  int64_t quads = 0;
  std::vector<uint8_t> dot;
  std::vector<int32_t> sumW;
  const int32_t* block(int64_t grp, int64_t b) const {
    return data.data() + (grp * blocks + b) * pairs * kMR;
  }
  const uint8_t* dotBlock(int64_t grp, int64_t b) const {
    return dot.data() + (grp * blocks + b) * quads * kMR * 4;
  }
};

/// Adds the byte form (PackedWeights::dot) when every weight fits int8; false when one does not.
bool packDotWeights(const WeightPtr& w, PackedWeights& p);

/// Packs weights stored as [groups * kg][rows] (conv) or, with `transposed`, [rows][kg] (fc,
/// one group), in row pairs (taps == 1) or, for a conv whose rows are channels x taps, in channel
/// pairs per tap (see PackedWeights). Returns false, leaving `out` empty, when a weight lies
/// outside int16.
bool packWeights(const WeightPtr& w, int64_t groups, int64_t kg, int64_t rows, int64_t taps,
                 bool transposed, PackedWeights& out);

/// Where the micro-kernels read their panel: pair q = t * pairsPerTap + i (t < taps) of column
/// block cb is the kNR words at x + cb * blockStride + tapOffset[t] + i * pairStride. A packed
/// panel ([blocks][pairs][kNR], pairPanel) is contiguous(pairs); a band (pairBand) has one tap
/// per kernel position, its channel-pair planes pairStride apart and its blocks side by side.
struct PanelLayout {
  int64_t blockStride = 0, pairStride = 0, pairsPerTap = 0, taps = 1;
  const int64_t* tapOffset = nullptr;
  static PanelLayout contiguous(int64_t pairs);
};

/// acc[m * ldacc + cb * kNR + j] for m < kMR, cb < blocks, j < kNR: bias[m] plus the products of
/// weight block `w` ([pairs][kMR], pairs = taps * pairsPerTap) with the panel's column blocks.
void panel(KernelPath path, const int32_t* w, const int32_t* x, const PanelLayout& l,
           int64_t blocks, const int32_t* bias, int32_t* acc, int64_t ldacc);

/// Columns per block of the wide micro-kernel (panelWide).
constexpr int64_t kNRWide = 24;

/// panel() over blocks of kNRWide columns: acc[m * ldacc + cb * kNRWide + j] for j < kNRWide,
/// column block cb read at x + cb * l.blockStride (the band path, whose columns are contiguous,
/// takes it where it has a form of its own: see bandColumns). On avx2, 4 x 24 in twelve
/// accumulators and two pairs per loop step: 1.25 times fewer instructions per product than 4 x 16.
void panelWide(KernelPath path, const int32_t* w, const int32_t* x, const PanelLayout& l,
               int64_t blocks, const int32_t* bias, int32_t* acc, int64_t ldacc);

/// The columns per micro-kernel block of the band path on `path`: kNRWide where panelWide has a
/// form of its own (avx2, portable), else kNR (panel).
int64_t bandColumns(KernelPath path);

/// The dot-product micro-kernel (neon-dot, gemm_neon_dot.cpp), exact by arithmetic modulo 2^32:
/// x holds raw uint8 activations (x - zp + zp; zp itself where the window reads padding, 0 in
/// rows beyond the reduction), w the bytes w + 128. With udot sums U = sum x (w + 128) and
/// S = sum x per column, sum (x - zp) w = U - 128 S - zp sum w; the caller folds -zp sum w into
/// bias (mod 2^32). Every term is formed in uint32 lanes that wrap: the result is the true
/// sum modulo 2^32, and the true sum lies in int32 (the caller's bound), so it is that sum
/// exactly, for any reduction length (no intermediate needs to stay in range).
/// Panel block cb, quad q: 64 bytes at x + (cb * quads + q) * 64, column j = 4v + i at
/// byte v * 16 + i * 4 + (row within the quad).
void panelDot(const uint8_t* w, const uint8_t* x, int64_t quads, int64_t blocks,
              const uint32_t* bias, int32_t* acc, int64_t ldacc);
/// The same arithmetic in plain C++ (what panelDot runs where the build has no dot-product
/// code; tests run it on any host).
void panelDotPortable(const uint8_t* w, const uint8_t* x, int64_t quads, int64_t blocks,
                      const uint32_t* bias, int32_t* acc, int64_t ldacc);

// The per-path implementations (gemm_*.cpp).
void panelPortable(const int32_t* w, const int32_t* x, const PanelLayout& l, int64_t blocks,
                   const int32_t* bias, int32_t* acc, int64_t ldacc);
void panelAvx2(const int32_t* w, const int32_t* x, const PanelLayout& l, int64_t blocks,
               const int32_t* bias, int32_t* acc, int64_t ldacc);
void panelWidePortable(const int32_t* w, const int32_t* x, const PanelLayout& l, int64_t blocks,
                       const int32_t* bias, int32_t* acc, int64_t ldacc);
void panelWideAvx2(const int32_t* w, const int32_t* x, const PanelLayout& l, int64_t blocks,
                   const int32_t* bias, int32_t* acc, int64_t ldacc);
void panelNeon(const int32_t* w, const int32_t* x, const PanelLayout& l, int64_t blocks,
               const int32_t* bias, int32_t* acc, int64_t ldacc);

}  // namespace kiln::rt::gemm
