// Graph layout by Graphviz's `dot` program (Debian package graphviz). Kiln runs the program
// rather than linking libgvc: the layout engine's plugins, its memory and any crash stay out of
// the kiln process, and what kiln hands it is exactly what `kiln visualizer --format dot` prints,
// so a user can reproduce or restyle a drawing with their own Graphviz.
#pragma once

#include <string>

namespace kiln::profiler {

/// The SVG drawing of a dot graph (`dot -Tsvg`), without the XML prolog and DOCTYPE so that it
/// can be put inline in HTML. Throws Error when `dot` is not installed (saying which package
/// provides it) or fails (with its messages); `what` names the network in the message.
std::string layoutSvg(const std::string& dotText, const std::string& what);

}  // namespace kiln::profiler
