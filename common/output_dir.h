// Output directories shared by runs: a lock so that two runs writing into one directory take
// turns instead of mixing their files, and the removal of the temporaries (`<file>.tmp<pid>`,
// see writeFileAtomic) that a killed run leaves behind.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace kiln::files {

/// Removes the `<name>.tmp<pid>` files in `dir` whose process no longer runs (left by a run that
/// was killed while writing). Returns their names. Other files are never touched.
std::vector<std::string> removeStaleTemporaries(const std::string& dir);

/// An exclusive lock on a directory, held until destruction: flock(2) on the directory itself,
/// so no lock file is left behind and a killed holder releases it. Creates the directory. When
/// another run holds it, calls `waiting` with a message once and waits. Once it holds the lock,
/// removes stale temporaries (reported through `waiting` too).
class DirLock {
 public:
  DirLock(const std::string& dir, const std::function<void(const std::string&)>& note);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace kiln::files
