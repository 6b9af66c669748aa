#include "calib/image_decode.h"

#include <cstring>

#include "calib/calib_set.h"

namespace kiln::calib {

ImageFormat sniffImageFormat(const std::vector<uint8_t>& b) {
  if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return ImageFormat::jpeg;
  static const uint8_t pngSig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (b.size() >= 8 && std::memcmp(b.data(), pngSig, 8) == 0) return ImageFormat::png;
  return ImageFormat::unknown;
}

void checkImageSize(uint64_t width, uint64_t height, const std::string& what) {
  if (width == 0 || height == 0)
    throw CalibError(what + ": corrupt image: size " + std::to_string(width) + "x" +
                     std::to_string(height));
  if (width > kMaxImageDim || height > kMaxImageDim)
    throw CalibError(what + ": image is " + std::to_string(width) + "x" + std::to_string(height) +
                     ", larger than the supported " + std::to_string(kMaxImageDim) + "x" +
                     std::to_string(kMaxImageDim));
}

Image decodeImage(const std::vector<uint8_t>& bytes, const std::string& what) {
  switch (sniffImageFormat(bytes)) {
    case ImageFormat::jpeg:
      return decodeJpeg(bytes, what);
    case ImageFormat::png:
      return decodePng(bytes, what);
    case ImageFormat::unknown:
      break;
  }
  throw CalibError(what + ": not a JPEG or PNG image (unrecognised or corrupt header, " +
                   std::to_string(bytes.size()) + " bytes)");
}

}  // namespace kiln::calib
