#include "runtime/api/user_arrays.h"

#include <algorithm>

#include "common/strings.h"

namespace kiln::rt {

npy::ElemType npyTypeOf(BufferType t, const StreamDesc& s) {
  switch (t) {
    case BufferType::Float32:
      return npy::ElemType::f32;
    case BufferType::UInt8:
      return npy::ElemType::u8;
    case BufferType::UInt16:
      return npy::ElemType::u16;
    case BufferType::Auto:
      break;
  }
  return s.bits == 16 ? npy::ElemType::u16 : npy::ElemType::u8;
}

std::string streamList(const std::vector<StreamDesc>& streams) {
  std::string r;
  for (const StreamDesc& s : streams)
    r += (r.empty() ? "" : ", ") + s.name + " " + shapeStr(s.shape);
  return r;
}

void checkInputCount(const Model& m, size_t given, const std::string& countName) {
  const auto& ins = m.inputs();
  if (given != ins.size())
    throw InputError("the network has " + std::to_string(ins.size()) + " input(s) (" +
                     streamList(ins) + "); " + countName + " gave " + std::to_string(given));
}

ArrayFeeds checkInputArrays(const Model& m, const std::vector<UserArray>& arrays,
                            const std::string& inputFormat, const std::string& countName,
                            const std::string& holder) {
  const auto& ins = m.inputs();
  checkInputCount(m, arrays.size(), countName);
  ArrayFeeds feeds;
  int64_t batch = -1;
  for (size_t k = 0; k < ins.size(); ++k) {
    const StreamDesc& s = ins[k];
    const UserArray& arr = arrays[k];
    // Built only for a message: the Python API calls this once per frame.
    auto what = [&] { return arr.label + ": input '" + s.name + "'"; };
    const char* device = s.bits == 16 ? "uint16" : "uint8";
    BufferType t = BufferType::Float32;
    if (inputFormat.empty()) {
      if (arr.type == npy::ElemType::u8) {
        t = BufferType::UInt8;
      } else if (arr.type == npy::ElemType::u16) {
        t = BufferType::UInt16;
      } else if (arr.type != npy::ElemType::f32) {
        throw InputError(what() + " expects float32 " + shapeStr(s.shape) + " (or the device's " +
                         std::string(device) + " integers), " + holder + " holds " +
                         npy::typeName(arr.type) +
                         " (convert with x.astype(np.float32), after the model's own "
                         "pre-processing)");
      }
    } else {
      t = parseBufferType(inputFormat);
      const npy::ElemType want = npyTypeOf(t, s);
      if (arr.type != want)
        throw InputError(what() + ": --input-format-type " + inputFormat + " expects " +
                         npy::typeName(want) + " data, " + holder + " holds " +
                         npy::typeName(arr.type));
    }
    if (t == BufferType::UInt16 && s.bits == 8)
      throw InputError(what() +
                       " is uint8 on the device; uint16 data cannot be narrowed (give uint8, "
                       "or float32 to quantize on the host)");
    const std::vector<int64_t>& user = s.shape;
    int64_t n = 1;
    const bool sameRest = !user.empty() && user[0] == 1 && arr.shape.size() == user.size() &&
                          std::equal(user.begin() + 1, user.end(), arr.shape.begin() + 1);
    if (arr.shape == user) {
      n = 1;
    } else if (sameRest) {
      n = arr.shape[0];
    } else {
      throw InputError(what() + " expects shape " + shapeStr(user) +
                       " (or [N, ...] with the same trailing dimensions), " + holder + " holds " +
                       shapeStr(arr.shape));
    }
    if (n < 1)
      throw InputError(what() + ": " + holder + " holds no sample (shape " + shapeStr(arr.shape) +
                       ")");
    if (batch >= 0 && n != batch)
      throw InputError("inputs disagree on the batch size (" + std::to_string(batch) + " vs " +
                       std::to_string(n) + " in " + arr.label + ")");
    batch = n;
    feeds.inputs.push_back({t, size_t(streamElements(s)) * elementBytes(t, s)});
  }
  feeds.frames = batch;
  return feeds;
}

}  // namespace kiln::rt
