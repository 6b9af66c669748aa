// libFuzzer target for the .kef loader (tools/fuzz/run_fuzz.sh kef runs it).
//
// Each input is loaded with the checksums off (so mutations reach the parser and the validation
// instead of stopping at a CRC) and the default limits (loading allocates no arena, so large
// declared shapes exercise the validation's overflow checks); a program that loads and is cheap
// to run (arena up to 1 MiB, the loader's estimated work Model::work() up to 200 k) is then run
// once on zero inputs, given as float32 (host quantization) or as device integers. rt::Error is
// the expected outcome of bad input; anything else (a sanitizer report, another exception, a
// crash, a timeout) is a finding.
//
// A program with a section "nms" and small outputs (up to 4096 values) also runs the host's
// box decoding and NMS on those outputs.
//
// Seeds: the hand-built sample programs (tests/runtime/format/kef_programs.h), one of them with
// a section "nms", written by kiln_fuzz_seeds.
#include <cstdint>
#include <vector>

#include "runtime/api/runtime.h"

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
  int64_t outElems = 0;
  for (const StreamDesc& s : model->outputs()) {
    bufs.emplace_back(size_t(streamElements(s)) * 4);
    outs.push_back({bufs.back().data(), bufs.back().size(), BufferType::Float32});
    outElems += streamElements(s);
  }
  session.run(ins, outs);
  if (model->nms() && outElems <= 4096 && nmsOutputSize(*model->nms()) <= (1 << 20)) {
    std::vector<NmsTensor> t;
    for (size_t k = 0; k < outs.size(); ++k)
      t.push_back({static_cast<const float*>(outs[k].data), model->outputs()[k].shape,
                   model->outputs()[k].layout});
    runNms(*model->nms(), t);
  }
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
