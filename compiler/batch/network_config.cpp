#include "compiler/batch/network_config.h"

#include <sys/stat.h>

#include <climits>
#include <filesystem>
#include <set>

#include <fmt/core.h>

#include "alls/alls.h"
#include "common/file_io.h"
#include "common/strings.h"
#include "compiler/batch/eval_config.h"
#include "compiler/hwarch/hw_arch.h"
#include "compiler/ir/types.h"
#include "compiler/onnx/importer.h"

namespace kiln::batch {

namespace {

const std::vector<std::string> kPreprocessingKeys = {"mean", "std", "channel_order", "resize"};

template <class T>
void over(Setting<T>& base, const Setting<T>& top) {
  if (top.set) base = top;
}

void readPreprocessing(const Entry& pe, const std::string& file, Diagnostics& d, NetworkSpec& s) {
  std::vector<Entry> entries;
  if (!mapEntries(pe.value, file, "preprocessing", kPreprocessingKeys, d, entries)) return;
  for (const Entry& e : entries) {
    const std::string w = where(file, e.value);
    const Entry named{"preprocessing." + e.key, e.keyNode, e.value};
    std::vector<double> numbers;
    std::vector<int64_t> ints;
    std::string text;
    if (e.key == "mean" || e.key == "std") {
      if (readNumbers(named, file, d, numbers))
        (e.key == "mean" ? s.mean : s.stdv).assign(numbers, w);
    } else if (e.key == "channel_order") {
      if (readString(named, file, d, text)) {
        if (text != "rgb" && text != "bgr")
          d.error(w, "preprocessing.channel_order: expected rgb or bgr, found '" + text + "'");
        else
          s.channelOrder.assign(text, w);
      }
    } else if (e.key == "resize") {
      if (readInts(named, file, d, 1, ints)) {
        if (ints.size() != 2)
          d.error(w, "preprocessing.resize: expected [height, width], found " +
                         std::to_string(ints.size()) + " value(s)");
        else
          s.resize.assign(ints, w);
      }
    }
  }
}

void readTensorShapes(const Entry& te, const std::string& file, Diagnostics& d, NetworkSpec& s) {
  std::vector<Entry> entries;
  if (!te.value.IsMap()) {
    d.error(where(file, te.value),
            "tensor_shapes: expected a mapping of input names to shapes (x: [1, 3, 640, 640])");
    return;
  }
  std::vector<std::string> names;
  for (const auto& kv : te.value) names.push_back(kv.first.IsScalar() ? kv.first.Scalar() : "");
  if (!mapEntries(te.value, file, "tensor_shapes", names, d, entries)) return;
  std::vector<std::string> shapes;
  for (const Entry& e : entries) {
    std::vector<int64_t> dims;
    if (!readInts({"tensor_shapes." + e.key, e.keyNode, e.value}, file, d, 1, dims)) return;
    std::string arg = e.key + "=[";
    for (size_t i = 0; i < dims.size(); ++i) arg += (i ? "," : "") + std::to_string(dims[i]);
    shapes.push_back(arg + "]");
  }
  s.tensorShapes.assign(shapes, where(file, te.value));
}

bool isFile(const std::string& p, bool dirOk) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return false;
  return S_ISREG(st.st_mode) || (dirOk && S_ISDIR(st.st_mode));
}

// A missing path under a `.data/` folder is data a script fetches (examples/real/fetch.sh makes
// .data/models and .data/calib): name the script when there is one beside that folder.
std::string fetchHint(const std::string& missing) {
  namespace fs = std::filesystem;
  fs::path dir;
  bool found = false;
  for (const fs::path& part : fs::path(missing)) {
    if (part == ".data") {
      found = true;
      break;
    }
    dir /= part;
  }
  if (!found) return "";
  const fs::path script = (dir.empty() ? fs::path(".") : dir) / "fetch.sh";
  if (!isFile(script.string(), false)) return "";
  return " (run " + script.string() + " first: it fetches what .data/ holds)";
}

std::string numberList(const std::vector<double>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", v[i]);
  return s + "]";
}

// The script statement running `command`, or nullptr.
const alls::Statement* findCommand(const alls::Script& script, const std::string& command) {
  for (const auto& st : script.statements)
    if (st.command == command) return &st;
  return nullptr;
}

// Pre-processing as script lines, put before the user's script.
std::string preprocessingScript(const NetworkSpec& s, const alls::Script* script, Diagnostics& d) {
  std::string text;
  const bool bgr = s.channelOrder.set && s.channelOrder.value == "bgr";
  if (bgr) {
    if (const alls::Statement* st = script ? findCommand(*script, "input_conversion") : nullptr)
      d.error(s.channelOrder.where,
              fmt::format("preprocessing.channel_order: the script already converts the input "
                          "channels ({}:{}); keep one of them",
                          st->pos.file, st->pos.line));
    // The model was trained on BGR: swap its first convolutions' input channels so that the
    // compiled network takes RGB, like the calibration images (and the reference's bgr2rgb).
    text += "# preprocessing.channel_order: bgr (the network takes RGB)\n";
    text += "input_conversion(rgb_to_bgr)\n";
  }
  if (s.mean.set != s.stdv.set) {
    const auto& given = s.mean.set ? s.mean.where : s.stdv.where;
    d.error(given, "preprocessing: give both mean and std (or neither)");
    return text;
  }
  if (!s.mean.set) return text;
  if (const alls::Statement* st = script ? findCommand(*script, "normalization") : nullptr) {
    d.error(s.mean.where,
            fmt::format("preprocessing.mean/std: the script already normalizes the input ({}:{}); "
                        "normalizing twice is wrong, keep one of them",
                        st->pos.file, st->pos.line));
    return text;
  }
  auto mean = s.mean.value, stdv = s.stdv.value;
  if (mean.size() != stdv.size() && mean.size() != 1 && stdv.size() != 1)
    d.error(s.stdv.where,
            fmt::format("preprocessing: mean has {} values and std {}", mean.size(), stdv.size()));
  for (double x : stdv)
    if (x == 0) d.error(s.stdv.where, "preprocessing.std: a standard deviation of 0");
  if (bgr) {  // given in the model's (BGR) order; the compiled network takes RGB
    std::reverse(mean.begin(), mean.end());
    std::reverse(stdv.begin(), stdv.end());
  }
  text += "# preprocessing.mean/std: the network takes raw 0-255 pixels\n";
  text += "normalization(" + numberList(mean) + ", " + numberList(stdv) + ")\n";
  return text;
}

}  // namespace

