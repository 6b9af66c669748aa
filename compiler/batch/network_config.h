// One network's config (net.yaml, or an entry of a manifest): the ONNX file, the model script,
// the calibration set, parse options, pre-processing and targets, read with positions and
// resolved into flow::CompileOptions. docs/batch.md lists the keys.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "compiler/batch/yaml_read.h"
#include "compiler/eval/eval_spec.h"
#include "compiler/flow/compile_flow.h"

namespace kiln::batch {

/// A value and where it was set ("FILE:LINE:COL", or "command line").
template <class T>
struct Setting {
  bool set = false;
  T value{};
  std::string where;
  void assign(T v, std::string w) {
    set = true;
    value = std::move(v);
    where = std::move(w);
  }
};

/// A network's keys as written (paths already resolved relative to their YAML file). Configs,
/// manifest defaults and command-line options are layered with overlay().
struct NetworkSpec {
  Setting<std::string> name, description, onnx, script, calib, channelOrder;
  Setting<bool> randomCalib, failOnUnfit, reportHtml;
  Setting<int64_t> calibSize, reportSamples, verifySamples;
  Setting<std::vector<std::string>> startNodes, endNodes, tensorShapes, targets;
  Setting<std::vector<double>> mean, stdv;
  Setting<std::vector<int64_t>> resize;
  Setting<eval::EvalSpec> eval;             // `eval:` (data, labels, outputs)
  Setting<std::vector<eval::Gate>> expect;  // `expect:` quality gates
  std::set<std::string> invalid;            // keys given with a wrong value (already reported)
};

/// The keys of a network config, in documentation order.
const std::vector<std::string>& networkKeys();

/// Reads a mapping of network keys. `extraKeys` are accepted too and skipped by the caller (a
/// manifest entry's `config`); `refused` are removed from the accepted keys (`name` in defaults).
NetworkSpec readNetworkSpec(const YAML::Node& map, const std::string& file, const std::string& what,
                            Diagnostics& d, const std::vector<std::string>& extraKeys = {},
                            const std::vector<std::string>& refused = {});

/// Every setting of `top` replaces the one of `base`.
void overlay(NetworkSpec& base, const NetworkSpec& top);

/// A network ready to compile.
struct NetworkJob {
  int index = 0;                     // position in the manifest (0-based)
  std::string name;                  // as reported
  std::string dir;                   // its output directory (the name, made file-name safe)
  std::string origin;                // where it was defined: "zoo.yaml:12:5" or "net.yaml"
  flow::CompileOptions opts;         // hwArch and outputDir are set per run
  std::vector<std::string> targets;  // canonical hw-arch names
  std::vector<int64_t> imageSize;    // [H, W] from preprocessing.resize: checked after parsing
  std::string imageSizeWhere;
  eval::EvalSpec evalSpec;  // `eval:` and `expect:`; empty when the config has neither
  std::string error;        // a manifest network that could not be resolved: why
};

/// The directory of a network's files in a manifest run's output directory: its name made a safe
/// file name, with a leading '_' when it would collide with the run's own files (report.json,
/// report.xml and their temporaries: every name starting with "report.").
std::string networkDir(const std::string& name);

/// Checks and resolves a spec: required keys, that files exist, targets, the script and the
/// pre-processing (which becomes script lines). Errors go to `d` with the place of the setting;
/// `origin` names the network in errors without a place (a missing key).
NetworkJob resolveNetwork(const NetworkSpec& s, const std::string& origin, Diagnostics& d);

/// `kiln compile --config NET.yaml`: the file, then `overrides` (command-line options).
/// Throws Error with every problem, one per line.
NetworkJob loadNetworkConfig(const std::string& path, const NetworkSpec& overrides);

/// The check of preprocessing.resize against the parsed network's image inputs.
void checkImageSize(const NetworkJob& job, const Graph& g);

}  // namespace kiln::batch
