#include "compiler/profiler/executable_json.h"

#include <algorithm>

#include "common/file_io.h"
#include "compiler/ir/types.h"
#include "runtime/format/kef.h"

namespace kiln::profiler {

nlohmann::json executableJson(const std::string& kefPath) {
  const std::vector<uint8_t> bytes = files::readFile(kefPath);
  // The parser wants 8-byte aligned data (constants point into it).
  std::vector<uint64_t> aligned(bytes.size() / 8 + 1);
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<uint8_t*>(aligned.data()));
  rt::KefFile kef;
  try {
    kef = rt::parseKef(reinterpret_cast<const uint8_t*>(aligned.data()), bytes.size());
  } catch (const rt::Error& e) {
    throw Error(kefPath + ": not a valid .kef: " + e.what());
  }
  const rt::Program& p = kef.program;
  const int nOps = int(p.ops.size());

  std::vector<int> opContext(p.ops.size(), -1);
  nlohmann::json contexts = nlohmann::json::array();
  for (size_t c = 0; c < p.contexts.size(); ++c) {
    const rt::ContextDesc& cd = p.contexts[c];
    for (uint32_t i = cd.firstOp; i < cd.firstOp + cd.opCount && i < p.ops.size(); ++i)
      opContext[i] = int(c);
    contexts.push_back({{"index", c},
                        {"first_operation", cd.firstOp},
                        {"operations", cd.opCount},
                        {"weight_bytes", cd.weightBytes},
                        {"macs", cd.macs}});
  }

  // Lifetimes: the operation writing each tensor and the last one reading it.
  std::vector<int> def(p.tensors.size(), -1), lastUse(p.tensors.size(), -1);
  std::vector<std::string> owner(p.tensors.size());
  nlohmann::json ops = nlohmann::json::array();
  for (int i = 0; i < nOps; ++i) {
    const rt::OpDesc& op = p.ops[size_t(i)];
    def.at(op.output) = i;
    owner.at(op.output) = op.name;
    for (uint32_t t : op.inputs) lastUse.at(t) = std::max(lastUse.at(t), i);
    ops.push_back({{"index", i},
                   {"layer", op.name},
                   {"opcode", rt::opName(op.code)},
                   {"context", opContext[size_t(i)]}});
  }
  for (const rt::StreamDesc& s : p.inputs) owner.at(s.tensor) = s.name;
  for (const rt::StreamDesc& s : p.outputs) lastUse.at(s.tensor) = nOps;

  nlohmann::json tensors = nlohmann::json::array();
  for (size_t t = 0; t < p.tensors.size(); ++t) {
    const rt::TensorDesc& td = p.tensors[t];
    tensors.push_back({{"tensor", t},
                       {"layer", owner[t]},
                       {"offset_bytes", td.offset * int64_t(sizeof(int32_t))},
                       {"bytes", td.numel() * int64_t(sizeof(int32_t))},
                       {"first_op", def[t]},
                       {"last_op", std::max(lastUse[t], def[t])}});
  }
  return {{"file", kefPath},
          {"bytes", bytes.size()},
          {"net_name", p.meta.netName},
          {"hw_arch", p.meta.hwArch},
          {"graph_hash", p.meta.graphHash},
          {"operations", ops},
          {"contexts", contexts},
          {"arena", {{"bytes", p.arenaElems * int64_t(sizeof(int32_t))}, {"tensors", tensors}}}};
}

}  // namespace kiln::profiler
