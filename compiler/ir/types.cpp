// The layer-type table (layer_types.def) and its queries, activation names and evaluation.
#include "compiler/ir/types.h"

#include <cmath>

namespace kiln {

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s)
    if (__builtin_mul_overflow(n, d, &n))
      throw Error("the element count of shape " + shapeStr(s) + " overflows 64-bit arithmetic");
  return n;
}

int64_t checkedMul(int64_t a, int64_t b, const std::string& what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    throw Error(what + " overflows 64-bit arithmetic (" + std::to_string(a) + " x " +
                std::to_string(b) + ")");
  return r;
}

int64_t checkedAdd(int64_t a, int64_t b, const std::string& what) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    throw Error(what + " overflows 64-bit arithmetic (" + std::to_string(a) + " + " +
                std::to_string(b) + ")");
  return r;
}

namespace {

// The property flags of layer_types.def.
constexpr unsigned kEltwise = 1u << 0;
constexpr unsigned kKeepsQuant = 1u << 1;
constexpr unsigned kWeights = 1u << 2;
constexpr unsigned kFusesAct = 1u << 3;
constexpr unsigned kQuant = 1u << 4;

struct LayerInfo {
  LayerType type;
  const char* word;
  int minIn, maxIn;
  MacKind mac;
  unsigned props;
};
const LayerInfo kLayers[] = {
#define KILN_LAYER(e, word, mn, mx, mac, props) {LayerType::e, word, mn, mx, MacKind::mac, props},
#include "compiler/ir/layer_types.def"
#undef KILN_LAYER
};
const char* kActNames[] = {
#define KILN_ACT(e, name, formula) name,
#include "compiler/ir/activation.def"
#undef KILN_ACT
};

const LayerInfo& info(LayerType t) {
  return kLayers[int(t)];
}
bool has(LayerType t, unsigned prop) {
  return (info(t).props & prop) != 0;
}

}  // namespace

const char* typeWord(LayerType t) {
  return info(t).word;
}
int minInputs(LayerType t) {
  return info(t).minIn;
}
int maxInputs(LayerType t) {
  return info(t).maxIn;
}

bool layerTypeFromWord(const std::string& word, LayerType& out) {
  for (const auto& l : kLayers)
    if (word == l.word) {
      out = l.type;
      return true;
    }
  return false;
}

std::vector<LayerType> allLayerTypes() {
  std::vector<LayerType> v;
  for (const auto& l : kLayers) v.push_back(l.type);
  return v;
}

MacKind macKind(LayerType t) {
  return info(t).mac;
}
bool multipliesAccumulates(LayerType t) {
  switch (macKind(t)) {
    case MacKind::Conv:
    case MacKind::Deconv:
    case MacKind::Fc:
    case MacKind::MatMul:
      return true;
    case MacKind::None:
    case MacKind::Window:
    case MacKind::InElems:
    case MacKind::OutElems:
      return false;
  }
  return false;
}

bool isBinaryElementwise(LayerType t) {
  return has(t, kEltwise);
}
bool keepsInputQuantization(LayerType t) {
  return has(t, kKeepsQuant);
}
bool hasWeights(LayerType t) {
  return has(t, kWeights);
}
bool canFuseActivation(LayerType t) {
  return has(t, kFusesAct);
}
bool isQuantizable(LayerType t) {
  return has(t, kQuant);
}

const char* actName(ActKind k) {
  return kActNames[int(k)];
}

bool actFromName(const std::string& name, ActKind& out) {
  for (size_t i = 0; i < sizeof(kActNames) / sizeof(kActNames[0]); ++i)
    if (name == kActNames[i]) {
      out = ActKind(i);
      return true;
    }
  return false;
}

float applyActivation(const Activation& a, float x, float preluSlope) {
  const float alpha = float(a.alpha), beta = float(a.beta);
  switch (a.kind) {
    case ActKind::None:
      return x;
    case ActKind::Relu:
      return x > 0.f ? x : 0.f;
    case ActKind::Relu6:
      return std::min(std::max(x, 0.f), 6.f);
    case ActKind::Clip:
      return std::min(std::max(x, alpha), beta);
    case ActKind::LeakyRelu:
      return x >= 0.f ? x : alpha * x;
    case ActKind::PRelu:
      return x >= 0.f ? x : preluSlope * x;
    case ActKind::Sigmoid:
      return 1.f / (1.f + std::exp(-x));
    case ActKind::Tanh:
      return std::tanh(x);
    case ActKind::HardSigmoid:
      return std::max(0.f, std::min(1.f, alpha * x + beta));
    case ActKind::HardSwish:
      return x * std::max(0.f, std::min(1.f, alpha * x + beta));
    case ActKind::Silu:
      return x / (1.f + std::exp(-x));
    case ActKind::Elu:
      return x >= 0.f ? x : alpha * (std::exp(x) - 1.f);
    case ActKind::Softplus:
      return x > 20.f ? x : std::log1p(std::exp(x));
    case ActKind::Exp:
      return std::exp(x);
    case ActKind::Log:
      return std::log(x);
    case ActKind::Sqrt:
      return std::sqrt(x);
    case ActKind::Reciprocal:
      return 1.f / x;
    case ActKind::Pow:
      return alpha == 2.f ? x * x : std::pow(x, alpha);
    case ActKind::Abs:
      return std::fabs(x);
    case ActKind::Neg:
      return -x;
    case ActKind::Erf:
      return std::erf(x);
    case ActKind::Gelu:
      return 0.5f * x * (1.f + std::erf(x * 0.70710678118654752f));
  }
  return x;
}

}  // namespace kiln
