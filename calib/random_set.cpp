// Random calibration sets and the "already normalized?" check.
#include <cmath>
#include <random>

#include "calib/calib_set.h"
#include "calib/npy_samples.h"

namespace kiln::calib {

namespace {

// std::normal_distribution differs between standard libraries; this does not: mt19937's sequence
// is fixed by the standard, and Box-Muller is spelled out here.
class PortableNormal {
 public:
  explicit PortableNormal(uint32_t seed) : rng_(seed) {}
  float next() {
    if (haveSpare_) {
      haveSpare_ = false;
      return spare_;
    }
    const double u1 = (double(rng_()) + 1.0) / 4294967296.0;  // (0, 1]
    const double u2 = double(rng_()) / 4294967296.0;          // [0, 1)
    const double r = std::sqrt(-2.0 * std::log(u1)), t = 6.283185307179586476925 * u2;
    spare_ = float(r * std::sin(t));
    haveSpare_ = true;
    return float(r * std::cos(t));
  }

 private:
  std::mt19937 rng_;
  bool haveSpare_ = false;
  float spare_ = 0;
};

}  // namespace

CalibSet randomCalibSet(const std::vector<InputSpec>& inputs, size_t count, uint32_t seed) {
  const std::vector<int64_t> sizes = checkInputs(inputs);
  PortableNormal gen(seed);
  CalibSet set;
  set.random = true;
  set.samples.resize(count);
  for (auto& sample : set.samples)
    for (int64_t n : sizes) {
      std::vector<float> v(static_cast<size_t>(n));
      for (float& x : v) x = gen.next();
      sample.push_back(std::move(v));
    }
  set.description = "random: " + std::to_string(count) +
                    " samples of standard normal noise (mean 0, std 1, seed " +
                    std::to_string(seed) +
                    "), not real data, so the quantization ranges will not match real inputs";
  return set;
}

bool looksNormalized(const CalibSet& set) {
  bool any = false;
  for (const auto& sample : set.samples)
    for (const auto& input : sample)
      for (float v : input) {
        if (!(v >= -3.0f && v <= 3.0f)) return false;  // also false for NaN
        any = true;
      }
  return any;
}

}  // namespace kiln::calib
