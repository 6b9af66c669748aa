// What `kiln` prints on stderr while it works: warning lines, progress of the long steps
// (calibration, bias correction, noise report) and the time of each step. On a terminal progress
// is one line rewritten in place; in a pipe (a CI log) it is plain lines, so that something
// appears during a step of several minutes.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace kiln::batch {

/// "kiln: warning: MESSAGE", or MESSAGE as it is when its first line already says
/// "FILE:LINE:COL: warning:" (model scripts), never "warning: warning:".
std::string warningLine(const std::string& message);

/// True when stderr is a terminal.
bool stderrIsTerminal();

/// A progress callback (done, total) for `step`: on a terminal "\rSTEP: done/total samples";
/// elsewhere a line at each 10 % or after 10 s without one, and "STEP: N samples in T s" at the
/// end.
std::function<void(int, int)> progressPrinter(const std::string& step, bool terminal);

/// The steps of a run and their times. step() ends the step before (printing "STEP: T s" when
/// not on a terminal) and starts the next; summary() is "step1 T s, step2 T s, ...".
class StepTimes {
 public:
  explicit StepTimes(bool terminal) : terminal_(terminal) {}
  /// Ends the current step and starts `name` (a line "kiln: NAME ..." when not on a terminal).
  void step(const std::string& name);
  /// Ends the current step.
  void finish();
  /// "read 0.1 s, calibration 2.3 s, ..." in the order the steps ran.
  std::string summary() const;

 private:
  using Clock = std::chrono::steady_clock;
  bool terminal_;
  std::string current_;
  Clock::time_point start_{};
  std::vector<std::pair<std::string, double>> times_;
};

}  // namespace kiln::batch
