// kiln: the Kiln compiler driver.
#include <iostream>

#include "alls/errors.h"
#include "calib/calib_set.h"
#include "common/npy.h"
#include "compiler/archive/archive.h"
#include "compiler/cli/commands.h"

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
      "  kiln info FILE.kar                      (layers, precisions)\n"
      "  kiln infer FILE.kar --target native|fp-optimized|quantized --input-files x.npy "
      "--output-dir out/\n\nDocs: docs/user-guide.md",
      "kiln"};
  app.set_version_flag("--version", std::string("kiln ") + kiln::toolVersion());
  app.require_subcommand(1);
  kiln::cli::addParserCommand(app);
  kiln::cli::addInfoCommand(app);
  kiln::cli::addOptimizeCommand(app);
  kiln::cli::addCompilerCommand(app);
  kiln::cli::addCompileCommand(app);
  kiln::cli::addReportCommand(app);
  kiln::cli::addInferCommand(app);
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
    std::cerr << "kiln: error: " << e.what() << "\nRun with --help for the options.\n";
    return 2;
  } catch (const kiln::Error& e) {
    // Messages that already carry "FILE:LINE:COL: error:" (model scripts) print as they are.
    const std::string what = e.what();
    const size_t firstLine = what.find('\n');
    const bool located = what.substr(0, firstLine).find(": error: ") != std::string::npos;
    std::cerr << (located ? "" : "kiln: error: ") << what << "\n";
    return 1;
  } catch (const kiln::npy::NpyError& e) {
    std::cerr << "kiln: error: " << e.what() << "\n";
    return 1;
  } catch (const kiln::alls::ScriptError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  } catch (const kiln::calib::CalibError& e) {
    std::cerr << "kiln: error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "kiln: error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "kiln: internal error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
