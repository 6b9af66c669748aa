// nms_postprocess: the reference's JSON config + keyword arguments -> rt::NmsConfig.
#include "compiler/optimize/nms_script.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/strings.h"

namespace kiln::optimize {

namespace {

using nlohmann::json;

alls::ScriptError errorAt(const alls::Statement& st, const alls::SourcePos& pos,
                          const std::string& what) {
  return alls::ScriptError(pos, what, st.lineText(pos.line));
}

std::string folderOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

// The config file's reader: every error names the file and the key.
struct ConfigReader {
  const alls::Statement& st;
  const alls::SourcePos& pos;
  std::string file;

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw errorAt(st, pos, "nms_postprocess config " + file + ": key \"" + key + "\" " + what);
  }
  double number(const json& j, const std::string& key, double lo, double hi) const {
    if (!j.is_number()) fail(key, "expects a number, found " + j.dump());
    const double v = j.get<double>();
    if (!(v >= lo && v <= hi))
      fail(key, "expects a number in [" + fmtNum(lo) + ", " + fmtNum(hi) + "], found " + j.dump());
    return v;
  }
  uint32_t whole(const json& j, const std::string& key, double lo, double hi) const {
    const double v = number(j, key, lo, hi);
    if (v != std::floor(v)) fail(key, "expects a whole number, found " + j.dump());
    return uint32_t(v);
  }
  bool boolean(const json& j, const std::string& key) const {
    if (!j.is_boolean()) fail(key, "expects true or false, found " + j.dump());
    return j.get<bool>();
  }
  std::string text(const json& j, const std::string& key) const {
    if (!j.is_string()) fail(key, "expects a string, found " + j.dump());
    return j.get<std::string>();
  }
  std::vector<float> floats(const json& j, const std::string& key) const {
    if (!j.is_array()) fail(key, "expects a list of numbers, found " + j.dump());
    std::vector<float> v;
    for (const json& x : j) v.push_back(float(number(x, key, -1e9, 1e9)));
    return v;
  }
  static std::string fmtNum(double v) {
    std::ostringstream o;
    o << v;
    return o.str();
  }
};

// The keys of the reference's config that Kiln reads, and those it accepts without effect.
const std::set<std::string> kTopKeys = {
    "nms_scores_th", "nms_iou_th", "image_dims", "max_proposals_per_class", "classes",
    "regression_length", "background_removal", "background_removal_index", "centers_scale_factor",
    "bbox_dimensions_scale_factor", "bbox_decoders", "kiln_box_size", "kiln_reg_order",
    // accepted, no effect (reported): the reference's output and hardware options
    "max_total_output_proposals", "meta_arch", "mask_threshold"};
const std::set<std::string> kDecoderKeys = {
    "name", "stride", "reg_layer", "cls_layer", "encoded_layer", "w", "h", "combined_layer"};

// The output index a config layer name refers to: the output's producer (Kiln or ONNX names,
// with or without the network's scope "net/") or the output's own ONNX name.
uint32_t outputIndex(const Graph& g, const ConfigReader& r, const std::string& key,
                     const std::string& name) {
  const auto outs = g.outputLayers();
  auto matches = [&](const Layer& l, const std::string& n) {
    if (l.name == n) return true;
    for (const std::string& o : l.originalNames)
      if (o == n) return true;
    if (l.attrs.count("onnx_name") && l.attrString("onnx_name") == n) return true;
    return false;
  };
  std::vector<std::string> scoped = {name};
  const size_t slash = name.find('/');
  if (slash != std::string::npos && slash > 0) scoped.push_back(name.substr(slash + 1));
  for (const std::string& n : scoped)
    for (size_t i = 0; i < outs.size(); ++i) {
      const Layer& out = g.at(outs[i]);
      if (matches(out, n) || (!out.inputs.empty() && matches(g.at(out.inputs[0].layer), n)))
        return uint32_t(i);
    }
  std::string known;
  for (size_t i = 0; i < outs.size(); ++i) {
    const Layer& out = g.at(outs[i]);
    known += (i ? ", " : "") + (out.inputs.empty() ? out.name : g.at(out.inputs[0].layer).name);
    if (out.attrs.count("onnx_name")) known += " (" + out.attrString("onnx_name") + ")";
  }
  r.fail(key, "names '" + name + "', which is not one of the network's outputs: " + known);
}

rt::NmsArch archOf(const std::string& a, bool& direct) {
  direct = false;
  if (a == "ssd") return rt::NmsArch::Ssd;
  if (a == "yolov5") return rt::NmsArch::Yolov5;
  if (a == "yolov8") return rt::NmsArch::Yolov8;
  if (a == "yolov6") {  // anchor-free like yolov8, with direct ltrb distances by default
    direct = true;
    return rt::NmsArch::Yolov8;
  }
  throw std::invalid_argument(a);
}

// meta_arch (keyword, or the positional after the path) and the config path of a statement.
struct NmsArgs {
  std::string metaArch, path;
  alls::SourcePos archPos, pathPos;
};

NmsArgs nmsArgs(const alls::Statement& st) {
  NmsArgs a;
  a.archPos = a.pathPos = st.pos;
  if (const alls::Arg* m = st.find("meta_arch")) {
    a.metaArch = m->value.text;
    a.archPos = m->pos;
  }
  for (size_t i = 0; i < st.positionalCount(); ++i) {
    const alls::Value* v = st.positional(i);
    if (v->kind == alls::Value::Kind::String && a.path.empty()) {
      a.path = v->text;
      a.pathPos = v->pos;
    } else if (a.metaArch.empty()) {
      a.metaArch = v->text;
      a.archPos = v->pos;
    }
  }
  if (const alls::Arg* c = st.find("config_path")) {
    a.path = c->value.text;
    a.pathPos = c->pos;
  }
  return a;
}

}  // namespace

