// The kilnrt subcommands. Each takes its arguments (after the subcommand name) and returns the
// exit code; failures throw (kilnrt.cpp turns them into one "kilnrt: error: ..." line).
#pragma once

#include <string>
#include <vector>

namespace kiln::rt::cli {

using Args = std::vector<std::string>;

int cmdParse(const Args& args);
int cmdInfer(const Args& args);
int cmdRun(const Args& args);
int cmdBenchmark(const Args& args);

}  // namespace kiln::rt::cli
