// Reading the ONNX backend suite's files (model.onnx, test_data_set_*/input_N.pb), shared by
// the float and the integer conformance runners.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace kiln::test {

inline std::string readFile(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

/// Parses a protobuf file; false when it is missing or does not parse.
template <typename Proto>
bool parseFile(const std::filesystem::path& p, Proto& out) {
  return std::filesystem::exists(p) && out.ParseFromString(readFile(p));
}

}  // namespace kiln::test
