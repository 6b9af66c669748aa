// Running the `kiln` binary from GoogleTest: per-test temporary paths, whole-file reads, and a
// run that captures the exit status, stdout and stderr. Needs KILN_SOURCE_DIR and KILN_BINARY.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace kiln::test {

/// The shipped digits example, where the CLI tests get their model and data.
inline const std::string kDigitsDir = std::string(KILN_SOURCE_DIR) + "/examples/digits/";

struct CliRun {
  int status;
  std::string out, err;
};

/// A path unique to the running test: TempDir()/<prefix>_<test>_<name>.
inline std::string testTmp(const std::string& prefix, const std::string& name) {
  return ::testing::TempDir() + "/" + prefix + "_" +
         ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" + name;
}

inline std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

/// Runs `kiln ARGS`; stdout and stderr go through files named after the test.
inline CliRun runKiln(const std::string& prefix, const std::string& args) {
  const std::string o = testTmp(prefix, "stdout.txt"), e = testTmp(prefix, "stderr.txt");
  const int raw =
      std::system((std::string(KILN_BINARY) + " " + args + " >" + o + " 2>" + e).c_str());
  return {WEXITSTATUS(raw), slurp(o), slurp(e)};
}

}  // namespace kiln::test
