// The output files of an inference run, written alike by `kiln infer` and `kilnrt infer`: one
// <output>.npy per network output (named after the ONNX output, see sanitizeFileName) and
// outputs.json listing them. One implementation, so both tools write the same bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/npy.h"

namespace kiln {

/// One network output: its ONNX name, and `array` holding every sample's values back to back
/// with the shape of one sample (batch dimension included, normally 1).
struct InferOutput {
  std::string name;
  npy::Array array;
};

/// The shape of `batch` samples of one output of shape `shape`: with batch > 1 the leading
/// dimension becomes the batch (or is added when the shape does not start with 1).
std::vector<int64_t> batchedShape(std::vector<int64_t> shape, int64_t batch);

/// Writes `dir`/<name>.npy for every output and `dir`/outputs.json, creating `dir`, and prints
/// one line per output. With batch > 1 the leading dimension becomes the batch (batchedShape).
/// `target` is recorded in outputs.json. Holds the directory's lock (DirLock) while writing; `note`
/// gets its messages (waiting, stale temporaries).
void writeInferOutputs(const std::string& dir, const std::string& target, int64_t batch,
                       std::vector<InferOutput> outputs,
                       const std::function<void(const std::string&)>& note);

}  // namespace kiln
