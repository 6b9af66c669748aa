// Runs an archive on in-memory inputs: the float graph (native), the optimized graph in float
// (fp-optimized) or the integer emulation (quantized). One implementation for `kiln infer` and
// the Python API's ClientRunner.infer, so both give the same numbers to the last bit.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/infer_outputs.h"
#include "common/npy.h"
#include "compiler/archive/archive.h"

namespace kiln::flow {

enum class InferTarget { Native, FpOptimized, Quantized };
/// "native", "fp-optimized", "quantized" (the CLI's --target values).
const char* inferTargetName(InferTarget t);
/// Parses one of the names above; throws Error listing them.
InferTarget parseInferTarget(const std::string& name);

/// A wrong input (count, element type or shape): the message names the input and says what was
/// expected and what was given. The Python API raises it as a ValueError.
class InferInputError : public Error {
 public:
  using Error::Error;
};

/// One network input: its values and `label`, how errors name it (the .npy path in the CLI).
struct InferInput {
  std::string label;
  npy::Array array;
};

struct InferOptions {
  InferTarget target = InferTarget::Native;
  /// Quantized target only: the device integers (uint8/uint16) instead of dequantized float32.
  bool rawIntegers = false;
  /// An archive with nms_postprocess: the network's outputs instead of the decoded boxes (the
  /// float and quantized targets of an optimized archive decode boxes unless this is set; raw
  /// integers imply it).
  bool rawOutputs = false;
  /// How the message for a wrong number of inputs names what gave them ("--input-files").
  std::string inputsName = "--input-files";
  /// How messages name what holds an input ("the file holds uint8").
  std::string holder = "the file";
  /// Called after each sample (done, total); may throw to stop the run.
  std::function<void(int64_t, int64_t)> progress;
};

struct InferResult {
  int64_t batch = 0;                 // samples run (a leading batch dimension N > 1 runs N)
  std::vector<InferOutput> outputs;  // in the graph's output order, all samples back to back
};

/// Runs `a` (`what` names it in errors: its path) on `inputs`, given in the order of the
/// network's inputs, in the ONNX model's layout and shape (float32), or with a leading batch
/// dimension N. Throws InferInputError for wrong inputs and Error for a target the archive
/// cannot run (native on an optimized archive, the others on a parsed one).
InferResult inferArchive(const Archive& a, const std::string& what,
                         const std::vector<InferInput>& inputs, const InferOptions& o);

}  // namespace kiln::flow
