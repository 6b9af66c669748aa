#include "compiler/profiler/graphviz.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include <cerrno>

#include "common/file_io.h"
#include "compiler/ir/types.h"

extern char** environ;

namespace kiln::profiler {

namespace {

// A temporary file removed when it goes out of scope.
struct TempFile {
  std::string path;
  explicit TempFile(const char* suffix) {
    const char* dir = std::getenv("TMPDIR");
    std::string templ = std::string(dir && *dir ? dir : "/tmp") + "/kiln-dot-XXXXXX" + suffix;
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    const int fd = ::mkstemps(buf.data(), int(std::string(suffix).size()));
    if (fd < 0) throw Error("cannot create a temporary file " + templ + " for Graphviz");
    ::close(fd);
    path = buf.data();
  }
  ~TempFile() { ::unlink(path.c_str()); }
};

}  // namespace

std::string layoutSvg(const std::string& dotText, const std::string& what) {
  TempFile in(".dot"), out(".svg"), err(".txt");
  files::writeTextAtomic(in.path, dotText);
  std::vector<std::string> args = {"dot", "-Tsvg", in.path, "-o", out.path};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, err.path.c_str(), O_WRONLY | O_TRUNC, 0600);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, "dot", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    throw Error(what + ": drawing the graph needs Graphviz's `dot` program, which was not found " +
                "on PATH (Debian: apt-get install graphviz, or tools/bootstrap.sh); " +
                "`kiln visualizer --format dot` writes the graph without it");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string messages = files::readText(err.path);
    while (!messages.empty() && messages.back() == '\n') messages.pop_back();
    throw Error(what + ": Graphviz's dot failed to lay out the graph" +
                (messages.empty() ? std::string() : ": " + messages));
  }
  std::string svg = files::readText(out.path);
  // Inline SVG in HTML: drop the XML declaration, the DOCTYPE and Graphviz's version comments.
  const size_t start = svg.find("<svg");
  if (start == std::string::npos) throw Error(what + ": Graphviz's dot wrote no <svg> element");
  return svg.substr(start);
}

}  // namespace kiln::profiler
