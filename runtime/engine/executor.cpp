#include "runtime/engine/executor.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kiln::rt {

static_assert(sizeof(Act) == kArenaElementBytes, "program.h's arena element is kernels.h's Act");

namespace {

constexpr int64_t kMaxDim = int64_t(1) << 31;

std::string shapeStr(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

void validateTensors(const Program& prog, const Limits& limits) {
  const int64_t maxElems = std::min(limits.maxArenaElems, kMaxElems);
  if (prog.arenaElems < 0 || prog.arenaElems > maxElems)
    throw Error("memplan: arena of " + std::to_string(prog.arenaElems) +
                " elements exceeds the runtime's limit of " + std::to_string(maxElems) +
                " elements (" + std::to_string(maxElems * kArenaElementBytes) + " bytes)");
  for (size_t i = 0; i < prog.tensors.size(); ++i) {
    const TensorDesc& t = prog.tensors[i];
    const std::string what = "tensor " + std::to_string(i);
    if (t.bits != 8 && t.bits != 16)
      throw Error("tensors: " + what + ": bit width " + std::to_string(t.bits) +
                  ", expected 8 or 16");
    if (t.shape.size() > 8)
      throw Error("tensors: " + what + ": rank " + std::to_string(t.shape.size()) + " > 8");
    int64_t n = 1;
    for (size_t k = 0; k < t.shape.size(); ++k) {
      const int64_t d = t.shape[k];
      if (d < 1 || d > kMaxDim)
        throw Error("tensors: " + what + ": dimension " + std::to_string(k) + " is " +
                    std::to_string(d) + ", expected within [1, 2^31]");
      if (n > maxElems / d)
        throw Error("tensors: " + what + ": shape " + shapeStr(t.shape) +
                    " has more elements than the runtime's limit of " + std::to_string(maxElems));
      n *= d;
    }
    if (t.offset < 0 || t.offset > prog.arenaElems - n)
      throw Error("memplan: " + what + ": arena offset " + std::to_string(t.offset) + " + " +
                  std::to_string(n) + " elements lies outside the arena of " +
                  std::to_string(prog.arenaElems));
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
    // The host converts in float32: the scale must stay a normal float, limvals finite.
    if (!(s.scale >= 1e-30 && s.scale <= 1e30))
      throw Error(what + ": qp_scale " + std::to_string(s.scale) + " outside [1e-30, 1e30]");
    if (s.zeroPoint < 0 || s.zeroPoint >= (int64_t(1) << s.bits))
      throw Error(what + ": qp_zp " + std::to_string(s.zeroPoint) + " outside the device range");
    if (!std::isfinite(s.limMin) || !std::isfinite(s.limMax) || !(s.limMin <= s.limMax))
      throw Error(what + ": limvals [" + std::to_string(s.limMin) + ", " +
                  std::to_string(s.limMax) + "] are not a finite range");
  }
}

// Each constant belongs to one operation (the compiler never shares them): validating an
// operation reads its constants, so this keeps the work of validation linear in the file size.
void validateConstantUse(const Program& prog) {
  std::vector<uint32_t> user(prog.consts.size(), UINT32_MAX);
  for (size_t i = 0; i < prog.ops.size(); ++i)
    for (uint32_t k : prog.ops[i].consts) {
      if (k >= prog.consts.size()) continue;  // reported by the operation
      if (user[k] != UINT32_MAX) {
        const OpDesc &op = prog.ops[i], &first = prog.ops[user[k]];
        throw Error("operation " + std::to_string(i) + " '" + op.name + "' (" + opName(op.code) +
                    "): constant " + std::to_string(k) + " is also used by operation " +
                    std::to_string(user[k]) + " '" + first.name +
                    "' (each constant belongs to one operation)");
      }
      user[k] = uint32_t(i);
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

PreparedProgram::PreparedProgram(const Program& prog, const Limits& given) : prog_(prog) {
  Limits limits = given;
  if (!limits.kernelPath) {
    try {
      limits.kernelPath = selectKernelPath();
    } catch (const std::invalid_argument& e) {
      throw Error(e.what());
    }
  }
  path_ = *limits.kernelPath;
  validateTensors(prog, limits);
  validateStreams(prog, prog.inputs, "input");
  validateStreams(prog, prog.outputs, "output");
  validateContexts(prog);
  validateConstantUse(prog);
  kernels_.reserve(prog.ops.size());
  for (size_t i = 0; i < prog.ops.size(); ++i) {
    kernels_.push_back(makeKernel(prog, i, limits));
    // Each operation's work is within the limit (checked by the kernel), so is the sum so far.
    const int64_t w = kernels_.back()->work();
    if (w > limits.maxWork - totalWork_) {
      const OpDesc& op = prog.ops[i];
      throw Error("operation " + std::to_string(i) + " '" + op.name + "' (" + opName(op.code) +
                  "): its estimated work of " + exactCount(w) + " brings the program's total to " +
                  exactCount(totalWork_ + w) + " per frame, beyond the runtime's limit of " +
                  exactCount(limits.maxWork) + " (LoadOptions::maxWork)");
    }
    totalWork_ += w;
  }
}

void validateProgram(const Program& prog, const Limits& limits) {
  const PreparedProgram checked(prog, limits);
}

Executor::Executor(std::shared_ptr<const PreparedProgram> prepared)
    : prepared_(std::move(prepared)), prog_(prepared_->program()) {
  arena_.assign(size_t(prog_.arenaElems), 0);
}

Executor::Executor(const Program& prog, const Limits& limits)
    : Executor(std::make_shared<const PreparedProgram>(prog, limits)) {}

void Executor::setThreads(int n) {
  if (n == threads()) return;
  pool_ = nullptr;
  ownPool_.reset();
  if (n > 1) ownPool_ = std::make_unique<ThreadPool>(n);
  pool_ = ownPool_.get();
}

void Executor::setPool(ThreadPool* pool) {
  ownPool_.reset();
  pool_ = pool;
}

void Executor::run(bool profile) {
  const ThreadPool::Scope scope(pool_);
  const auto& kernels = prepared_->kernels();
  if (!profile) {
    for (const auto& k : kernels) k->run(arena_.data());
    return;
  }
  opSeconds_.assign(kernels.size(), 0.0);
  for (size_t i = 0; i < kernels.size(); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    kernels[i]->run(arena_.data());
    opSeconds_[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
}

}  // namespace kiln::rt
