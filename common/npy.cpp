#include "common/npy.h"

#include "common/file_io.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace kiln::npy {

size_t elemSize(ElemType t) {
  switch (t) {
    case ElemType::f64:
    case ElemType::i64:
      return 8;
    case ElemType::f32:
    case ElemType::i32:
    case ElemType::u32:
      return 4;
    case ElemType::u16:
    case ElemType::i16:
      return 2;
    case ElemType::u8:
    case ElemType::i8:
    case ElemType::b1:
      return 1;
  }
  return 1;
}

std::string descr(ElemType t) {
  switch (t) {
    case ElemType::f32:
      return "<f4";
    case ElemType::f64:
      return "<f8";
    case ElemType::u8:
      return "|u1";
    case ElemType::i8:
      return "|i1";
    case ElemType::u16:
      return "<u2";
    case ElemType::i16:
      return "<i2";
    case ElemType::i32:
      return "<i4";
    case ElemType::u32:
      return "<u4";
    case ElemType::i64:
      return "<i8";
    case ElemType::b1:
      return "|b1";
  }
  return "";
}

std::string typeName(ElemType t) {
  switch (t) {
    case ElemType::f32:
      return "float32";
    case ElemType::f64:
      return "float64";
    case ElemType::u8:
      return "uint8";
    case ElemType::i8:
      return "int8";
    case ElemType::u16:
      return "uint16";
    case ElemType::i16:
      return "int16";
    case ElemType::i32:
      return "int32";
    case ElemType::u32:
      return "uint32";
    case ElemType::i64:
      return "int64";
    case ElemType::b1:
      return "bool";
  }
  return "?";
}

int64_t Array::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

template <typename T>
static void convertInto(const std::vector<uint8_t>& data, std::vector<float>& out) {
  const size_t n = data.size() / sizeof(T);
  out.resize(n);
  for (size_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, data.data() + i * sizeof(T), sizeof(T));
    out[i] = static_cast<float>(v);
  }
}

std::vector<float> Array::toFloat() const {
  std::vector<float> out;
  switch (type) {
    case ElemType::f32:
      convertInto<float>(data, out);
      break;
    case ElemType::f64:
      convertInto<double>(data, out);
      break;
    case ElemType::u8:
      convertInto<uint8_t>(data, out);
      break;
    case ElemType::i8:
      convertInto<int8_t>(data, out);
      break;
    case ElemType::u16:
      convertInto<uint16_t>(data, out);
      break;
    case ElemType::i16:
      convertInto<int16_t>(data, out);
      break;
    case ElemType::i32:
      convertInto<int32_t>(data, out);
      break;
    case ElemType::u32:
      convertInto<uint32_t>(data, out);
      break;
    case ElemType::i64:
      convertInto<int64_t>(data, out);
      break;
    case ElemType::b1:
      convertInto<uint8_t>(data, out);
      break;
  }
  return out;
}

namespace {

// Finds the value of 'key' in the Python-dict header text; returns the raw text up to the next
// top-level comma or closing brace.
bool headerField(const std::string& h, const std::string& key, std::string& value) {
  const std::string pat = "'" + key + "'";
  size_t p = h.find(pat);
  if (p == std::string::npos) return false;
  p = h.find(':', p + pat.size());
  if (p == std::string::npos) return false;
  ++p;
  while (p < h.size() && h[p] == ' ') ++p;
  size_t e = p;
  int depth = 0;
  while (e < h.size()) {
    char c = h[e];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
    if (depth < 0) break;
    ++e;
  }
  if (depth == 0 && e < h.size() && h[e] == ')') ++e;
  value = h.substr(p, e - p);
  return true;
}

bool parseDescr(const std::string& d, ElemType& t) {
  static const struct {
    const char* s;
    ElemType t;
  } table[] = {{"<f4", ElemType::f32}, {"<f8", ElemType::f64}, {"|u1", ElemType::u8},
               {"<u1", ElemType::u8},  {"|i1", ElemType::i8},  {"<i1", ElemType::i8},
               {"<u2", ElemType::u16}, {"<i2", ElemType::i16}, {"<i4", ElemType::i32},
               {"<u4", ElemType::u32}, {"<i8", ElemType::i64}, {"|b1", ElemType::b1}};
  for (const auto& e : table)
    if (d == e.s) {
      t = e.t;
      return true;
    }
  return false;
}

}  // namespace

