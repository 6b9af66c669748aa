// Runs tasks as child processes of the running kiln executable, at most N at a time, each with
// its output in its own log; a live status line on a terminal, plain lines otherwise.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace kiln::batch {

struct Task {
  std::string label;              // for the status line
  std::vector<std::string> args;  // kiln's arguments; empty: nothing to run (decided already)
  std::string logPath;            // the child's stdout and stderr
};

struct TaskExit {
  bool ran = false;  // a process ran (false: nothing to run, or it could not start)
  int exitCode = -1;
  int signal = 0;          // killed by this signal
  std::string spawnError;  // it could not start
  double seconds = 0;
};

struct RunnerOptions {
  int jobs = 1;
  bool keepGoing = false;  // without: after a failure no new task starts
};

struct RunnerHooks {
  /// Before a task starts: a line for the output (shown when not on a terminal), or "".
  std::function<std::string(size_t)> starting;
  /// When a task ends (at once for one without args): {failed, the line to print}.
  std::function<std::pair<bool, std::string>(size_t, const TaskExit&)> finish;
  /// A task not started because an earlier one failed (without keepGoing).
  std::function<void(size_t)> skip;
};

/// Runs every task in order. Returns when all have ended.
void runTasks(const std::vector<Task>& tasks, const RunnerOptions& o, const RunnerHooks& hooks);

}  // namespace kiln::batch
