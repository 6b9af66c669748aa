// The output stage shared by every layer that accumulates: rescale the wide accumulator to the
// output domain with the one requantize(), then either clamp (linear, relu, relu6, clip: the
// bounds are folded into qmin/qmax), take a second multiplier for negative values (leaky, prelu),
// or look the value up in a table (every other activation).
#pragma once

#include <cstdint>

#include "runtime/kernels/requantize.h"

namespace kiln::rt {

struct OutputStage {
  const Multiplier* mult = nullptr;     // per channel (perChannel) or one
  const Multiplier* multNeg = nullptr;  // for acc < 0 (leaky, prelu); null when unused
  bool perChannel = false;
  int32_t outZp = 0;
  int32_t qmin = 0, qmax = 255;
  // Table activation: the accumulator is rescaled to table positions with lutFracBits fractional
  // bits, v = requantize(acc) + (lutOffset << F); the result interpolates linearly between the two
  // nearest entries, which hold output values with lutValueBits fractional bits, and is rounded
  // by the same requantize() (see docs/arithmetic.md §4).
  const int32_t* lut = nullptr;
  int32_t lutSize = 0;
  int32_t lutOffset = 0;
  int32_t lutFracBits = 0;
  int32_t lutValueBits = 0;
  // The largest table entry, when whoever set `lut` computed it (the loader does); -1 when
  // unknown. Only a speed hint: with it the vectorized table run may use 32-bit lanes.
  int32_t lutMax = -1;
  // The table as pairs: entry i holds lut[i] as the low int16 and lut[i + 1] - lut[i] (0 for the
  // last entry) as the high int16, when whoever set `lut` built it (the loader does when
  // lutMax <= 32767); null otherwise. Only a speed hint: one gather and one vpmaddwd interpolate.
  const uint32_t* lutPairs = nullptr;

  int32_t apply(int64_t acc, int64_t channel) const {
    const int64_t c = perChannel ? channel : 0;
    if (lut) {
      const int64_t f = lutFracBits;
      const int64_t v = clampTo(requantize(acc, mult[c]) + (int64_t(lutOffset) << f), 0,
                                int64_t(lutSize - 1) << f);
      const int64_t i = v >> f, frac = v & ((int64_t(1) << f) - 1);
      const int64_t a = lut[i], b = i + 1 < lutSize ? lut[i + 1] : a;
      const int64_t y = (a << f) + (b - a) * frac;
      return static_cast<int32_t>(
          clampTo(requantize(y, 1 << 30, 30 + int32_t(f) + lutValueBits), qmin, qmax));
    }
    const Multiplier& m = (multNeg && acc < 0) ? multNeg[c] : mult[c];
    return static_cast<int32_t>(clampTo(requantize(acc, m) + outZp, qmin, qmax));
  }
};

}  // namespace kiln::rt
