// kiln infer FILE.kar --target native: run the network on .npy inputs and write .npy outputs
// (flow::inferArchive, which the Python API's ClientRunner.infer calls too).
#include "common/infer_outputs.h"
#include "common/npy.h"
#include "compiler/archive/archive.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/options.h"
#include "compiler/flow/infer_archive.h"

namespace kiln::cli {

namespace {

struct InferArgs {
  std::string archive, target = "native", outDir, userFormat = "float32";
  bool rawOutputs = false;
  std::vector<std::string> inputs;
};

void runInfer(const InferArgs& args) {
  const Archive a = readArchive(args.archive);
  std::vector<flow::InferInput> inputs;
  for (const auto& path : args.inputs) inputs.push_back({path, npy::load(path)});
  flow::InferOptions o;
  o.target = flow::parseInferTarget(args.target);
  o.rawIntegers = args.userFormat == "auto";
  o.rawOutputs = args.rawOutputs;
  flow::InferResult r = flow::inferArchive(a, args.archive, inputs, o);
  writeInferOutputs(args.outDir, args.target, r.batch, std::move(r.outputs), printNote);
}

}  // namespace

void addInferCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("infer", "Run an archive on .npy inputs (emulation on the host)");
  auto args = std::make_shared<InferArgs>();
  cmd->add_option("archive", args->archive, "The .kar file")->required();
  cmd->add_option("--target", args->target,
                  "native: the parsed float network (default); fp-optimized: an optimized archive "
                  "in float, after the script's float changes; quantized: the integer emulation, "
                  "bit-exact with the runtime")
      ->check(CLI::IsMember({"native", "fp-optimized", "quantized"}));
  cmd->add_option("--user-format-type", args->userFormat,
                  "Output format of --target quantized: float32 (dequantized, default) or auto "
                  "(the uint8/uint16 integers as they are)")
      ->check(CLI::IsMember({"float32", "auto"}));
  cmd->add_flag("--raw-outputs", args->rawOutputs,
                "For an archive whose script has nms_postprocess: write the network's outputs "
                "instead of the decoded boxes (nms_postprocess.npy, docs/runtime.md)");
  cmd->add_option("--input-files", args->inputs,
                  "One .npy per network input, in the ONNX model's layout and shape (float32); a "
                  "leading batch dimension N > 1 runs N samples")
      ->required();
  cmd->add_option("--output-dir", args->outDir, "Where to write <output>.npy and outputs.json")
      ->required()
      ->check(nonEmptyPath());
  cmd->callback([args]() { runInfer(*args); });
}

}  // namespace kiln::cli
