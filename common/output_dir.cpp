#include "common/output_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "common/file_io.h"

namespace kiln::files {

namespace {

// The pid of "<name>.tmp<pid>", or 0.
long tempOwner(const std::string& name) {
  const size_t at = name.rfind(".tmp");
  if (at == std::string::npos || at == 0 || at + 4 == name.size() || name.size() - at > 4 + 10)
    return 0;
  long pid = 0;
  for (size_t i = at + 4; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return 0;
    pid = pid * 10 + (name[i] - '0');
  }
  return pid;
}

}  // namespace

std::vector<std::string> removeStaleTemporaries(const std::string& dir) {
  std::vector<std::string> removed;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return removed;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    const long pid = tempOwner(name);
    if (pid <= 0 || pid == long(::getpid())) continue;
    if (::kill(pid_t(pid), 0) == 0 || errno != ESRCH) continue;  // its writer still runs
    if (std::remove((dir + "/" + name).c_str()) == 0) removed.push_back(name);
  }
  ::closedir(d);
  return removed;
}

DirLock::DirLock(const std::string& dir, const std::function<void(const std::string&)>& note) {
  makeDirs(dir);
  fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) throw FileError(dir + ": cannot open the output directory: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) {
      ::close(fd_);
      throw FileError(dir + ": cannot lock the output directory: " + std::strerror(errno));
    }
    note("another run is writing into " + dir + "; waiting for it to finish");
    while (::flock(fd_, LOCK_EX) != 0)
      if (errno != EINTR) {
        ::close(fd_);
        throw FileError(dir + ": cannot lock the output directory: " + std::strerror(errno));
      }
  }
  const auto stale = removeStaleTemporaries(dir);
  if (!stale.empty()) {
    std::string names;
    for (const auto& n : stale) names += (names.empty() ? "" : ", ") + n;
    note(dir + ": removed " + std::to_string(stale.size()) +
         " temporary file(s) left by a killed run: " + names);
  }
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace kiln::files
