// kiln info --json and the report's "model" section.
#include "compiler/profiler/model_json.h"

#include "compiler/ir/macs.h"

namespace kiln::profiler {

nlohmann::json modelJson(const Archive& a) {
  const Graph& g = a.graph;
  int64_t totalParams = 0, totalMacs = 0;
  nlohmann::json layers = nlohmann::json::array();
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const Layer& l = g.layers[i];
    std::vector<Shape> ins;
    std::vector<std::string> producers;
    for (const ValueRef& v : l.inputs) {
      ins.push_back(g.shapeOf(v));
      producers.push_back(g.layers.at(size_t(v.layer)).name);
    }
    layers.push_back({{"name", l.name},
                      {"type", typeWord(l.type)},
                      {"activation", actName(l.activation.kind)},
                      {"original_names", l.originalNames},
                      {"inputs", producers},
                      {"input_shapes", ins},
                      {"output_shapes", l.outputShapes},
                      {"params", g.paramCount(int(i))},
                      {"macs", layerMacs(g, l)}});
    if (!l.outputQuant.empty()) {
      const QuantInfo& q = l.outputQuant[0];
      layers.back()["quant"] = {{"precision", l.precision},
                                {"precision_source", l.precisionSource},
                                {"output_bits", q.bits},
                                {"scale", q.scale},
                                {"zero_point", q.zeroPoint}};
    }
    totalParams += g.paramCount(int(i));
    totalMacs += layerMacs(g, l);
  }
  return {{"net_name", g.name},        {"tool_version", a.toolVersion},
          {"graph_hash", a.graphHash}, {"stages", a.stages},
          {"layers", layers},          {"total_params", totalParams},
          {"total_macs", totalMacs}};
}

}  // namespace kiln::profiler
