// kiln: the Kiln compiler driver.
#include <iostream>

#include "compiler/archive/archive.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/errors.h"
#include "compiler/cli/options.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Kiln: compile trained ONNX models into quantized executables for edge neural "
      "accelerators.\n\nThe flow:\n  kiln parser onnx model.onnx            -> model.kar\n"
      "  kiln optimize model.kar --calib-set-path calib/ [--model-script m.alls]\n"
      "                                         -> model_optimized.kar\n"
      "  kiln compiler model_optimized.kar --hw-arch hailo8 [--output-dir out/]\n"
      "                                         -> out/model.kef (run it with kilnrt)\n"
      "  kiln compile model.onnx --calib-set-path calib/ ...   (all of the above, verified)\n"
      "  kiln compile --manifest zoo.yaml -j 2 --output-dir D  (many networks, reports)\n"
      "  kiln analyze-noise model_optimized.kar --data-path held_out/ [--mode advanced]\n"
      "                                         (noise on held-out data, 16-bit suggestions)\n"
      "  kiln info FILE.kar                      (layers, precisions)\n"
      "  kiln check-script m.alls [DIR...]       (validate model scripts, no network)\n"
      "  kiln infer FILE.kar --target native|fp-optimized|quantized --input-files x.npy "
      "--output-dir out/\n"
      "  kiln eval net.yaml [--targets quantized,kef]  (task accuracy vs float, expect: gates)\n"
      "  kiln profiler FILE.kar [--kef X.kef] -o report.html   (one HTML report)\n"
      "  kiln visualizer FILE.kar -o graph.svg   (the graph)\n\nDocs: docs/user-guide.md",
      "kiln"};
  app.set_version_flag("--version", std::string("kiln ") + kiln::toolVersion());
  app.require_subcommand(1);
  kiln::cli::addParserCommand(app);
  kiln::cli::addInfoCommand(app);
  kiln::cli::addOptimizeCommand(app);
  kiln::cli::addAnalyzeNoiseCommand(app);
  kiln::cli::addCompilerCommand(app);
  kiln::cli::addCompileCommand(app);
  kiln::cli::addReportCommand(app);
  kiln::cli::addInferCommand(app);
  kiln::cli::addCheckScriptCommand(app);
  kiln::cli::addProfilerCommand(app);
  kiln::cli::addVisualizerCommand(app);
  kiln::cli::addEvalCommand(app);
  const std::string unknown = kiln::cli::unknownCommand(app, argc, argv);
  if (!unknown.empty()) {
    std::cerr << "kiln: error: " << unknown << "\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a command's exit status (e.g. a manifest with failures)
  } catch (const CLI::ParseError& e) {
    // Usage mistakes: one line, exit status 2 (like kilnrt).
    const std::string option = kiln::cli::unknownOption(app, argc, argv);
    if (!option.empty()) {
      std::cerr << "kiln: error: " << option << "\n";
      return 2;
    }
    std::cerr << "kiln: error: " << e.what() << "\nRun with --help for the options.\n";
    return 2;
  } catch (...) {
    return kiln::cli::reportError(std::current_exception());
  }
  return 0;
}
