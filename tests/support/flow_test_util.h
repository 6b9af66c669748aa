// Helpers for tests that compile a small network written in ONNX's text syntax end to end.
#pragma once

#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/npy.h"
#include "compiler/flow/compile_flow.h"
#include "tests/support/test_util.h"

namespace kiln::test {

/// Writes `modelText` as DIR/ONNX_NAME and `calib` (shape `calibShape`) as DIR/calib.npy, then
/// compiles them with the script through kiln's one-shot flow, which includes its bit-exact .kef
/// check. The flow's warnings go to `warnings` when given.
inline flow::CompileResult compileTextModel(const std::string& dir, const std::string& onnxName,
                                            const char* modelText, const std::vector<float>& calib,
                                            const std::vector<int64_t>& calibShape,
                                            const std::string& script,
                                            std::vector<std::string>* warnings = nullptr) {
  ::mkdir(dir.c_str(), 0755);
  const std::string onnxPath = dir + "/" + onnxName, calibPath = dir + "/calib.npy";
  {
    std::ofstream f(onnxPath, std::ios::binary);
    EXPECT_TRUE(parseText(modelText).SerializeToOstream(&f));
  }
  npy::save(calibPath, npy::fromFloat(calib, calibShape));
  flow::CompileOptions o;
  o.onnxPath = onnxPath;
  o.calibPath = calibPath;
  o.outputDir = dir;
  o.scriptText = script;
  if (warnings) o.warn = [warnings](const std::string& w) { warnings->push_back(w); };
  return flow::compileModel(o);
}

}  // namespace kiln::test
