// Command-line checks shared by the `kiln` subcommands: validators for paths and numbers with
// messages that say what was expected, and "did you mean" hints for unknown commands and options.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace kiln::cli {

/// The largest --calib-size, --report-samples and --verify-samples taken.
constexpr long long kMaxCalibSize = 1000000;

/// Prints "kiln: note: MESSAGE" on stderr (a DirLock's messages).
void printNote(const std::string& message);

/// Rejects an empty value: `--output-dir ""` would otherwise put every file under "/".
CLI::Validator nonEmptyPath();

/// An integer from `lo` to `hi`, checked on the text before CLI11 converts it, so that
/// `--calib-size 99999999999` and `--calib-size -5` say what range is expected.
CLI::Validator intIn(long long lo, long long hi);

/// Before parsing: when a command word is not a command of `app` (`kiln foo`, `kiln report foo`),
/// the message "unknown command 'foo' (commands: ...; did you mean ...?)"; else "".
std::string unknownCommand(CLI::App& app, int argc, char** argv);

/// After a parse error: when an option given is not an option of the command that was chosen,
/// "unknown option --calib-sze for 'kiln optimize' (did you mean --calib-size?)"; else "".
std::string unknownOption(CLI::App& app, int argc, char** argv);

}  // namespace kiln::cli
