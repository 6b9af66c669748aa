// Reading and writing NumPy .npy files (format versions 1.0-3.0, little-endian, C order).
//
// Untrusted input is validated here: every header field is checked and the payload size must equal
// the product of the shape times the element size (with overflow checks). Errors are NpyError with
// a message that names the file and what was expected.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/file_io.h"

namespace kiln::npy {

/// Element types Kiln reads and writes.
enum class ElemType { f32, f64, u8, i8, u16, i16, i32, i64, u32, b1 };

/// Size in bytes of one element.
size_t elemSize(ElemType t);
/// NumPy descr string, e.g. "<f4".
std::string descr(ElemType t);
/// Short readable name, e.g. "float32".
std::string typeName(ElemType t);

/// Errors of .npy files, and of reading and writing any file (common/file_io.h).
using NpyError = files::FileError;

/// An array loaded from or about to be written to a .npy file.
struct Array {
  ElemType type = ElemType::f32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;  // raw little-endian bytes, C order

  int64_t numel() const;
  /// Converts every element to float (float64 and int64 values lose precision as float does).
  std::vector<float> toFloat() const;
};

/// Parses .npy bytes; `what` names the source in error messages.
Array parse(const std::vector<uint8_t>& bytes, const std::string& what);
/// The same, taking over `bytes` (its payload becomes the array's data, without a copy).
Array parse(std::vector<uint8_t>&& bytes, const std::string& what);
/// Reads a .npy file.
Array load(const std::string& path);
/// Reads only the header of a .npy file, with the checks load() makes (the file's size included):
/// the array's type and shape (data empty), and the byte offset of its data in the file.
Array loadHeader(const std::string& path, uint64_t& dataOffset);
/// Serialises an array to .npy bytes (version 1.0, deterministic header).
std::vector<uint8_t> serialize(const Array& a);
/// Writes a .npy file atomically (temporary file + rename).
void save(const std::string& path, const Array& a);
/// Convenience: a float32 array from values and shape.
Array fromFloat(const std::vector<float>& values, const std::vector<int64_t>& shape);

}  // namespace kiln::npy
