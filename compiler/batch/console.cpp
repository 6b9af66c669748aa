#include "compiler/batch/console.h"

#include <unistd.h>

#include <memory>

#include <fmt/core.h>

namespace kiln::batch {

std::string warningLine(const std::string& message) {
  const bool located =
      message.substr(0, message.find('\n')).find(": warning: ") != std::string::npos;
  return (located ? "" : "kiln: warning: ") + message;
}

bool stderrIsTerminal() {
  return ::isatty(2) == 1;
}

std::function<void(int, int)> progressPrinter(const std::string& step, bool terminal) {
  if (terminal)
    return [step](int done, int total) {
      fmt::print(stderr, "\r{}: {}/{} samples", step, done, total);
      if (done == total) fmt::print(stderr, "\n");
    };
  using Clock = std::chrono::steady_clock;
  struct State {
    Clock::time_point start, last;
    int lastTenth = -1;
  };
  auto st = std::make_shared<State>();
  return [step, st](int done, int total) {
    const auto now = Clock::now();
    if (done == 0 || st->lastTenth < 0) {
      st->start = st->last = now;
      st->lastTenth = 0;
    }
    const double secs = std::chrono::duration<double>(now - st->start).count();
    if (done >= total) {
      fmt::print(stderr, "kiln: {}: {} samples in {:.1f} s\n", step, total, secs);
      st->lastTenth = -1;
      return;
    }
    const int tenth = total > 0 ? done * 10 / total : 0;
    if (tenth > st->lastTenth || now - st->last >= std::chrono::seconds(10)) {
      fmt::print(stderr, "kiln: {}: {}/{} samples ({:.1f} s)\n", step, done, total, secs);
      st->lastTenth = tenth;
      st->last = now;
    }
  };
}

void StepTimes::step(const std::string& name) {
  finish();
  current_ = name;
  start_ = Clock::now();
  if (!terminal_) fmt::print(stderr, "kiln: {} ...\n", name);
}

void StepTimes::finish() {
  if (current_.empty()) return;
  const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
  times_.emplace_back(current_, secs);
  if (!terminal_) fmt::print(stderr, "kiln: {}: {:.1f} s\n", current_, secs);
  current_.clear();
}

std::string StepTimes::summary() const {
  std::string s;
  for (const auto& [name, secs] : times_)
    s += fmt::format("{}{} {:.1f} s", s.empty() ? "" : ", ", name, secs);
  return s;
}

}  // namespace kiln::batch
