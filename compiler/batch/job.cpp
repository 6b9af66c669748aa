#include "compiler/batch/job.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <new>

#include <fmt/core.h>

#include "alls/errors.h"
#include "common/file_io.h"
#include "common/npy.h"
#include "common/sha256.h"
#include "common/strings.h"
#include "compiler/archive/archive.h"
#include "compiler/archive/json_text.h"
#include "compiler/batch/console.h"
#include "compiler/eval/evaluate.h"
#include "compiler/ir/types.h"

namespace kiln::batch {

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void writeText(const std::string& path, const std::string& text) {
  files::writeFileAtomic(path, std::vector<uint8_t>(text.begin(), text.end()));
}

// The files one network's compile writes (flow::optimizeNetwork, compileTarget, runNetwork).
void removeOutputSet(const std::string& dir, const std::string& stem,
                     const std::vector<std::string>& targets, bool perTargetDirs) {
  const std::string base = dir + "/" + stem;
  for (const char* f : {".kar", "_optimized.kar", "_optimized.kar.report.json", ".generated.alls"})
    files::removeFile(base + f);
  for (const std::string& t : targets) {
    const std::string tbase = perTargetDirs ? dir + "/" + t + "/" + stem : base;
    for (const char* f : {".kef", ".compile.json", ".summary.json", ".report.html"})
      files::removeFile(tbase + f);
  }
}

// `eval:` and `expect:`: the executable runs the evaluation set; its figures go into the
// summary, and a missed gate fails the target with the figures in the message.
void checkQuality(const NetworkJob& job, const flow::OptimizedNetwork& n,
                  const flow::CompileResult& c, TargetResult& r) {
  if (job.evalSpec.data.empty())
    throw Error(job.origin + ": expect: needs eval.data (the evaluation set the gates measure)");
  eval::EvalOptions eo;
  eo.targets = {"kef"};
  eo.kefPath = c.kefPath;
  const eval::EvalResult e = eval::evaluate(n.optimized.graph, job.evalSpec, eo);
  r.summary["eval"] = e.toJson();
  r.text += e.table();
  std::vector<std::string> missed;
  for (const eval::GateResult& g : e.gates)
    if (!g.passed) missed.push_back(g.message);
  if (!missed.empty()) {
    r.status = "failed";
    r.error = "quality gate missed: " + join(missed, "; ");
  }
}

}  // namespace

