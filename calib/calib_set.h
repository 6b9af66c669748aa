// Calibration sets for `kiln optimize --calib-set-path PATH | --use-random-calib-set`.
//
// A calibration set is a list of samples, each holding one float tensor per network input in the
// input's exact shape (batch 1). loadCalibSet reads one from disk:
//   (a) a directory of JPEG/PNG images (sorted by file name), decoded to RGB(A), resized bilinearly
//       (half-pixel centres, no aspect-ratio preservation) to the input's H x W, values 0..255,
//       placed in the input's NCHW or NHWC layout;
//   (b) a directory of .npy files, one sample each;
//   (c) one .npy file holding N stacked samples [N, ...] or exactly one sample;
//   (d) one .npz file (stored or deflated members), arrays matched to inputs by name or in order.
// With several inputs, a directory must hold one subdirectory per input name.
// See docs/calibration.md for the full description, limits and error messages.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/npy.h"
#include "common/strings.h"

namespace kiln::calib {

/// A network input as the ONNX model sees it, batch 1, e.g. [1,3,640,640] or [1,128,128,3].
struct InputSpec {
  std::string name;
  std::vector<int64_t> shape;
};

/// Calibration data: samples[sample][input] holds the input's values in C order of its shape.
struct CalibSet {
  std::vector<std::vector<std::vector<float>>> samples;
  std::string description;            // one line for the user, e.g. "64 images from calib/ ..."
  bool random = false;                // true for randomCalibSet: not representative data
  std::vector<std::string> warnings;  // for the caller to print; nothing is printed here
};

/// Every error names the offending file and says what was expected and what was found.
class CalibError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Loads up to `maxSamples` samples (the first ones, in order; 0 = all) from `path`.
CalibSet loadCalibSet(const std::string& path, const std::vector<InputSpec>& inputs,
                      size_t maxSamples);

/// The samples of arrays already in memory (the Python API): arrays[i] for inputs[i], each the
/// input's shape or [N, ...] (float32, float64 or uint8, as an .npz member); the first
/// `maxSamples` (0 = all). `what` names the data in messages and the description.
CalibSet calibSetFromArrays(const std::vector<npy::Array>& arrays,
                            const std::vector<InputSpec>& inputs, size_t maxSamples,
                            const std::string& what);

/// `count` samples of standard normal noise from a fixed, platform-independent generator.
CalibSet randomCalibSet(const std::vector<InputSpec>& inputs, size_t count, uint32_t seed);

/// True when the set is non-empty and every value is finite and within [-3, 3], i.e. the data
/// already looks normalized (used to warn about normalizing twice).
bool looksNormalized(const CalibSet& set);

}  // namespace kiln::calib
