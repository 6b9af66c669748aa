// libFuzzer target for the calibration loaders: the input is a file given to loadCalibSet, the
// entry point of `kiln optimize --calib-set-path` and `kiln compile` verification. Its first bytes
// pick the file name as a user would have it: a .npy (magic \x93NUMPY), an .npz (PK), a .png or a
// .jpg, else one of the four by the input's size. The network input is [1,3,8,8] (NCHW), or
// [1,8,8,3] (NHWC) when the input's last byte is odd, so images are resized and laid out both
// ways. calib::CalibError (and npy::NpyError) is the expected outcome of bad input; anything else
// is a finding.
//
// Seeds: kiln_fuzz_seeds writes small .npy, .npz (stored and deflated), PNG and JPEG files.
#include <cstdint>
#include <cstring>
#include <string>

#include "calib/calib_set.h"
#include "common/npy.h"
#include "tests/fuzz/fuzz_file.h"

namespace {

const char* fileName(const uint8_t* data, size_t size) {
  const auto starts = [&](const char* magic, size_t n) {
    return size >= n && std::memcmp(data, magic, n) == 0;
  };
  if (starts("\x93NUMPY", 6)) return "sample.npy";
  if (starts("PK", 2)) return "calib.npz";
  if (starts("\x89PNG", 4)) return "image.png";
  if (starts("\xFF\xD8", 2)) return "image.jpg";
  static const char* const names[] = {"sample.npy", "calib.npz", "image.png", "image.jpg"};
  return names[size % 4];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = kiln::fuzz::writeInput(fileName(data, size), data, size);
  const bool nhwc = size > 0 && (data[size - 1] & 1);
  const kiln::calib::InputSpec input{
      "input", nhwc ? std::vector<int64_t>{1, 8, 8, 3} : std::vector<int64_t>{1, 3, 8, 8}};
  try {
    const kiln::calib::CalibSet set = kiln::calib::loadCalibSet(path, {input}, 4);
    (void)kiln::calib::looksNormalized(set);
  } catch (const kiln::calib::CalibError&) {
  } catch (const kiln::npy::NpyError&) {
  }
  return 0;
}
