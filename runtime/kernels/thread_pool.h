// A small persistent pool of worker threads for the integer kernels (docs/runtime.md "Threads").
// A kernel splits its output into disjoint parts and each part is computed exactly as it would
// be on one thread, so the results are byte-identical for every thread count.
//
// The engine makes a session's pool current on the running thread for the duration of a frame
// (ThreadPool::Scope); kernels ask for parallelFor(), which runs inline when no pool is current.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln::rt {

class ThreadPool {
 public:
  /// `threads` >= 1 workers in total: the calling thread and threads - 1 started here.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  int threads() const { return int(workers_.size()) + 1; }

  /// Calls f(part) for part in [0, parts), spread over the workers and the caller; returns
  /// when all are done. Callers on several threads take turns; a part must not call run() on
  /// the same pool (parts run with no current pool, so a parallelFor within one runs inline).
  void run(int64_t parts, const std::function<void(int64_t)>& f);

  /// Makes `pool` (may be null) current on this thread until the scope ends.
  class Scope {
   public:
    explicit Scope(ThreadPool* pool);
    ~Scope();

   private:
    ThreadPool* saved_;
  };
  /// The pool current on this thread, or null.
  static ThreadPool* current();

 private:
  void workerLoop();
  void drain();

  std::vector<std::thread> workers_;
  std::mutex runMu_;  // one job at a time
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t parts_ = 0, next_ = 0;
  // Written under mu_; atomic so that the short spins (thread_pool.cpp) can read them unlocked.
  std::atomic<int64_t> finished_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
};

/// f(part) for part in [0, parts): on the current pool's threads, or inline.
void parallelFor(int64_t parts, const std::function<void(int64_t)>& f);
/// The current pool's thread count (1 without a pool).
int currentThreads();
/// f(begin, end) over [0, n) cut into consecutive ranges of at least `grain` items (a few per
/// thread, a multiple of the thread count when there are more ranges than threads), on the
/// current pool; one call f(0, n) without one. For kernels whose items are
/// independent, so that any cut gives the same bytes.
void parallelRanges(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& f);
/// How many parts to cut n items into so that the current pool's threads get equal shares: the
/// fewest parts of at most `most` items each (at least 1), rounded up to a multiple of the thread
/// count, and at most n. Part i then holds items [i * n / parts, (i + 1) * n / parts): the
/// parts differ by at most one item, so no thread is left with a last, larger part.
int64_t balancedParts(int64_t n, int64_t most);

}  // namespace kiln::rt