std::string nmsNotAppliedReason(const alls::Statement& st) {
  const NmsArgs a = nmsArgs(st);
  bool direct = false;
  if (!a.metaArch.empty()) {
    try {
      archOf(a.metaArch, direct);
    } catch (const std::invalid_argument&) {
      return "meta_arch=" + a.metaArch +
             " is not decoded by Kiln (ssd, yolov5, yolov6 and yolov8 are); the network's "
             "outputs are returned as they are";
    }
  }
  if (a.path.empty())
    return "without a config file (the reference derives one from its own layer names, which "
           "Kiln cannot); give the JSON config as the first argument";
  if (const alls::Arg* b = st.find("bbox_decoding_only"); b && b->value.text == "True")
    return "bbox_decoding_only=True (decoded boxes without NMS) is not implemented";
  return "";
}

NmsScript nmsFromStatement(const Graph& g, const alls::Statement& st) {
  NmsScript out;
  const NmsArgs args = nmsArgs(st);
  std::string path = args.path;
  const alls::SourcePos pathPos = args.pathPos;
  if (args.metaArch.empty())
    throw errorAt(st, st.pos, "nms_postprocess needs meta_arch (ssd, yolov5, yolov6, yolov8)");
  out.notApplied = nmsNotAppliedReason(st);
  if (!out.notApplied.empty()) return out;
  bool direct = false;
  out.config.arch = archOf(args.metaArch, direct);
  if (path[0] != '/') path = folderOf(st.pos.file) + path;
  ConfigReader r{st, pathPos, path};
  std::ifstream in(path, std::ios::binary);
  if (!in) throw errorAt(st, pathPos, "nms_postprocess config " + path + " cannot be read");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw errorAt(st, pathPos,
                  "nms_postprocess config " + path + " is not valid JSON: " + e.what());
  }
  if (!j.is_object())
    throw errorAt(st, pathPos, "nms_postprocess config " + path + " is not a JSON object");
  for (const auto& [k, v] : j.items())
    if (!kTopKeys.count(k)) {
      std::string known;
      for (const std::string& n : kTopKeys) known += (known.empty() ? "" : ", ") + n;
      r.fail(k, "is not a known key; known keys: " + known);
    }
  rt::NmsConfig& c = out.config;
  // Defaults: the input's size, the reference's thresholds.
  const auto ins = g.inputLayers();
  const Shape& is = g.at(ins.at(0)).outputShapes.at(0);
  if (is.size() == 4) {
    c.imageH = uint32_t(is[2]);
    c.imageW = uint32_t(is[3]);
  }
  if (j.contains("nms_scores_th"))
    c.scoreThreshold = float(r.number(j["nms_scores_th"], "nms_scores_th", 0, 1));
  if (j.contains("nms_iou_th"))
    c.iouThreshold = float(r.number(j["nms_iou_th"], "nms_iou_th", 0, 1));
  if (j.contains("max_proposals_per_class"))
    c.maxProposalsPerClass =
        r.whole(j["max_proposals_per_class"], "max_proposals_per_class", 1, 100000);
  if (!j.contains("classes")) r.fail("classes", "is missing (the number of classes)");
  c.classes = r.whole(j["classes"], "classes", 1, 100000);
  if (j.contains("image_dims")) {
    const json& d = j["image_dims"];
    if (!d.is_array() || d.size() != 2) r.fail("image_dims", "expects [height, width]");
    c.imageH = r.whole(d[0], "image_dims", 1, 65536);
    c.imageW = r.whole(d[1], "image_dims", 1, 65536);
  }
  if (c.imageH == 0) r.fail("image_dims", "is missing and the input is not an image");
  c.regressionLength = direct ? 0 : 16;
  if (j.contains("regression_length"))
    c.regressionLength = r.whole(j["regression_length"], "regression_length", 0, 1024);
  if (j.contains("background_removal"))
    c.backgroundRemoval = r.boolean(j["background_removal"], "background_removal");
  if (j.contains("background_removal_index"))
    c.backgroundIndex =
        r.whole(j["background_removal_index"], "background_removal_index", 0, 99999);
  if (j.contains("centers_scale_factor"))
    c.centersScale = float(r.number(j["centers_scale_factor"], "centers_scale_factor", 1e-6, 1e6));
  if (j.contains("bbox_dimensions_scale_factor"))
    c.dimsScale = float(
        r.number(j["bbox_dimensions_scale_factor"], "bbox_dimensions_scale_factor", 1e-6, 1e6));
  if (j.contains("kiln_box_size")) {
    const std::string v = r.text(j["kiln_box_size"], "kiln_box_size");
    if (v != "exponential" && v != "linear")
      r.fail("kiln_box_size", "expects \"exponential\" or \"linear\", found \"" + v + "\"");
    c.expBoxSize = v == "exponential";
  }
  if (j.contains("kiln_reg_order")) {
    const std::string v = r.text(j["kiln_reg_order"], "kiln_reg_order");
    if (v == "yxhw") {
      c.regIndex[0] = 0, c.regIndex[1] = 1, c.regIndex[2] = 2, c.regIndex[3] = 3;
    } else if (v == "xywh") {
      c.regIndex[0] = 1, c.regIndex[1] = 0, c.regIndex[2] = 3, c.regIndex[3] = 2;
    } else {
      r.fail("kiln_reg_order",
             "expects \"yxhw\" (the reference's) or \"xywh\", found \"" + v + "\"");
    }
  }
  for (const char* k : {"max_total_output_proposals", "mask_threshold", "meta_arch"})
    if (j.contains(k))
      out.notes.push_back(std::string("config key ") + k + " has no effect in Kiln");
  // Keyword arguments override the file, as the reference's do.
  if (const alls::Arg* a = st.find("nms_scores_th")) c.scoreThreshold = float(a->value.number);
  if (const alls::Arg* a = st.find("nms_iou_th")) c.iouThreshold = float(a->value.number);
  if (const alls::Arg* a = st.find("classes")) c.classes = uint32_t(a->value.number);
  if (const alls::Arg* a = st.find("max_proposals_per_class"))
    c.maxProposalsPerClass = uint32_t(a->value.number);
  if (const alls::Arg* a = st.find("image_dims")) {
    if (a->value.items.size() != 2)
      throw errorAt(st, a->pos, "image_dims expects [height, width], found " + a->value.text);
    c.imageH = uint32_t(a->value.items[0].number);
    c.imageW = uint32_t(a->value.items[1].number);
  }
  // The decoders.
  if (!j.contains("bbox_decoders") || !j["bbox_decoders"].is_array() || j["bbox_decoders"].empty())
    r.fail("bbox_decoders", "is missing or empty (one decoder per output scale)");
  int n = 0;
  for (const json& dj : j["bbox_decoders"]) {
    const std::string where = "bbox_decoders[" + std::to_string(n++) + "]";
    if (!dj.is_object()) r.fail(where, "expects an object");
    for (const auto& [k, v] : dj.items())
      if (!kDecoderKeys.count(k))
        r.fail(where + "." + k,
               "is not a known decoder key (name, stride, reg_layer, cls_layer, encoded_layer, "
               "w, h)");
    rt::NmsDecoder d;
    d.name = dj.contains("name") ? r.text(dj["name"], where + ".name") : where;
    if (dj.contains("stride")) d.stride = r.whole(dj["stride"], where + ".stride", 1, 4096);
    auto layer = [&](const char* k) {
      if (!dj.contains(k)) r.fail(where + "." + k, "is missing");
      return outputIndex(g, r, where + "." + k, r.text(dj[k], where + "." + k));
    };
    if (c.arch == rt::NmsArch::Yolov5) {
      d.regOutput = d.clsOutput = layer("encoded_layer");
    } else {
      d.regOutput = layer("reg_layer");
      d.clsOutput = layer("cls_layer");
    }
    if (c.arch != rt::NmsArch::Yolov8) {
      if (!dj.contains("w") || !dj.contains("h"))
        r.fail(where + ".w", "and .h (the anchors' widths and heights) are needed");
      d.anchorW = r.floats(dj["w"], where + ".w");
      d.anchorH = r.floats(dj["h"], where + ".h");
      if (d.anchorW.size() != d.anchorH.size() || d.anchorW.empty())
        r.fail(where + ".w", "and .h must list as many widths as heights (at least one)");
    } else if (!dj.contains("stride")) {
      r.fail(where + ".stride", "is missing");
    }
    if (c.arch == rt::NmsArch::Yolov5 && !dj.contains("stride"))
      r.fail(where + ".stride", "is missing");
    c.decoders.push_back(std::move(d));
  }
  out.applied = true;
  return out;
}

}  // namespace kiln::optimize
