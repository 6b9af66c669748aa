// Helpers for importer tests written in ONNX's text syntax.
#pragma once

#include <gtest/gtest.h>

#include <onnx/defs/parser.h>
#include <onnx/onnx_pb.h>

#include <random>
#include <sstream>
#include <string>

#include "compiler/emulator/float_executor.h"
#include "compiler/onnx/importer.h"

namespace kiln::test {

/// Parses ONNX text syntax into a model; fails the test on a syntax error.
inline ::onnx::ModelProto parseText(const std::string& text) {
  ::onnx::ModelProto m;
  const auto status = ::onnx::OnnxParser::Parse(m, text.c_str());
  EXPECT_TRUE(status.IsOK()) << status.ErrorMessage() << "\n" << text;
  return m;
}

inline Graph importText(const std::string& text, onnx::ImportOptions o = {}) {
  o.netName = o.netName.empty() ? "test" : o.netName;
  return onnx::importModel(parseText(text), ".", o);
}

/// A float tensor literal "float[d0,d1] {v0, v1, ...}" with deterministic pseudo-random values.
inline std::string tensorLiteral(const std::vector<int64_t>& shape, unsigned seed, float lo = -1,
                                 float hi = 1, std::vector<float>* values = nullptr) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::ostringstream os;
  os << "float[";
  int64_t n = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    os << (i ? "," : "") << shape[i];
    n *= shape[i];
  }
  os << "] {";
  for (int64_t i = 0; i < n; ++i) {
    const float v = dist(rng);
    if (values) values->push_back(v);
    os << (i ? ", " : "") << v;
  }
  os << "}";
  return os.str();
}

/// Deterministic random input buffer.
inline FloatBuffer randomInput(const Shape& shape, unsigned seed, float lo = -2, float hi = 2) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  FloatBuffer b;
  b.shape = shape;
  for (int64_t i = 0; i < numel(shape); ++i) b.data.push_back(dist(rng));
  return b;
}

/// Type words of the graph's layers in order, e.g. "input_layer conv+relu output_layer".
inline std::string layerTypes(const Graph& g) {
  std::string s;
  for (const Layer& l : g.layers) {
    if (!s.empty()) s += " ";
    s += typeWord(l.type);
    if (l.activation.kind != ActKind::None) s += std::string("+") + actName(l.activation.kind);
  }
  return s;
}

}  // namespace kiln::test
