// JPEG decoding with libjpeg(-turbo). libjpeg reports fatal errors through error_exit, which must
// not return; we longjmp back to decodeJpegInto. To keep setjmp/longjmp well defined in C++, the
// function that calls setjmp creates no objects with destructors after the setjmp, and everything
// it reads after a longjmp is either volatile or unchanged since the setjmp. Corrupt-data
// warnings (e.g. "Premature end of JPEG file"), which libjpeg would paper over with grey pixels,
// are treated as errors too.
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include <jpeglib.h>

#include "calib/calib_set.h"
#include "calib/image_decode.h"

namespace kiln::calib {
namespace {

struct ErrorManager {
  jpeg_error_mgr pub;  // first member: libjpeg hands us a pointer to it
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool warned;
};

extern "C" void jpegErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

extern "C" void jpegEmitMessage(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (level < 0 && !err->warned) {  // corrupt-data warning: remember the first one
    (*cinfo->err->format_message)(cinfo, err->message);
    err->warned = true;
  }
}

enum class Status { ok, libjpegError, tooLarge, unsupported };

// Plain-data result so the decode function needs nothing with a destructor.
struct RawResult {
  Status status = Status::ok;
  JDIMENSION width = 0, height = 0;
  int channels = 0;
  J_COLOR_SPACE colorSpace = JCS_UNKNOWN;
  bool adobeInverted = false;
};

// `out` is sized here (exactly once) by a member call; it is owned by the caller, so a longjmp
// out of libjpeg frees everything (jpeg_destroy_decompress releases libjpeg's memory).
void decodeJpegInto(const uint8_t* bytes, size_t size, ErrorManager& err, std::vector<uint8_t>& out,
                    RawResult& result) {
  jpeg_decompress_struct cinfo;
  std::memset(&cinfo, 0, sizeof cinfo);
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = jpegErrorExit;
  err.pub.emit_message = jpegEmitMessage;
  err.warned = false;
  err.message[0] = 0;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    result.status = Status::libjpegError;
    return;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, const_cast<unsigned char*>(bytes), static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.image_width > kMaxImageDim || cinfo.image_height > kMaxImageDim ||
      cinfo.image_width == 0 || cinfo.image_height == 0) {
    result.width = cinfo.image_width;
    result.height = cinfo.image_height;
    result.status = Status::tooLarge;
    jpeg_destroy_decompress(&cinfo);
    return;
  }
  switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
      cinfo.out_color_space = JCS_GRAYSCALE;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      cinfo.out_color_space = JCS_CMYK;
      break;
    default:
      cinfo.out_color_space = JCS_RGB;
      break;
  }
  result.adobeInverted = cinfo.saw_Adobe_marker;
  jpeg_start_decompress(&cinfo);
  const size_t rowBytes = size_t(cinfo.output_width) * size_t(cinfo.output_components);
  if (cinfo.output_components < 1 || cinfo.output_components > 4) {
    result.status = Status::unsupported;
    result.channels = cinfo.output_components;
    jpeg_destroy_decompress(&cinfo);
    return;
  }
  // output_width/height <= image_width/height <= 16384, output_components <= 4: at most 1 GiB.
  try {
    out.resize(rowBytes * cinfo.output_height);
  } catch (...) {
    jpeg_destroy_decompress(&cinfo);
    throw;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out.data() + size_t(cinfo.output_scanline) * rowBytes;
    if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) break;  // suspension: cannot happen in memory
  }
  const bool complete = cinfo.output_scanline == cinfo.output_height;
  result.width = cinfo.output_width;
  result.height = cinfo.output_height;
  result.channels = cinfo.output_components;
  result.colorSpace = cinfo.out_color_space;
  if (complete) jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  if (!complete) {
    std::snprintf(err.message, sizeof err.message, "image data ends early");
    result.status = Status::libjpegError;
  }
}

}  // namespace

Image decodeJpeg(const std::vector<uint8_t>& bytes, const std::string& what) {
  ErrorManager err;
  std::vector<uint8_t> pixels;
  RawResult r;
  try {
    decodeJpegInto(bytes.data(), bytes.size(), err, pixels, r);
  } catch (const std::bad_alloc&) {
    throw CalibError(what + ": out of memory decoding the JPEG image");
  }
  if (r.status == Status::libjpegError)
    throw CalibError(what + ": corrupt or unreadable JPEG image: " + err.message);
  if (r.status == Status::tooLarge) checkImageSize(r.width, r.height, what);
  if (r.status == Status::unsupported)
    throw CalibError(what + ": unsupported JPEG with " + std::to_string(r.channels) +
                     " colour components");
  if (err.warned) throw CalibError(what + ": corrupt JPEG image: " + err.message);

  Image img;
  img.width = r.width;
  img.height = r.height;
  if (r.colorSpace == JCS_CMYK) {
    // Convert CMYK to RGB: R = C * K / 255 for the Adobe (inverted) convention that nearly all
    // CMYK JPEGs use, R = (255 - C) * (255 - K) / 255 otherwise.
    const size_t n = size_t(r.width) * r.height;
    img.channels = 3;
    img.data8.resize(n * 3);
    for (size_t i = 0; i < n; ++i) {
      int k = pixels[i * 4 + 3];
      if (!r.adobeInverted) k = 255 - k;
      for (int c = 0; c < 3; ++c) {
        int v = pixels[i * 4 + c];
        if (!r.adobeInverted) v = 255 - v;
        img.data8[i * 3 + c] = uint8_t((v * k + 127) / 255);
      }
    }
  } else {
    img.channels = r.channels;
    img.data8 = std::move(pixels);
  }
  return img;
}

}  // namespace kiln::calib
