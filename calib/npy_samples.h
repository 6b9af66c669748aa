// Splitting NumPy arrays into calibration samples of a network input.
#pragma once

#include <string>
#include <vector>

#include "calib/calib_set.h"
#include "common/npy.h"

namespace kiln::calib {

/// Largest input accepted, in elements per sample (2^31 floats = 8 GiB).
constexpr int64_t kMaxInputElements = int64_t(1) << 31;

/// Checks that there is at least one input and every input has known, positive dimensions and
/// at most kMaxInputElements elements; returns the element counts.
std::vector<int64_t> checkInputs(const std::vector<InputSpec>& inputs);

/// How an array may hold samples.
enum class ArrayForm {
  oneSample,  // the input's shape, or the shape without the batch dim (one .npy per sample)
  stacked,    // also [N, ...]: N samples stacked along the batch dim
};

/// The samples held by `a` for `input`: the first `maxSamples` (0 = all). `available` receives
/// how many the array holds. float32, float64 and uint8 are converted to float; other types,
/// other shapes and non-finite values throw CalibError starting with `what`.
std::vector<std::vector<float>> arrayToSamples(const npy::Array& a, const InputSpec& input,
                                               ArrayForm form, size_t maxSamples,
                                               const std::string& what, size_t* available);

/// Loads a .npy file, turning npy::NpyError into CalibError.
npy::Array loadNpy(const std::string& path);
/// Parses .npy bytes, turning npy::NpyError into CalibError.
npy::Array parseNpy(const std::vector<uint8_t>& bytes, const std::string& what);

}  // namespace kiln::calib