const std::vector<std::string>& networkKeys() {
  static const std::vector<std::string> keys = {
      "name",          "description",    "onnx",           "script",    "calib",
      "random_calib",  "calib_size",     "start_nodes",    "end_nodes", "tensor_shapes",
      "preprocessing", "report_samples", "verify_samples", "targets",   "fail_on_unfit",
      "report_html",   "eval",           "expect"};
  return keys;
}

NetworkSpec readNetworkSpec(const YAML::Node& map, const std::string& file, const std::string& what,
                            Diagnostics& d, const std::vector<std::string>& extraKeys,
                            const std::vector<std::string>& refused) {
  NetworkSpec s;
  std::vector<std::string> accepted;
  for (const auto& k : networkKeys())
    if (std::find(refused.begin(), refused.end(), k) == refused.end()) accepted.push_back(k);
  accepted.insert(accepted.end(), extraKeys.begin(), extraKeys.end());
  std::vector<Entry> entries;
  if (!mapEntries(map, file, what, accepted, d, entries)) return s;
  for (const Entry& e : entries) {
    const std::string w = where(file, e.value);
    std::string text;
    bool flag = false;
    int64_t n = 0;
    std::vector<std::string> list;
    const std::string& k = e.key;
    const size_t errorsBefore = d.count();
    if (k == "name" || k == "description") {
      if (readString(e, file, d, text)) (k == "name" ? s.name : s.description).assign(text, w);
    } else if (k == "onnx" || k == "script" || k == "calib") {
      if (readString(e, file, d, text))
        (k == "onnx"     ? s.onnx
         : k == "script" ? s.script
                         : s.calib)
            .assign(resolvePath(file, text), w);
    } else if (k == "random_calib") {
      if (readBool(e, file, d, flag)) s.randomCalib.assign(flag, w);
    } else if (k == "fail_on_unfit") {
      if (readBool(e, file, d, flag)) s.failOnUnfit.assign(flag, w);
    } else if (k == "report_html") {
      if (readBool(e, file, d, flag)) s.reportHtml.assign(flag, w);
    } else if (k == "calib_size" || k == "report_samples" || k == "verify_samples") {
      if (readInt(e, file, d, k == "calib_size" ? 1 : 0, n)) {
        if (n > INT_MAX)
          d.error(w, k + ": " + std::to_string(n) + " is too large");
        else
          (k == "calib_size"       ? s.calibSize
           : k == "report_samples" ? s.reportSamples
                                   : s.verifySamples)
              .assign(n, w);
      }
    } else if (k == "start_nodes" || k == "end_nodes" || k == "targets") {
      if (readStrings(e, file, d, list))
        (k == "start_nodes" ? s.startNodes
         : k == "end_nodes" ? s.endNodes
                            : s.targets)
            .assign(list, w);
    } else if (k == "tensor_shapes") {
      readTensorShapes(e, file, d, s);
    } else if (k == "preprocessing") {
      readPreprocessing(e, file, d, s);
    } else if (k == "eval") {
      eval::EvalSpec spec;
      readEvalSection(e, file, d, spec);
      s.eval.assign(spec, w);
    } else if (k == "expect") {
      eval::EvalSpec spec;
      readExpectSection(e, file, d, spec);
      s.expect.assign(spec.gates, w);
    }
    if (d.count() > errorsBefore) s.invalid.insert(k);
  }
  return s;
}

