// The model-script commands that change what a network's input is: input_conversion (colour
// order, YUV -> RGB, camera formats), resize of an input, transpose. Each inserts layers right
// after the input layer, in front of what earlier statements inserted, as the reference does: a
// script's last input command is the first layer the camera's frame meets (docs/alls.md).
#include "compiler/optimize/script_input.h"

#include <algorithm>

#include "common/strings.h"
#include "common/yuv.h"
#include "compiler/passes/pipeline.h"

namespace kiln::optimize {

namespace {

using alls::Statement;
using alls::Value;

alls::ScriptError errorAt(const Statement& st, const alls::SourcePos& pos,
                          const std::string& what) {
  return alls::ScriptError(pos, what, st.lineText(pos.line));
}

// The input layer a statement names in its first positional argument when it has `withLayer`
// positionals (or any keyed form with one), else the network's first input.
int targetInput(ScriptContext& c, size_t withLayer) {
  const Statement& st = c.st;
  if (st.positionalCount() < withLayer) return c.g.inputLayers().at(0);
  const Value& ref = *st.positional(0);
  const auto ids = alls::resolveLayers(ref, layerNames(c.g), c.g.name, &st);
  if (ids.size() != 1 || c.g.at(ids[0]).type != LayerType::InputLayer) {
    const Layer& l = c.g.at(ids.at(0));
    throw errorAt(st, ref.pos,
                  st.command + " applies to one input layer; '" + ref.text + "' is " +
                      (ids.size() == 1 ? l.name + " (" + typeWord(l.type) + ")"
                                       : std::to_string(ids.size()) + " layers"));
  }
  return ids[0];
}

// Inserts `l` right after layer `at` (keeping topological order) and makes every reader of
// {at, 0} read it instead. Returns its index.
int insertAfter(Graph& g, int at, Layer l) {
  const int pos = at + 1;
  for (Layer& x : g.layers)
    for (ValueRef& v : x.inputs)
      if (v.layer >= pos) ++v.layer;
  l.inputs = {{at, 0}};
  g.layers.insert(g.layers.begin() + pos, std::move(l));
  for (size_t i = 0; i < g.layers.size(); ++i)
    if (int(i) != pos)
      for (ValueRef& v : g.layers[i].inputs)
        if (v == ValueRef{at, 0}) v = {pos, 0};
  return pos;
}

// The shape the user feeds for an IR shape `ir` of input layer `in` (its perm maps user -> IR).
Shape userShapeOf(const Layer& in, const Shape& ir) {
  if (!in.hasAttr("perm")) return ir;
  const auto& perm = in.attrInts("perm");
  Shape user(ir.size());
  for (size_t i = 0; i < perm.size(); ++i) user[size_t(perm[i])] = ir[i];
  return user;
}

// A camera format the input already takes (set by an earlier format conversion), or "".
std::string cameraFormat(const Layer& in) {
  yuv::Format f;
  const std::string raw = in.attrString("raw_format", "");
  return yuv::parseFormat(raw, f) ? raw : "";
}

// The input's image, [N, 3, H, W], or an error naming what the statement needs.
const Shape& imageOf(const ScriptContext& c, int input, const std::string& what) {
  const Layer& in = c.g.at(input);
  if (const std::string f = cameraFormat(in); !f.empty())
    throw errorAt(c.st, c.st.pos,
                  what + ": " + in.name + " already takes " + f +
                      " frames; write this statement before the one converting to " + f +
                      " (each input command goes in front of the ones before it)");
  const Shape& s = in.outputShapes.at(0);
  if (s.size() != 4 || s[1] != 3)
    throw errorAt(
        c.st, c.st.pos,
        what + " needs a 3-channel image input [N, 3, H, W]; " + in.name + " is " + shapeStr(s));
  return s;
}

// Swaps channels 0 and 2 of an input: permutes the input channels of the convolutions reading it
// (exact, no layer), or flips the colour conversion that reads it (yuv_to_rgb <-> yuv_to_bgr).
void swapRedBlue(ScriptContext& c, int input) {
  Graph& g = c.g;
  imageOf(c, input, "input_conversion(" + c.st.positional(c.st.positionalCount() - 1)->text + ")");
  for (int r : g.consumers({input, 0})) {
    Layer& l = g.at(r);
    const bool conv = l.type == LayerType::Conv && l.attrInt("group", 1) == 1;
    if (!conv && l.type != LayerType::ColorConversion)
      throw errorAt(c.st, c.st.pos,
                    "input_conversion: the input is read by " + l.name + " (" + typeWord(l.type) +
                        "); Kiln swaps red and blue for inputs read only by convolutions or a "
                        "YUV conversion");
  }
  for (int r : g.consumers({input, 0})) {
    Layer& l = g.at(r);
    if (l.type == LayerType::ColorConversion) {
      std::string name = l.attrString("conversion");
      const size_t at = name.size() - 3;
      name.replace(at, 3, name.compare(at, 3, "rgb") == 0 ? "bgr" : "rgb");
      l.attrs["conversion"] = name;
      continue;
    }
    Tensor& k = l.params["kernel"];
    const int64_t per = k.shape[2] * k.shape[3], cin = k.shape[1];
    for (int64_t o = 0; o < k.shape[0]; ++o)
      for (int64_t t = 0; t < per; ++t)
        std::swap(k.data[(o * cin + 0) * per + t], k.data[(o * cin + 2) * per + t]);
  }
}

Layer scriptLayer(LayerType t, const Statement& st, const Shape& out) {
  Layer l;
  l.type = t;
  l.originalNames = {"alls:" + std::to_string(st.pos.line)};
  l.outputShapes = {out};
  return l;
}

// input -> color_conversion -> readers. The input then takes YUV values 0..255.
void insertColorConversion(ScriptContext& c, int input, const std::string& conversion) {
  const Shape s = imageOf(c, input, "input_conversion(" + conversion + ")");
  Layer l = scriptLayer(LayerType::ColorConversion, c.st, s);
  l.attrs["conversion"] = conversion;
  insertAfter(c.g, input, std::move(l));
  c.g.at(input).attrs["raw_format"] = std::string("yuv");
}

// input (a raw frame) -> format_conversion -> readers.
void insertFormatConversion(ScriptContext& c, int input, yuv::Format f, const std::string& name) {
  const Shape s = imageOf(c, input, "input_conversion(" + name + ")");
  if (const std::string why = yuv::sizeProblem(f, s[2], s[3]); !why.empty())
    throw errorAt(c.st, c.st.pos, "input_conversion(" + name + "): " + why);
  Layer l = scriptLayer(LayerType::FormatConversion, c.st, s);
  l.attrs["format"] = std::string(yuv::formatName(f));
  insertAfter(c.g, input, std::move(l));
  Layer& in = c.g.at(input);
  const auto frame = yuv::rawFrameShape(f, s[2], s[3]);
  const Shape raw = {s[0], frame[0], frame[1], frame[2]};
  in.attrs.erase("perm");
  in.attrs["user_shape"] = raw;
  in.attrs["raw_format"] = std::string(yuv::formatName(f));
  in.outputShapes = {raw};
}

// "nv12_to_hailo_yuv" -> nv12 (format only); "nv12_to_rgb" -> nv12 and yuv_to_rgb (hybrid).
bool formatConversionOf(const std::string& name, yuv::Format& f, bool& hybrid) {
  if (name == "tf_rgbx_to_hailo_rgb") {
    f = yuv::Format::Rgbx, hybrid = false;
    return true;
  }
  const size_t us = name.find('_');
  if (us == std::string::npos || !yuv::parseFormat(name.substr(0, us), f) || f == yuv::Format::Rgbx)
    return false;
  const std::string rest = name.substr(us);
  hybrid = rest == "_to_rgb";
  return hybrid || rest == "_to_hailo_yuv";
}

}  // namespace

void inputConversion(ScriptContext& c) {
  const Statement& st = c.st;
  const Value* conv = st.positional(st.positionalCount() - 1);
  if (!conv) throw errorAt(st, st.pos, "input_conversion needs a conversion");
  const int input = targetInput(c, 2);
  const std::string& name = conv->text;
  yuv::ColorMatrix m;
  yuv::Format f;
  bool hybrid = false;
  if (name == "bgr_to_rgb" || name == "rgb_to_bgr") {
    swapRedBlue(c, input);
  } else if (yuv::colorMatrix(name, m)) {
    insertColorConversion(c, input, name);
  } else if (formatConversionOf(name, f, hybrid)) {
    if (hybrid) insertColorConversion(c, input, "yuv_to_rgb");
    insertFormatConversion(c, input, f, name);
  } else {
    throw errorAt(st, conv->pos, "input_conversion(" + name + ") is not applied by Kiln");
  }
  assignNames(c.g);
}

void resizeInput(ScriptContext& c) {
  const Statement& st = c.st;
  const int input = targetInput(c, 1);
  const alls::Arg* shapes = st.find("resize_shapes");
  if (!shapes) throw errorAt(st, st.pos, "resize needs resize_shapes=[height, width]");
  const Value& v = shapes->value;
  if (v.kind != Value::Kind::List || v.items.size() != 2)
    throw errorAt(st, v.pos, "resize_shapes expects [height, width], found " + v.text);
  const int64_t H = int64_t(v.items[0].number), W = int64_t(v.items[1].number);
  const Layer& in = c.g.at(input);
  if (const std::string f = cameraFormat(in); !f.empty())
    throw errorAt(st, st.pos,
                  "resize: " + in.name + " already takes " + f +
                      " frames; write resize before the input_conversion to " + f);
  const Shape s = in.outputShapes.at(0);
  if (s.size() != 4)
    throw errorAt(st, st.pos,
                  "resize needs an image input [N, C, H, W]; " + in.name + " is " + shapeStr(s));
  const alls::Arg* method = st.find("resize_method");
  const bool nearest = method && method->value.text == "nearest_neighbor";
  Layer l = scriptLayer(LayerType::Resize, st, s);
  // As TensorFlow's tf.image.resize (the reference's): half-pixel centres, no antialiasing;
  // nearest takes the pixel whose centre is at or before the sample point.
  l.attrs["mode"] = std::string(nearest ? "nearest" : "linear");
  l.attrs["coordinate_transformation_mode"] =
      std::string(nearest ? "tf_half_pixel_for_nn" : "half_pixel");
  l.attrs["nearest_mode"] = std::string("floor");
  l.attrs["sizes"] = std::vector<int64_t>(s);
  l.attrs["scales"] =
      std::vector<double>{1.0, 1.0, double(s[2]) / double(H), double(s[3]) / double(W)};
  insertAfter(c.g, input, std::move(l));
  Layer& inl = c.g.at(input);
  const Shape resized = {s[0], s[1], H, W};
  inl.outputShapes = {resized};
  inl.attrs["user_shape"] = userShapeOf(inl, resized);
  assignNames(c.g);
}

}  // namespace kiln::optimize
