#include "compiler/emulator/quant_executor.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "compiler/emulator/host_convert_simd.h"
#include "compiler/lower/lower_program.h"
#include "runtime/engine/executor.h"
#include "runtime/engine/host_convert.h"

namespace kiln {

namespace {

rt::StreamDesc streamFor(const QuantInfo& q) {
  rt::StreamDesc s;
  s.bits = q.bits;
  s.scale = q.scale;
  s.zeroPoint = q.zeroPoint;
  rt::limvals(q.scale, q.zeroPoint, q.bits, s.limMin, s.limMax);
  return s;
}

}  // namespace

rt::ThreadPool* emulationPool() {
  static rt::ThreadPool pool([] {
    const char* env = std::getenv("KILN_THREADS");
    if (env && *env) {
      char* end = nullptr;
      const long n = std::strtol(env, &end, 10);
      if (*end != 0 || n < 1 || n > 256)
        throw Error(std::string("KILN_THREADS=") + env + ": expected a thread count, 1 to 256");
      return int(n);
    }
    return int(std::min(8u, std::max(1u, std::thread::hardware_concurrency())));
  }());
  return &pool;
}

IntBuffer quantizeInput(const FloatBuffer& x, const QuantInfo& q) {
  IntBuffer out;
  quantizeInput(x, q, out);
  return out;
}

void quantizeInput(const FloatBuffer& x, const QuantInfo& q, IntBuffer& out) {
  out.shape = x.shape;
  out.data.resize(x.data.size());
  quantizeToInt(x.data.data(), int64_t(x.data.size()), streamFor(q), out.data.data());
}

FloatBuffer dequantize(const IntBuffer& b, const QuantInfo& q) {
  FloatBuffer out;
  out.shape = b.shape;
  out.data.resize(b.data.size());
  dequantize(b.data.data(), b.data.size(), q, out.data.data());
  return out;
}

void dequantize(const int32_t* q, size_t n, const QuantInfo& info, float* out) {
  dequantizeFromInt(q, int64_t(n), streamFor(info), out);
}

std::vector<IntBuffer> runQuantized(const Graph& g, const std::vector<FloatBuffer>& inputs,
                                    std::vector<IntBuffer>* all) {
  LowerOptions opts;
  opts.keepAll = all != nullptr;
  const LoweredProgram lp = lowerProgram(g, opts);
  return runLowered(lp, g, inputs, all);
}

std::vector<IntBuffer> runLowered(const LoweredProgram& lp, const Graph& g,
                                  const std::vector<FloatBuffer>& inputs,
                                  std::vector<IntBuffer>* all) {
  const std::unique_ptr<rt::Executor> ex = makeExecutor(lp);
  return runLowered(lp, g, inputs, all, *ex);
}

std::unique_ptr<rt::Executor> makeExecutor(const LoweredProgram& lp) {
  auto ex = std::make_unique<rt::Executor>(lp.program());
  ex->setPool(emulationPool());
  return ex;
}

std::vector<IntBuffer> runLowered(const LoweredProgram& lp, const Graph& g,
                                  const std::vector<FloatBuffer>& inputs,
                                  std::vector<IntBuffer>* all, rt::Executor& ex) {
  const rt::Program& prog = lp.program();
  if (&ex.program() != &prog) throw Error("runLowered: the executor runs another program");
  if (inputs.size() != prog.inputs.size())
    throw Error("the network has " + std::to_string(prog.inputs.size()) + " inputs, " +
                std::to_string(inputs.size()) + " given");
  for (size_t k = 0; k < inputs.size(); ++k) {
    const rt::StreamDesc& s = prog.inputs[k];
    if (inputs[k].shape != s.shape)
      throw Error("input '" + s.name + "' expects shape " + shapeStr(s.shape) + ", got " +
                  shapeStr(inputs[k].shape));
    rt::quantizeFloat(inputs[k].data.data(), int64_t(inputs[k].data.size()), s, ex.input(k));
  }
  ex.run();
  std::vector<IntBuffer> outputs;
  for (size_t k = 0; k < prog.outputs.size(); ++k) {
    const auto& t = prog.tensors[prog.outputs[k].tensor];
    outputs.push_back({t.shape, std::vector<int32_t>(ex.output(k), ex.output(k) + t.numel())});
  }
  if (all) {
    // Into the buffers `all` already holds (a caller running many samples reuses their storage).
    all->resize(g.layers.size());
    for (size_t i = 0; i < g.layers.size(); ++i) {
      IntBuffer& b = (*all)[i];
      const int t = lp.layerTensor[i];
      if (t < 0) {
        b = IntBuffer();
        continue;
      }
      const auto& d = prog.tensors[size_t(t)];
      b.shape = d.shape;
      b.data.assign(ex.tensor(size_t(t)), ex.tensor(size_t(t)) + d.numel());
    }
  }
  return outputs;
}

}  // namespace kiln
