#include "alls/layer_refs.h"

#include <fmt/format.h>

#include <algorithm>

#include "alls/errors.h"
#include "common/strings.h"

namespace kiln::alls {
namespace {

std::string unscoped(const std::string& name) {
  const size_t slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

// Matches one character class starting at pattern[p] == '['; sets p past the ']'. Returns false
// through `ok` when the class is not closed (then '[' is an ordinary character).
bool classMatch(const std::string& pat, size_t& p, char c, bool& ok) {
  size_t i = p + 1;
  bool negate = false;
  if (i < pat.size() && (pat[i] == '!' || pat[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  while (i < pat.size() && (first || pat[i] != ']')) {
    first = false;
    if (i + 2 < pat.size() && pat[i + 1] == '-' && pat[i + 2] != ']') {
      if (pat[i] <= c && c <= pat[i + 2]) matched = true;
      i += 3;
    } else {
      if (pat[i] == c) matched = true;
      ++i;
    }
  }
  if (i >= pat.size()) {
    ok = false;
    return false;
  }
  ok = true;
  p = i + 1;
  return matched != negate;
}

bool globFrom(const std::string& pat, size_t p, const std::string& s, size_t i) {
  while (p < pat.size()) {
    const char pc = pat[p];
    if (pc == '*') {
      while (p < pat.size() && pat[p] == '*') ++p;
      if (p == pat.size()) return true;
      for (size_t k = i; k <= s.size(); ++k)
        if (globFrom(pat, p, s, k)) return true;
      return false;
    }
    if (i == s.size()) return false;
    if (pc == '?') {
      ++p;
      ++i;
      continue;
    }
    if (pc == '[') {
      bool ok = false;
      size_t q = p;
      const bool m = classMatch(pat, q, s[i], ok);
      if (ok) {
        if (!m) return false;
        p = q;
        ++i;
        continue;
      }
    }
    if (pc != s[i]) return false;
    ++p;
    ++i;
  }
  return i == s.size();
}

// All names a layer answers to.
std::vector<std::string> namesOf(const LayerName& l, const std::string& netName) {
  std::vector<std::string> names = {l.kiln};
  const std::string bare = unscoped(l.kiln);
  if (bare != l.kiln) names.push_back(bare);
  if (!netName.empty()) names.push_back(netName + "/" + bare);
  for (const std::string& o : l.original) names.push_back(o);
  return names;
}

class Resolver {
 public:
  Resolver(const std::vector<LayerName>& layers, const std::string& netName,
           const Statement* context)
      : layers_(layers), net_(netName), context_(context) {}

  void resolve(const Value& ref, std::vector<bool>& hit) {
    switch (ref.kind) {
      case Value::Kind::List:
        if (ref.items.empty())
          fail(ref, "an empty list [] selects no layer; name at least one layer");
        for (const Value& item : ref.items) resolve(item, hit);
        return;
      case Value::Kind::Glob: {
        bool any = false;
        for (size_t i = 0; i < layers_.size(); ++i) {
          for (const std::string& n : namesOf(layers_[i], net_)) {
            if (globMatch(ref.text, n)) {
              hit[i] = any = true;
              break;
            }
          }
        }
        if (!any) notFound(ref, fmt::format("{{{}}}", ref.text), literalPart(ref.text));
        return;
      }
      default: {
        const int i = byName(ref.text);
        if (i < 0) notFound(ref, ref.text, ref.text);
        hit[size_t(i)] = true;
      }
    }
  }

 private:
  int byName(const std::string& name) const {
    // Exact Kiln or original name first, then the Kiln name under any scope.
    for (size_t i = 0; i < layers_.size(); ++i) {
      const LayerName& l = layers_[i];
      if (l.kiln == name || unscoped(l.kiln) == name ||
          (!net_.empty() && net_ + "/" + unscoped(l.kiln) == name))
        return int(i);
      if (std::find(l.original.begin(), l.original.end(), name) != l.original.end()) return int(i);
    }
    const size_t slash = name.find('/');
    if (slash != std::string::npos && slash > 0) {
      const std::string rest = name.substr(slash + 1);
      for (size_t i = 0; i < layers_.size(); ++i)
        if (unscoped(layers_[i].kiln) == rest) return int(i);
    }
    return -1;
  }

  static std::string literalPart(const std::string& pattern) {
    std::string out;
    bool inClass = false;
    for (char c : pattern) {
      if (c == '[') inClass = true;
      if (!inClass && c != '*' && c != '?') out += c;
      if (c == ']') inClass = false;
    }
    return out;
  }

  [[noreturn]] void fail(const Value& ref, const std::string& what) const {
    throw ScriptError(ref.pos, what, context_ ? context_->lineText(ref.pos.line) : std::string());
  }

  [[noreturn]] void notFound(const Value& ref, const std::string& shown,
                             const std::string& key) const {
    std::vector<std::string> candidates;
    for (const LayerName& l : layers_) {
      candidates.push_back(unscoped(l.kiln));
      for (const std::string& o : l.original) candidates.push_back(o);
    }
    // Scoped references are compared without their scope.
    const std::string bare =
        key.find('/') != std::string::npos && key.front() != '/' ? unscoped(key) : key;
    const auto close = closestNames(candidates, bare, 3, false);
    std::string msg = fmt::format("layer reference '{}' matches no layer of the network", shown);
    if (layers_.empty())
      msg += " (the network has no layers)";
    else if (!close.empty())
      msg += fmt::format("; closest names: {}", join(close, ", "));
    fail(ref, msg);
  }

  const std::vector<LayerName>& layers_;
  const std::string& net_;
  const Statement* context_;
};

}  // namespace

bool globMatch(const std::string& pattern, const std::string& name) {
  return globFrom(pattern, 0, name, 0);
}

std::vector<int> resolveLayers(const Value& ref, const std::vector<LayerName>& layers,
                               const std::string& netName, const Statement* context) {
  std::vector<bool> hit(layers.size(), false);
  Resolver(layers, netName, context).resolve(ref, hit);
  std::vector<int> out;
  for (size_t i = 0; i < hit.size(); ++i)
    if (hit[i]) out.push_back(int(i));
  return out;
}

}  // namespace kiln::alls
