#include "common/infer_outputs.h"

#include <cstdio>

#include "common/file_io.h"
#include "common/json.h"
#include "common/output_dir.h"
#include "common/strings.h"

namespace kiln {

std::vector<int64_t> batchedShape(std::vector<int64_t> shape, int64_t batch) {
  if (batch > 1) {
    if (shape.empty() || shape[0] != 1)
      shape.insert(shape.begin(), batch);
    else
      shape[0] = batch;
  }
  return shape;
}

void writeInferOutputs(const std::string& dir, const std::string& target, int64_t batch,
                       std::vector<InferOutput> outputs,
                       const std::function<void(const std::string&)>& note) {
  const files::DirLock lock(dir, note);
  // Keys in sorted order, as nlohmann::json writes them.
  Json list = Json::array();
  for (InferOutput& out : outputs) {
    std::vector<int64_t>& shape = out.array.shape;
    shape = batchedShape(shape, batch);
    const std::string file = sanitizeFileName(out.name) + ".npy";
    npy::save(dir + "/" + file, out.array);
    list.push(Json::object()
                  .set("dtype", npy::typeName(out.array.type))
                  .set("file", file)
                  .set("name", out.name)
                  .set("shape", shape));
    std::printf("  %-24s %s -> %s/%s\n", out.name.c_str(), shapeStr(shape).c_str(), dir.c_str(),
                file.c_str());
  }
  const Json j = Json::object().set("batch", batch).set("outputs", list).set("target", target);
  files::writeTextAtomic(dir + "/outputs.json", j.dump(2) + "\n");
}

}  // namespace kiln
