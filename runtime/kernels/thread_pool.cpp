// The persistent worker pool of thread_pool.h: workers sleep on a condition variable between
// jobs and take parts from a shared counter, so no thread is created per operation.
//
// Operations follow each other within microseconds, and waking a thread blocked on a condition
// variable (and the caller, when the last part ends on a worker) costs tens of microseconds on a
// busy host: as much as a small operation. So a worker that finished a job, and a caller whose
// parts are done, first poll for a short while (kSpin, yielding the CPU on each turn) and only
// then block. The spin is bounded: an idle session's workers sleep.
#include "runtime/kernels/thread_pool.h"

#include <algorithm>
#include <chrono>

namespace kiln::rt {

namespace {
thread_local ThreadPool* tCurrent = nullptr;
constexpr std::chrono::microseconds kSpin{100};

// Polls done() until it holds or kSpin has passed.
template <typename Done>
void spinUntil(Done done) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  while (!done() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
}
}  // namespace

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { workerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

// Takes parts until none is left (called with mu_ unlocked).
void ThreadPool::drain() {
  for (;;) {
    int64_t part;
    const std::function<void(int64_t)>* job;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (next_ >= parts_) return;
      part = next_++;
      job = job_;
    }
    (*job)(part);
    bool last;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last = ++finished_ == parts_;
    }
    if (last) done_.notify_all();
  }
}

void ThreadPool::workerLoop() {
  uint64_t seen = 0;
  for (;;) {
    spinUntil([&] { return stop_.load() || generation_.load() != seen; });
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    drain();
  }
}

void ThreadPool::run(int64_t parts, const std::function<void(int64_t)>& f) {
  if (parts <= 0) return;
  if (workers_.empty() || parts == 1) {
    for (int64_t i = 0; i < parts; ++i) f(i);
    return;
  }
  const std::lock_guard<std::mutex> one(runMu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &f;
    parts_ = parts, next_ = 0, finished_ = 0;
    ++generation_;
  }
  wake_.notify_all();
  {
    // The caller's parts see no current pool, as the workers' do: a parallelFor within a part
    // runs inline instead of waiting for this pool.
    const Scope inParts(nullptr);
    drain();
  }
  spinUntil([&] { return finished_.load() == parts; });
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return finished_ == parts_; });
  job_ = nullptr;
  parts_ = 0, next_ = 0;
}

ThreadPool::Scope::Scope(ThreadPool* pool) : saved_(tCurrent) {
  tCurrent = pool;
}
ThreadPool::Scope::~Scope() {
  tCurrent = saved_;
}

ThreadPool* ThreadPool::current() {
  return tCurrent;
}

void parallelFor(int64_t parts, const std::function<void(int64_t)>& f) {
  ThreadPool* pool = tCurrent;
  if (pool && pool->threads() > 1 && parts > 1) return pool->run(parts, f);
  for (int64_t i = 0; i < parts; ++i) f(i);
}

int currentThreads() {
  return tCurrent ? tCurrent->threads() : 1;
}

void parallelRanges(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& f) {
  if (n <= 0) return;
  const int64_t threads = currentThreads();
  int64_t parts = std::min<int64_t>(4 * threads, (n + grain - 1) / std::max<int64_t>(grain, 1));
  if (threads <= 1 || parts <= 1) return f(0, n);
  // Whole rounds of the threads (5 parts on 2 threads would leave one thread 3 of them): fewer,
  // larger parts.
  if (parts > threads) parts = parts / threads * threads;
  parallelFor(parts, [&](int64_t part) { f(part * n / parts, (part + 1) * n / parts); });
}

int64_t balancedParts(int64_t n, int64_t most) {
  if (n <= 1) return 1;
  const int64_t threads = currentThreads();
  const int64_t fewest = (n + std::max<int64_t>(most, 1) - 1) / std::max<int64_t>(most, 1);
  return std::min(n, (fewest + threads - 1) / threads * threads);
}

}  // namespace kiln::rt