namespace {

// The array described by the header at `bytes` (`have` of the file's `fileSize` bytes, at least
// the whole header when the file has one), without its data, which starts at `start`.
Array parseHeader(const uint8_t* bytes, size_t have, uint64_t fileSize, const std::string& what,
                  size_t& start) {
  auto fail = [&](const std::string& msg) -> NpyError {
    return NpyError(what + ": not a valid .npy file: " + msg);
  };
  if (have < 10 || std::memcmp(bytes, "\x93NUMPY", 6) != 0)
    throw fail("expected the magic bytes \\x93NUMPY at the start");
  const uint8_t major = bytes[6];
  size_t headerLen = 0, offset = 0;
  if (major == 1) {
    headerLen = bytes[8] | (size_t(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (have < 12) throw fail("truncated header");
    headerLen =
        bytes[8] | (size_t(bytes[9]) << 8) | (size_t(bytes[10]) << 16) | (size_t(bytes[11]) << 24);
    offset = 12;
  } else {
    throw fail("format version " + std::to_string(major) + " is not supported (1, 2 or 3)");
  }
  if (headerLen > have - offset) throw fail("header is longer than the file");
  const std::string h(reinterpret_cast<const char*>(bytes + offset), headerLen);
  std::string d, fo, sh;
  if (!headerField(h, "descr", d) || !headerField(h, "fortran_order", fo) ||
      !headerField(h, "shape", sh))
    throw fail("header lacks descr, fortran_order or shape: " + h);
  if (d.size() < 2 || (d.front() != '\'' && d.front() != '"')) throw fail("bad descr " + d);
  d = d.substr(1, d.size() - 2);
  Array a;
  if (!parseDescr(d, a.type))
    throw fail("element type '" + d +
               "' is not supported (expected little-endian float32/64, (u)int8/16/32, int64 or "
               "bool)");
  if (fo.rfind("False", 0) != 0)
    throw fail("Fortran-ordered arrays are not supported; save with np.ascontiguousarray");
  if (sh.empty() || sh.front() != '(') throw fail("bad shape " + sh);
  std::string inner = sh.substr(1, sh.find(')') == std::string::npos ? 0 : sh.find(')') - 1);
  std::stringstream ss(inner);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(' ');
    if (b == std::string::npos) continue;
    item = item.substr(b);
    size_t e = item.find_last_not_of(' ');
    item = item.substr(0, e + 1);
    if (!item.empty() && item.back() == 'L') item.pop_back();
    if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos ||
        item.size() > 15)
      throw fail("bad dimension '" + item + "' in shape " + sh);
    a.shape.push_back(std::stoll(item));
  }
  uint64_t n = 1;
  for (int64_t dim : a.shape) {
    if (dim != 0 && n > std::numeric_limits<uint64_t>::max() / uint64_t(dim) / 16)
      throw fail("shape " + sh + " is too large");
    n *= uint64_t(dim);
  }
  const uint64_t payload = n * elemSize(a.type);
  start = offset + headerLen;
  if (fileSize - start != payload)
    throw fail("shape " + sh + " of " + typeName(a.type) + " needs " + std::to_string(payload) +
               " bytes of data, the file has " + std::to_string(fileSize - start));
  return a;
}

}  // namespace

Array parse(const std::vector<uint8_t>& bytes, const std::string& what) {
  size_t start = 0;
  Array a = parseHeader(bytes.data(), bytes.size(), bytes.size(), what, start);
  a.data.assign(bytes.begin() + std::ptrdiff_t(start), bytes.end());
  return a;
}

Array parse(std::vector<uint8_t>&& bytes, const std::string& what) {
  size_t start = 0;
  Array a = parseHeader(bytes.data(), bytes.size(), bytes.size(), what, start);
  // The payload moves to the front of the same buffer: no second copy of a large input.
  bytes.erase(bytes.begin(), bytes.begin() + std::ptrdiff_t(start));
  a.data = std::move(bytes);
  return a;
}

Array loadHeader(const std::string& path, uint64_t& dataOffset) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw NpyError(path + ": cannot open (" + std::strerror(errno) + ")");
  const uint64_t size = uint64_t(f.tellg());
  // The fixed part (magic, version, header length), then the header itself.
  std::vector<uint8_t> head(size_t(std::min<uint64_t>(size, 12)));
  f.seekg(0);
  f.read(reinterpret_cast<char*>(head.data()), std::streamsize(head.size()));
  if (head.size() >= 10 && std::memcmp(head.data(), "\x93NUMPY", 6) == 0) {
    const uint64_t len = head[6] == 1 ? 10 + (head[8] | (uint64_t(head[9]) << 8))
                         : head.size() == 12
                             ? 12 + (head[8] | (uint64_t(head[9]) << 8) |
                                     (uint64_t(head[10]) << 16) | (uint64_t(head[11]) << 24))
                             : head.size();
    head.resize(size_t(std::min(len, size)));
    f.seekg(0);
    f.read(reinterpret_cast<char*>(head.data()), std::streamsize(head.size()));
  }
  if (!f) throw NpyError(path + ": cannot read (" + std::strerror(errno) + ")");
  size_t start = 0;
  Array a = parseHeader(head.data(), head.size(), size, path, start);
  dataOffset = start;
  return a;
}

Array load(const std::string& path) {
  return parse(files::readFile(path), path);
}

std::vector<uint8_t> serialize(const Array& a) {
  std::string shape = "(";
  for (size_t i = 0; i < a.shape.size(); ++i) {
    shape += std::to_string(a.shape[i]);
    if (a.shape.size() == 1 || i + 1 < a.shape.size()) shape += ",";
    if (i + 1 < a.shape.size()) shape += " ";
  }
  shape += ")";
  std::string header =
      "{'descr': '" + descr(a.type) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces so that the data starts on a 64-byte boundary, as NumPy does.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  out.push_back(uint8_t(header.size() & 0xff));
  out.push_back(uint8_t(header.size() >> 8));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), a.data.begin(), a.data.end());
  return out;
}

void save(const std::string& path, const Array& a) {
  files::writeFileAtomic(path, serialize(a));
}

Array fromFloat(const std::vector<float>& values, const std::vector<int64_t>& shape) {
  Array a;
  a.type = ElemType::f32;
  a.shape = shape;
  a.data.resize(values.size() * 4);
  // An empty tensor (a zero-sized slice) has no buffer: memcpy of a null pointer is undefined.
  if (!values.empty()) std::memcpy(a.data.data(), values.data(), a.data.size());
  return a;
}

}  // namespace kiln::npy
