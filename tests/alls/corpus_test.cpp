// The public model-script corpus (../shared/alls-corpus beside the checkout, the Model Zoo's
// v2.18 scripts; skipped when absent): every command, feature and key its scripts use is declared
// in the command table, and docs/alls.md names every command, feature and key of the table.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "alls/alls.h"

namespace kiln::alls {
namespace {

namespace fs = std::filesystem;

const std::string kCorpus = std::string(KILN_SOURCE_DIR) + "/../shared/alls-corpus";

std::vector<std::string> corpusFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::is_directory(kCorpus, ec)) return files;
  for (const auto& e : fs::recursive_directory_iterator(kCorpus))
    if (e.is_regular_file() && e.path().extension() == ".alls") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

bool declared(const std::vector<KeySpec>& keys, const std::string& name) {
  return std::any_of(keys.begin(), keys.end(), [&](const KeySpec& k) { return k.name == name; });
}

TEST(AllsCorpus, EveryCommandFeatureAndKeyIsDeclared) {
  const std::vector<std::string> files = corpusFiles();
  if (files.empty()) GTEST_SKIP() << "no corpus at " << kCorpus;
  std::set<std::string> undeclared;
  size_t statements = 0;
  for (const std::string& f : files) {
    const Script s = parseScriptFile(f);
    for (const Statement& st : s.statements) {
      ++statements;
      const CommandSpec* spec = findCommand(st.command);
      if (!spec) {
        undeclared.insert(st.command + " (" + f + ")");
        continue;
      }
      const FeatureSpec* feature = nullptr;
      if (!spec->features.empty()) {
        const Value* v = st.positional(0);
        feature = v ? findFeature(*spec, v->text) : nullptr;
        if (!feature) {
          undeclared.insert(st.command + " feature " + (v ? v->text : "(none)"));
          continue;
        }
      }
      for (const Arg& a : st.args)
        if (!a.key.empty() && !declared(spec->keys, a.key) &&
            !(feature && declared(feature->keys, a.key)))
          undeclared.insert(st.command + (feature ? "(" + feature->name + ")" : "") + " key " +
                            a.key);
    }
  }
  EXPECT_GT(statements, files.size());
  std::string list;
  for (const std::string& u : undeclared) list += "\n  " + u;
  EXPECT_TRUE(undeclared.empty()) << undeclared.size() << " undeclared:" << list;
}

TEST(AllsCorpus, DocsNameEveryCommandFeatureAndKey) {
  std::ifstream in(std::string(KILN_SOURCE_DIR) + "/docs/alls.md");
  ASSERT_TRUE(in) << "docs/alls.md";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  auto named = [&](const std::string& name) { return doc.find("`" + name) != std::string::npos; };
  std::set<std::string> missing;
  for (const CommandSpec& c : commandTable()) {
    if (!named(c.name)) missing.insert(c.name);
    for (const KeySpec& k : c.keys)
      if (!named(k.name)) missing.insert(c.name + " key " + k.name);
    for (const FeatureSpec& f : c.features) {
      if (!named(f.name)) missing.insert(c.name + " feature " + f.name);
      for (const KeySpec& k : f.keys)
        if (!named(k.name)) missing.insert(c.name + "(" + f.name + ") key " + k.name);
    }
  }
  std::string list;
  for (const std::string& m : missing) list += "\n  " + m;
  EXPECT_TRUE(missing.empty()) << "docs/alls.md does not name:" << list;
}

}  // namespace
}  // namespace kiln::alls
