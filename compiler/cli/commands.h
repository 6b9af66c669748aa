// The `kiln` subcommands. Each registers its options on the CLI11 app and runs when chosen.
#pragma once

#include <CLI/CLI.hpp>

namespace kiln::cli {

void addParserCommand(CLI::App& app);
void addInfoCommand(CLI::App& app);
void addInferCommand(CLI::App& app);
void addOptimizeCommand(CLI::App& app);
void addAnalyzeNoiseCommand(CLI::App& app);
void addCompilerCommand(CLI::App& app);
void addCompileCommand(CLI::App& app);
void addReportCommand(CLI::App& app);
void addCheckScriptCommand(CLI::App& app);
void addProfilerCommand(CLI::App& app);
void addVisualizerCommand(CLI::App& app);
void addEvalCommand(CLI::App& app);

}  // namespace kiln::cli