void overlay(NetworkSpec& base, const NetworkSpec& top) {
  over(base.name, top.name);
  over(base.description, top.description);
  over(base.onnx, top.onnx);
  over(base.script, top.script);
  over(base.calib, top.calib);
  over(base.channelOrder, top.channelOrder);
  over(base.randomCalib, top.randomCalib);
  over(base.failOnUnfit, top.failOnUnfit);
  over(base.reportHtml, top.reportHtml);
  over(base.calibSize, top.calibSize);
  over(base.reportSamples, top.reportSamples);
  over(base.verifySamples, top.verifySamples);
  over(base.startNodes, top.startNodes);
  over(base.endNodes, top.endNodes);
  over(base.tensorShapes, top.tensorShapes);
  over(base.targets, top.targets);
  over(base.mean, top.mean);
  over(base.stdv, top.stdv);
  over(base.resize, top.resize);
  over(base.eval, top.eval);
  over(base.expect, top.expect);
  base.invalid.insert(top.invalid.begin(), top.invalid.end());
  // A calibration path given on top replaces random calibration below, and the reverse.
  if (top.calib.set && !top.randomCalib.set) base.randomCalib = {};
  if (top.randomCalib.set && top.randomCalib.value && !top.calib.set) base.calib = {};
}

std::string networkDir(const std::string& name) {
  const std::string dir = sanitizeFileName(name);
  return dir.compare(0, 7, "report.") == 0 ? "_" + dir : dir;
}

