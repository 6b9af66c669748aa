// kiln infer FILE.kar --target native: run the network on .npy inputs and write .npy outputs.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/core.h>

#include "common/infer_outputs.h"
#include "common/npy.h"
#include "common/strings.h"
#include "compiler/archive/archive.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/options.h"
#include "compiler/emulator/float_executor.h"
#include "compiler/emulator/quant_executor.h"
#include "compiler/lower/lower_program.h"

namespace kiln::cli {

namespace {

struct InferArgs {
  std::string archive, target = "native", outDir, userFormat = "float32";
  std::vector<std::string> inputs;
};

void runInfer(const InferArgs& args) {
  const Archive a = readArchive(args.archive);
  const Graph& g = a.graph;
  const auto inIds = g.inputLayers();
  if (args.inputs.size() != inIds.size()) {
    std::vector<std::string> names;
    for (int id : inIds)
      names.push_back(g.at(id).attrString("onnx_name") + " " +
                      shapeStr(g.at(id).attrInts("user_shape")));
    throw Error("the network has " + std::to_string(inIds.size()) + " input(s) (" +
                join(names, ", ") + "); --input-files gave " + std::to_string(args.inputs.size()));
  }
  // Load and check every input; a leading batch dimension N > 1 runs N samples.
  std::vector<npy::Array> arrays;
  int64_t batch = -1;
  for (size_t k = 0; k < inIds.size(); ++k) {
    const Layer& l = g.at(inIds[k]);
    const Shape user = l.attrInts("user_shape");
    npy::Array arr = npy::load(args.inputs[k]);
    if (arr.type != npy::ElemType::f32)
      throw Error(args.inputs[k] + ": input '" + l.attrString("onnx_name") + "' expects float32 " +
                  shapeStr(user) + ", the file holds " + npy::typeName(arr.type) +
                  " (convert with x.astype(np.float32), after the model's own pre-processing)");
    int64_t n = 1;
    Shape rest(arr.shape.begin() + (arr.shape.empty() ? 0 : 1), arr.shape.end());
    const Shape userRest(user.begin() + 1, user.end());
    if (arr.shape == user) {
      n = 1;
    } else if (!user.empty() && user[0] == 1 && arr.shape.size() == user.size() &&
               rest == userRest) {
      n = arr.shape[0];
    } else {
      throw Error(args.inputs[k] + ": input '" + l.attrString("onnx_name") + "' expects shape " +
                  shapeStr(user) +
                  " (or [N, ...] with the same trailing dimensions), the file holds " +
                  shapeStr(arr.shape));
    }
    if (batch >= 0 && n != batch)
      throw Error("inputs disagree on the batch size (" + std::to_string(batch) + " vs " +
                  std::to_string(n) + " in " + args.inputs[k] + ")");
    batch = n;
    arrays.push_back(std::move(arr));
  }
  const bool optimized = std::find(a.stages.begin(), a.stages.end(), "optimize") != a.stages.end();
  if (args.target != "native" && !optimized)
    throw Error(args.archive + ": --target " + args.target +
                " needs an optimized archive; run kiln optimize first (this one is only parsed)");
  if (args.target == "native" && optimized)
    throw Error(
        args.archive +
        ": --target native runs the parsed float network; for an optimized "
        "archive use --target fp-optimized (float, after the script's changes) or quantized");
  const bool quantizedTarget = args.target == "quantized";
  if (!quantizedTarget && args.userFormat != "float32")
    throw Error("--user-format-type " + args.userFormat +
                " needs --target quantized (the float targets have no device integers)");
  const bool rawInts = quantizedTarget && args.userFormat == "auto";
  const auto outIds = g.outputLayers();
  std::vector<std::vector<float>> outData(outIds.size());
  std::vector<Shape> outShapes;
  // Lowered once for all samples.
  // The runtime's checks of the lowered program (at lowering and when run) fail only on
  // quantization parameters no optimizer writes (an edited archive): name the archive.
  auto invalidProgram = [&](const rt::Error& e) {
    return Error(
        args.archive +
        ": the archive's quantization parameters do not make a valid program: " + e.what());
  };
  std::unique_ptr<LoweredProgram> lowered;
  try {
    if (quantizedTarget) lowered = std::make_unique<LoweredProgram>(lowerProgram(g));
  } catch (const rt::Error& e) {
    throw invalidProgram(e);
  }
  for (int64_t s = 0; s < batch; ++s) {
    std::vector<FloatBuffer> ins;
    for (size_t k = 0; k < inIds.size(); ++k) {
      const Shape user = g.at(inIds[k]).attrInts("user_shape");
      const int64_t per = numel(user);
      FloatBuffer b;
      b.shape = user;
      b.data.resize(per);
      std::memcpy(b.data.data(), arrays[k].data.data() + s * per * 4, per * 4);
      ins.push_back(std::move(b));
    }
    std::vector<FloatBuffer> outs;
    if (quantizedTarget) {
      std::vector<IntBuffer> q;
      try {
        q = runLowered(*lowered, g, ins);
      } catch (const rt::Error& e) {
        throw invalidProgram(e);
      }
      for (size_t k = 0; k < q.size(); ++k) {
        if (rawInts) {
          outs.push_back({q[k].shape, std::vector<float>(q[k].data.begin(), q[k].data.end())});
        } else {
          outs.push_back(dequantize(q[k], g.at(outIds[k]).outputQuant[0]));
        }
      }
    } else {
      outs = runFloat(g, ins);
    }
    if (s == 0)
      for (auto& o : outs) outShapes.push_back(o.shape);
    for (size_t k = 0; k < outs.size(); ++k)
      outData[k].insert(outData[k].end(), outs[k].data.begin(), outs[k].data.end());
  }
  std::vector<InferOutput> written;
  for (size_t k = 0; k < outIds.size(); ++k) {
    const std::string name = g.at(outIds[k]).attrString("onnx_name");
    if (rawInts) {
      // The integers as the device holds them: uint8 or uint16.
      const QuantInfo& q = g.at(outIds[k]).outputQuant[0];
      InferOutput o{
          name, npy::Array{q.bits == 8 ? npy::ElemType::u8 : npy::ElemType::u16, outShapes[k], {}}};
      const size_t es = npy::elemSize(o.array.type);
      o.array.data.resize(outData[k].size() * es);
      for (size_t i = 0; i < outData[k].size(); ++i) {
        const uint16_t v = uint16_t(outData[k][i]);
        std::memcpy(o.array.data.data() + i * es, &v, es);
      }
      written.push_back(std::move(o));
    } else {
      written.push_back({name, npy::fromFloat(outData[k], outShapes[k])});
    }
  }
  writeInferOutputs(args.outDir, args.target, batch, std::move(written), printNote);
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
