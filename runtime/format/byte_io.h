// Little-endian binary writing and checked reading for the .kef sections. Every read is bounds
// checked; a failure names the section and the field.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/engine/program.h"

namespace kiln::rt {

static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE float sizes");
// .kef files are little-endian and read with memcpy: big-endian hosts are not supported.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the .kef format is little-endian");

class ByteWriter {
 public:
  std::vector<uint8_t> bytes;
  template <typename T>
  void put(T v) {
    const size_t at = bytes.size();
    bytes.resize(at + sizeof(T));
    std::memcpy(bytes.data() + at, &v, sizeof(T));
  }
  void u32(uint32_t v) { put(v); }
  void i64(int64_t v) { put(v); }
  void str(const std::string& s) {
    u32(uint32_t(s.size()));
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
  void i64s(const std::vector<int64_t>& v) {
    u32(uint32_t(v.size()));
    for (int64_t x : v) i64(x);
  }
  void u32s(const std::vector<uint32_t>& v) {
    u32(uint32_t(v.size()));
    for (uint32_t x : v) u32(x);
  }
  void align(size_t a) {
    while (bytes.size() % a) bytes.push_back(0);
  }
};

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size, std::string section)
      : p_(data), size_(size), section_(std::move(section)) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw Error("section '" + section_ + "': " + what);
  }
  template <typename T>
  T get(const char* field) {
    if (size_ - pos_ < sizeof(T))
      fail(std::string("truncated reading ") + field + " at byte " + std::to_string(pos_));
    T v;
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  uint32_t u32(const char* field) { return get<uint32_t>(field); }
  int64_t i64(const char* field) { return get<int64_t>(field); }
  /// A count of elements of `elemSize` bytes each that must fit in what is left.
  uint32_t count(const char* field, size_t elemSize) {
    const uint32_t n = u32(field);
    if (elemSize && n > (size_ - pos_) / elemSize)
      fail(std::string(field) + " = " + std::to_string(n) + " is more than the " +
           std::to_string(size_ - pos_) + " bytes left can hold");
    return n;
  }
  std::string str(const char* field) {
    const uint32_t n = count(field, 1);
    std::string s(reinterpret_cast<const char*>(p_ + pos_), n);
    pos_ += n;
    return s;
  }
  std::vector<int64_t> i64s(const char* field) {
    std::vector<int64_t> v(count(field, 8));
    for (auto& x : v) x = i64(field);
    return v;
  }
  std::vector<uint32_t> u32s(const char* field) {
    std::vector<uint32_t> v(count(field, 4));
    for (auto& x : v) x = u32(field);
    return v;
  }
  void expectEnd() const {
    if (pos_ != size_)
      fail(std::to_string(size_ - pos_) + " unexpected trailing bytes at byte " +
           std::to_string(pos_));
  }
  size_t pos() const { return pos_; }

 private:
  const uint8_t* p_;
  size_t size_, pos_ = 0;
  std::string section_;
};

}  // namespace kiln::rt
