// Entry hashes and the content hash of kiln.json; see integrity.h.
#include "compiler/archive/integrity.h"

#include "common/sha256.h"
#include "compiler/archive/json_text.h"
#include "compiler/ir/types.h"

namespace kiln::archive {

using nlohmann::json;

namespace {

std::string contentHash(json meta) {
  meta.erase("content_hash");
  const std::string text = jsonText(meta);
  return sha256Hex(text.data(), text.size());
}

std::string shortHash(const std::string& h) {
  return h.substr(0, 12) + "…";
}

}  // namespace

void seal(json& meta, const std::vector<tar::Entry>& entries) {
  json list = json::object();
  for (const auto& [name, data] : entries)
    if (name != "kiln.json") list[name] = sha256Hex(data.data(), data.size());
  meta["entries"] = list;
  meta["content_hash"] = contentHash(meta);
}

void checkSeal(const json& meta, const std::map<std::string, std::vector<uint8_t>>& files,
               const std::string& path) {
  const std::string tail = ": the archive was modified or corrupted";
  if (!meta.contains("entries") || !meta["entries"].is_object() || !meta.contains("content_hash") ||
      !meta["content_hash"].is_string())
    throw Error(path + ": kiln.json: format version " +
                std::to_string(meta.value("format_version", 0)) +
                " needs the fields 'entries' (an object) and 'content_hash' (a string)" + tail);
  const std::string want = meta["content_hash"].get<std::string>(), got = contentHash(meta);
  if (want != got)
    throw Error(path + ": kiln.json does not match its content_hash (" + shortHash(want) +
                " recorded, " + shortHash(got) + " computed)" + tail);
  const json& list = meta["entries"];
  for (const auto& [name, data] : files) {
    if (name == "kiln.json") continue;
    if (!list.contains(name))
      throw Error(path + ": entry " + name + " is not listed in kiln.json's entries" + tail);
    const json& h = list[name];
    const std::string actual = sha256Hex(data.data(), data.size());
    if (!h.is_string() || h.get<std::string>() != actual)
      throw Error(path + ": entry " + name + " does not match its SHA-256 in kiln.json (" +
                  (h.is_string() ? shortHash(h.get<std::string>()) : jsonText(h)) + " recorded, " +
                  shortHash(actual) + " computed)" + tail);
  }
  for (const auto& [name, h] : list.items())
    if (!files.count(name))
      throw Error(path + ": entry " + name + " listed in kiln.json is missing" + tail);
}

}  // namespace kiln::archive