NetworkJob resolveNetwork(const NetworkSpec& s, const std::string& origin, Diagnostics& d) {
  NetworkJob job;
  job.origin = origin;
  flow::CompileOptions& o = job.opts;
  if (!s.onnx.set) {
    if (!s.invalid.count("onnx"))
      d.error(origin, "no onnx key: name the model to compile (onnx: model.onnx)");
  } else if (!isFile(s.onnx.value, false)) {
    d.error(s.onnx.where, "onnx: no such file: " + s.onnx.value + fetchHint(s.onnx.value));
  }
  o.onnxPath = s.onnx.value;
  job.name = s.name.set ? s.name.value : files::stem(s.onnx.value);
  o.netName = s.name.value;
  job.dir = networkDir(job.name);

  alls::Script script;
  bool haveScript = false;
  if (s.script.set) {
    o.scriptPath = s.script.value;
    if (!isFile(s.script.value, false)) {
      d.error(s.script.where,
              "script: no such file: " + s.script.value + fetchHint(s.script.value));
    } else {
      try {
        script = alls::parseScriptFile(s.script.value);
        haveScript = true;
      } catch (const alls::ScriptError& e) {
        d.error(s.script.where, std::string("script: ") + e.what());
      }
    }
  }
  o.scriptText = preprocessingScript(s, haveScript ? &script : nullptr, d);

  const bool random = s.randomCalib.set && s.randomCalib.value;
  if (random && s.calib.set) {
    d.error(s.randomCalib.where,
            "random_calib: true and calib (" + s.calib.where + ") are both set; keep one");
  } else if (!random && !s.calib.set) {
    if (!s.invalid.count("calib") && !s.invalid.count("random_calib"))
      d.error(origin,
              "no calib key: give a calibration set (calib: images/ or data.npy; "
              "docs/calibration.md), or random_calib: true to try the flow only");
  } else if (s.calib.set && !isFile(s.calib.value, true)) {
    d.error(s.calib.where,
            "calib: no such file or directory: " + s.calib.value + fetchHint(s.calib.value));
  }
  o.calibPath = s.calib.value;
  o.randomCalib = random;
  if (s.calibSize.set) o.calibSize = int(s.calibSize.value);
  if (s.reportSamples.set) o.reportSamples = int(s.reportSamples.value);
  if (s.verifySamples.set) o.verifySamples = int(s.verifySamples.value);
  o.failOnUnfit = s.failOnUnfit.set && s.failOnUnfit.value;
  o.reportHtml = s.reportHtml.set && s.reportHtml.value;
  o.startNodes = s.startNodes.value;
  o.endNodes = s.endNodes.value;
  o.tensorShapes = s.tensorShapes.value;
  for (const auto& arg : o.tensorShapes) {
    try {
      onnx::parseTensorShapeArg(arg);
    } catch (const Error& e) {
      d.error(s.tensorShapes.where, std::string("tensor_shapes: ") + e.what());
    }
  }

  const std::vector<std::string> targets =
      s.targets.set ? s.targets.value : std::vector<std::string>{"hailo8"};
  for (const auto& t : targets) {
    try {
      const std::string name = hwarch::findArch(t).name;
      if (std::find(job.targets.begin(), job.targets.end(), name) != job.targets.end())
        d.error(s.targets.where, "targets: " + name + " is listed twice");
      else
        job.targets.push_back(name);
    } catch (const Error& e) {
      d.error(s.targets.where, std::string("targets: ") + e.what());
    }
  }
  job.imageSize = s.resize.value;
  job.imageSizeWhere = s.resize.where;
  if (s.eval.set) {
    job.evalSpec = s.eval.value;
    if (!isFile(job.evalSpec.data, true))
      d.error(s.eval.where, "eval.data: no such file or directory: " + job.evalSpec.data +
                                fetchHint(job.evalSpec.data));
    if (!job.evalSpec.labels.empty() && !isFile(job.evalSpec.labels, false))
      d.error(s.eval.where, "eval.labels: no such file: " + job.evalSpec.labels);
  }
  if (s.expect.set) job.evalSpec.gates = s.expect.value;
  return job;
}

NetworkJob loadNetworkConfig(const std::string& path, const NetworkSpec& overrides) {
  const YAML::Node root = loadYamlFile(path);
  Diagnostics d;
  NetworkSpec s = readNetworkSpec(root, path, "the network config", d);
  overlay(s, overrides);
  NetworkJob job = resolveNetwork(s, path, d);
  d.throwIfAny();
  return job;
}

void checkImageSize(const NetworkJob& job, const Graph& g) {
  if (job.imageSize.size() != 2) return;
  const int64_t h = job.imageSize[0], w = job.imageSize[1];
  for (int id : g.inputLayers()) {
    const auto& s = g.at(id).attrInts("user_shape");
    if (s.size() != 4) continue;
    if ((s[2] == h && s[3] == w) || (s[1] == h && s[2] == w)) continue;
    throw Error(fmt::format(
        "{}: preprocessing.resize [{}, {}] does not match input '{}' of shape {}: calibration "
        "images are resized to the network input's size; fix dynamic sizes with tensor_shapes",
        job.imageSizeWhere, h, w, g.at(id).attrString("onnx_name"), shapeStr(s)));
  }
}

}  // namespace kiln::batch
