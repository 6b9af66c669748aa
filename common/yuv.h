// Camera input formats and YUV -> RGB conversions: the one definition that the model script's
// input_conversion (compiler/optimize), the float emulation (compiler/emulator/float_kernels) and
// the integer runtime (runtime/engine/ops_color.cpp) all use, so the three cannot drift apart.
// docs/arithmetic.md §7 writes the definitions down.
//
// Raw formats are frames of bytes in the camera's order, shaped as the reference toolchain shapes
// its converted inputs (per frame, channels last):
//   yuy2  [H, W, 2]      Y0 U0 Y1 V0 Y2 U2 ...: channel 0 = Y of the pixel, channel 1 = U on even
//                        columns and V on odd ones (the pair's chroma)
//   nv12  [H/2, W, 3]    the NV12 buffer (Y plane H x W, then H/2 x W/2 interleaved U V pairs)
//                        reshaped to H/2 x W x 3 (the same 1.5 H W bytes)
//   nv21  [H/2, W, 3]    as nv12 with V before U
//   i420  [H/2, W, 3]    Y plane, then the U plane (H/2 x W/2), then the V plane
//   rgbx  [H, W, 4]      R G B X per pixel; X is dropped
// and unpacked to planar [3, H, W] (Y, U, V or R, G, B): chroma is replicated over the pixels that
// share it (nearest; no interpolation), so unpacking only moves bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::yuv {

/// The raw formats; the numbers are stored in .kef files (format_conversion's `format`).
enum class Format : int32_t { Yuy2 = 1, Nv12 = 2, Nv21 = 3, I420 = 4, Rgbx = 5 };
constexpr int32_t kMaxFormat = 5;

/// "yuy2", "nv12", ...
const char* formatName(Format f);
/// The format of a name formatName gives; false for any other.
bool parseFormat(const std::string& name, Format& out);
/// The per-frame shape [a, b, c] of a raw frame of an H x W image.
std::vector<int64_t> rawFrameShape(Format f, int64_t h, int64_t w);
/// Why an H x W image cannot be held in format f ("" when it can): 4:2:2 needs an even width,
/// 4:2:0 even height and width.
std::string sizeProblem(Format f, int64_t h, int64_t w);
/// The image size [H, W] of a raw frame shape [a, b, c], or {} when the shape is not one of f.
std::vector<int64_t> imageSizeOf(Format f, const std::vector<int64_t>& frame);

/// Unpacks one raw frame (rawFrameShape(f, h, w) elements) into planar [3, h, w]. T is any
/// arithmetic type: the runtime runs it on its int32 activations, the emulator on floats.
template <class T>
void unpackFrame(Format f, int64_t h, int64_t w, const T* in, T* out) {
  const int64_t hw = h * w;
  T* p0 = out;
  T* p1 = out + hw;
  T* p2 = out + 2 * hw;
  switch (f) {
    case Format::Yuy2:
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          const T* px = in + (y * w + x) * 2;
          const T* pair = in + (y * w + (x & ~int64_t(1))) * 2;
          p0[y * w + x] = px[0];
          p1[y * w + x] = pair[1];  // U: the even pixel's second byte
          p2[y * w + x] = pair[3];  // V: the odd pixel's second byte
        }
      return;
    case Format::Nv12:
    case Format::Nv21:
    case Format::I420: {
      const T* uvPlane = in + hw;
      const int64_t cw = w / 2, chw = (h / 2) * cw;
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          const int64_t c = (y / 2) * cw + x / 2;  // the chroma sample of this pixel
          T u, v;
          if (f == Format::I420) {
            u = uvPlane[c], v = uvPlane[chw + c];
          } else {
            const T* pair = uvPlane + 2 * c;
            u = f == Format::Nv12 ? pair[0] : pair[1];
            v = f == Format::Nv12 ? pair[1] : pair[0];
          }
          p0[y * w + x] = in[y * w + x];
          p1[y * w + x] = u;
          p2[y * w + x] = v;
        }
      return;
    }
    case Format::Rgbx:
      for (int64_t i = 0; i < hw; ++i) {
        p0[i] = in[i * 4], p1[i] = in[i * 4 + 1], p2[i] = in[i * 4 + 2];
      }
      return;
  }
}

/// A YUV -> RGB (or BGR) conversion in fixed point: output channel o of a pixel is
///   clamp(floor((sum_k m[o][k] * (x_k - offset[k]) + 2^(shift-1)) / 2^shift), 0, 255)
/// with x = (Y, U, V) as 0..255 integers: round half up, then saturate to a byte.
struct ColorMatrix {
  int32_t m[3][3] = {};
  int32_t offset[3] = {};
  int32_t shift = 0;
};
constexpr int32_t kColorShift = 14;  // coefficients in Q14: |error| <= 2^-15 per coefficient

/// The matrix of a conversion named as in model scripts: yuv_to_rgb, yuv601_to_rgb (BT.601,
/// limited range: Y in [16, 235], chroma in [16, 240]), yuv_full_range_to_rgb (BT.601, full
/// range, as JPEG), yuv709_to_rgb, yuv709_full_range_to_rgb, and the _to_bgr forms (rows in B, G,
/// R order). False for any other name.
bool colorMatrix(const std::string& conversion, ColorMatrix& out);

/// One output channel of one pixel, exactly as defined above (int64: no overflow for any input).
inline int32_t convertPixel(const ColorMatrix& c, int o, int64_t x0, int64_t x1, int64_t x2) {
  const int64_t acc = int64_t(c.m[o][0]) * (x0 - c.offset[0]) +
                      int64_t(c.m[o][1]) * (x1 - c.offset[1]) +
                      int64_t(c.m[o][2]) * (x2 - c.offset[2]);
  const int64_t half = c.shift > 0 ? int64_t(1) << (c.shift - 1) : 0;
  // floor division by 2^shift: an arithmetic right shift of a two's complement value
  const int64_t v = (acc + half) >> c.shift;
  return int32_t(v < 0 ? 0 : v > 255 ? 255 : v);
}

}  // namespace kiln::yuv
