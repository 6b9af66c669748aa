// Writes the generated seeds of the fuzz targets (tools/fuzz/run_fuzz.sh):
//   kiln_fuzz_seeds kef DIR     the hand-built .kef sample programs (kef_programs.h)
//   kiln_fuzz_seeds calib DIR   small calibration files for a [1,3,8,8] input: .npy (float32,
//                               float64, uint8; one sample, stacked, NHWC), .npz (stored and
//                               deflated members), PNG (gray, RGB, RGBA, 16-bit) and JPEG (gray,
//                               RGB)
#include <png.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

#include "common/file_io.h"
#include "common/npy.h"
#include "runtime/format/kef.h"
#include "tests/runtime/format/kef_programs.h"

namespace {

using Bytes = std::vector<uint8_t>;

void put(const std::string& dir, const std::string& name, const Bytes& bytes) {
  kiln::files::writeFileAtomic(dir + "/" + name, bytes);
}

void writeKefSeeds(const std::string& dir) {
  const std::pair<const char*, std::unique_ptr<kiln::rt::OwnedProgram>> samples[] = {
      {"cnn", kiln::test::makeCnnProgram()},
      {"misc", kiln::test::makeMiscProgram()},
      {"tiny", kiln::test::makeTinyProgram()},
      {"camera", kiln::test::makeCameraProgram()}};
  for (const auto& [name, owned] : samples)
    put(dir, std::string(name) + ".kef",
        kiln::rt::writeKef(owned->program, std::string("plan of ") + name));
  // The tiny program with a section "nms": its [1, 8] output read as one row of SSD box values
  // and scores.
  kiln::rt::NmsConfig nms;
  nms.arch = kiln::rt::NmsArch::Ssd;
  nms.imageH = nms.imageW = 128;
  nms.scoreThreshold = 0;
  kiln::rt::NmsDecoder d;
  d.name = "rows";
  d.stride = 128;
  d.anchorW = d.anchorH = {1};
  nms.decoders = {d};
  put(dir, "tiny_nms.kef", kiln::rt::writeKef(samples[2].second->program, "", &nms));
}

// Deterministic pixel values 0..255.
uint8_t pixel(size_t i) {
  return uint8_t((i * 37 + 11) % 256);
}

kiln::npy::Array array(kiln::npy::ElemType type, std::vector<int64_t> shape) {
  kiln::npy::Array a;
  a.type = type;
  a.shape = std::move(shape);
  const size_t n = size_t(a.numel());
  for (size_t i = 0; i < n; ++i) {
    const double v = double(pixel(i)) / 255.0;
    if (type == kiln::npy::ElemType::u8) {
      a.data.push_back(pixel(i));
    } else if (type == kiln::npy::ElemType::f64) {
      const auto* b = reinterpret_cast<const uint8_t*>(&v);
      a.data.insert(a.data.end(), b, b + 8);
    } else {
      const float f = float(v);
      const auto* b = reinterpret_cast<const uint8_t*>(&f);
      a.data.insert(a.data.end(), b, b + 4);
    }
  }
  return a;
}

void le(Bytes& out, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

// A ZIP as numpy.savez writes it: local headers, data, central directory, end record.
Bytes zip(const std::vector<std::pair<std::string, Bytes>>& members, bool deflated) {
  Bytes out, central;
  for (const auto& member : members) {
    const std::string& name = member.first;
    const Bytes& data = member.second;
    Bytes stored = data;
    if (deflated) {
      z_stream z{};
      deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
      stored.resize(deflateBound(&z, uLong(data.size())));
      z.next_in = const_cast<Bytef*>(data.data());
      z.avail_in = uInt(data.size());
      z.next_out = stored.data();
      z.avail_out = uInt(stored.size());
      deflate(&z, Z_FINISH);
      stored.resize(z.total_out);
      deflateEnd(&z);
    }
    const uint32_t crc = uint32_t(crc32(0, data.data(), uInt(data.size())));
    const uint32_t offset = uint32_t(out.size());
    auto header = [&](Bytes& h, bool isCentral) {
      le(h, isCentral ? 0x02014b50 : 0x04034b50, 4);
      if (isCentral) le(h, 20, 2);  // version made by
      le(h, 20, 2);                 // version needed
      le(h, 0, 2);                  // flags
      le(h, deflated ? 8 : 0, 2);
      le(h, 0, 4);  // time, date
      le(h, crc, 4);
      le(h, uint32_t(stored.size()), 4);
      le(h, uint32_t(data.size()), 4);
      le(h, uint32_t(name.size()), 2);
      le(h, 0, 2);  // extra
      if (isCentral) {
        le(h, 0, 2);  // comment
        le(h, 0, 2);  // disk
        le(h, 0, 2);  // internal attributes
        le(h, 0, 4);  // external attributes
        le(h, offset, 4);
      }
      h.insert(h.end(), name.begin(), name.end());
    };
    header(out, false);
    out.insert(out.end(), stored.begin(), stored.end());
    header(central, true);
  }
  const uint32_t centralOffset = uint32_t(out.size());
  out.insert(out.end(), central.begin(), central.end());
  le(out, 0x06054b50, 4);
  le(out, 0, 4);  // disks
  le(out, uint32_t(members.size()), 2);
  le(out, uint32_t(members.size()), 2);
  le(out, uint32_t(central.size()), 4);
  le(out, centralOffset, 4);
  le(out, 0, 2);
  return out;
}

Bytes png(int width, int height, int colorType, int depth) {
  Bytes out;
  png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(p);
  png_set_write_fn(
      p, &out,
      [](png_structp s, png_bytep d, png_size_t n) {
        auto* o = static_cast<Bytes*>(png_get_io_ptr(s));
        o->insert(o->end(), d, d + n);
      },
      nullptr);
  png_set_IHDR(p, info, png_uint_32(width), png_uint_32(height), depth, colorType,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(p, info);
  const int channels = png_get_channels(p, info);
  const size_t rowBytes = size_t(width) * size_t(channels) * size_t(depth / 8);
  Bytes row(rowBytes);
  for (int y = 0; y < height; ++y) {
    for (size_t i = 0; i < rowBytes; ++i) row[i] = pixel(size_t(y) * rowBytes + i);
    png_write_row(p, row.data());
  }
  png_write_end(p, nullptr);
  png_destroy_write_struct(&p, &info);
  return out;
}

Bytes jpeg(int width, int height, int components) {
  jpeg_compress_struct c{};
  jpeg_error_mgr err{};
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buf, &size);
  c.image_width = JDIMENSION(width);
  c.image_height = JDIMENSION(height);
  c.input_components = components;
  c.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 90, TRUE);
  jpeg_start_compress(&c, TRUE);
  Bytes row(size_t(width) * size_t(components));
  while (c.next_scanline < c.image_height) {
    for (size_t i = 0; i < row.size(); ++i) row[i] = pixel(c.next_scanline * row.size() + i);
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  Bytes out(buf, buf + size);
  std::free(buf);
  return out;
}

void writeCalibSeeds(const std::string& dir) {
  using kiln::npy::ElemType;
  using kiln::npy::serialize;
  put(dir, "one_f32.npy", serialize(array(ElemType::f32, {1, 3, 8, 8})));
  put(dir, "one_u8_nobatch.npy", serialize(array(ElemType::u8, {3, 8, 8})));
  put(dir, "stacked_f64.npy", serialize(array(ElemType::f64, {2, 3, 8, 8})));
  put(dir, "nhwc_f32.npy", serialize(array(ElemType::f32, {1, 8, 8, 3})));
  const std::vector<std::pair<std::string, Bytes>> members = {
      {"input.npy", serialize(array(ElemType::f32, {2, 3, 8, 8}))}};
  put(dir, "stored.npz", zip(members, false));
  put(dir, "deflated.npz", zip(members, true));
  put(dir, "gray.png", png(8, 8, PNG_COLOR_TYPE_GRAY, 8));
  put(dir, "rgb.png", png(5, 7, PNG_COLOR_TYPE_RGB, 8));
  put(dir, "rgba16.png", png(9, 4, PNG_COLOR_TYPE_RGB_ALPHA, 16));
  put(dir, "gray.jpg", jpeg(8, 8, 1));
  put(dir, "rgb.jpg", jpeg(12, 10, 3));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc == 3 ? argv[1] : "";
  if (what != "kef" && what != "calib") {
    std::fprintf(stderr, "usage: %s kef|calib DIR\n", argv[0]);
    return 2;
  }
  try {
    if (what == "kef")
      writeKefSeeds(argv[2]);
    else
      writeCalibSeeds(argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
