// libFuzzer target for the .kef loader (tools/fuzz/run_kef_fuzz.sh builds and runs it).
//
// Each input is loaded with the checksums off (so mutations reach the parser and the validation
// instead of stopping at a CRC) and the default limits (loading allocates no arena, so large
// declared shapes exercise the validation's overflow checks); a program that loads and is cheap
// to run (arena up to 1 MiB, the loader's estimated work Model::work() up to 200 k) is then run
// once on zero inputs, given as float32 (host quantization) or as device integers. rt::Error is
// the expected outcome of bad input; anything else (a sanitizer report, another exception, a
// crash, a timeout) is a finding.
//
// Built with -DKEF_FUZZ_WRITE_SEEDS it is instead a program writing the hand-built sample
// programs (tests/unit/kef_programs.h) as .kef seeds into the directory given.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "runtime/api/runtime.h"
#include "runtime/format/kef.h"
#include "tests/runtime/format/kef_programs.h"

#ifndef KEF_FUZZ_WRITE_SEEDS

namespace {

void runOnZeros(const std::shared_ptr<const kiln::rt::Model>& model, bool floats) {
  using namespace kiln::rt;
  Session session(model);
  std::vector<std::vector<uint8_t>> bufs;
  std::vector<InputBuffer> ins;
  std::vector<OutputBuffer> outs;
  for (const StreamDesc& s : model->inputs()) {
    bufs.emplace_back(size_t(streamElements(s)) * (floats ? 4 : s.bits == 16 ? 2 : 1));
    ins.push_back(
        {bufs.back().data(), bufs.back().size(), floats ? BufferType::Float32 : BufferType::Auto});
  }
  for (const StreamDesc& s : model->outputs()) {
    bufs.emplace_back(size_t(streamElements(s)) * 4);
    outs.push_back({bufs.back().data(), bufs.back().size(), BufferType::Float32});
  }
  session.run(ins, outs);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kiln::rt::LoadOptions o;
  o.verifyChecksums = false;
  try {
    const auto model = kiln::rt::Model::fromBytes(data, size, "fuzz.kef", o);
    if (model->program().arenaElems <= (1 << 18) && model->work() <= 200000)
      runOnZeros(model, size % 2 == 1);
  } catch (const kiln::rt::Error&) {
  }
  return 0;
}

#else

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SEED_DIR\n", argv[0]);
    return 2;
  }
  const std::pair<const char*, std::unique_ptr<kiln::rt::OwnedProgram>> samples[] = {
      {"cnn", kiln::test::makeCnnProgram()},
      {"misc", kiln::test::makeMiscProgram()},
      {"tiny", kiln::test::makeTinyProgram()}};
  for (const auto& [name, owned] : samples) {
    const auto bytes = kiln::rt::writeKef(owned->program, std::string("plan of ") + name);
    const std::string path = std::string(argv[1]) + "/" + name + ".kef";
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
      std::perror(path.c_str());
      return 1;
    }
    std::fclose(f);
  }
  return 0;
}

#endif
