// Resolving layer references of a model script against a network's layers (alls-language.md §2):
// Kiln names (`conv42`, `net/conv42`), original ONNX node names (`Gemm_129`), lists of those, and
// fnmatch-style globs (`{conv*}`, `{*}`, `{conv[0-9]}`) matched against both kinds of name.
#pragma once

#include <string>
#include <vector>

#include "alls/ast.h"

namespace kiln::alls {

struct LayerName {
  std::string kiln;                   // "conv3" (or already scoped, "net/conv3")
  std::vector<std::string> original;  // ONNX node names the layer came from
};

// Indices into `layers` (ascending, i.e. layer order, no duplicates) matched by `ref`: a Word or
// String (a name), a List of references, or a Glob. A scoped name `scope/conv3` matches the layer
// conv3 whatever the scope. A reference that matches nothing throws ScriptError at its position,
// naming it and suggesting up to 3 of the closest layer names. `context`, when given, is the
// statement the reference comes from; its source line is shown under the error.
std::vector<int> resolveLayers(const Value& ref, const std::vector<LayerName>& layers,
                               const std::string& netName, const Statement* context = nullptr);

// fnmatch-style matching without special treatment of '/': `*`, `?`, `[abc]`, `[0-9]`, `[!0-9]`.
bool globMatch(const std::string& pattern, const std::string& name);

}  // namespace kiln::alls
