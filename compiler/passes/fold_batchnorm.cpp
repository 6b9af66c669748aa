// fold_batchnorm: a normalization layer (per-channel y = x*scale + bias, from BatchNormalization)
// whose input is a conv, dw or deconv read by nothing else, and that has no fused activation,
// is folded into that layer's kernel and bias. Normalization layers that cannot be folded stay.
#include "passes/pipeline.h"

namespace kiln::passes {

void foldBatchNorm(Graph& g) {
  for (size_t i = 0; i < g.layers.size(); ++i) {
    Layer& bn = g.layers[i];
    if (bn.dead || bn.type != LayerType::Normalization) continue;
    const ValueRef src = bn.inputs[0];
    Layer& p = g.at(src.layer);
    const bool foldable = p.type == LayerType::Conv || p.type == LayerType::Dw ||
                          p.type == LayerType::Deconv;
    if (!foldable || p.activation.kind != ActKind::None || singleConsumer(g, src) != int(i))
      continue;
    const auto& scale = bn.param("scale").data;
    const auto& shift = bn.param("bias").data;
    Tensor& k = p.params["kernel"];
    Tensor& b = p.params["bias"];
    const int64_t cout = int64_t(b.data.size());
    if (int64_t(scale.size()) != cout) continue;
    if (p.type == LayerType::Deconv) {
      // Kernel [Cin, Cout/g, kh, kw]: output channel = group * (Cout/g) + j.
      const int64_t cin = k.shape[0], per = k.shape[1], khw = k.shape[2] * k.shape[3];
      const int64_t groups = p.attrInt("group", 1), cinPerGroup = cin / groups;
      for (int64_t ci = 0; ci < cin; ++ci)
        for (int64_t j = 0; j < per; ++j) {
          const int64_t co = (ci / cinPerGroup) * per + j;
          for (int64_t t = 0; t < khw; ++t) k.data[(ci * per + j) * khw + t] *= scale[co];
        }
    } else {
      const int64_t per = k.numel() / cout;
      for (int64_t co = 0; co < cout; ++co)
        for (int64_t t = 0; t < per; ++t) k.data[co * per + t] *= scale[co];
    }
    for (int64_t co = 0; co < cout; ++co) b.data[co] = b.data[co] * scale[co] + shift[co];
    p.activation = bn.activation;
    absorbInto(g, int(i), src, src.layer);
  }
}

}  // namespace kiln::passes