std::string describeCurrentException() {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return "out of memory";
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

std::vector<TargetResult> runNetwork(const NetworkJob& job, const std::string& dir,
                                     bool perTargetDirs,
                                     const std::function<void(const std::string&)>& warn,
                                     const std::function<void(const std::string&)>& info) {
  std::vector<TargetResult> out;
  for (const auto& t : job.targets) {
    out.emplace_back();
    out.back().target = t;
    out.back().status = "failed";
  }
  flow::CompileOptions o = job.opts;
  o.outputDir = dir;
  o.warn = warn;
  o.info = info;
  // Progress of calibration and the noise report: plain lines in a pipe or a manifest's log.
  const bool terminal = stderrIsTerminal();
  o.progress = progressPrinter("calibration", terminal);
  o.reportProgress = progressPrinter("noise report", terminal);
  auto steps = std::make_shared<StepTimes>(terminal);
  o.stepStarted = [steps](const std::string& s) { steps->step(s); };
  // After the parse, before the first file is written: the old files of the network go, so that a
  // kill at any point leaves the files of one run (a prefix of .kar, _optimized.kar, report, .kef,
  // plan, summary), never a new archive beside an old .kef.
  o.afterParse = [&job, &dir, perTargetDirs](const Graph& g) {
    if (job.imageSize.size() == 2) checkImageSize(job, g);
    removeOutputSet(dir, sanitizeFileName(g.name), job.targets, perTargetDirs);
  };
  const auto start = Clock::now();
  flow::OptimizedNetwork n;
  try {
    n = flow::optimizeNetwork(o);
    steps->finish();
  } catch (...) {
    const std::string why = describeCurrentException();
    const double share = since(start) / double(std::max<size_t>(1, out.size()));
    for (auto& r : out) {
      r.error = why;
      r.seconds = share;
    }
    return out;
  }
  const double share = since(start) / double(std::max<size_t>(1, out.size()));
  for (TargetResult& r : out) {
    const auto t = Clock::now();
    try {
      const std::string sub = perTargetDirs ? r.target + "/" : "";
      const std::string tdir = perTargetDirs ? dir + "/" + r.target : dir;
      const flow::CompileResult c = flow::compileTarget(n, o, r.target, tdir);
      const std::string base = dir + "/" + sub + sanitizeFileName(c.netName);
      writeText(base + ".summary.json", jsonText(c.summary, 2) + "\n");
      const auto kef = files::readFile(c.kefPath);
      r.kef = sub + sanitizeFileName(c.netName) + ".kef";
      r.kefSha256 = sha256Hex(kef.data(), kef.size());
      r.summary = c.summary;
      r.text = c.text;
      r.status = "ok";
      if (!job.evalSpec.empty()) checkQuality(job, n, c, r);
    } catch (...) {
      r.error = describeCurrentException();
    }
    r.seconds = share + since(t);
  }
  return out;
}

Json jobToJson(const NetworkJob& job) {
  const flow::CompileOptions& o = job.opts;
  Json j;
  j["index"] = job.index;
  j["name"] = job.name;
  j["dir"] = job.dir;
  j["origin"] = job.origin;
  j["targets"] = job.targets;
  j["onnx"] = o.onnxPath;
  j["net_name"] = o.netName;
  j["start_nodes"] = o.startNodes;
  j["end_nodes"] = o.endNodes;
  j["tensor_shapes"] = o.tensorShapes;
  j["calib"] = o.calibPath;
  j["random_calib"] = o.randomCalib;
  j["calib_size"] = o.calibSize;
  j["script"] = o.scriptPath;
  j["script_text"] = o.scriptText;
  j["report_samples"] = o.reportSamples;
  j["verify_samples"] = o.verifySamples;
  if (o.failOnUnfit) j["fail_on_unfit"] = true;  // only when set: cache keys stay as they were
  if (o.reportHtml) j["report_html"] = true;
  j["image_size"] = job.imageSize;
  j["image_size_where"] = job.imageSizeWhere;
  // Only when set: the cache keys of networks without evaluation stay as they were.
  if (!job.evalSpec.empty()) j["eval"] = eval::specToJson(job.evalSpec);
  return j;
}

NetworkJob jobFromJson(const nlohmann::ordered_json& j) {
  NetworkJob job;
  flow::CompileOptions& o = job.opts;
  job.index = j.at("index").get<int>();
  job.name = j.at("name").get<std::string>();
  job.dir = j.at("dir").get<std::string>();
  job.origin = j.at("origin").get<std::string>();
  job.targets = j.at("targets").get<std::vector<std::string>>();
  o.onnxPath = j.at("onnx").get<std::string>();
  o.netName = j.at("net_name").get<std::string>();
  o.startNodes = j.at("start_nodes").get<std::vector<std::string>>();
  o.endNodes = j.at("end_nodes").get<std::vector<std::string>>();
  o.tensorShapes = j.at("tensor_shapes").get<std::vector<std::string>>();
  o.calibPath = j.at("calib").get<std::string>();
  o.randomCalib = j.at("random_calib").get<bool>();
  o.calibSize = j.at("calib_size").get<int>();
  o.scriptPath = j.at("script").get<std::string>();
  o.scriptText = j.at("script_text").get<std::string>();
  o.reportSamples = j.at("report_samples").get<int>();
  o.verifySamples = j.at("verify_samples").get<int>();
  o.failOnUnfit = j.value("fail_on_unfit", false);
  o.reportHtml = j.value("report_html", false);
  job.imageSize = j.at("image_size").get<std::vector<int64_t>>();
  job.imageSizeWhere = j.at("image_size_where").get<std::string>();
  if (j.contains("eval")) job.evalSpec = eval::specFromJson(j.at("eval"));
  return job;
}

Json resultToJson(const NetworkJob& job, const std::string& cacheKey, const Json& cacheInputs,
                  const std::vector<TargetResult>& results) {
  Json j;
  j["format"] = "kiln-network-result-1";
  j["network"] = job.name;
  j["cache_key"] = cacheKey;
  j["cache_inputs"] = cacheInputs;
  j["targets"] = Json::array();
  for (const TargetResult& r : results) {
    Json t;
    t["target"] = r.target;
    t["status"] = r.status;
    t["seconds"] = r.seconds;
    if (!r.error.empty()) t["error"] = r.error;
    if (r.status == "ok" || r.status == "cached") {
      t["kef"] = r.kef;
      t["kef_sha256"] = r.kefSha256;
      t["summary"] = r.summary;
      t["text"] = r.text;
    } else if (r.summary.contains("eval")) {  // compiled, but a quality gate failed
      t["summary"] = r.summary;
      t["text"] = r.text;
    }
    j["targets"].push_back(t);
  }
  return j;
}

std::vector<TargetResult> resultsFromJson(const nlohmann::ordered_json& j) {
  if (j.value("format", "") != "kiln-network-result-1")
    throw Error("not a Kiln network result (format kiln-network-result-1)");
  std::vector<TargetResult> out;
  for (const auto& t : j.at("targets")) {
    TargetResult r;
    r.target = t.at("target").get<std::string>();
    r.status = t.at("status").get<std::string>();
    r.seconds = t.at("seconds").get<double>();
    r.error = t.value("error", "");
    r.kef = t.value("kef", "");
    r.kefSha256 = t.value("kef_sha256", "");
    if (t.contains("summary")) r.summary = t.at("summary");
    r.text = t.value("text", "");
    out.push_back(r);
  }
  return out;
}

int runJobFile(const std::string& path) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const auto bytes = files::readFile(path);
  const auto spec = Json::parse(bytes.begin(), bytes.end());
  const NetworkJob job = jobFromJson(spec.at("job"));
  const std::string dir = spec.at("dir").get<std::string>();
  fmt::print("kiln {}: {} ({}) for {}\n", toolVersion(), job.name, job.origin,
             join(job.targets, ", "));
  const auto results = runNetwork(
      job, dir, true, [](const std::string& w) { fmt::print(stderr, "{}\n", warningLine(w)); },
      [](const std::string& s) { fmt::print("{}\n", s); });
  bool failed = false;
  for (const TargetResult& r : results) {
    if (r.status == "ok") {
      fmt::print("\n{}", r.text);
    } else {
      fmt::print(stderr, "\nkiln: error: {} on {}: {}\n", job.name, r.target, r.error);
      failed = true;
    }
  }
  std::fflush(stdout);
  writeText(dir + "/result.json",
            jsonText(resultToJson(job, spec.at("cache_key").get<std::string>(),
                                  spec.at("cache_inputs"), results),
                     2) +
                "\n");
  return failed ? 1 : 0;
}

}  // namespace kiln::batch
