#include "compiler/flow/compile_flow.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/core.h>

#include "calib/calib_set.h"
#include "common/file_io.h"
#include "common/npy.h"
#include "common/strings.h"
#include "compiler/archive/archive.h"
#include "compiler/archive/json_text.h"
#include "compiler/emulator/quant_executor.h"
#include "compiler/flow/build_executable.h"
#include "compiler/hwarch/resource_plan.h"
#include "compiler/lower/lower_program.h"
#include "compiler/onnx/importer.h"
#include "compiler/optimize/optimizer.h"
#include "compiler/profiler/profiler.h"
#include "runtime/api/runtime.h"

namespace kiln::flow {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Runs `samples` calibration samples through the executable (the runtime's Session, loaded from
// the file's bytes) and through the emulation; any differing byte is an error.
int verifyExecutable(const Graph& g, const LoweredProgram& lp, const std::string& kefPath,
                     const CompileOptions& o) {
  if (o.verifySamples <= 0) return 0;
  std::vector<calib::InputSpec> specs;
  for (int id : g.inputLayers())
    specs.push_back({g.at(id).attrString("onnx_name"), g.at(id).attrInts("user_shape")});
  const calib::CalibSet set =
      o.randomCalib ? calib::randomCalibSet(specs, size_t(o.verifySamples), 1)
                    : calib::loadCalibSet(o.calibPath, specs, size_t(o.verifySamples));
  auto model = rt::Model::open(kefPath);
  rt::Session session(model);
  int checked = 0;
  for (const auto& sample : set.samples) {
    std::vector<FloatBuffer> ins;
    std::vector<rt::InputBuffer> rin;
    for (size_t k = 0; k < specs.size(); ++k) {
      ins.push_back({specs[k].shape, sample[k]});
      rin.push_back({ins.back().data.data(), ins.back().data.size() * sizeof(float),
                     rt::BufferType::Float32});
    }
    const auto expected = runLowered(lp, g, ins);
    std::vector<std::vector<uint16_t>> got(model->outputs().size());
    std::vector<rt::OutputBuffer> rout;
    for (size_t k = 0; k < got.size(); ++k) {
      got[k].resize(size_t(rt::streamElements(model->outputs()[k])));
      rout.push_back({got[k].data(), got[k].size() * 2, rt::BufferType::UInt16});
    }
    session.run(rin, rout);
    for (size_t k = 0; k < got.size(); ++k)
      for (size_t i = 0; i < got[k].size(); ++i)
        if (int32_t(got[k][i]) != expected[k].data[i])
          throw Error(kefPath + ": verification failed: output '" + model->outputs()[k].name +
                      "' element " + std::to_string(i) + " of calibration sample " +
                      std::to_string(checked) + " is " + std::to_string(got[k][i]) +
                      " in the executable and " + std::to_string(expected[k].data[i]) +
                      " in the quantized emulation");
    ++checked;
  }
  return checked;
}

}  // namespace

OptimizedNetwork optimizeNetwork(const CompileOptions& o) {
  OptimizedNetwork n;
  files::makeDirs(o.outputDir);

  // 1. Parse.
  auto t = Clock::now();
  onnx::ImportOptions io;
  io.netName = o.netName.empty() ? files::stem(o.onnxPath) : o.netName;
  if (o.netName.empty()) io.netNameField = "the network name (taken from the file name)";
  io.startNodes = o.startNodes;
  io.endNodes = o.endNodes;
  for (const auto& s : o.tensorShapes) io.tensorShapes.insert(onnx::parseTensorShapeArg(s));
  onnx::ImportReport importReport;
  Archive parsed;
  parsed.graph = onnx::importFile(o.onnxPath, io, &importReport);
  parsed.stages = {"parse"};
  for (const auto& note : importReport.notes) o.warn(note);
  if (o.afterParse) o.afterParse(parsed.graph);
  n.netName = parsed.graph.name;
  const std::string base = o.outputDir + "/" + sanitizeFileName(n.netName);
  n.karPath = base + ".kar";
  writeArchive(n.karPath, parsed);
  n.parseSeconds = since(t);
  o.info(fmt::format("parsed {} -> {} layers", o.onnxPath, parsed.graph.layers.size()));

  // 2. Optimize.
  t = Clock::now();
  optimize::OptimizeOptions oo;
  oo.calibPath = o.calibPath;
  oo.randomCalib = o.randomCalib;
  oo.calibSizeOverride = o.calibSize;
  oo.reportSamples = o.reportSamples;
  oo.warn = o.warn;
  oo.progress = o.progress;
  oo.reportProgress = o.reportProgress;
  if (o.stepStarted) oo.stepStarted = o.stepStarted;
  if (!o.scriptText.empty()) {
    // A generated script (config pre-processing): the generated lines, then the user's script,
    // so that the script's layer globs see the layers the generated lines add.
    std::string text = o.scriptText;
    if (!text.empty() && text.back() != '\n') text += '\n';
    if (!o.scriptPath.empty()) text += "# " + o.scriptPath + "\n" + files::readText(o.scriptPath);
    oo.scriptPath = base + ".generated.alls";
    files::writeFileAtomic(oo.scriptPath, std::vector<uint8_t>(text.begin(), text.end()));
  } else {
    oo.scriptPath = o.scriptPath;
  }
  n.optimized = optimize::optimize(parsed, oo);
  n.optimizedPath = base + "_optimized.kar";
  writeArchive(n.optimizedPath, n.optimized);
  n.reportPath = n.optimizedPath + ".report.json";
  files::writeFileAtomic(n.reportPath, n.optimized.extra.at("optimize/report.json"));
  n.optimizeSeconds = since(t);
  o.info("optimized -> " + n.optimizedPath);
  return n;
}

CompileResult compileTarget(const OptimizedNetwork& n, const CompileOptions& o,
                            const std::string& hwArch, const std::string& dir) {
  CompileResult r;
  r.netName = n.netName;
  r.karPath = n.karPath;
  r.optimizedPath = n.optimizedPath;
  r.reportPath = n.reportPath;
  const Archive& optimized = n.optimized;
  nlohmann::ordered_json times;
  times["parse_s"] = n.parseSeconds;
  times["optimize_s"] = n.optimizeSeconds;
  const auto start = Clock::now();
  files::makeDirs(dir);
  const std::string base = dir + "/" + sanitizeFileName(r.netName);

  // 3. Compile.
  auto t = Clock::now();
  const hwarch::HwArch& arch = hwarch::findArch(hwArch);
  const Executable exe =
      buildExecutable(optimized, r.optimizedPath, arch, hwarch::planOptionsFromArchive(optimized));
  const hwarch::ResourcePlan& plan = exe.plan;
  if (o.failOnUnfit && !plan.unfit().empty()) throw Error(r.optimizedPath + ": " + plan.unfit());
  const std::vector<uint8_t>& kef = exe.bytes;
  r.kefPath = base + ".kef";
  files::writeFileAtomic(r.kefPath, kef);
  r.planPath = base + ".compile.json";
  const std::string planText = jsonText(plan.toJson(), 2) + "\n";
  files::writeFileAtomic(r.planPath, std::vector<uint8_t>(planText.begin(), planText.end()));
  times["compile_s"] = since(t);

  // 4. Verify.
  t = Clock::now();
  const int verified = verifyExecutable(optimized.graph, *exe.lowered, r.kefPath, o);
  times["verify_s"] = since(t);

  // 5. The HTML report (kiln profiler) of what was just written.
  if (o.reportHtml) {
    t = Clock::now();
    profiler::ReportInputs in;
    in.karPath = r.optimizedPath;
    in.kefPath = r.kefPath;
    r.reportHtmlPath = base + ".report.html";
    files::writeTextAtomic(r.reportHtmlPath, profiler::buildReport(optimized, in));
    times["report_html_s"] = since(t);
  }
  times["total_s"] = n.parseSeconds + n.optimizeSeconds + since(start);

  // Summary.
  std::map<std::string, int> mix;
  for (const Layer& l : optimized.graph.layers)
    if (!l.precision.empty()) ++mix[l.precision];
  const auto report = nlohmann::json::parse(optimized.extra.at("optimize/report.json"));
  nlohmann::ordered_json snrs = nlohmann::ordered_json::array();
  for (const auto& out : report.at("outputs"))
    snrs.push_back({{"output", out.at("output")}, {"snr_db", out.at("snr_db")}});
  auto fileSize = [](const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? int64_t(st.st_size) : int64_t(-1);
  };
  nlohmann::ordered_json s;
  s["net"] = r.netName;
  s["onnx"] = o.onnxPath;
  s["hw_arch"] = arch.name;
  s["layers"] = optimized.graph.layers.size();
  s["precision"] = mix;
  s["output_snr_db"] = snrs;
  s["contexts"] = plan.contexts.size();
  s["estimated_fps"] = plan.fps;
  s["verified_samples"] = verified;
  s["files"] = {{"kar", {{"path", r.karPath}, {"bytes", fileSize(r.karPath)}}},
                {"optimized", {{"path", r.optimizedPath}, {"bytes", fileSize(r.optimizedPath)}}},
                {"kef", {{"path", r.kefPath}, {"bytes", int64_t(kef.size())}}}};
  if (!r.reportHtmlPath.empty())
    s["files"]["report_html"] = {{"path", r.reportHtmlPath}, {"bytes", fileSize(r.reportHtmlPath)}};
  s["times"] = times;
  r.summary = s;
  std::string mixText, snrText;
  for (const auto& [m, n] : mix)
    mixText += fmt::format("{}{} {}", mixText.empty() ? "" : ", ", n, m);
  for (const auto& x : snrs)
    snrText += fmt::format("{}{} {:.2f} dB", snrText.empty() ? "" : ", ",
                           x.at("output").get<std::string>(), x.at("snr_db").get<double>());
  r.text = fmt::format(
      "{} on {}: {} layers ({})\n  output SNR: {}\n  {} context(s), estimated {:.1f} FPS\n"
      "  {} ({} bytes), verified bit-exact on {} calibration sample(s)\n"
      "  time: parse {:.1f} s, optimize {:.1f} s, compile {:.1f} s, verify {:.1f} s\n",
      r.netName, arch.name, optimized.graph.layers.size(), mixText, snrText, plan.contexts.size(),
      plan.fps, r.kefPath, kef.size(), verified, times["parse_s"].get<double>(),
      times["optimize_s"].get<double>(), times["compile_s"].get<double>(),
      times["verify_s"].get<double>());
  if (!r.reportHtmlPath.empty())
    r.text += fmt::format("  report: {} ({:.1f} s)\n", r.reportHtmlPath,
                          times["report_html_s"].get<double>());
  return r;
}

CompileResult compileModel(const CompileOptions& o) {
  return compileTarget(optimizeNetwork(o), o, o.hwArch, o.outputDir);
}

}  // namespace kiln::flow
