// libFuzzer target for the ONNX importer: the input is an .onnx file given to what `kiln parser
// onnx` runs, onnx::importFile (protobuf decoding, the ONNX checker, the importer, the import
// passes), then the parsed archive is serialized as `kiln parser` writes it. kiln::Error is
// the expected outcome of bad input; anything else is a finding.
//
// Seeds (tools/fuzz/run_fuzz.sh): the digits CNN, the real models when cached, and the ONNX
// conformance models of libonnx-testdata.
#include <cstdint>

#include "compiler/archive/archive.h"
#include "compiler/onnx/importer.h"
#include "tests/fuzz/fuzz_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = kiln::fuzz::writeInput("model.onnx", data, size);
  try {
    kiln::Archive a;
    a.graph = kiln::onnx::importFile(path, kiln::onnx::ImportOptions{});
    a.graphHash = kiln::graphHash(a.graph);
    a.toolVersion = kiln::toolVersion();
    a.stages = {"parse"};
    kiln::serializeArchive(a);
  } catch (const kiln::Error&) {
  }
  return 0;
}
