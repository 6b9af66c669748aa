// Held-out data of the noise analysis and of automatic mixed precision: samples that are not the
// calibration set, read from a path (as --calib-set-path) or from arrays in memory (Python).
#pragma once

#include <string>
#include <vector>

#include "common/npy.h"
#include "compiler/emulator/float_kernels/float_buffer.h"
#include "compiler/ir/graph.h"

namespace kiln::noise {

struct HeldOutData {
  std::string path;                // --data-path: images, .npy files, one .npy, an .npz
  std::vector<npy::Array> arrays;  // used instead of path when given: one per input, [N, ...]
  std::string arraysName = "the data arrays";  // names the arrays in messages
  int size = 16;                               // --data-size: samples used (the first ones)

  /// What messages and reports call the data: the path, or arraysName.
  const std::string& name() const { return arrays.empty() ? path : arraysName; }
};

struct HeldOutSamples {
  std::vector<std::vector<FloatBuffer>> samples;  // [sample][input], each the input's shape
  std::string description;                        // one line for the user
  std::vector<std::string> warnings;              // for the caller to print
};

/// The first d.size samples, one buffer per network input. Throws calib::CalibError.
HeldOutSamples loadHeldOut(const Graph& g, const HeldOutData& d);

}  // namespace kiln::noise
