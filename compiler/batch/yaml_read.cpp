#include "compiler/batch/yaml_read.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/strings.h"
#include "compiler/ir/types.h"

namespace kiln::batch {

namespace {

std::string found(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return "'" + n.Scalar() + "'";
    default:
      return "an undefined value";
  }
}

bool typeError(const Entry& e, const std::string& file, Diagnostics& d, const std::string& want,
               const YAML::Node& n) {
  d.error(where(file, n), e.key + ": expected " + want + ", found " + found(n));
  return false;
}

template <class T>
bool scalarAs(const YAML::Node& n, T& out) {
  return n.IsScalar() && YAML::convert<T>::decode(n, out);
}

}  // namespace

void Diagnostics::error(const std::string& where, const std::string& message) {
  errors_.push_back(where + ": " + message);
}

std::string Diagnostics::text() const {
  return join(errors_, "\n");
}

void Diagnostics::throwIfAny() const {
  if (!errors_.empty()) throw Error(text());
}

std::string where(const std::string& file, const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  if (m.is_null() || m.line < 0) return file;
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

YAML::Node loadYamlFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw Error(path + ": is a directory, not a YAML file");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": no such file (or it cannot be read)");
  std::stringstream ss;
  ss << f.rdbuf();
  try {
    return YAML::Load(ss.str());
  } catch (const YAML::Exception& e) {
    std::string w = path;
    if (!e.mark.is_null())
      w += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    throw Error(w + ": YAML syntax error: " + e.msg);
  }
}

std::string resolvePath(const std::string& yamlFile, const std::string& p) {
  namespace fs = std::filesystem;
  const fs::path path(p);
  if (path.is_absolute() || yamlFile.empty()) return path.lexically_normal().string();
  const fs::path dir = fs::path(yamlFile).parent_path();
  std::string r = (dir / path).lexically_normal().string();
  return r.empty() ? "." : r;
}

bool mapEntries(const YAML::Node& n, const std::string& file, const std::string& what,
                const std::vector<std::string>& accepted, Diagnostics& d, std::vector<Entry>& out) {
  if (!n.IsMap()) {
    d.error(where(file, n), what + ": expected a mapping of keys (key: value), found " + found(n));
    return false;
  }
  std::set<std::string> seen;
  for (const auto& kv : n) {
    Entry e{kv.first.IsScalar() ? kv.first.Scalar() : "", kv.first, kv.second};
    if (!kv.first.IsScalar()) {
      d.error(where(file, kv.first), what + ": keys must be plain words, found " + found(kv.first));
      continue;
    }
    if (std::find(accepted.begin(), accepted.end(), e.key) == accepted.end()) {
      const auto near = closestNames(accepted, e.key, 1, true);
      d.error(where(file, kv.first),
              "unknown key '" + e.key + "' in " + what +
                  (near.empty() ? "" : " (did you mean '" + near[0] + "'?)") +
                  "; accepted keys: " + join(accepted, ", "));
      continue;
    }
    if (!seen.insert(e.key).second) {
      d.error(where(file, kv.first), what + ": key '" + e.key + "' is given twice");
      continue;
    }
    out.push_back(e);
  }
  return true;
}

bool readString(const Entry& e, const std::string& file, Diagnostics& d, std::string& out) {
  if (!e.value.IsScalar() || e.value.Scalar().empty())
    return typeError(e, file, d, "a string", e.value);
  out = e.value.Scalar();
  return true;
}

bool readBool(const Entry& e, const std::string& file, Diagnostics& d, bool& out) {
  if (!scalarAs(e.value, out)) return typeError(e, file, d, "true or false", e.value);
  return true;
}

bool readInt(const Entry& e, const std::string& file, Diagnostics& d, int64_t min, int64_t& out) {
  long long v = 0;
  if (!scalarAs(e.value, v) || v < min)
    return typeError(e, file, d, "an integer >= " + std::to_string(min), e.value);
  out = v;
  return true;
}

bool readNumbers(const Entry& e, const std::string& file, Diagnostics& d,
                 std::vector<double>& out) {
  out.clear();
  double v = 0;
  if (e.value.IsScalar()) {
    if (!scalarAs(e.value, v) || !std::isfinite(v))
      return typeError(e, file, d, "a number or a list of numbers", e.value);
    out.push_back(v);
    return true;
  }
  if (!e.value.IsSequence() || e.value.size() == 0)
    return typeError(e, file, d, "a number or a list of numbers", e.value);
  for (const auto& item : e.value) {
    if (!scalarAs(item, v) || !std::isfinite(v))
      return typeError(e, file, d, "a number in the list", item);
    out.push_back(v);
  }
  return true;
}

bool readInts(const Entry& e, const std::string& file, Diagnostics& d, int64_t min,
              std::vector<int64_t>& out) {
  out.clear();
  if (!e.value.IsSequence() || e.value.size() == 0)
    return typeError(e, file, d, "a list of integers", e.value);
  for (const auto& item : e.value) {
    long long v = 0;
    if (!scalarAs(item, v) || v < min)
      return typeError(e, file, d, "an integer >= " + std::to_string(min) + " in the list", item);
    out.push_back(v);
  }
  return true;
}

bool readStrings(const Entry& e, const std::string& file, Diagnostics& d,
                 std::vector<std::string>& out) {
  out.clear();
  if (e.value.IsScalar() && !e.value.Scalar().empty()) {
    out.push_back(e.value.Scalar());
    return true;
  }
  if (!e.value.IsSequence() || e.value.size() == 0)
    return typeError(e, file, d, "a string or a list of strings", e.value);
  for (const auto& item : e.value) {
    if (!item.IsScalar() || item.Scalar().empty())
      return typeError(e, file, d, "a string in the list", item);
    out.push_back(item.Scalar());
  }
  return true;
}

}  // namespace kiln::batch
