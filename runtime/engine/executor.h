// Executes a validated Program on one sample: an arena of Act (uint16_t) elements laid out by the
// memory plan, the operations in order. Host conversions between user buffers and the device
// integers of the streams are in host_convert.h.
//
// Validation happens once: PreparedProgram checks the program's tables and builds every
// operation's kernel (immutable parameters). Executors share it, each with its own arena.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "runtime/engine/op_kernel.h"
#include "runtime/engine/program.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::rt {

/// A validated program: its kernels, ready to run, and the estimated work of each operation.
/// Immutable, so shareable between executors and threads; the Program must outlive it.
class PreparedProgram {
 public:
  /// Validates the program's tables (tensors, streams, contexts), every operation and the total
  /// work. Throws Error.
  PreparedProgram(const Program& prog, const Limits& limits = {});
  const Program& program() const { return prog_; }
  const std::vector<std::unique_ptr<OpKernel>>& kernels() const { return kernels_; }
  /// Estimated work of each operation and of the whole program (OpKernel::work).
  int64_t opWork(size_t op) const { return kernels_[op]->work(); }
  int64_t totalWork() const { return totalWork_; }
  /// The micro-kernel path its kernels run (docs/runtime.md "Kernel paths").
  KernelPath kernelPath() const { return path_; }

 private:
  const Program& prog_;
  KernelPath path_ = KernelPath::Portable;
  std::vector<std::unique_ptr<OpKernel>> kernels_;
  int64_t totalWork_ = 0;
};

/// Validates the program as PreparedProgram does, and drops the kernels. Throws Error.
void validateProgram(const Program& prog, const Limits& limits = {});

class Executor {
 public:
  /// Runs a prepared program (kept alive by the executor) on an arena of its own.
  explicit Executor(std::shared_ptr<const PreparedProgram> prepared);
  /// Validates `prog` (which must outlive the executor) and allocates the arena.
  explicit Executor(const Program& prog, const Limits& limits = {});
  const Program& program() const { return prog_; }

  /// The device integers of input stream k (user layout), to fill before run().
  Act* input(size_t k) { return arena_.data() + prog_.tensors[prog_.inputs[k].tensor].offset; }
  /// The device integers of output stream k (user layout), valid after run().
  const Act* output(size_t k) const {
    return arena_.data() + prog_.tensors[prog_.outputs[k].tensor].offset;
  }
  /// Any tensor's values (valid while no later operation reused its memory).
  const Act* tensor(size_t t) const { return arena_.data() + prog_.tensors[t].offset; }
  Act* tensor(size_t t) { return arena_.data() + prog_.tensors[t].offset; }

  /// Runs every operation; with `profile`, records each operation's time.
  void run(bool profile = false);
  /// Threads the operations may split their outputs over (a persistent pool owned by this
  /// executor; 1: none). The results are the same bytes for every count. n >= 1.
  void setThreads(int n);
  /// Runs on `pool` (borrowed, may be shared by executors; null: none) instead.
  void setPool(ThreadPool* pool);
  int threads() const { return pool_ ? pool_->threads() : 1; }
  /// The pool the operations run on (null: none).
  ThreadPool* pool() const { return pool_; }
  /// Seconds per operation of the last profiled run.
  const std::vector<double>& opSeconds() const { return opSeconds_; }
  size_t arenaBytes() const { return arena_.size() * sizeof(Act); }

 private:
  std::shared_ptr<const PreparedProgram> prepared_;
  const Program& prog_;
  std::vector<Act> arena_;
  std::vector<double> opSeconds_;
  std::unique_ptr<ThreadPool> ownPool_;
  ThreadPool* pool_ = nullptr;
};

}  // namespace kiln::rt
