#include "compiler/batch/job_runner.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

#include <fmt/core.h>

extern char** environ;

namespace kiln::batch {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string selfExe() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, size_t(n)) : "/proc/self/exe";
}

// Starts `exe args` with stdin from /dev/null and stdout + stderr into `log`.
pid_t spawn(const std::string& exe, const Task& t, std::string& error) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, t.logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (const auto& a : t.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    error = "cannot start " + exe + ": " + std::strerror(rc);
    return -1;
  }
  return pid;
}

// The one-line status on a terminal: redrawn in place, cleared before permanent lines.
class Display {
 public:
  Display() {
    const char* term = std::getenv("TERM");
    tty_ = ::isatty(STDOUT_FILENO) && !(term && std::string(term) == "dumb");
  }
  bool tty() const { return tty_; }
  void line(const std::string& s) {
    if (s.empty()) return;
    fmt::print("{}{}\n", tty_ ? "\r\x1b[K" : "", s);
    std::fflush(stdout);
  }
  void status(const std::string& s) {
    if (!tty_) return;
    winsize w{};
    size_t cols = 80;
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 10) cols = w.ws_col;
    fmt::print("\r\x1b[K{}", s.size() < cols ? s : s.substr(0, cols - 4) + "...");
    std::fflush(stdout);
  }
  void clear() {
    if (tty_) fmt::print("\r\x1b[K");
    std::fflush(stdout);
  }

 private:
  bool tty_ = false;
};

}  // namespace

void runTasks(const std::vector<Task>& tasks, const RunnerOptions& o, const RunnerHooks& hooks) {
  const std::string exe = selfExe();
  Display display;
  const auto start = Clock::now();
  struct Running {
    size_t index;
    Clock::time_point started;
  };
  std::map<pid_t, Running> running;
  size_t next = 0, done = 0, failures = 0;
  bool stop = false;
  auto finished = [&](size_t i, const TaskExit& e) {
    const auto [failed, text] = hooks.finish(i, e);
    ++done;
    if (failed) {
      ++failures;
      if (!o.keepGoing) stop = true;
    }
    display.line(text);
  };
  auto status = [&]() {
    std::string s = fmt::format("[{:.0f} s] {}/{} done", since(start), done, tasks.size());
    if (failures) s += fmt::format(", {} failed", failures);
    if (!running.empty()) s += "; running:";
    bool first = true;
    for (const auto& [pid, r] : running) {
      s += fmt::format("{} {} {:.0f} s", first ? "" : ",", tasks[r.index].label, since(r.started));
      first = false;
    }
    display.status(s);
  };
  while (next < tasks.size() || !running.empty()) {
    while (next < tasks.size() && int(running.size()) < std::max(1, o.jobs)) {
      const size_t i = next++;
      if (stop) {
        hooks.skip(i);
        ++done;
        continue;
      }
      if (tasks[i].args.empty()) {
        finished(i, TaskExit{});
        continue;
      }
      if (!display.tty() && hooks.starting) display.line(hooks.starting(i));
      TaskExit e;
      const pid_t pid = spawn(exe, tasks[i], e.spawnError);
      if (pid < 0) {
        finished(i, e);
        continue;
      }
      running[pid] = {i, Clock::now()};
    }
    if (running.empty()) continue;
    status();
    int st = 0;
    const pid_t pid = ::waitpid(-1, &st, display.tty() ? WNOHANG : 0);
    if (pid == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (pid < 0) {
      if (errno == EINTR) continue;
      for (const auto& [lost, r] : running) {  // no children left: should not happen
        TaskExit e;
        e.spawnError = "lost track of process " + std::to_string(lost);
        finished(r.index, e);
      }
      running.clear();
      continue;
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    TaskExit e;
    e.ran = true;
    e.seconds = since(it->second.started);
    if (WIFEXITED(st)) e.exitCode = WEXITSTATUS(st);
    if (WIFSIGNALED(st)) e.signal = WTERMSIG(st);
    const size_t i = it->second.index;
    running.erase(it);
    finished(i, e);
  }
  display.clear();
}

}  // namespace kiln::batch
