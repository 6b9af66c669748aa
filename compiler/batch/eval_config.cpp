#include "compiler/batch/eval_config.h"

#include <algorithm>

namespace kiln::batch {

namespace {

const std::vector<std::string> kEvalKeys = {"data", "size", "labels", "outputs"};
const std::vector<std::string> kOutputKeys = {"kind", "activation", "threshold", "top_k",
                                              "axis", "min_area",   "where",     "blank"};

bool readNumber(const Entry& e, const std::string& file, Diagnostics& d, double& out) {
  std::vector<double> v;
  if (!readNumbers(e, file, d, v)) return false;
  if (v.size() != 1) {
    d.error(where(file, e.value),
            e.key + ": expected one number, found " + std::to_string(v.size()));
    return false;
  }
  out = v[0];
  return true;
}

void readOutput(const Entry& oe, const std::string& file, Diagnostics& d, eval::EvalSpec& s) {
  eval::OutputEval o;
  o.output = oe.key;
  o.place = where(file, oe.keyNode);
  std::vector<Entry> entries;
  const std::string what = "eval.outputs." + oe.key;
  if (!mapEntries(oe.value, file, what, kOutputKeys, d, entries)) return;
  bool haveKind = false;
  for (const Entry& e : entries) {
    const Entry named{what + "." + e.key, e.keyNode, e.value};
    const std::string w = where(file, e.value);
    std::string text;
    int64_t n = 0;
    double x = 0;
    if (e.key == "kind") {
      if (readString(named, file, d, text)) {
        const auto& names = eval::kindNames();
        const auto it = std::find(names.begin(), names.end(), text);
        if (it == names.end()) {
          d.error(w, named.key +
                         ": expected one of classes, scores, map, regress, sequence, found '" +
                         text + "'");
        } else {
          o.kind = eval::Kind(it - names.begin());
          haveKind = true;
        }
      }
    } else if (e.key == "activation") {
      if (readString(named, file, d, text)) {
        if (text != "none" && text != "sigmoid" && text != "softmax")
          d.error(w, named.key + ": expected none, sigmoid or softmax, found '" + text + "'");
        else
          o.scores.activation = eval::activationFromName(text);
      }
    } else if (e.key == "threshold") {
      if (readNumber(named, file, d, x)) o.scores.threshold = o.map.threshold = x;
    } else if (e.key == "top_k") {
      if (readInt(named, file, d, 1, n)) o.scores.topK = n;
    } else if (e.key == "min_area") {
      if (readInt(named, file, d, 1, n)) o.map.minArea = n;
    } else if (e.key == "blank") {
      if (readInt(named, file, d, 0, n)) o.blank = n;
    } else if (e.key == "axis") {
      if (readNumber(named, file, d, x)) {
        if (x != double(int(x)))
          d.error(w, named.key + ": expected an integer axis");
        else
          o.axis = o.scores.axis = int(x);
      }
    } else if (e.key == "where") {
      if (readString(named, file, d, text)) o.where = text;
    }
  }
  if (!haveKind) d.error(o.place, what + ": no kind (classes, scores, map, regress or sequence)");
  s.outputs.push_back(o);
}

}  // namespace

void readEvalSection(const Entry& ee, const std::string& file, Diagnostics& d, eval::EvalSpec& s) {
  std::vector<Entry> entries;
  s.place = where(file, ee.value);
  if (!mapEntries(ee.value, file, "eval", kEvalKeys, d, entries)) return;
  for (const Entry& e : entries) {
    const Entry named{"eval." + e.key, e.keyNode, e.value};
    std::string text;
    int64_t n = 0;
    if (e.key == "data" || e.key == "labels") {
      if (readString(named, file, d, text))
        (e.key == "data" ? s.data : s.labels) = resolvePath(file, text);
    } else if (e.key == "size") {
      if (readInt(named, file, d, 1, n)) s.size = n;
    } else if (e.key == "outputs") {
      if (!e.value.IsMap()) {
        d.error(where(file, e.value),
                "eval.outputs: expected a mapping of output names to their kind "
                "({\"scores_out\": {kind: scores, activation: sigmoid}})");
        continue;
      }
      std::vector<std::string> names;
      for (const auto& kv : e.value) names.push_back(kv.first.as<std::string>());
      std::vector<Entry> outs;
      if (mapEntries(e.value, file, "eval.outputs", names, d, outs))
        for (const Entry& oe : outs) readOutput(oe, file, d, s);
    }
  }
  if (s.data.empty())
    d.error(s.place, "eval: no data key (an image folder, .npy or .npz to evaluate on)");
  for (const eval::OutputEval& o : s.outputs)
    if (o.kind == eval::Kind::regress && !o.where.empty() &&
        std::none_of(s.outputs.begin(), s.outputs.end(),
                     [&](const eval::OutputEval& w) { return w.output == o.where; }))
      d.error(o.place, "eval.outputs." + o.output + ".where: '" + o.where +
                           "' is not one of the outputs declared under eval.outputs");
}

void readExpectSection(const Entry& xe, const std::string& file, Diagnostics& d,
                       eval::EvalSpec& s) {
  std::vector<std::string> keys;
  for (const auto& g : eval::gateKeys()) keys.push_back(g.key);
  std::vector<Entry> entries;
  if (!mapEntries(xe.value, file, "expect", keys, d, entries)) return;
  for (const Entry& e : entries) {
    const auto& gk = *std::find_if(eval::gateKeys().begin(), eval::gateKeys().end(),
                                   [&](const eval::GateKey& g) { return e.key == g.key; });
    auto addGate = [&](const Entry& v, const std::string& output) {
      double x = 0;
      if (!readNumber(v, file, d, x)) return;
      s.gates.push_back({gk.key, gk.metric, output, gk.bound, x, where(file, v.value)});
    };
    if (e.value.IsMap()) {  // per output: {output: value}
      std::vector<std::string> names;
      for (const auto& kv : e.value) names.push_back(kv.first.as<std::string>());
      std::vector<Entry> per;
      if (mapEntries(e.value, file, "expect." + e.key, names, d, per))
        for (const Entry& p : per)
          addGate({"expect." + e.key + "." + p.key, p.keyNode, p.value}, p.key);
    } else {
      addGate({"expect." + e.key, e.keyNode, e.value}, "");
    }
  }
}

}  // namespace kiln::batch
