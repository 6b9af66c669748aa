// Fuzz targets of the tools' file readers: the input's bytes as a file, so each target calls the
// very entry point the tools call with a path (kiln parser onnx, kiln optimize, kiln info).
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace kiln::fuzz {

/// A directory of this process's own in $TMPDIR (tools/fuzz/run_fuzz.sh points it into /dev/shm
/// when it can, and removes it afterwards) or /tmp. Created once; the inputs are written into it.
inline const std::string& scratchDir() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/kiln_fuzz_XXXXXX";
    if (!mkdtemp(templ.data())) {
      std::perror(templ.c_str());
      std::abort();
    }
    return templ;
  }();
  return dir;
}

/// Writes `data` to `name` inside scratchDir() (replacing it) and returns the full path.
inline std::string writeInput(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratchDir() + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
  return path;
}

}  // namespace kiln::fuzz
