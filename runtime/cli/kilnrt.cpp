// kilnrt: the Kiln runtime's command line. Inspects .kef executables (parse), runs them on .npy
// files (infer), measures them (run, benchmark). Depends on the C++17 standard library only.
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "common/npy.h"
#include "common/strings.h"
#include "runtime/api/runtime.h"
#include "runtime/cli/args.h"
#include "runtime/cli/commands.h"
#include "runtime/format/kef.h"

#ifndef KILNRT_VERSION
#define KILNRT_VERSION "unknown"
#endif

namespace {

using namespace kiln::rt::cli;

const char kUsage[] =
    "usage: kilnrt COMMAND [ARGS...]\n"
    "\n"
    "The Kiln runtime: runs the quantized executables (.kef) that `kiln compiler` writes.\n"
    "\n"
    "commands:\n"
    "  parse FILE.kef [--json]                 describe an executable: streams, contexts,\n"
    "                                          layers, memory, the compiler's plan\n"
    "  infer FILE.kef --input-files A.npy ... --output-dir D\n"
    "                                          run it on .npy inputs, write .npy outputs (same\n"
    "                                          files as `kiln infer --target quantized`)\n"
    "  run FILE.kef [--frames-count N] [--measure-latency]\n"
    "                                          throughput, latency and memory of one model\n"
    "  benchmark FILE.kef [FILE2.kef ...]      load time, throughput, latency of each model, and\n"
    "                                          the cost of switching between models\n"
    "\n"
    "Every command explains itself with --help (kilnrt infer --help). kilnrt --version prints\n"
    "the version. Exit codes: 0 success, 1 error, 2 command-line mistake.\n";

// One line: newlines in a message become "; ".
std::string oneLine(std::string s) {
  for (size_t i = 0; (i = s.find('\n', i)) != std::string::npos;) s.replace(i, 1, "; ");
  return s;
}

int fail(const std::string& msg, int code) {
  std::fflush(stdout);
  std::fprintf(stderr, "kilnrt: error: %s\n", oneLine(msg).c_str());
  return code;
}

int dispatch(int argc, char** argv) {
  if (argc < 2)
    throw UsageError(
        "no command given (commands: parse, infer, run, benchmark; see 'kilnrt --help')");
  const std::string cmd = argv[1];
  const Args args(argv + 2, argv + argc);
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("kilnrt %s (.kef format version %u)\n", KILNRT_VERSION, kiln::rt::kKefVersion);
    return 0;
  }
  if (cmd == "parse") return cmdParse(args);
  if (cmd == "infer") return cmdInfer(args);
  if (cmd == "run") return cmdRun(args);
  if (cmd == "benchmark") return cmdBenchmark(args);
  const auto close = kiln::closestNames({"parse", "infer", "run", "benchmark"}, cmd, 1, true);
  throw UsageError("unknown command '" + cmd + "' (commands: parse, infer, run, benchmark" +
                   (close.empty() ? "" : "; did you mean " + close[0] + "?") +
                   "; see 'kilnrt --help')");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return dispatch(argc, argv);
  } catch (const UsageError& e) {
    return fail(e.what(), 2);
  } catch (const kiln::rt::Error& e) {
    return fail(e.what(), 1);
  } catch (const kiln::npy::NpyError& e) {
    return fail(e.what(), 1);
  } catch (const std::bad_alloc&) {
    return fail("out of memory", 1);
  } catch (const std::exception& e) {
    return fail(e.what(), 1);
  } catch (...) {
    return fail("unexpected failure", 1);
  }
}
