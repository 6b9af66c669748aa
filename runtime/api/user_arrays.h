// How user arrays (a .npy file's in kilnrt infer, a numpy array's in the Python package kilnrt)
// feed a model's input streams: their element type and number of frames, checked in one place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/npy.h"
#include "runtime/api/runtime.h"

namespace kiln::rt {

/// A wrong input array (count, element type or shape): the message names the array and the
/// stream, what was expected and what was given. The Python package raises it as a ValueError.
class InputError : public Error {
 public:
  using Error::Error;
};

/// One array as the user gives it: `label` names it in messages (the file's path).
struct UserArray {
  std::string label;
  npy::ElemType type = npy::ElemType::f32;
  std::vector<int64_t> shape;
};

/// How an array feeds its stream: the buffer type and the number of frames it holds (the
/// stream's shape holds 1, [N, ...] with the same trailing dimensions N).
struct ArrayFeed {
  BufferType type = BufferType::Float32;
  size_t frameBytes = 0;  // bytes of one frame
};

struct ArrayFeeds {
  std::vector<ArrayFeed> inputs;  // in stream order
  int64_t frames = 1;             // the same for every input
};

/// Throws InputError when `given` arrays cannot feed the model's inputs (another count).
void checkInputCount(const Model& m, size_t given, const std::string& countName);

/// Checks one array per input stream, in stream order. `inputFormat` "" follows each array's
/// dtype (float32, or the device integers uint8/uint16); else auto|uint8|uint16|float32 and
/// the dtype must match it. `countName` names what gave the arrays ("--input-files") and
/// `holder` what holds one ("the file") in messages. Throws InputError.
ArrayFeeds checkInputArrays(const Model& m, const std::vector<UserArray>& arrays,
                            const std::string& inputFormat,
                            const std::string& countName = "--input-files",
                            const std::string& holder = "the file");

/// The dtype of a buffer type for a stream (Auto: uint8 or uint16 by the stream's bits).
npy::ElemType npyTypeOf(BufferType t, const StreamDesc& s);

/// "name [1, 3, 8, 8], ..." for messages.
std::string streamList(const std::vector<StreamDesc>& streams);

}  // namespace kiln::rt
