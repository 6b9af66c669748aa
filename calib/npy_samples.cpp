#include "calib/npy_samples.h"

#include <cmath>
#include <cstring>

namespace kiln::calib {

std::vector<int64_t> checkInputs(const std::vector<InputSpec>& inputs) {
  if (inputs.empty()) throw CalibError("calibration: the network has no inputs");
  std::vector<int64_t> counts;
  for (const InputSpec& in : inputs) {
    int64_t n = 1;
    for (int64_t d : in.shape) {
      if (d <= 0)
        throw CalibError("calibration: input '" + in.name + "' has shape " + shapeStr(in.shape) +
                         "; every dimension must be known and positive (batch 1)");
      if (n > kMaxInputElements / d)
        throw CalibError("calibration: input '" + in.name + "' with shape " + shapeStr(in.shape) +
                         " is too large (more than " + std::to_string(kMaxInputElements) +
                         " elements)");
      n *= d;
    }
    counts.push_back(n);
  }
  return counts;
}

npy::Array loadNpy(const std::string& path) {
  try {
    return npy::load(path);
  } catch (const npy::NpyError& e) {
    throw CalibError(e.what());
  }
}

npy::Array parseNpy(const std::vector<uint8_t>& bytes, const std::string& what) {
  try {
    return npy::parse(bytes, what);
  } catch (const npy::NpyError& e) {
    throw CalibError(e.what());
  }
}

namespace {

std::vector<float> convert(const npy::Array& a, size_t first, size_t count) {
  std::vector<float> out(count);
  const uint8_t* p = a.data.data();
  switch (a.type) {
    case npy::ElemType::f32:
      std::memcpy(out.data(), p + first * 4, count * 4);
      break;
    case npy::ElemType::f64:
      for (size_t i = 0; i < count; ++i) {
        double v;
        std::memcpy(&v, p + (first + i) * 8, 8);
        out[i] = float(v);
      }
      break;
    case npy::ElemType::u8:
      for (size_t i = 0; i < count; ++i) out[i] = float(p[first + i]);
      break;
    default:
      break;  // rejected by the caller
  }
  return out;
}

}  // namespace

std::vector<std::vector<float>> arrayToSamples(const npy::Array& a, const InputSpec& input,
                                               ArrayForm form, size_t maxSamples,
                                               const std::string& what, size_t* available) {
  const std::vector<int64_t>& s = input.shape;
  const std::vector<int64_t> inner(s.empty() ? s.begin() : s.begin() + 1, s.end());
  const bool batchOne = !s.empty() && s[0] == 1;
  const bool typeOk =
      a.type == npy::ElemType::f32 || a.type == npy::ElemType::f64 || a.type == npy::ElemType::u8;
  int64_t n = -1;  // samples held; -1 = shape does not fit
  if (a.shape == s) {
    n = 1;
  } else if (batchOne && a.shape == inner) {
    n = 1;
  } else if (form == ArrayForm::stacked && !a.shape.empty()) {
    const std::vector<int64_t> rest(a.shape.begin() + 1, a.shape.end());
    if ((batchOne && rest == inner) || rest == s) n = a.shape[0];
  }
  if (!typeOk || n < 0) {
    std::string expected = shapeStr(s);
    if (batchOne) {
      std::vector<int64_t> alt = inner;
      if (form == ArrayForm::stacked) {
        std::string st = "[N";
        for (int64_t d : inner) st += ", " + std::to_string(d);
        expected += " or " + st + "]";
      } else {
        expected += " or " + shapeStr(alt);
      }
    }
    throw CalibError(what + ": expected float32/uint8 data of shape " + expected + " for input '" +
                     input.name + "', found " + npy::typeName(a.type) + " " + shapeStr(a.shape));
  }
  // n * per-sample elements == a.numel(), which npy::parse bounded by the file size.
  const size_t per = size_t(a.numel() / std::max<int64_t>(n, 1));
  if (available) *available = size_t(n);
  const size_t take = maxSamples == 0 ? size_t(n) : std::min(size_t(n), maxSamples);
  std::vector<std::vector<float>> out;
  out.reserve(take);
  for (size_t i = 0; i < take; ++i) {
    out.push_back(convert(a, i * per, per));
    for (float v : out.back())
      if (!std::isfinite(v))
        throw CalibError(what + ": sample " + std::to_string(i) + " for input '" + input.name +
                         "' contains NaN or infinite values");
  }
  return out;
}

}  // namespace kiln::calib
