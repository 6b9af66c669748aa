// Attribute, shape and name validation for the ONNX importer (see attr_checks.h).
#include "compiler/onnx/attr_checks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include <onnx/onnx_pb.h>

#include "common/strings.h"

namespace kiln::onnx {

namespace {

std::string rangeText(int64_t lo, int64_t hi) {
  if (lo == 0 && hi == 1) return "0 or 1";
  if (hi == std::numeric_limits<int64_t>::max()) return ">= " + std::to_string(lo);
  return "from " + std::to_string(lo) + " to " + std::to_string(hi);
}

std::vector<int64_t> checkInts(const NodeContext& c, const std::string& name,
                               const std::vector<int64_t>& v, size_t count,
                               const std::string& countWhy, int64_t lo, int64_t hi) {
  if (v.size() != count)
    throw c.error("attribute '" + name + "': expected " + std::to_string(count) + " values (" +
                  countWhy + "), found " + std::to_string(v.size()) + ": " + shapeStr(v));
  for (int64_t x : v)
    if (x < lo || x > hi)
      throw c.error("attribute '" + name + "': expected integers " + rangeText(lo, hi) +
                    ", found " + shapeStr(v));
  return v;
}

}  // namespace

std::vector<int64_t> intsAttr(const NodeContext& c, const std::string& name,
                              const std::vector<int64_t>& dflt, size_t count,
                              const std::string& countWhy, int64_t lo, int64_t hi) {
  if (!c.hasAttr(name)) return dflt;
  return checkInts(c, name, c.attrInts(name, dflt), count, countWhy, lo, hi);
}

std::vector<int64_t> requiredIntsAttr(const NodeContext& c, const std::string& name, size_t count,
                                      const std::string& countWhy, int64_t lo, int64_t hi) {
  if (!c.hasAttr(name))
    throw c.error("attribute '" + name + "' is required (" + std::to_string(count) + " integers " +
                  rangeText(lo, hi) + ", " + countWhy + "), but the node has none");
  return checkInts(c, name, c.attrInts(name, {}), count, countWhy, lo, hi);
}

int64_t intAttr(const NodeContext& c, const std::string& name, int64_t dflt, int64_t lo,
                int64_t hi) {
  const int64_t v = c.attrInt(name, dflt);
  if (v < lo || v > hi)
    throw c.error("attribute '" + name + "': expected an integer " + rangeText(lo, hi) +
                  ", found " + std::to_string(v));
  return v;
}

bool flagAttr(const NodeContext& c, const std::string& name, int64_t dflt) {
  return intAttr(c, name, dflt, 0, 1) != 0;
}

double finiteAttr(const NodeContext& c, const std::string& name, double dflt) {
  const double v = c.attrFloat(name, dflt);
  if (!std::isfinite(v))
    throw c.error("attribute '" + name + "': expected a finite number, found " + std::to_string(v));
  return v;
}

std::string enumAttr(const NodeContext& c, const std::string& name, const std::string& dflt,
                     std::initializer_list<const char*> allowed) {
  const std::string v = c.attrString(name, dflt);
  std::vector<std::string> names;
  for (const char* a : allowed) {
    if (v == a) return v;
    names.push_back(a);
  }
  throw c.error("attribute '" + name + "': expected one of " + join(names, ", ") + ", found '" +
                escapeInvalidUtf8(v.substr(0, 64)) + "'");
}

std::vector<int64_t> spatialAttr(const NodeContext& c, const std::string& name, int64_t lo) {
  return intsAttr(c, name, {lo, lo}, 2, "one per spatial axis of the 4-D input", lo, kMaxWindow);
}

std::vector<int64_t> padsAttr(const NodeContext& c) {
  return intsAttr(c, "pads", {0, 0, 0, 0}, 4, "begin and end of each spatial axis of the 4-D input",
                  0, kMaxWindow);
}

std::string autoPadAttr(const NodeContext& c) {
  return enumAttr(c, "auto_pad", "NOTSET", {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"});
}

std::vector<int64_t> checkPermutation(const NodeContext& c, const std::vector<int64_t>& perm,
                                      int64_t rank) {
  std::vector<int64_t> norm = perm;
  for (int64_t& p : norm)
    if (p < 0) p += rank;
  std::vector<int64_t> sorted = norm;
  std::sort(sorted.begin(), sorted.end());
  bool ok = int64_t(perm.size()) == rank;
  for (int64_t i = 0; ok && i < rank; ++i) ok = sorted[size_t(i)] == i;
  if (!ok)
    throw c.error("attribute 'perm': expected a permutation of 0.." + std::to_string(rank - 1) +
                  " (the input has rank " + std::to_string(rank) + "), found " + shapeStr(perm));
  return norm;
}

void checkUniqueAxes(const NodeContext& c, const std::string& what, std::vector<int64_t> axes) {
  std::sort(axes.begin(), axes.end());
  const auto dup = std::adjacent_find(axes.begin(), axes.end());
  if (dup != axes.end())
    throw c.error(what + ": expected distinct axes, found axis " + std::to_string(*dup) + " twice");
}

void checkTensorShape(const std::string& what, const Shape& shape, int64_t minDim) {
  for (int64_t d : shape)
    if (d < minDim || d > kMaxDim)
      throw Error(what + " has shape " + shapeStr(shape) + ": expected every dimension from " +
                  std::to_string(minDim) + " to " + std::to_string(kMaxDim) + ", found " +
                  std::to_string(d));
  int64_t n = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n) || n > kMaxElements)
      throw Error(what + " has shape " + shapeStr(shape) + ": expected at most " +
                  std::to_string(kMaxElements) + " elements (Kiln's limit for one tensor), found " +
                  "more");
}

void checkUtf8(const std::string& field, const std::string& name) {
  const size_t bad = invalidUtf8Offset(name);
  if (bad == std::string::npos) return;
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(name[bad]));
  throw Error(field + " '" + escapeInvalidUtf8(name.substr(0, 200)) +
              "' is not valid UTF-8: byte " + hex + " at offset " + std::to_string(bad) +
              ". Kiln stores names in JSON, which must be UTF-8; rename it");
}

void checkModelNames(const ::onnx::GraphProto& g) {
  for (const auto& v : g.input()) checkUtf8("graph input name", v.name());
  for (const auto& v : g.output()) checkUtf8("graph output name", v.name());
  for (const auto& t : g.initializer()) checkUtf8("initializer name", t.name());
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    const std::string node = "node #" + std::to_string(i) + " ('" +
                             escapeInvalidUtf8(n.name().substr(0, 200)) + "', " +
                             escapeInvalidUtf8(n.op_type().substr(0, 64)) + ")";
    checkUtf8(node + ": op type", n.op_type());
    checkUtf8(node + ": domain", n.domain());
    checkUtf8(node + ": node name", n.name());
    for (int k = 0; k < n.input_size(); ++k)
      checkUtf8(node + ": input " + std::to_string(k) + " name", n.input(k));
    for (int k = 0; k < n.output_size(); ++k)
      checkUtf8(node + ": output " + std::to_string(k) + " name", n.output(k));
  }
}

}  // namespace kiln::onnx
