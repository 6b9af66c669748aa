// Constant folding: exact evaluation of ONNX nodes whose inputs are all constants (shape
// arithmetic, weight preprocessing). Integers stay int64 so shapes are never rounded.
//
// It also registers the operators Kiln only supports on constants (Shape, Gather, Cast, …): their
// importer is reached only when folding failed, and says why.
#include <algorithm>
#include <cmath>
#include <functional>

#include <onnx/onnx_pb.h>

#include "compiler/onnx/attr_checks.h"
#include "compiler/onnx/node_context.h"
#include "compiler/onnx/shape_helpers.h"

namespace kiln::onnx {

namespace {

using TP = ::onnx::TensorProto;

ConstTensor broadcastBinary(const NodeContext& ctx, const ConstTensor& a, const ConstTensor& b,
                            int32_t outType, const std::function<double(double, double)>& f) {
  ConstTensor out;
  out.dtype = outType;
  try {
    out.shape = broadcastShapes(a.shape, b.shape);
  } catch (const Error& e) {
    throw ctx.error(e.what());
  }
  out.allocate();
  const size_t r = out.shape.size();
  const auto os = stridesOf(out.shape);
  const auto as = broadcastStrides(a.shape, out.shape), bs = broadcastStrides(b.shape, out.shape);
  for (int64_t k = 0; k < out.numel(); ++k) {
    int64_t rem = k, ia = 0, ib = 0;
    for (size_t d = 0; d < r; ++d) {
      const int64_t idx = rem / os[d];
      rem %= os[d];
      ia += idx * as[d];
      ib += idx * bs[d];
    }
    out.set(k, f(a.value(ia), b.value(ib)));
  }
  return out;
}

ConstTensor unary(const ConstTensor& a, const std::function<double(double)>& f) {
  ConstTensor out = a;
  for (int64_t k = 0; k < a.numel(); ++k) out.set(k, f(a.value(k)));
  return out;
}

ConstTensor withShape(ConstTensor c, const Shape& s) {
  c.shape = s;
  return c;
}

ConstTensor transposeConst(const ConstTensor& a, const std::vector<int64_t>& perm) {
  ConstTensor out;
  out.dtype = a.dtype;
  for (int64_t p : perm) out.shape.push_back(a.shape[p]);
  out.allocate();
  const auto is = stridesOf(a.shape), os = stridesOf(out.shape);
  for (int64_t k = 0; k < out.numel(); ++k) {
    int64_t rem = k, src = 0;
    for (size_t d = 0; d < perm.size(); ++d) {
      src += (rem / os[d]) * is[perm[d]];
      rem %= os[d];
    }
    out.set(k, a.value(src));
  }
  return out;
}

bool isIntType(int32_t t) {
  return t != TP::FLOAT && t != TP::DOUBLE && t != TP::FLOAT16;
}

using Folder = std::function<void(NodeContext&)>;

std::map<std::string, Folder> makeFolders() {
  std::map<std::string, Folder> f;
  auto binary = [](std::function<double(double, double)> op, bool boolOut = false) {
    return [op, boolOut](NodeContext& c) {
      const ConstTensor &a = c.constant(0, "A"), &b = c.constant(1, "B");
      c.setOutput(0, broadcastBinary(c, a, b, boolOut ? int32_t(TP::BOOL) : a.dtype, op));
    };
  };
  f["Add"] = binary([](double x, double y) { return x + y; });
  f["Sub"] = binary([](double x, double y) { return x - y; });
  f["Mul"] = binary([](double x, double y) { return x * y; });
  f["Div"] = [](NodeContext& c) {
    const ConstTensor &a = c.constant(0, "A"), &b = c.constant(1, "B");
    const bool ints = isIntType(a.dtype);
    c.setOutput(0, broadcastBinary(c, a, b, a.dtype, [ints](double x, double y) {
                  if (ints) return y == 0 ? 0.0 : std::trunc(x / y);
                  return x / y;
                }));
  };
  f["Equal"] = binary([](double x, double y) { return double(x == y); }, true);
  f["Less"] = binary([](double x, double y) { return double(x < y); }, true);
  f["Greater"] = binary([](double x, double y) { return double(x > y); }, true);
  f["LessOrEqual"] = binary([](double x, double y) { return double(x <= y); }, true);
  f["GreaterOrEqual"] = binary([](double x, double y) { return double(x >= y); }, true);
  f["And"] = binary([](double x, double y) { return double(x != 0 && y != 0); }, true);
  f["Or"] = binary([](double x, double y) { return double(x != 0 || y != 0); }, true);
  f["Not"] = [](NodeContext& c) {
    c.setOutput(0, unary(c.constant(0, "X"), [](double x) { return double(x == 0); }));
  };
  for (const char* op : {"Min", "Max"}) {
    const bool isMax = std::string(op) == "Max";
    f[op] = [isMax](NodeContext& c) {
      ConstTensor acc = c.constant(0, "data_0");
      for (int i = 1; i < c.numInputs(); ++i)
        acc = broadcastBinary(
            c, acc, c.constant(i, "data"), acc.dtype,
            [isMax](double x, double y) { return isMax ? std::max(x, y) : std::min(x, y); });
      c.setOutput(0, acc);
    };
  }
  f["Neg"] = [](NodeContext& c) {
    c.setOutput(0, unary(c.constant(0, "X"), [](double x) { return -x; }));
  };
  f["Abs"] = [](NodeContext& c) {
    c.setOutput(0, unary(c.constant(0, "X"), [](double x) { return std::fabs(x); }));
  };
  f["Floor"] = [](NodeContext& c) {
    c.setOutput(0, unary(c.constant(0, "X"), [](double x) { return std::floor(x); }));
  };
  f["Ceil"] = [](NodeContext& c) {
    c.setOutput(0, unary(c.constant(0, "X"), [](double x) { return std::ceil(x); }));
  };
  f["Sqrt"] = [](NodeContext& c) {
    c.setOutput(0, unary(c.constant(0, "X"), [](double x) { return std::sqrt(x); }));
  };
  f["Reciprocal"] = [](NodeContext& c) {
    c.setOutput(0, unary(c.constant(0, "X"), [](double x) { return 1.0 / x; }));
  };
  f["Identity"] = [](NodeContext& c) { c.setOutput(0, c.constant(0, "input")); };
  f["Dropout"] = [](NodeContext& c) {
    if (c.numOutputs() > 1) throw c.error("Dropout's mask output is not supported");
    c.setOutput(0, c.constant(0, "data"));
  };
  f["Constant"] = [](NodeContext& c) {
    if (c.hasAttr("value")) return c.setOutput(0, c.attrTensor("value"));
    if (c.hasAttr("value_float"))
      return c.setOutput(0, ConstTensor::fromDoubles({c.attrFloat("value_float", 0)}, {}));
    if (c.hasAttr("value_floats")) {
      auto v = c.attrFloats("value_floats", {});
      return c.setOutput(0, ConstTensor::fromDoubles(v, {int64_t(v.size())}));
    }
    if (c.hasAttr("value_int"))
      return c.setOutput(0, ConstTensor::fromInts({c.attrInt("value_int", 0)}, {}));
    if (c.hasAttr("value_ints")) {
      auto v = c.attrInts("value_ints", {});
      return c.setOutput(0, ConstTensor::fromInts(v, {int64_t(v.size())}));
    }
    throw c.error("Constant without a supported value attribute (sparse or string values)");
  };
  f["Cast"] = [](NodeContext& c) {
    const int32_t to = int32_t(c.attrInt("to", TP::FLOAT));
    if (!constDtypeSupported(to)) throw c.error("Cast to " + dtypeName(to) + " is not supported");
    const ConstTensor& a = c.constant(0, "input");
    ConstTensor out;
    out.dtype = to;
    out.shape = a.shape;
    out.allocate();
    for (int64_t k = 0; k < a.numel(); ++k) {
      double v = a.value(k);
      if (to == TP::FLOAT16) v = double(float(v));
      out.set(k, v);
    }
    c.setOutput(0, out);
  };
  f["ConstantOfShape"] = [](NodeContext& c) {
    ConstTensor out;
    double v = 0;
    out.dtype = TP::FLOAT;
    if (c.hasAttr("value")) {
      const ConstTensor t = c.attrTensor("value");
      out.dtype = t.dtype;
      v = t.numel() ? t.value(0) : 0;
    }
    out.shape = c.constant(0, "shape").ints();
    for (int64_t d : out.shape)
      if (d < 0 || d > (int64_t(1) << 30)) throw c.error("bad shape " + shapeStr(out.shape));
    if (out.numel() > (int64_t(1) << 28)) throw c.error("constant too large");
    out.allocate();
    for (int64_t k = 0; k < out.numel(); ++k) out.set(k, v);
    c.setOutput(0, out);
  };
  f["Range"] = [](NodeContext& c) {
    const ConstTensor& s = c.constant(0, "start");
    const double start = s.value(0), limit = c.constant(1, "limit").value(0),
                 delta = c.constant(2, "delta").value(0);
    if (delta == 0) throw c.error("Range with delta 0");
    const double count = std::ceil((limit - start) / delta);
    if (!(count <= double(int64_t(1) << 28)))
      throw c.error("Range from " + std::to_string(start) + " to " + std::to_string(limit) +
                    " by " + std::to_string(delta) + ": expected at most 2^28 values");
    const int64_t n = std::max<int64_t>(0, int64_t(count));
    ConstTensor out;
    out.dtype = s.dtype;
    out.shape = {n};
    out.allocate();
    for (int64_t k = 0; k < n; ++k) out.set(k, start + double(k) * delta);
    c.setOutput(0, out);
  };
  f["Where"] = [](NodeContext& c) {
    const ConstTensor &cond = c.constant(0, "condition"), &x = c.constant(1, "X"),
                      &y = c.constant(2, "Y");
    // Broadcast in two steps: pick x where cond, then y elsewhere.
    ConstTensor mask = broadcastBinary(
        c, cond, broadcastBinary(c, x, y, x.dtype, [](double a, double) { return a; }), TP::BOOL,
        [](double m, double) { return m; });
    ConstTensor xs = broadcastBinary(c, x, mask, x.dtype, [](double a, double) { return a; });
    ConstTensor ys = broadcastBinary(c, y, mask, x.dtype, [](double a, double) { return a; });
    ConstTensor out = xs;
    for (int64_t k = 0; k < out.numel(); ++k)
      out.set(k, mask.value(k) != 0 ? xs.value(k) : ys.value(k));
    c.setOutput(0, out);
  };
  f["Expand"] = [](NodeContext& c) {
    const ConstTensor& a = c.constant(0, "input");
    ConstTensor shape;
    shape.dtype = TP::FLOAT;
    shape.shape = c.constant(1, "shape").ints();
    shape.allocate();
    c.setOutput(0, broadcastBinary(c, a, shape, a.dtype, [](double x, double) { return x; }));
  };
  f["Concat"] = [](NodeContext& c) {
    const ConstTensor& first = c.constant(0, "inputs");
    const int64_t axis = normAxis(c, c.attrInt("axis", 0), int64_t(first.shape.size()));
    ConstTensor out;
    out.dtype = first.dtype;
    out.shape = first.shape;
    out.shape[axis] = 0;
    std::vector<const ConstTensor*> parts;
    for (int i = 0; i < c.numInputs(); ++i) {
      parts.push_back(&c.constant(i, "inputs"));
      const Shape& ps = parts.back()->shape;
      bool fits = ps.size() == first.shape.size();
      for (size_t d = 0; fits && d < ps.size(); ++d)
        fits = int64_t(d) == axis || ps[d] == first.shape[d];
      if (!fits)
        throw c.error("input " + std::to_string(i) + " of shape " + shapeStr(ps) +
                      ": expected the shape of input 0 " + shapeStr(first.shape) +
                      " outside axis " + std::to_string(axis));
      out.shape[axis] += parts.back()->shape[axis];
    }
    out.allocate();
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= out.shape[d];
    for (size_t d = axis + 1; d < out.shape.size(); ++d) inner *= out.shape[d];
    int64_t k = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (const ConstTensor* p : parts) {
        const int64_t chunk = p->shape[axis] * inner;
        for (int64_t j = 0; j < chunk; ++j) out.set(k++, p->value(o * chunk + j));
      }
    c.setOutput(0, out);
  };
  f["Unsqueeze"] = [](NodeContext& c) {
    const ConstTensor& a = c.constant(0, "data");
    c.setOutput(0, withShape(a, unsqueezeShape(c, a.shape, readAxes(c, 1, 13))));
  };
  f["Squeeze"] = [](NodeContext& c) {
    const ConstTensor& a = c.constant(0, "data");
    c.setOutput(0, withShape(a, squeezeShape(c, a.shape, readAxes(c, 1, 13))));
  };
  f["Reshape"] = [](NodeContext& c) {
    const ConstTensor& a = c.constant(0, "data");
    const auto spec = c.constant(1, "shape").ints();
    c.setOutput(0, withShape(a, resolveReshape(c, a.shape, spec, flagAttr(c, "allowzero", 0))));
  };
  f["Flatten"] = [](NodeContext& c) {
    const ConstTensor& a = c.constant(0, "input");
    c.setOutput(0, withShape(a, flattenShape(c, a.shape, c.attrInt("axis", 1))));
  };
  f["Transpose"] = [](NodeContext& c) {
    const ConstTensor& a = c.constant(0, "data");
    std::vector<int64_t> perm = c.attrInts("perm", {});
    if (perm.empty())
      for (int64_t i = int64_t(a.shape.size()) - 1; i >= 0; --i) perm.push_back(i);
    c.setOutput(0, transposeConst(a, checkPermutation(c, perm, int64_t(a.shape.size()))));
  };
  f["Slice"] = [](NodeContext& c) {
    const ConstTensor& a = c.constant(0, "data");
    const SliceSpec s = readSlice(c, a.shape);
    ConstTensor out;
    out.dtype = a.dtype;
    for (size_t d = 0; d < a.shape.size(); ++d) {
      const int64_t n = s.steps[d] > 0 ? (s.ends[d] - s.starts[d] + s.steps[d] - 1) / s.steps[d]
                                       : (s.starts[d] - s.ends[d] - s.steps[d] - 1) / -s.steps[d];
      out.shape.push_back(std::max<int64_t>(0, n));
    }
    out.allocate();
    const auto is = stridesOf(a.shape), os = stridesOf(out.shape);
    for (int64_t k = 0; k < out.numel(); ++k) {
      int64_t rem = k, src = 0;
      for (size_t d = 0; d < os.size(); ++d) {
        src += (s.starts[d] + (rem / os[d]) * s.steps[d]) * is[d];
        rem %= os[d];
      }
      out.set(k, a.value(src));
    }
    c.setOutput(0, out);
  };
  f["Split"] = [](NodeContext& c) {
    const ConstTensor& a = c.constant(0, "input");
    const int64_t axis = normAxis(c, c.attrInt("axis", 0), int64_t(a.shape.size()));
    const auto sizes = splitSizes(c, a.shape, axis);
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= a.shape[d];
    for (size_t d = axis + 1; d < a.shape.size(); ++d) inner *= a.shape[d];
    int64_t start = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      ConstTensor out;
      out.dtype = a.dtype;
      out.shape = a.shape;
      out.shape[axis] = sizes[i];
      out.allocate();
      int64_t k = 0;
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < sizes[i] * inner; ++j)
          out.set(k++, a.value((o * a.shape[axis] + start) * inner + j));
      start += sizes[i];
      c.setOutput(int(i), out);
    }
  };
  f["Gather"] = [](NodeContext& c) {
    const ConstTensor& a = c.constant(0, "data");
    const ConstTensor& idx = c.constant(1, "indices");
    const int64_t r = int64_t(a.shape.size());
    const int64_t axis = normAxis(c, c.attrInt("axis", 0), r);
    ConstTensor out;
    out.dtype = a.dtype;
    out.shape.assign(a.shape.begin(), a.shape.begin() + axis);
    out.shape.insert(out.shape.end(), idx.shape.begin(), idx.shape.end());
    out.shape.insert(out.shape.end(), a.shape.begin() + axis + 1, a.shape.end());
    out.allocate();
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= a.shape[d];
    for (int64_t d = axis + 1; d < r; ++d) inner *= a.shape[d];
    const int64_t dim = a.shape[axis];
    int64_t k = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < idx.numel(); ++j) {
        int64_t i = idx.intValue(j);
        if (i < 0) i += dim;
        if (i < 0 || i >= dim)
          throw c.error("Gather index " + std::to_string(idx.intValue(j)) +
                        " is out of range for dimension " + std::to_string(dim));
        for (int64_t in = 0; in < inner; ++in) out.set(k++, a.value((o * dim + i) * inner + in));
      }
    c.setOutput(0, out);
  };
  return f;
}

