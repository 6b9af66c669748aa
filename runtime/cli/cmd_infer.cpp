// kilnrt infer FILE.kef --input-files A.npy ... --output-dir D: runs the executable on .npy
// inputs and writes the outputs as `kiln infer --target quantized` does (same files, same bytes).
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "common/infer_outputs.h"
#include "runtime/cli/args.h"
#include "runtime/cli/cli_util.h"
#include "runtime/cli/commands.h"
#include "runtime/cli/frames.h"

namespace kiln::rt::cli {

namespace {

npy::ElemType outputNpyType(BufferType t, const StreamDesc& s) {
  if (t == BufferType::Float32) return npy::ElemType::f32;
  return elementBytes(t, s) == 2 ? npy::ElemType::u16 : npy::ElemType::u8;
}

}  // namespace

int cmdInfer(const Args& args) {
  ArgParser ap(
      "infer", "FILE.kef --input-files A.npy [B.npy ...] --output-dir DIR [options]",
      "Runs the executable on .npy inputs and writes one .npy per output, named after the ONNX "
      "output (characters outside [A-Za-z0-9._-] become '_'), and outputs.json listing names, "
      "shapes, files and dtypes in output order: the same files, byte for byte, as `kiln infer "
      "--target quantized` on the optimized archive. Inputs are given in the ONNX model's layout "
      "and shape; a leading batch dimension N > 1 runs N frames. float32 inputs are quantized on "
      "the host (q = rint(clip(x, limvals) / qp_scale + qp_zp)); uint8/uint16 inputs are the "
      "device integers, passed as they are.");
  ap.positional("FILE.kef", "The executable (from kiln compiler).");
  ap.multi("--input-files", "A.npy",
           "One .npy per network input, in input order (kilnrt parse lists them).");
  ap.value("--output-dir", "DIR", "Where to write <output>.npy and outputs.json (created).");
  ap.value("--user-format-type", "TYPE",
           "Output format: float32 (dequantized, x = (q - qp_zp) * qp_scale), auto (the device "
           "integers: uint8 or uint16 by the stream), uint8 or uint16.",
           "float32");
  ap.value("--input-format-type", "TYPE",
           "Input format: float32, uint8, uint16 or auto (the stream's device type); the .npy "
           "dtype must match it. Default: follow each file's dtype (float32, uint8 or uint16).");
  ap.flag("--raw-outputs",
          "For an executable with nms_postprocess: write the network's outputs instead of the "
          "decoded boxes.");
  ap.flag("--profile", "Also print the time of the 10 slowest operations (mean per frame).");
  addThreadsOption(ap);
  ap.epilog(
      "example:\n"
      "  kilnrt infer digits_cnn.kef --input-files test_x.npy --output-dir out/\n"
      "  kilnrt infer digits_cnn.kef --input-files test_x.npy --output-dir raw/ "
      "--user-format-type auto\n");
  if (!ap.parse(args)) return 0;
  if (!ap.has("--input-files")) throw UsageError("infer: --input-files is required");
  if (!ap.has("--output-dir")) throw UsageError("infer: --output-dir is required");
  const std::vector<std::string> kTypes = {"auto", "uint8", "uint16", "float32"};
  const BufferType outType = parseBufferType(ap.getChoice("--user-format-type", kTypes));
  const std::string inFormat =
      ap.has("--input-format-type") ? ap.getChoice("--input-format-type", kTypes) : "";
  std::string outDir = ap.get("--output-dir");
  if (outDir.empty())
    throw UsageError(
        "infer: --output-dir is empty (\"\" would write into /); give a directory, e.g. . for "
        "the current one");
  while (outDir.size() > 1 && outDir.back() == '/') outDir.pop_back();
  const bool profile = ap.has("--profile");
  const auto model = Model::open(ap.positionals("FILE.kef")[0]);
  const NmsConfig* nms = ap.has("--raw-outputs") ? nullptr : model->nms();
  if (nms && outType != BufferType::Float32)
    throw UsageError(
        "infer: this executable decodes boxes (nms_postprocess), which needs float32 outputs; "
        "add --raw-outputs to get the device integers");
  FrameBuffers fb = loadInputs(*model, ap.getAll("--input-files"), inFormat);
  allocateOutputs(*model, outType, fb);
  Session session(model);
  session.onWarning = warn;
  session.setProfiling(profile);
  session.setThreads(threadsOption(ap));
  OpProfile prof;

  const auto& outs = model->outputs();
  const int64_t batch = fb.samples;
  std::vector<std::vector<uint8_t>> results(outs.size());
  std::vector<float> boxes;  // nms: every frame's decoded boxes
  for (size_t k = 0; k < outs.size(); ++k) results[k].reserve(fb.outData[k].size() * size_t(batch));
  double seconds = 0;
  for (int64_t s = 0; s < batch; ++s) {
    session.run(fb.inputs(s), fb.outputs());
    seconds += session.lastRunSeconds();
    if (profile) prof.add(session.opSeconds());
    if (nms) {
      std::vector<NmsTensor> t;
      for (size_t k = 0; k < outs.size(); ++k)
        t.push_back(
            {reinterpret_cast<const float*>(fb.outData[k].data()), outs[k].shape, outs[k].layout});
      const std::vector<float> b = runNms(*nms, t);
      boxes.insert(boxes.end(), b.begin(), b.end());
      continue;
    }
    for (size_t k = 0; k < outs.size(); ++k)
      results[k].insert(results[k].end(), fb.outData[k].begin(), fb.outData[k].end());
  }

  std::vector<InferOutput> written;
  if (nms) written.push_back({kNmsOutputName, npy::fromFloat(boxes, {1, nmsOutputSize(*nms)})});
  for (size_t k = 0; k < outs.size() && !nms; ++k) {
    InferOutput o{outs[k].name, {}};
    o.array.type = outputNpyType(outType, outs[k]);
    o.array.shape = outs[k].shape;
    o.array.data = std::move(results[k]);
    written.push_back(std::move(o));
  }
  writeInferOutputs(outDir, "quantized", batch, std::move(written), warn);
  std::printf("Ran %lld frame(s) in %.3f ms (%.4f ms per frame)\n", static_cast<long long>(batch),
              seconds * 1e3, seconds * 1e3 / double(batch));
  if (profile) prof.print(model->program());
  return 0;
}

}  // namespace kiln::rt::cli
