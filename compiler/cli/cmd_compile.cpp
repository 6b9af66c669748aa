// kiln compile MODEL.onnx | --config NET.yaml | --manifest ZOO.yaml: parse, optimize, compile and
// verify in one go (the reference's `hailomz compile`); manifests run many networks in parallel.
#include <fmt/core.h>

#include "cli/commands.h"
#include "common/npy.h"
#include "flow/compile_flow.h"
#include "ir/types.h"

namespace kiln::cli {

namespace {

struct CompileArgs {
  std::string model, config, manifest;
  flow::CompileOptions opts;
};

void runCompile(CompileArgs& args) {
  if (args.model.empty())
    throw Error("give the ONNX model to compile (kiln compile MODEL.onnx ...)");
  flow::CompileOptions& o = args.opts;
  o.onnxPath = args.model;
  if (o.calibPath.empty() == !o.randomCalib)
    throw Error("give exactly one of --calib-set-path PATH and --use-random-calib-set");
  o.warn = [](const std::string& w) { fmt::print(stderr, "kiln: warning: {}\n", w); };
  o.info = [](const std::string& s) { fmt::print("{}\n", s); };
  const flow::CompileResult r = flow::compileModel(o);
  const std::string path = o.outputDir + "/" + r.netName + ".summary.json";
  const std::string text = r.summary.dump(2) + "\n";
  npy::writeFileAtomic(path, std::vector<uint8_t>(text.begin(), text.end()));
  fmt::print("\n{}  summary: {}\n", r.text, path);
}

}  // namespace

void addCompileCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "compile",
      "ONNX to a verified executable in one go: parse, optimize, compile, then run the .kef with "
      "the runtime and check it bit for bit against the quantized emulation");
  auto args = std::make_shared<CompileArgs>();
  flow::CompileOptions& o = args->opts;
  cmd->add_option("model", args->model, "The .onnx model");
  cmd->add_option("--calib-set-path", o.calibPath,
                  "Calibration data (images, .npy files, one .npy or .npz; docs/calibration.md)");
  cmd->add_flag("--use-random-calib-set", o.randomCalib,
                "Calibrate on random data (to try the flow only)");
  cmd->add_option("--calib-size", o.calibSize, "Calibration samples (default: the script's, 64)");
  cmd->add_option("--model-script", o.scriptPath, "A model script (.alls), docs/alls.md");
  cmd->add_option("--hw-arch", o.hwArch, "Target (default hailo8; docs/hw-arch.md)");
  cmd->add_option("--start-node-names", o.startNodes, "ONNX nodes where the network starts");
  cmd->add_option("--end-node-names", o.endNodes, "ONNX nodes where the network ends");
  cmd->add_option("--tensor-shapes", o.tensorShapes, "Fix dynamic input dimensions: NAME=[d0,...]");
  cmd->add_option("--net-name", o.netName, "Network name (default: the ONNX file's stem)");
  cmd->add_option("--output-dir", o.outputDir,
                  "Where the archives, the .kef and the reports go (default: current directory)");
  cmd->add_option("--report-samples", o.reportSamples,
                  "Calibration samples for the noise report (default 8)");
  cmd->add_option("--verify-samples", o.verifySamples,
                  "Calibration samples run through the .kef and the emulation (default 4; 0 "
                  "skips the check)");
  cmd->callback([args]() { runCompile(*args); });
}

}  // namespace kiln::cli
