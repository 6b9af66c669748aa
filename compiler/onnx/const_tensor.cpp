#include "compiler/onnx/const_tensor.h"

#include <cmath>
#include <cstring>
#include <fstream>

#include <onnx/onnx_pb.h>

namespace kiln::onnx {

using TP = ::onnx::TensorProto;

bool ConstTensor::isFloat() const {
  return dtype == TP::FLOAT || dtype == TP::DOUBLE || dtype == TP::FLOAT16 || dtype == TP::BFLOAT16;
}

int64_t ConstTensor::intValue(int64_t k) const {
  if (!isFloat()) return i[k];
  const double v = f[k];
  if (!std::isfinite(v) || std::fabs(v) > 9.2e18) return v < 0 ? INT64_MIN : INT64_MAX;
  return int64_t(v);
}

std::vector<int64_t> ConstTensor::ints() const {
  std::vector<int64_t> out(numel());
  for (int64_t k = 0; k < numel(); ++k) out[k] = intValue(k);
  return out;
}

std::vector<double> ConstTensor::doubles() const {
  std::vector<double> out(numel());
  for (int64_t k = 0; k < numel(); ++k) out[k] = value(k);
  return out;
}

std::vector<float> ConstTensor::floats() const {
  std::vector<float> out(numel());
  for (int64_t k = 0; k < numel(); ++k) out[k] = float(value(k));
  return out;
}

Tensor ConstTensor::toTensor() const {
  Tensor t;
  t.shape = shape;
  t.data = floats();
  return t;
}

ConstTensor ConstTensor::fromInts(const std::vector<int64_t>& v, const Shape& shape, int32_t dt) {
  ConstTensor c;
  c.dtype = dt;
  c.shape = shape;
  c.i = v;
  return c;
}

ConstTensor ConstTensor::fromDoubles(const std::vector<double>& v, const Shape& shape, int32_t dt) {
  ConstTensor c;
  c.dtype = dt;
  c.shape = shape;
  c.f = v;
  return c;
}

void ConstTensor::allocate() {
  for (int64_t d : shape)
    if (d < 0)
      throw Error("a folded constant would have shape " + shapeStr(shape) +
                  ": expected dimensions >= 0");
  if (numel() > (int64_t(1) << 28))
    throw Error("a folded constant would have shape " + shapeStr(shape) +
                ": expected at most 2^28 elements (Kiln's limit for compile-time constants)");
  if (isFloat()) {
    f.assign(numel(), 0.0);
    i.clear();
  } else {
    i.assign(numel(), 0);
    f.clear();
  }
}

void ConstTensor::set(int64_t k, double v) {
  if (isFloat()) {
    f[k] = dtype == TP::FLOAT ? double(float(v)) : v;
  } else if (dtype == TP::BOOL) {
    i[k] = v != 0;
  } else {
    i[k] = std::isfinite(v) ? int64_t(v) : 0;
  }
}

bool constDtypeSupported(int32_t dt) {
  switch (dt) {
    case TP::FLOAT:
    case TP::DOUBLE:
    case TP::FLOAT16:
    case TP::INT8:
    case TP::UINT8:
    case TP::INT16:
    case TP::UINT16:
    case TP::INT32:
    case TP::UINT32:
    case TP::INT64:
    case TP::UINT64:
    case TP::BOOL:
      return true;
    default:
      return false;
  }
}

std::string dtypeName(int32_t dt) {
  switch (dt) {
    case TP::FLOAT:
      return "float32";
    case TP::DOUBLE:
      return "float64";
    case TP::FLOAT16:
      return "float16";
    case TP::BFLOAT16:
      return "bfloat16";
    case TP::INT8:
      return "int8";
    case TP::UINT8:
      return "uint8";
    case TP::INT16:
      return "int16";
    case TP::UINT16:
      return "uint16";
    case TP::INT32:
      return "int32";
    case TP::UINT32:
      return "uint32";
    case TP::INT64:
      return "int64";
    case TP::UINT64:
      return "uint64";
    case TP::BOOL:
      return "bool";
    case TP::STRING:
      return "string";
    case TP::COMPLEX64:
      return "complex64";
    case TP::COMPLEX128:
      return "complex128";
    default:
      return "type " + std::to_string(dt);
  }
}

namespace {

float halfToFloat(uint16_t h) {
  const uint32_t sign = uint32_t(h >> 15) << 31;
  int32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ff;
      bits = sign | (uint32_t(exp) << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | (uint32_t(exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

template <typename T>
void decodeRaw(const std::string& raw, ConstTensor& c) {
  for (int64_t k = 0; k < c.numel(); ++k) {
    T v;
    std::memcpy(&v, raw.data() + k * sizeof(T), sizeof(T));
    c.set(k, double(v));
  }
}

size_t rawElemSize(int32_t dt) {
  switch (dt) {
    case TP::DOUBLE:
    case TP::INT64:
    case TP::UINT64:
      return 8;
    case TP::FLOAT:
    case TP::INT32:
    case TP::UINT32:
      return 4;
    case TP::FLOAT16:
    case TP::INT16:
    case TP::UINT16:
      return 2;
    default:
      return 1;
  }
}

std::string readExternal(const TP& t, const std::string& baseDir, const std::string& what) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& e : t.external_data()) {
    if (e.key() == "location") location = e.value();
    if (e.key() == "offset") offset = std::atoll(e.value().c_str());
    if (e.key() == "length") length = std::atoll(e.value().c_str());
  }
  if (location.empty() || location.find("..") != std::string::npos || location[0] == '/')
    throw Error("tensor " + what + ": external data has no valid relative 'location' ('" +
                location + "')");
  const std::string path = baseDir + "/" + location;
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw Error("tensor " + what + ": its weights are stored in the external data file '" + path +
                "', which cannot be opened. Keep the external data files next to the .onnx file.");
  f.seekg(0, std::ios::end);
  const int64_t size = f.tellg();
  if (length < 0) length = size - offset;
  if (offset < 0 || offset + length > size)
    throw Error("tensor " + what + ": external data file '" + path + "' is " +
                std::to_string(size) + " bytes, but the tensor needs bytes " +
                std::to_string(offset) + ".." + std::to_string(offset + length));
  std::string data(size_t(length), '\0');
  f.seekg(offset);
  f.read(data.data(), length);
  return data;
}

}  // namespace

ConstTensor fromProto(const TP& t, const std::string& baseDir, const std::string& what) {
  ConstTensor c;
  c.dtype = t.data_type();
  if (!constDtypeSupported(c.dtype))
    throw Error("tensor " + what + " has element type " + dtypeName(c.dtype) +
                ", which Kiln does not support");
  for (int64_t d : t.dims()) {
    if (d < 0 || d > (int64_t(1) << 40)) throw Error("tensor " + what + " has a bad dimension");
    c.shape.push_back(d);
  }
  const int64_t n = c.numel();
  if (n > (int64_t(1) << 31)) throw Error("tensor " + what + " is too large");
  c.allocate();
  const bool external = t.data_location() == TP::EXTERNAL;
  if (external || t.has_raw_data()) {
    const std::string raw = external ? readExternal(t, baseDir, what) : t.raw_data();
    const size_t need = size_t(n) * rawElemSize(c.dtype);
    if (raw.size() != need)
      throw Error("tensor " + what + ": shape " + shapeStr(c.shape) + " of " + dtypeName(c.dtype) +
                  " needs " + std::to_string(need) + " bytes, found " + std::to_string(raw.size()) +
                  " (truncated or corrupt model?)");
    switch (c.dtype) {
      case TP::FLOAT:
        decodeRaw<float>(raw, c);
        break;
      case TP::DOUBLE:
        decodeRaw<double>(raw, c);
        break;
      case TP::FLOAT16:
        for (int64_t k = 0; k < n; ++k) {
          uint16_t h;
          std::memcpy(&h, raw.data() + 2 * k, 2);
          c.set(k, halfToFloat(h));
        }
        break;
      case TP::INT8:
        decodeRaw<int8_t>(raw, c);
        break;
      case TP::UINT8:
      case TP::BOOL:
        decodeRaw<uint8_t>(raw, c);
        break;
      case TP::INT16:
        decodeRaw<int16_t>(raw, c);
        break;
      case TP::UINT16:
        decodeRaw<uint16_t>(raw, c);
        break;
      case TP::INT32:
        decodeRaw<int32_t>(raw, c);
        break;
      case TP::UINT32:
        decodeRaw<uint32_t>(raw, c);
        break;
      case TP::INT64:
        decodeRaw<int64_t>(raw, c);
        break;
      case TP::UINT64:
        decodeRaw<uint64_t>(raw, c);
        break;
    }
    return c;
  }
  auto expectCount = [&](int64_t got) {
    if (got != n)
      throw Error("tensor " + what + ": shape " + shapeStr(c.shape) + " needs " +
                  std::to_string(n) + " values, found " + std::to_string(got));
  };
  switch (c.dtype) {
    case TP::FLOAT:
      expectCount(t.float_data_size());
      for (int64_t k = 0; k < n; ++k) c.set(k, t.float_data(k));
      break;
    case TP::DOUBLE:
      expectCount(t.double_data_size());
      for (int64_t k = 0; k < n; ++k) c.set(k, t.double_data(k));
      break;
    case TP::INT64:
      expectCount(t.int64_data_size());
      for (int64_t k = 0; k < n; ++k) c.i[k] = t.int64_data(k);
      break;
    case TP::UINT32:
    case TP::UINT64:
      expectCount(t.uint64_data_size());
      for (int64_t k = 0; k < n; ++k) c.i[k] = int64_t(t.uint64_data(k));
      break;
    case TP::FLOAT16:
      expectCount(t.int32_data_size());
      for (int64_t k = 0; k < n; ++k) c.set(k, halfToFloat(uint16_t(t.int32_data(k))));
      break;
    default:  // int8/16/32, uint8/16, bool are stored in int32_data
      expectCount(t.int32_data_size());
      for (int64_t k = 0; k < n; ++k) c.set(k, t.int32_data(k));
      break;
  }
  return c;
}

}  // namespace kiln::onnx
