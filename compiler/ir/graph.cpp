// Layer attribute and parameter access, the Graph's queries and edits, names and text dumps.
#include "compiler/ir/graph.h"

#include <algorithm>
#include <sstream>

namespace kiln {

namespace {
template <typename T>
const T& getAttr(const Layer& l, const std::string& k) {
  auto it = l.attrs.find(k);
  if (it == l.attrs.end())
    throw Error("layer " + l.name + " (" + typeWord(l.type) + "): missing attribute '" + k + "'");
  if (const T* v = std::get_if<T>(&it->second)) return *v;
  throw Error("layer " + l.name + ": attribute '" + k + "' has the wrong type");
}
}  // namespace

int64_t Layer::attrInt(const std::string& k) const {
  return getAttr<int64_t>(*this, k);
}
int64_t Layer::attrInt(const std::string& k, int64_t dflt) const {
  return hasAttr(k) ? attrInt(k) : dflt;
}
double Layer::attrFloat(const std::string& k) const {
  auto it = attrs.find(k);
  if (it != attrs.end())
    if (const int64_t* i = std::get_if<int64_t>(&it->second)) return double(*i);
  return getAttr<double>(*this, k);
}
double Layer::attrFloat(const std::string& k, double dflt) const {
  return hasAttr(k) ? attrFloat(k) : dflt;
}
const std::string& Layer::attrString(const std::string& k) const {
  return getAttr<std::string>(*this, k);
}
std::string Layer::attrString(const std::string& k, const std::string& dflt) const {
  return hasAttr(k) ? attrString(k) : dflt;
}
const std::vector<int64_t>& Layer::attrInts(const std::string& k) const {
  return getAttr<std::vector<int64_t>>(*this, k);
}
std::vector<int64_t> Layer::attrInts(const std::string& k, const std::vector<int64_t>& dflt) const {
  return hasAttr(k) ? attrInts(k) : dflt;
}
const std::vector<double>& Layer::attrFloats(const std::string& k) const {
  return getAttr<std::vector<double>>(*this, k);
}
const Tensor& Layer::param(const std::string& role) const {
  auto it = params.find(role);
  if (it == params.end()) throw Error("layer " + name + ": missing parameter '" + role + "'");
  return it->second;
}

const IntTensor& Layer::qparam(const std::string& role) const {
  auto it = qparams.find(role);
  if (it == qparams.end())
    throw Error("layer " + name + ": missing integer parameter '" + role + "'");
  return it->second;
}

int Graph::add(Layer l) {
  layers.push_back(std::move(l));
  return int(layers.size()) - 1;
}

std::vector<int> Graph::inputLayers() const {
  std::vector<int> ids;
  for (size_t i = 0; i < layers.size(); ++i)
    if (!layers[i].dead && layers[i].type == LayerType::InputLayer) ids.push_back(int(i));
  return ids;
}

std::vector<int> Graph::outputLayers() const {
  std::vector<int> ids;
  for (size_t i = 0; i < layers.size(); ++i)
    if (!layers[i].dead && layers[i].type == LayerType::OutputLayer) ids.push_back(int(i));
  return ids;
}

std::vector<int> Graph::consumers(ValueRef v) const {
  std::vector<int> ids;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i].dead) continue;
    for (const ValueRef& in : layers[i].inputs)
      if (in == v) ids.push_back(int(i));
  }
  return ids;
}

int Graph::useCount(ValueRef v) const {
  return int(consumers(v).size());
}

void Graph::replaceAllUses(ValueRef from, ValueRef to) {
  for (Layer& l : layers)
    for (ValueRef& in : l.inputs)
      if (in == from) in = to;
}

void Graph::compact() {
  // Mark live layers backwards from the outputs.
  std::vector<bool> live(layers.size(), false);
  for (size_t i = layers.size(); i-- > 0;) {
    const Layer& l = layers[i];
    if (l.dead) continue;
    if (l.type == LayerType::OutputLayer || l.type == LayerType::InputLayer) live[i] = true;
    if (!live[i]) continue;
    for (const ValueRef& in : l.inputs) live[in.layer] = true;
  }
  std::vector<int> newId(layers.size(), -1);
  std::vector<Layer> kept;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (!live[i] || layers[i].dead) continue;
    newId[i] = int(kept.size());
    kept.push_back(std::move(layers[i]));
  }
  for (Layer& l : kept)
    for (ValueRef& in : l.inputs) in.layer = newId[in.layer];
  layers = std::move(kept);
}

int Graph::find(const std::string& n) const {
  for (size_t i = 0; i < layers.size(); ++i)
    if (layers[i].name == n) return int(i);
  return -1;
}

int64_t Graph::paramCount(int id) const {
  int64_t n = 0;
  for (const auto& [role, t] : layers[id].params)
    n = checkedAdd(n, t.numel(), "the parameter count of layer " + layers[id].name);
  return n;
}

void assignNames(Graph& g) {
  std::map<LayerType, int> counters;
  for (Layer& l : g.layers)
    l.name = std::string(typeWord(l.type)) + std::to_string(++counters[l.type]);
}

static std::string attrStr(const AttrValue& v) {
  std::ostringstream os;
  if (auto p = std::get_if<int64_t>(&v)) os << *p;
  if (auto p = std::get_if<double>(&v)) os << *p;
  if (auto p = std::get_if<std::string>(&v)) os << *p;
  if (auto p = std::get_if<std::vector<int64_t>>(&v)) os << shapeStr(*p);
  if (auto p = std::get_if<std::vector<double>>(&v)) {
    os << "[";
    for (size_t i = 0; i < p->size(); ++i) os << (i ? ", " : "") << (*p)[i];
    os << "]";
  }
  return os.str();
}

std::string dump(const Graph& g) {
  std::ostringstream os;
  for (const Layer& l : g.layers) {
    os << l.name << " = " << typeWord(l.type) << "(";
    for (size_t i = 0; i < l.inputs.size(); ++i) {
      const ValueRef& in = l.inputs[i];
      os << (i ? ", " : "") << g.layers[in.layer].name;
      if (in.port) os << ":" << in.port;
    }
    os << ")";
    for (const auto& [k, v] : l.attrs) os << " " << k << "=" << attrStr(v);
    if (l.activation.kind != ActKind::None) os << " act=" << actName(l.activation.kind);
    for (const auto& [role, t] : l.params) os << " " << role << shapeStr(t.shape);
    os << " ->";
    for (const Shape& s : l.outputShapes) os << " " << shapeStr(s);
    os << "\n";
  }
  return os.str();
}

Shape broadcastShapes(const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t da = i < out.size() - a.size() ? 1 : a[i - (out.size() - a.size())];
    int64_t db = i < out.size() - b.size() ? 1 : b[i - (out.size() - b.size())];
    if (da != db && da != 1 && db != 1)
      throw Error("shapes " + shapeStr(a) + " and " + shapeStr(b) + " cannot be broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<int64_t> broadcastStrides(const Shape& s, const Shape& out) {
  const size_t r = out.size();
  std::vector<int64_t> st(r, 0);
  int64_t stride = 1;
  for (int i = int(s.size()) - 1; i >= 0; --i) {
    const size_t o = r - s.size() + size_t(i);
    st[o] = (s[i] == 1 && out[o] != 1) ? 0 : stride;
    stride *= s[i];
  }
  return st;
}

}  // namespace kiln
