#include "compiler/flow/infer_archive.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "common/strings.h"
#include "compiler/emulator/float_executor.h"
#include "compiler/emulator/quant_executor.h"
#include "compiler/lower/lower_program.h"
#include "runtime/format/kef.h"

namespace kiln::flow {

const char* inferTargetName(InferTarget t) {
  switch (t) {
    case InferTarget::Native:
      return "native";
    case InferTarget::FpOptimized:
      return "fp-optimized";
    case InferTarget::Quantized:
      return "quantized";
  }
  return "?";
}

InferTarget parseInferTarget(const std::string& name) {
  for (InferTarget t : {InferTarget::Native, InferTarget::FpOptimized, InferTarget::Quantized})
    if (name == inferTargetName(t)) return t;
  throw Error("unknown inference target '" + name +
              "'; expected native, fp-optimized or quantized");
}

namespace {

// Checks every input against the network's and returns the number of samples they hold.
int64_t checkInputs(const Graph& g, const std::vector<InferInput>& inputs, const InferOptions& o) {
  const auto inIds = g.inputLayers();
  if (inputs.size() != inIds.size()) {
    std::vector<std::string> names;
    for (int id : inIds)
      names.push_back(g.at(id).attrString("onnx_name") + " " +
                      shapeStr(g.at(id).attrInts("user_shape")));
    throw InferInputError("the network has " + std::to_string(inIds.size()) + " input(s) (" +
                          join(names, ", ") + "); " + o.inputsName + " gave " +
                          std::to_string(inputs.size()));
  }
  int64_t batch = -1;
  for (size_t k = 0; k < inIds.size(); ++k) {
    const Layer& l = g.at(inIds[k]);
    const Shape user = l.attrInts("user_shape");
    const npy::Array& arr = inputs[k].array;
    if (arr.type != npy::ElemType::f32)
      throw InferInputError(inputs[k].label + ": input '" + l.attrString("onnx_name") +
                            "' expects float32 " + shapeStr(user) + ", " + o.holder + " holds " +
                            npy::typeName(arr.type) +
                            " (convert with x.astype(np.float32), after the model's own "
                            "pre-processing)");
    int64_t n = 1;
    const Shape rest(arr.shape.begin() + (arr.shape.empty() ? 0 : 1), arr.shape.end());
    const Shape userRest(user.begin() + 1, user.end());
    if (arr.shape == user) {
      n = 1;
    } else if (!user.empty() && user[0] == 1 && arr.shape.size() == user.size() &&
               rest == userRest) {
      n = arr.shape[0];
    } else {
      throw InferInputError(inputs[k].label + ": input '" + l.attrString("onnx_name") +
                            "' expects shape " + shapeStr(user) +
                            " (or [N, ...] with the same trailing dimensions), " + o.holder +
                            " holds " + shapeStr(arr.shape));
    }
    if (n < 1)
      throw InferInputError(inputs[k].label + ": input '" + l.attrString("onnx_name") + "': " +
                            o.holder + " holds no sample (shape " + shapeStr(arr.shape) + ")");
    if (batch >= 0 && n != batch)
      throw InferInputError("inputs disagree on the batch size (" + std::to_string(batch) + " vs " +
                            std::to_string(n) + " in " + inputs[k].label + ")");
    batch = n;
  }
  return batch;
}

}  // namespace

InferResult inferArchive(const Archive& a, const std::string& what,
                         const std::vector<InferInput>& inputs, const InferOptions& o) {
  const Graph& g = a.graph;
  const auto inIds = g.inputLayers();
  const int64_t batch = checkInputs(g, inputs, o);
  const std::string target = inferTargetName(o.target);
  const bool optimized = std::find(a.stages.begin(), a.stages.end(), "optimize") != a.stages.end();
  if (o.target != InferTarget::Native && !optimized)
    throw Error(what + ": --target " + target +
                " needs an optimized archive; run kiln optimize first (this one is only parsed)");
  if (o.target == InferTarget::Native && optimized)
    throw Error(
        what +
        ": --target native runs the parsed float network; for an optimized "
        "archive use --target fp-optimized (float, after the script's changes) or quantized");
  const bool quantized = o.target == InferTarget::Quantized;
  if (!quantized && o.rawIntegers)
    throw Error(
        "--user-format-type auto needs --target quantized (the float targets have no "
        "device integers)");
  const auto outIds = g.outputLayers();
  std::vector<std::vector<float>> outData(outIds.size());
  std::vector<Shape> outShapes;
  // The runtime's checks of the lowered program (at lowering and when run) fail only on
  // quantization parameters no optimizer writes (an edited archive): name the archive.
  auto invalidProgram = [&](const rt::Error& e) {
    return Error(
        what + ": the archive's quantization parameters do not make a valid program: " + e.what());
  };
  std::unique_ptr<LoweredProgram> lowered;  // lowered once for all samples
  // nms_postprocess: the runtime's decoding on the dequantized (or float) outputs, with the
  // streams' shapes and layouts as kilnrt sees them.
  std::unique_ptr<rt::NmsConfig> nms;
  const auto nmsEntry = a.extra.find("optimize/nms");
  try {
    if (quantized || (nmsEntry != a.extra.end() && !o.rawOutputs && !o.rawIntegers))
      lowered = std::make_unique<LoweredProgram>(lowerProgram(g));
    if (nmsEntry != a.extra.end() && !o.rawOutputs && !o.rawIntegers) {
      nms = std::make_unique<rt::NmsConfig>(
          rt::readNmsSection(nmsEntry->second.data(), nmsEntry->second.size()));
      rt::checkNmsConfig(*nms, lowered->owned.program.outputs);
    }
  } catch (const rt::Error& e) {
    throw invalidProgram(e);
  }
  std::vector<float> boxes;
  for (int64_t s = 0; s < batch; ++s) {
    std::vector<FloatBuffer> ins;
    for (size_t k = 0; k < inIds.size(); ++k) {
      const Shape user = g.at(inIds[k]).attrInts("user_shape");
      const int64_t per = numel(user);
      FloatBuffer b;
      b.shape = user;
      b.data.resize(size_t(per));
      std::memcpy(b.data.data(), inputs[k].array.data.data() + s * per * 4, size_t(per) * 4);
      ins.push_back(std::move(b));
    }
    std::vector<FloatBuffer> outs;
    if (quantized) {
      std::vector<IntBuffer> q;
      try {
        q = runLowered(*lowered, g, ins);
      } catch (const rt::Error& e) {
        throw invalidProgram(e);
      }
      for (size_t k = 0; k < q.size(); ++k) {
        if (o.rawIntegers) {
          outs.push_back({q[k].shape, std::vector<float>(q[k].data.begin(), q[k].data.end())});
        } else {
          outs.push_back(dequantize(q[k], g.at(outIds[k]).outputQuant[0]));
        }
      }
    } else {
      outs = runFloat(g, ins);
    }
    if (nms) {
      const auto& streams = lowered->owned.program.outputs;
      std::vector<rt::NmsTensor> t;
      for (size_t k = 0; k < outs.size(); ++k) {
        if (int64_t(outs[k].data.size()) != numel(streams[k].shape))
          throw Error(what + ": output " + streams[k].name + " has " +
                      std::to_string(outs[k].data.size()) + " values, its stream " +
                      shapeStr(streams[k].shape));
        t.push_back({outs[k].data.data(), streams[k].shape, streams[k].layout});
      }
      const std::vector<float> b = rt::runNms(*nms, t);
      boxes.insert(boxes.end(), b.begin(), b.end());
      if (o.progress) o.progress(s + 1, batch);
      continue;
    }
    if (s == 0)
      for (auto& out : outs) outShapes.push_back(out.shape);
    for (size_t k = 0; k < outs.size(); ++k)
      outData[k].insert(outData[k].end(), outs[k].data.begin(), outs[k].data.end());
    if (o.progress) o.progress(s + 1, batch);
  }
  InferResult r;
  r.batch = batch;
  if (nms) {
    r.outputs.push_back({rt::kNmsOutputName, npy::fromFloat(boxes, {1, rt::nmsOutputSize(*nms)})});
    return r;
  }
  for (size_t k = 0; k < outIds.size(); ++k) {
    const std::string name = g.at(outIds[k]).attrString("onnx_name");
    if (o.rawIntegers) {
      // The integers as the device holds them: uint8 or uint16.
      const QuantInfo& q = g.at(outIds[k]).outputQuant[0];
      InferOutput out{
          name, npy::Array{q.bits == 8 ? npy::ElemType::u8 : npy::ElemType::u16, outShapes[k], {}}};
      const size_t es = npy::elemSize(out.array.type);
      out.array.data.resize(outData[k].size() * es);
      for (size_t i = 0; i < outData[k].size(); ++i) {
        const uint16_t v = uint16_t(outData[k][i]);
        std::memcpy(out.array.data.data() + i * es, &v, es);
      }
      r.outputs.push_back(std::move(out));
    } else {
      r.outputs.push_back({name, npy::fromFloat(outData[k], outShapes[k])});
    }
  }
  return r;
}

}  // namespace kiln::flow
