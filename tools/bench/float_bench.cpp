// Times Kiln's float emulation of an archive on one input: prints the median ms per inference
// over N runs after 3 warm-ups, as one JSON line (compared against onnxruntime by run_float.sh).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>

#include "common/npy.h"
#include "compiler/archive/archive.h"
#include "compiler/emulator/float_executor.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: kiln_float_bench MODEL.kar INPUT.npy [RUNS]\n";
    return 2;
  }
  try {
    const kiln::Archive a = kiln::readArchive(argv[1]);
    const kiln::npy::Array arr = kiln::npy::load(argv[2]);
    const int runs = argc > 3 ? std::atoi(argv[3]) : 20;
    kiln::FloatBuffer in;
    in.shape = arr.shape;
    in.data = arr.toFloat();
    std::vector<double> ms;
    for (int i = 0; i < runs + 3; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto out = kiln::runFloat(a.graph, {in});
      const auto t1 = std::chrono::steady_clock::now();
      if (i >= 3) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::cout << "{\"kiln_ms_per_inference\": " << ms[ms.size() / 2] << "}\n";
  } catch (const std::exception& e) {
    std::cerr << "kiln_float_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
