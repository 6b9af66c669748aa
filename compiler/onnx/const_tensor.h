// Constant tensors seen while importing ONNX: initializers, Constant nodes and folded values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir/types.h"

namespace onnx {
class TensorProto;
}

namespace kiln::onnx {

/// A constant of any ONNX element type. Floating-point values live in `f`, integer and bool
/// values in `i`; exactly one of them is filled.
struct ConstTensor {
  int32_t dtype = 1;  // ::onnx::TensorProto_DataType
  Shape shape;
  std::vector<double> f;
  std::vector<int64_t> i;

  bool isFloat() const;
  int64_t numel() const { return kiln::numel(shape); }
  double value(int64_t k) const { return isFloat() ? f[k] : double(i[k]); }
  int64_t intValue(int64_t k) const;
  std::vector<int64_t> ints() const;
  std::vector<float> floats() const;
  std::vector<double> doubles() const;
  /// As a Kiln float32 parameter tensor.
  Tensor toTensor() const;

  static ConstTensor fromInts(const std::vector<int64_t>& v, const Shape& shape, int32_t dtype = 7);
  static ConstTensor fromDoubles(const std::vector<double>& v, const Shape& shape,
                                 int32_t dtype = 1);
  /// Resizes storage for `shape`, keeping the dtype.
  void allocate();
  void set(int64_t k, double v);
};

/// Whether Kiln can hold constants of this ONNX element type.
bool constDtypeSupported(int32_t dtype);
/// "float32", "int64", …
std::string dtypeName(int32_t dtype);

/// Decodes a TensorProto (raw_data or typed fields, or external data relative to `baseDir`).
/// `what` names the tensor for errors.
ConstTensor fromProto(const ::onnx::TensorProto& t, const std::string& baseDir,
                      const std::string& what);

}  // namespace kiln::onnx
