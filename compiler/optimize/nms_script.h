// nms_postprocess(...): the detector post-processing of the reference's model scripts, built
// from its JSON config file and the statement's keyword arguments into the runtime's NmsConfig
// (runtime/post/nms.h), which kiln optimize keeps in the archive and kiln compiler puts in the
// .kef.
#pragma once

#include <string>

#include "alls/alls.h"
#include "compiler/ir/graph.h"
#include "runtime/post/nms.h"

namespace kiln::optimize {

/// The result of one nms_postprocess statement: a config, or why Kiln does not apply it.
struct NmsScript {
  bool applied = false;
  rt::NmsConfig config;
  std::string notApplied;          // the reason, when not applied
  std::vector<std::string> notes;  // keys accepted without effect, with the reason
};

/// Why Kiln will not apply the statement, seen without a network or its config file (an
/// architecture Kiln does not decode, no config file, bbox_decoding_only=True), or "".
/// kiln check-script reports it; nmsFromStatement gives the same reason.
std::string nmsNotAppliedReason(const alls::Statement& st);

/// Reads the statement and its config file (a path relative to the script's folder, as the
/// zoo's scripts give it) and resolves the decoders' layer names to the network's outputs.
/// A bad file, key or value throws ScriptError naming the file and key.
NmsScript nmsFromStatement(const Graph& g, const alls::Statement& st);

}  // namespace kiln::optimize
