#include "engine/executor.h"

#include <cmath>

namespace kiln::rt {

namespace {

constexpr int64_t kMaxDim = int64_t(1) << 31;

void validateTensors(const Program& prog, const Limits& limits) {
  if (prog.arenaElems < 0 || prog.arenaElems > limits.maxArenaElems)
    throw Error("memory plan: arena of " + std::to_string(prog.arenaElems) +
                " elements exceeds the runtime's limit of " + std::to_string(limits.maxArenaElems));
  for (size_t i = 0; i < prog.tensors.size(); ++i) {
    const TensorDesc& t = prog.tensors[i];
    const std::string what = "tensor " + std::to_string(i);
    if (t.bits != 8 && t.bits != 16)
      throw Error(what + ": bit width " + std::to_string(t.bits) + ", expected 8 or 16");
    if (t.shape.size() > 8) throw Error(what + ": rank " + std::to_string(t.shape.size()) + " > 8");
    int64_t n = 1;
    for (int64_t d : t.shape) {
      if (d < 1 || d > kMaxDim)
        throw Error(what + ": dimension " + std::to_string(d) + " outside [1, 2^31]");
      if (n > limits.maxArenaElems / d)
        throw Error(what + ": " + std::to_string(t.shape.size()) +
                    "-d shape has more elements than the arena limit");
      n *= d;
    }
    if (t.offset < 0 || t.offset > prog.arenaElems - n)
      throw Error(what + ": arena offset " + std::to_string(t.offset) + " + " + std::to_string(n) +
                  " elements exceeds the arena of " + std::to_string(prog.arenaElems));
  }
}

void validateStreams(const Program& prog, const std::vector<StreamDesc>& streams,
                     const char* kind) {
  for (const StreamDesc& s : streams) {
    const std::string what = std::string(kind) + " stream '" + s.name + "'";
    if (s.tensor >= prog.tensors.size())
      throw Error(what + ": tensor " + std::to_string(s.tensor) + " out of range");
    const TensorDesc& t = prog.tensors[s.tensor];
    if (s.shape != t.shape) throw Error(what + ": shape differs from its tensor's");
    if (s.bits != t.bits) throw Error(what + ": bit width differs from its tensor's");
    if (!(s.scale > 0) || !std::isfinite(s.scale))
      throw Error(what + ": qp_scale " + std::to_string(s.scale) + " is not a positive number");
    if (s.zeroPoint < 0 || s.zeroPoint >= (int64_t(1) << s.bits))
      throw Error(what + ": qp_zp " + std::to_string(s.zeroPoint) + " outside the device range");
    if (!(s.limMin <= s.limMax)) throw Error(what + ": limvals_min > limvals_max");
  }
}

void validateContexts(const Program& prog) {
  uint32_t next = 0;
  for (size_t i = 0; i < prog.contexts.size(); ++i) {
    const ContextDesc& c = prog.contexts[i];
    if (c.firstOp != next || c.opCount > prog.ops.size() - next)
      throw Error("contexts: context " + std::to_string(i) + " covers operations " +
                  std::to_string(c.firstOp) + ".." + std::to_string(c.firstOp + c.opCount) +
                  ", expected to start at " + std::to_string(next));
    next += c.opCount;
  }
  if (!prog.contexts.empty() && next != prog.ops.size())
    throw Error("contexts: they cover " + std::to_string(next) + " of " +
                std::to_string(prog.ops.size()) + " operations");
}

}  // namespace

void validateProgram(const Program& prog, const Limits& limits) {
  validateTensors(prog, limits);
  validateStreams(prog, prog.inputs, "input");
  validateStreams(prog, prog.outputs, "output");
  validateContexts(prog);
  for (size_t i = 0; i < prog.ops.size(); ++i) makeKernel(prog, i);
}

Executor::Executor(const Program& prog, const Limits& limits) : prog_(prog) {
  validateTensors(prog, limits);
  validateStreams(prog, prog.inputs, "input");
  validateStreams(prog, prog.outputs, "output");
  validateContexts(prog);
  for (size_t i = 0; i < prog.ops.size(); ++i) kernels_.push_back(makeKernel(prog, i));
  arena_.assign(size_t(prog.arenaElems), 0);
}

void Executor::run(bool profile) {
  if (!profile) {
    for (const auto& k : kernels_) k->run(arena_.data());
    return;
  }
  opSeconds_.assign(kernels_.size(), 0.0);
  for (size_t i = 0; i < kernels_.size(); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    kernels_[i]->run(arena_.data());
    opSeconds_[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
}

}  // namespace kiln::rt
