// The raw camera formats and the fixed-point YUV -> RGB matrices (common/yuv.h).
#include "common/yuv.h"

#include <cmath>

namespace kiln::yuv {

const char* formatName(Format f) {
  switch (f) {
    case Format::Yuy2:
      return "yuy2";
    case Format::Nv12:
      return "nv12";
    case Format::Nv21:
      return "nv21";
    case Format::I420:
      return "i420";
    case Format::Rgbx:
      return "rgbx";
  }
  return "?";
}

bool parseFormat(const std::string& name, Format& out) {
  for (int32_t i = 1; i <= kMaxFormat; ++i)
    if (name == formatName(Format(i))) {
      out = Format(i);
      return true;
    }
  return false;
}

std::vector<int64_t> rawFrameShape(Format f, int64_t h, int64_t w) {
  switch (f) {
    case Format::Yuy2:
      return {h, w, 2};
    case Format::Rgbx:
      return {h, w, 4};
    default:
      return {h / 2, w, 3};
  }
}

std::string sizeProblem(Format f, int64_t h, int64_t w) {
  if (h < 1 || w < 1) return "the image is empty";
  const bool needsEvenHeight = f == Format::Nv12 || f == Format::Nv21 || f == Format::I420;
  const bool needsEvenWidth = needsEvenHeight || f == Format::Yuy2;
  const std::string what = std::string(formatName(f)) + " shares each chroma sample between ";
  if (needsEvenWidth && w % 2 != 0)
    return what + (needsEvenHeight ? "2 x 2 pixels" : "2 horizontal pixels") +
           ", so it needs an even width; the image is " + std::to_string(h) + " x " +
           std::to_string(w);
  if (needsEvenHeight && h % 2 != 0)
    return what + "2 x 2 pixels, so it needs an even height; the image is " + std::to_string(h) +
           " x " + std::to_string(w);
  return {};
}

std::vector<int64_t> imageSizeOf(Format f, const std::vector<int64_t>& s) {
  if (s.size() != 3) return {};
  switch (f) {
    case Format::Yuy2:
      if (s[2] == 2 && s[1] % 2 == 0) return {s[0], s[1]};
      return {};
    case Format::Rgbx:
      if (s[2] == 4) return {s[0], s[1]};
      return {};
    default:
      if (s[2] == 3 && s[1] % 2 == 0) return {s[0] * 2, s[1]};
      return {};
  }
}

bool colorMatrix(const std::string& name, ColorMatrix& out) {
  // name = yuv[601|709][_full_range]_to_(rgb|bgr)
  const std::string prefix = "yuv";
  if (name.rfind(prefix, 0) != 0) return false;
  std::string rest = name.substr(prefix.size());
  double kr = 0.299, kb = 0.114;  // BT.601
  if (rest.rfind("601", 0) == 0) {
    rest = rest.substr(3);
  } else if (rest.rfind("709", 0) == 0) {
    kr = 0.2126, kb = 0.0722;
    rest = rest.substr(3);
  }
  bool full = false;
  if (rest.rfind("_full_range", 0) == 0) full = true, rest = rest.substr(11);
  bool bgr;
  if (rest == "_to_rgb")
    bgr = false;
  else if (rest == "_to_bgr")
    bgr = true;
  else
    return false;
  const double kg = 1 - kr - kb;
  // Full-range coefficients (Y, U - 128, V - 128 -> R, G, B), from the standard's Kr and Kb.
  double a[3][3] = {{1, 0, 2 * (1 - kr)},
                    {1, -2 * (1 - kb) * kb / kg, -2 * (1 - kr) * kr / kg},
                    {1, 2 * (1 - kb), 0}};
  // Limited range: Y spans [16, 235] (219 steps), chroma [16, 240] (224 steps), stretched to 255.
  const double ys = full ? 1.0 : 255.0 / 219.0, cs = full ? 1.0 : 255.0 / 224.0;
  ColorMatrix c;
  c.shift = kColorShift;
  c.offset[0] = full ? 0 : 16;
  c.offset[1] = c.offset[2] = 128;
  for (int o = 0; o < 3; ++o) {
    const int row = bgr ? 2 - o : o;
    const double scale[3] = {ys, cs, cs};
    for (int k = 0; k < 3; ++k)
      c.m[o][k] = int32_t(std::lround(a[row][k] * scale[k] * double(1 << kColorShift)));
  }
  out = c;
  return true;
}

}  // namespace kiln::yuv
