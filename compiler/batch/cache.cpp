#include "compiler/batch/cache.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <onnx/onnx_pb.h>

#include "common/file_io.h"
#include "common/npy.h"
#include "common/sha256.h"
#include "common/strings.h"
#include "compiler/archive/archive.h"
#include "compiler/archive/json_text.h"

namespace kiln::batch {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

std::string digestOfFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "missing";
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (f) {
    f.read(buf.data(), std::streamsize(buf.size()));
    if (f.gcount() > 0) h.update(buf.data(), size_t(f.gcount()));
  }
  return f.bad() ? "missing" : h.hexDigest();
}

void externalLocations(const ::onnx::GraphProto& g, std::set<std::string>& out);

void tensorLocation(const ::onnx::TensorProto& t, std::set<std::string>& out) {
  if (t.data_location() != ::onnx::TensorProto::EXTERNAL) return;
  for (const auto& e : t.external_data())
    if (e.key() == "location") out.insert(e.value());
}

void externalLocations(const ::onnx::GraphProto& g, std::set<std::string>& out) {
  for (const auto& t : g.initializer()) tensorLocation(t, out);
  for (const auto& n : g.node())
    for (const auto& a : n.attribute()) {
      if (a.has_t()) tensorLocation(a.t(), out);
      for (const auto& t : a.tensors()) tensorLocation(t, out);
      if (a.has_g()) externalLocations(a.g(), out);
      for (const auto& sub : a.graphs()) externalLocations(sub, out);
    }
}

// Digests of the external data files an ONNX model names (relative to its directory).
Json externalData(const std::string& onnxPath, FileDigests& digests) {
  Json out = Json::object();
  std::ifstream f(onnxPath, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ::onnx::ModelProto m;
  if (bytes.empty() || !m.ParseFromString(bytes)) return out;
  std::set<std::string> locations;
  externalLocations(m.graph(), locations);
  const fs::path dir = fs::path(onnxPath).parent_path();
  for (const auto& loc : locations) out[loc] = digests.file((dir / loc).string());
  return out;
}

std::optional<Json> previousResult(const std::string& networkDir) {
  try {
    const auto bytes = files::readFile(networkDir + "/result.json");
    return Json::parse(bytes.begin(), bytes.end());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::string FileDigests::file(const std::string& path) {
  auto it = memo_.find(path);
  if (it != memo_.end()) return it->second;
  return memo_[path] = digestOfFile(path);
}

std::string FileDigests::directory(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return file(path);
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(it->path().lexically_relative(path).string());
  }
  std::sort(files.begin(), files.end());
  Sha256 h;
  for (const auto& rel : files) h.update(rel + "\n" + file((fs::path(path) / rel).string()) + "\n");
  return h.hexDigest();
}

std::string kilnIdentity() {
  return std::string(toolVersion()) + " " + digestOfFile("/proc/self/exe");
}

CacheKey cacheKey(const NetworkJob& job, const std::string& kilnId, FileDigests& digests) {
  const flow::CompileOptions& o = job.opts;
  Json options = jobToJson(job);
  for (const char* k :
       {"index", "dir", "origin", "targets", "onnx", "calib", "script", "image_size_where"})
    options.erase(k);
  CacheKey c;
  c.inputs["kiln"] = kilnId;
  c.inputs["onnx"] = digests.file(o.onnxPath);
  c.inputs["onnx_external_data"] = externalData(o.onnxPath, digests);
  c.inputs["script"] = o.scriptPath.empty() ? "none" : digests.file(o.scriptPath);
  c.inputs["calib"] = o.randomCalib ? "random" : digests.directory(o.calibPath);
  c.inputs["options"] = options;
  c.inputs["targets"] = job.targets;
  if (!job.evalSpec.data.empty()) {  // the gates' figures depend on the evaluation set's content
    c.inputs["eval_data"] = digests.directory(job.evalSpec.data);
    if (!job.evalSpec.labels.empty()) c.inputs["eval_labels"] = digests.file(job.evalSpec.labels);
  }
  const std::string text = jsonText(c.inputs);
  c.key = sha256Hex(text.data(), text.size());
  return c;
}

std::optional<std::vector<TargetResult>> cachedResults(const std::string& networkDir,
                                                       const std::string& key) {
  const auto prev = previousResult(networkDir);
  if (!prev || prev->value("cache_key", "") != key) return std::nullopt;
  std::vector<TargetResult> results;
  try {
    results = resultsFromJson(*prev);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  for (TargetResult& r : results) {
    if (r.status != "ok" && r.status != "cached") return std::nullopt;
    if (r.kef.empty() || digestOfFile(networkDir + "/" + r.kef) != r.kefSha256) return std::nullopt;
    r.status = "cached";
    r.seconds = 0;
  }
  return results;
}

std::string changedInputs(const std::string& networkDir, const CacheKey& key) {
  const auto prev = previousResult(networkDir);
  if (!prev || !prev->contains("cache_inputs")) return "";
  std::vector<std::string> changed;
  for (const auto& [k, v] : key.inputs.items())
    if (!prev->at("cache_inputs").contains(k) || prev->at("cache_inputs").at(k) != v)
      changed.push_back(k);
  return changed.empty() ? "none (the previous compile failed or its files changed)"
                         : join(changed, ", ");
}

}  // namespace kiln::batch
