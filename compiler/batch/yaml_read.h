// Reading YAML with positions, for network configs and manifests: every error is
// "FILE:LINE:COL: message", and a file's errors are collected and thrown together.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace kiln::batch {

/// Errors of one file or one network, thrown together as one kiln::Error.
class Diagnostics {
 public:
  void error(const std::string& where, const std::string& message);
  bool empty() const { return errors_.empty(); }
  size_t count() const { return errors_.size(); }
  std::string text() const;  // one error per line
  void throwIfAny() const;

 private:
  std::vector<std::string> errors_;
};

/// "FILE:LINE:COL" of a node (1-based), or "FILE" when the node has no position.
std::string where(const std::string& file, const YAML::Node& n);
/// Parses a YAML file; a missing file or a syntax error throws Error "FILE[:LINE:COL]: ...".
YAML::Node loadYamlFile(const std::string& path);
/// `p` relative to the directory of `yamlFile` (absolute paths stay), lexically normalized.
std::string resolvePath(const std::string& yamlFile, const std::string& p);

/// A mapping's entries in file order; false (and an error) when `n` is not a mapping. Unknown
/// keys (with the accepted ones and a "did you mean") and repeated keys are errors, left out.
struct Entry {
  std::string key;
  YAML::Node keyNode, value;
};
bool mapEntries(const YAML::Node& n, const std::string& file, const std::string& what,
                const std::vector<std::string>& accepted, Diagnostics& d, std::vector<Entry>& out);

// Typed values: false (and an error naming the key and what was found) on a wrong type.
bool readString(const Entry& e, const std::string& file, Diagnostics& d, std::string& out);
bool readBool(const Entry& e, const std::string& file, Diagnostics& d, bool& out);
bool readInt(const Entry& e, const std::string& file, Diagnostics& d, int64_t min, int64_t& out);
/// A list of numbers; a single number is a list of one.
bool readNumbers(const Entry& e, const std::string& file, Diagnostics& d, std::vector<double>& out);
bool readInts(const Entry& e, const std::string& file, Diagnostics& d, int64_t min,
              std::vector<int64_t>& out);
/// A list of strings; a single string is a list of one.
bool readStrings(const Entry& e, const std::string& file, Diagnostics& d,
                 std::vector<std::string>& out);

}  // namespace kiln::batch
