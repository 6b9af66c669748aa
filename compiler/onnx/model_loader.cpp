// Loading an ONNX file: every way a file can be wrong becomes one readable Error.
#include <sys/stat.h>

#include <fstream>

#include <onnx/checker.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>

#include "compiler/onnx/importer.h"

namespace kiln::onnx {

namespace {
std::string firstLine(const std::string& s) {
  const size_t p = s.find('\n');
  return p == std::string::npos ? s : s.substr(0, p);
}
}  // namespace

::onnx::ModelProto loadModel(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw Error(path + ": no such file");
  if (S_ISDIR(st.st_mode)) throw Error(path + ": is a directory, expected an .onnx file");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot be opened for reading (permissions?)");
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (bytes.empty()) throw Error(path + ": the file is empty, expected an ONNX model");
  if (bytes.size() > (size_t(2) << 30))
    throw Error(path + ": larger than 2 GiB; save big models with external data");
  ::onnx::ModelProto model;
  if (!model.ParseFromString(bytes))
    throw Error(path +
                ": not an ONNX model: the bytes do not decode as an ONNX ModelProto protobuf "
                "(a truncated download, or a file in another format?)");
  if (!model.has_graph() || model.graph().node_size() == 0 || model.ir_version() <= 0)
    throw Error(path + ": not an ONNX model: it decodes as protobuf but has " +
                (model.ir_version() <= 0 ? std::string("no ir_version") : "an empty graph") +
                " (is this really an .onnx file?)");
  int opset = -1;
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = int(o.version());
  if (opset < 0) throw Error(path + ": the model imports no opset of the default ONNX domain");
  if (opset < 9 || opset > 18)
    throw Error(path + ": the model uses opset " + std::to_string(opset) +
                "; Kiln reads opsets 9 through 18. Convert it first, e.g. with "
                "onnx.version_converter.convert_version(model, 13)");
  // The ONNX checker of the installed libonnx knows opsets up to its own release; newer models
  // are checked by Kiln's importer alone.
  const auto& ranges = ::onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  const int checkerMax = ranges.count("") ? ranges.at("").second : 0;
  if (opset <= checkerMax) {
    try {
      ::onnx::checker::CheckerContext ctx;
      ctx.set_ir_version(int(model.ir_version()));
      std::unordered_map<std::string, int> opsets;
      for (const auto& o : model.opset_import()) opsets[o.domain()] = int(o.version());
      ctx.set_opset_imports(opsets);
      const size_t slash = path.rfind('/');
      ctx.set_model_dir(slash == std::string::npos ? "." : path.substr(0, slash));
      ::onnx::checker::LexicalScopeContext lex;
      ::onnx::checker::check_graph(model.graph(), ctx, lex);
    } catch (const std::exception& e) {
      throw Error(path + ": the ONNX checker rejects the model: " + firstLine(e.what()));
    }
  }
  return model;
}

}  // namespace kiln::onnx
