#include "compiler/eval/eval_spec.h"

#include "compiler/ir/types.h"

namespace kiln::eval {

namespace {
using Json = nlohmann::ordered_json;

Kind kindFromName(const std::string& n) {
  for (Kind k : {Kind::classes, Kind::scores, Kind::map, Kind::regress, Kind::sequence})
    if (n == kindName(k)) return k;
  throw Error("eval: output kind '" + n + "': expected classes, scores, map, regress or sequence");
}

const char* activationName(Activation a) {
  return a == Activation::sigmoid ? "sigmoid" : a == Activation::softmax ? "softmax" : "none";
}
}  // namespace

const char* kindName(Kind k) {
  switch (k) {
    case Kind::classes:
      return "classes";
    case Kind::scores:
      return "scores";
    case Kind::map:
      return "map";
    case Kind::regress:
      return "regress";
    case Kind::sequence:
      return "sequence";
  }
  return "?";
}

const std::vector<std::string>& kindNames() {
  static const std::vector<std::string> names = {"classes", "scores", "map", "regress", "sequence"};
  return names;
}

const std::vector<GateKey>& gateKeys() {
  static const std::vector<GateKey> keys = {
#define MIN Bound::min
#define MAX Bound::max
#define GATE(key, metric, bound, what) {#key, #metric, bound, what},
#include "compiler/eval/gates.def"
#undef GATE
#undef MIN
#undef MAX
  };
  return keys;
}

Json specToJson(const EvalSpec& s) {
  Json j;
  j["data"] = s.data;
  j["size"] = s.size;
  j["labels"] = s.labels;
  j["place"] = s.place;
  j["outputs"] = Json::array();
  for (const OutputEval& o : s.outputs) {
    Json e;
    e["output"] = o.output;
    e["kind"] = kindName(o.kind);
    e["axis"] = o.axis;
    e["activation"] = activationName(o.scores.activation);
    e["threshold"] = o.scores.threshold;
    e["top_k"] = o.scores.topK;
    e["map_threshold"] = o.map.threshold;
    e["min_area"] = o.map.minArea;
    e["where"] = o.where;
    e["blank"] = o.blank;
    e["place"] = o.place;
    j["outputs"].push_back(e);
  }
  j["gates"] = Json::array();
  for (const Gate& g : s.gates)
    j["gates"].push_back({{"key", g.key},
                          {"metric", g.metric},
                          {"output", g.output},
                          {"bound", g.bound == Bound::min ? "min" : "max"},
                          {"value", g.value},
                          {"place", g.place}});
  return j;
}

EvalSpec specFromJson(const Json& j) {
  EvalSpec s;
  s.data = j.at("data").get<std::string>();
  s.size = j.at("size").get<int64_t>();
  s.labels = j.at("labels").get<std::string>();
  s.place = j.at("place").get<std::string>();
  for (const Json& e : j.at("outputs")) {
    OutputEval o;
    o.output = e.at("output").get<std::string>();
    o.kind = kindFromName(e.at("kind").get<std::string>());
    o.axis = e.at("axis").get<int>();
    o.scores.activation = activationFromName(e.at("activation").get<std::string>());
    o.scores.axis = o.axis;
    o.scores.threshold = e.at("threshold").get<double>();
    o.scores.topK = e.at("top_k").get<int64_t>();
    o.map.threshold = e.at("map_threshold").get<double>();
    o.map.minArea = e.at("min_area").get<int64_t>();
    o.where = e.at("where").get<std::string>();
    o.blank = e.at("blank").get<int64_t>();
    o.place = e.at("place").get<std::string>();
    s.outputs.push_back(o);
  }
  for (const Json& e : j.at("gates")) {
    Gate g;
    g.key = e.at("key").get<std::string>();
    g.metric = e.at("metric").get<std::string>();
    g.output = e.at("output").get<std::string>();
    g.bound = e.at("bound").get<std::string>() == "min" ? Bound::min : Bound::max;
    g.value = e.at("value").get<double>();
    g.place = e.at("place").get<std::string>();
    s.gates.push_back(g);
  }
  return s;
}

}  // namespace kiln::eval
