// libFuzzer target for the .kar reader: the input is an archive given to readArchive, the entry
// point of `kiln info`, `kiln optimize`, `kiln compiler` and `kiln infer`; an archive that reads
// is serialized again. kiln::Error (and npy::NpyError, the file layer's error) is the expected
// outcome of bad input; anything else is a finding.
//
// Seeds (tools/fuzz/run_fuzz.sh): the digits CNN's archives from `kiln parser` and `kiln
// optimize` (float graph, then quantized parameters).
#include <cstdint>

#include "common/npy.h"
#include "compiler/archive/archive.h"
#include "tests/fuzz/fuzz_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = kiln::fuzz::writeInput("network.kar", data, size);
  try {
    const kiln::Archive a = kiln::readArchive(path);
    kiln::serializeArchive(a);
  } catch (const kiln::Error&) {
  } catch (const kiln::npy::NpyError&) {
  }
  return 0;
}
