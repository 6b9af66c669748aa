// The output stage shared by every layer that accumulates: rescale the wide accumulator to the
// output domain with the one requantize(), then either clamp (linear, relu, relu6, clip: the
// bounds are folded into qmin/qmax), take a second multiplier for negative values (leaky, prelu),
// or look the value up in a table (every other activation).
#pragma once

#include <cstdint>

#include "kernels/requantize.h"

namespace kiln::rt {

struct OutputStage {
  const Multiplier* mult = nullptr;     // per channel (perChannel) or one
  const Multiplier* multNeg = nullptr;  // for acc < 0 (leaky, prelu); null when unused
  bool perChannel = false;
  int32_t outZp = 0;
  int32_t qmin = 0, qmax = 255;
  // Table activation: index = clamp(requantize(acc) + lutOffset, 0, lutSize - 1); the table holds
  // final output values.
  const int32_t* lut = nullptr;
  int32_t lutSize = 0;
  int32_t lutOffset = 0;

  int32_t apply(int64_t acc, int64_t channel) const {
    const int64_t c = perChannel ? channel : 0;
    if (lut) {
      const int64_t idx = requantize(acc, mult[c]) + lutOffset;
      return lut[clampTo(idx, 0, lutSize - 1)];
    }
    const Multiplier& m = (multNeg && acc < 0) ? multNeg[c] : mult[c];
    return static_cast<int32_t>(clampTo(requantize(acc, m) + outZp, qmin, qmax));
  }
};

}  // namespace kiln::rt