const std::map<std::string, Folder>& folders() {
  static const auto f = makeFolders();
  return f;
}

// Operators evaluated from the input's shape alone, even when the input is not constant.
bool foldShapeOnly(NodeContext& c) {
  if (c.opType() == "Shape") {
    const Shape s = c.shape(0);
    const int64_t r = int64_t(s.size());
    int64_t start = c.attrInt("start", 0), end = c.attrInt("end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    start = std::clamp<int64_t>(start, 0, r);
    end = std::clamp<int64_t>(end, 0, r);
    std::vector<int64_t> dims(s.begin() + start, s.begin() + std::max(start, end));
    c.setOutput(0, ConstTensor::fromInts(dims, {int64_t(dims.size())}));
    return true;
  }
  if (c.opType() == "Size") {
    c.setOutput(0, ConstTensor::fromInts({numel(c.shape(0))}, {}));
    return true;
  }
  return false;
}

}  // namespace

bool foldNode(NodeContext& ctx) {
  if (foldShapeOnly(ctx)) return true;
  auto it = folders().find(ctx.opType());
  if (it == folders().end()) return false;
  for (int i = 0; i < ctx.numInputs(); ++i)
    if (ctx.hasInput(i) && !ctx.isConst(i)) return false;
  it->second(ctx);
  return true;
}

void registerFoldOps(OpTable& t) {
  // Operators Kiln evaluates only at compile time. Reaching the importer means an input is not
  // constant: the error says which.
  for (const char* op :
       {"Shape", "Size", "Gather", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or",
        "Not", "ConstantOfShape", "Range", "Where", "Expand", "Constant", "Floor", "Ceil"}) {
    OpImporter imp;
    imp.import = [](NodeContext& c) {
      for (int i = 0; i < c.numInputs(); ++i)
        if (c.hasInput(i) && !c.isConst(i))
          throw c.error("Kiln evaluates " + c.opType() +
                        " only at compile time, on constants, but input '" + c.node().input(i) +
                        "' is computed at run time. Cut the graph before this node with "
                        "--end-node-names, or fix input shapes with --tensor-shapes");
      throw c.error("cannot be evaluated");
    };
    imp.constInputs = [](int) { return true; };
    t[op] = imp;
  }
}

}  // namespace kiln::onnx
