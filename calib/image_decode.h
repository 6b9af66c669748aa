// Decoding JPEG and PNG files into 8- or 16-bit pixels, robust to corrupt and hostile input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::calib {

/// Images larger than this in either dimension are refused.
constexpr uint32_t kMaxImageDim = 16384;

/// A decoded image, rows top to bottom, pixels interleaved.
struct Image {
  uint32_t width = 0, height = 0;
  int channels = 0;  // 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
  bool sixteenBit = false;
  std::vector<uint8_t> data8;    // used when !sixteenBit
  std::vector<uint16_t> data16;  // used when sixteenBit
  bool hasAlpha() const { return channels == 2 || channels == 4; }
  /// Sample value scaled to 0..255 (16-bit samples become v * 255 / 65535).
  float at(size_t index) const {
    return sixteenBit ? float(data16[index]) * (255.0f / 65535.0f) : float(data8[index]);
  }
};

enum class ImageFormat { unknown, jpeg, png };

/// Identifies the format from the first bytes.
ImageFormat sniffImageFormat(const std::vector<uint8_t>& bytes);

/// Decode; `what` (the file name) starts every CalibError message.
Image decodeJpeg(const std::vector<uint8_t>& bytes, const std::string& what);
Image decodePng(const std::vector<uint8_t>& bytes, const std::string& what);
/// Decodes by content (magic bytes), whatever the file name says.
Image decodeImage(const std::vector<uint8_t>& bytes, const std::string& what);

/// Throws CalibError unless 1 <= width, height <= kMaxImageDim.
void checkImageSize(uint64_t width, uint64_t height, const std::string& what);

}  // namespace kiln::calib
