// PNG decoding with libpng. libpng reports errors by longjmp to png_jmpbuf; as in
// jpeg_decode.cpp, the function that calls setjmp creates no objects with destructors after it.
// Palette and low-bit images are expanded to 8 bits, tRNS to an alpha channel; 16-bit samples are
// kept (Image::at scales them to 0..255).
#include <csetjmp>
#include <cstring>

#include <png.h>

#include "calib/calib_set.h"
#include "calib/image_decode.h"

namespace kiln::calib {
namespace {

struct MemReader {
  const uint8_t* data;
  size_t size;
  size_t pos;
};

extern "C" void pngRead(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<MemReader*>(png_get_io_ptr(png));
  if (n > r->size - r->pos) png_error(png, "file ends early (truncated)");
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

struct ErrorState {
  char message[256];
};

extern "C" void pngError(png_structp png, png_const_charp msg) {
  auto* e = static_cast<ErrorState*>(png_get_error_ptr(png));
  std::strncpy(e->message, msg ? msg : "unknown error", sizeof e->message - 1);
  e->message[sizeof e->message - 1] = 0;
  png_longjmp(png, 1);
}

extern "C" void pngWarning(png_structp, png_const_charp) {}  // ancillary-chunk noise

enum class Status { ok, pngError, tooLarge, createFailed };

struct RawResult {
  Status status = Status::ok;
  png_uint_32 width = 0, height = 0;
  int channels = 0;
  int bitDepth = 0;
};

// Owns libpng's structures so that they are released on every path, including exceptions.
struct PngHandles {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngHandles() {
    if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
  }
};

void decodePngInto(MemReader& reader, ErrorState& err, PngHandles& h, std::vector<uint8_t>& out,
                   std::vector<png_bytep>& rows, RawResult& result) {
  h.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, pngError, pngWarning);
  if (!h.png) {
    result.status = Status::createFailed;
    return;
  }
  h.info = png_create_info_struct(h.png);
  if (!h.info) {
    result.status = Status::createFailed;
    return;
  }
  if (setjmp(png_jmpbuf(h.png))) {
    result.status = Status::pngError;
    return;
  }
  png_set_read_fn(h.png, &reader, pngRead);
  // Lift libpng's default 1,000,000-pixel dimension limit so that our own check below (which
  // only reads the header, no pixel memory is allocated yet) gives the clearer message.
  png_set_user_limits(h.png, 0x7fffffff, 0x7fffffff);
  png_read_info(h.png, h.info);
  const png_uint_32 width = png_get_image_width(h.png, h.info);
  const png_uint_32 height = png_get_image_height(h.png, h.info);
  if (width == 0 || height == 0 || width > kMaxImageDim || height > kMaxImageDim) {
    result.width = width;
    result.height = height;
    result.status = Status::tooLarge;
    return;
  }
  png_set_expand(h.png);  // palette -> RGB, gray < 8 bits -> 8 bits, tRNS -> alpha
  png_set_interlace_handling(h.png);
  png_read_update_info(h.png, h.info);
  const int channels = png_get_channels(h.png, h.info);
  const int bitDepth = png_get_bit_depth(h.png, h.info);
  const size_t rowBytes = png_get_rowbytes(h.png, h.info);
  // width <= 16384, channels <= 4, depth <= 16: rowBytes <= 128 KiB; the image <= 2 GiB.
  if (channels < 1 || channels > 4 || (bitDepth != 8 && bitDepth != 16) ||
      rowBytes != size_t(width) * size_t(channels) * size_t(bitDepth / 8))
    png_error(h.png, "unexpected pixel format after expansion");
  out.resize(rowBytes * height);  // may throw bad_alloc: fine, PngHandles frees libpng's memory
  rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = out.data() + size_t(y) * rowBytes;
  png_read_image(h.png, rows.data());
  png_read_end(h.png, nullptr);
  result.width = width;
  result.height = height;
  result.channels = channels;
  result.bitDepth = bitDepth;
}

}  // namespace

Image decodePng(const std::vector<uint8_t>& bytes, const std::string& what) {
  MemReader reader{bytes.data(), bytes.size(), 0};
  ErrorState err{};
  std::vector<uint8_t> raw;
  std::vector<png_bytep> rows;
  RawResult r;
  {
    PngHandles h;
    try {
      decodePngInto(reader, err, h, raw, rows, r);
    } catch (const std::bad_alloc&) {
      throw CalibError(what + ": out of memory decoding the PNG image");
    }
  }
  switch (r.status) {
    case Status::ok:
      break;
    case Status::createFailed:
      throw CalibError(what + ": cannot initialise libpng");
    case Status::pngError:
      throw CalibError(what + ": corrupt or unreadable PNG image: " + err.message);
    case Status::tooLarge:
      checkImageSize(r.width, r.height, what);
      break;
  }
  Image img;
  img.width = r.width;
  img.height = r.height;
  img.channels = r.channels;
  if (r.bitDepth == 16) {
    img.sixteenBit = true;
    img.data16.resize(raw.size() / 2);
    for (size_t i = 0; i < img.data16.size(); ++i)  // PNG samples are big-endian
      img.data16[i] = uint16_t((raw[2 * i] << 8) | raw[2 * i + 1]);
  } else {
    img.data8 = std::move(raw);
  }
  return img;
}

}  // namespace kiln::calib
