#include "compiler/batch/manifest.h"

#include <filesystem>
#include <map>

#include "common/strings.h"
#include "compiler/ir/types.h"

namespace kiln::batch {

namespace {

const std::vector<std::string> kManifestKeys = {"name", "defaults", "targets", "networks"};

NetworkJob readNetwork(const YAML::Node& entry, int index, const std::string& path,
                       const NetworkSpec& defaults, const NetworkSpec& overrides) {
  Diagnostics d;
  NetworkSpec spec = defaults;
  const std::string origin = where(path, entry);
  std::string configPath;
  const YAML::Node* inlineKeys = nullptr;
  if (entry.IsScalar()) {  // `- net.yaml`: short for `- config: net.yaml`
    configPath = resolvePath(path, entry.Scalar());
  } else if (entry.IsMap()) {
    inlineKeys = &entry;
    const YAML::Node c = entry["config"];
    if (c && (!c.IsScalar() || c.Scalar().empty()))
      d.error(where(path, c), "config: expected the path of a network config file");
    else if (c)
      configPath = resolvePath(path, c.Scalar());
  } else {
    d.error(origin, "a network entry is a config file's path or a mapping of network keys");
  }
  if (!configPath.empty()) {
    try {
      const YAML::Node root = loadYamlFile(configPath);
      overlay(spec, readNetworkSpec(root, configPath, "the network config", d));
    } catch (const Error& e) {
      d.error(origin, e.what());
    }
  }
  if (inlineKeys) overlay(spec, readNetworkSpec(*inlineKeys, path, "network entry", d, {"config"}));
  overlay(spec, overrides);
  NetworkJob job = resolveNetwork(spec, origin, d);
  job.index = index;
  if (!spec.onnx.set && !spec.name.set) {
    job.name = configPath.empty() ? "network" + std::to_string(index + 1)
                                  : std::filesystem::path(configPath).stem().string();
    job.dir = networkDir(job.name);
  }
  if (!d.empty()) job.error = d.text();
  return job;
}

}  // namespace

Manifest loadManifest(const std::string& path, const NetworkSpec& overrides) {
  Manifest m;
  m.path = path;
  m.name = std::filesystem::path(path).stem().string();
  const YAML::Node root = loadYamlFile(path);
  Diagnostics d;
  std::vector<Entry> entries;
  mapEntries(root, path, "the manifest", kManifestKeys, d, entries);
  NetworkSpec defaults;
  Setting<std::vector<std::string>> targets;
  YAML::Node networks;
  std::string networksWhere = path;
  for (const Entry& e : entries) {
    if (e.key == "name") {
      readString(e, path, d, m.name);
    } else if (e.key == "defaults") {
      overlay(defaults, readNetworkSpec(e.value, path, "defaults", d, {}, {"name"}));
    } else if (e.key == "targets") {
      std::vector<std::string> t;
      if (readStrings(e, path, d, t)) targets.assign(t, where(path, e.value));
    } else if (e.key == "networks") {
      networks = e.value;
      networksWhere = where(path, e.value);
      if (!networks.IsSequence() || networks.size() == 0)
        d.error(networksWhere, "networks: expected a list of networks (config files or keys)");
    }
  }
  if (targets.set && defaults.targets.set)
    d.error(targets.where, "targets are set twice (here and in defaults, " +
                               defaults.targets.where + "); keep one");
  else if (targets.set)
    defaults.targets = targets;
  if (d.empty() && !networks)
    d.error(path, "no networks key: list the networks to compile (networks: [- config: net.yaml])");
  d.throwIfAny();

  int index = 0;
  for (const auto& entry : networks)
    m.networks.push_back(readNetwork(entry, index++, path, defaults, overrides));
  std::map<std::string, const NetworkJob*> names, dirs;
  for (const NetworkJob& j : m.networks) {
    if (names.count(j.name))
      d.error(j.origin, "network name '" + j.name + "' is used twice (also " +
                            names[j.name]->origin + "); give one of them another name: key");
    else if (dirs.count(j.dir))
      d.error(j.origin, "networks '" + j.name + "' and '" + dirs[j.dir]->name +
                            "' would share the output directory " + j.dir + "; rename one");
    names[j.name] = &j;
    dirs[j.dir] = &j;
  }
  d.throwIfAny();
  return m;
}

std::pair<int, int> parseShard(const std::string& text) {
  const size_t slash = text.find('/');
  int i = 0, n = 0;
  try {
    size_t a = 0, b = 0;
    if (slash != std::string::npos) {
      i = std::stoi(text.substr(0, slash), &a);
      n = std::stoi(text.substr(slash + 1), &b);
    }
    if (slash == std::string::npos || a != slash || b != text.size() - slash - 1) n = 0;
  } catch (const std::exception&) {
    n = 0;
  }
  if (n < 1 || i < 1 || i > n)
    throw Error("--shard " + text + ": expected i/n with 1 <= i <= n, e.g. --shard 2/4");
  return {i, n};
}

std::vector<NetworkJob> shardOf(const std::vector<NetworkJob>& networks, int i, int n) {
  std::vector<NetworkJob> out;
  for (const NetworkJob& j : networks)
    if (j.index % n + 1 == i) out.push_back(j);
  return out;
}

}  // namespace kiln::batch
