// Float emulation driver: runs the layers in order over FloatBuffers (kernels in emulator/float/),
// freeing or handing over each buffer after its last reader.
#include "compiler/emulator/float_executor.h"

#include <algorithm>

#include "compiler/emulator/float_kernels/kernels.h"

namespace kiln {

FloatBuffer transposeBuffer(const FloatBuffer& in, const std::vector<int64_t>& perm) {
  FloatBuffer out;
  for (int64_t p : perm) out.shape.push_back(in.shape[p]);
  out.data.resize(in.data.size());
  const size_t r = perm.size();
  std::vector<int64_t> inStride(r, 1), srcStride(r);
  for (int i = int(r) - 2; i >= 0; --i) inStride[i] = inStride[i + 1] * in.shape[i + 1];
  for (size_t i = 0; i < r; ++i) srcStride[i] = inStride[perm[i]];
  std::vector<int64_t> idx(r, 0);
  int64_t src = 0;
  for (size_t k = 0; k < out.data.size(); ++k) {
    out.data[k] = in.data[src];
    for (int d = int(r) - 1; d >= 0; --d) {
      src += srcStride[d];
      if (++idx[d] < out.shape[d]) break;
      src -= srcStride[d] * out.shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

namespace {

// Kernels that write every element of their output after sizing it, so a recycled buffer can be
// handed to them with stale contents (resize then neither zero-fills nor touches new pages).
bool overwritesAll(LayerType t) {
  switch (t) {
    case LayerType::Conv:
    case LayerType::Dw:
    case LayerType::Fc:
    case LayerType::Resize:
    case LayerType::Pad:
    case LayerType::Concat:
    case LayerType::Slice:
    case LayerType::Normalization:
    case LayerType::MaxPool:
    case LayerType::AvgPool:
      return true;
    default:
      return isBinaryElementwise(t);
  }
}

// Storage of dead buffers, reused for later outputs of a similar size within one run.
class BufferPool {
 public:
  void give(std::vector<float>&& v) {
    if (v.capacity() < 4096) return;
    pool_.push_back(std::move(v));
    if (pool_.size() > 8) {  // drop the smallest
      auto it = std::min_element(pool_.begin(), pool_.end(), [](const auto& a, const auto& b) {
        return a.capacity() < b.capacity();
      });
      pool_.erase(it);
    }
  }
  // The smallest pooled vector holding n floats (not more than 4x that), or an empty one.
  std::vector<float> take(size_t n, bool keepContents) {
    auto best = pool_.end();
    for (auto it = pool_.begin(); it != pool_.end(); ++it)
      if (it->capacity() >= n && it->capacity() <= 4 * n &&
          (best == pool_.end() || it->capacity() < best->capacity()))
        best = it;
    if (best == pool_.end()) return {};
    std::vector<float> v = std::move(*best);
    pool_.erase(best);
    if (!keepContents) v.clear();
    return v;
  }

 private:
  std::vector<std::vector<float>> pool_;
};

void runLayer(const Layer& l, const float_kernels::Inputs& in, FloatBuffer& out, FloatBuffer* pre) {
  using namespace float_kernels;
  out.shape = l.outputShapes.at(0);
  if (isBinaryElementwise(l.type)) {
    elementwise(l, in, out);
    if (pre && l.activation.kind != ActKind::None) *pre = out;
    applyFusedActivation(l, out);
    return;
  }
  switch (l.type) {
    case LayerType::InputLayer:
      break;  // filled by the caller
    case LayerType::OutputLayer:
      out = l.hasAttr("perm") ? transposeBuffer(*in[0], l.attrInts("perm")) : *in[0];
      return;
    case LayerType::ConstInput:
      out.data = l.param("value").data;
      return;
    case LayerType::Conv:
    case LayerType::Dw:
      if (conv(l, in, out, pre == nullptr)) return;  // activation applied inside
      break;
    case LayerType::Deconv:
      deconv(l, in, out);
      break;
    case LayerType::Fc:
      fc(l, in, out);
      break;
    case LayerType::MatMul:
      matmul(l, in, out);
      break;
    case LayerType::MaxPool:
    case LayerType::AvgPool:
      pool(l, in, out);
      break;
    case LayerType::GlobalAvgPool:
      globalAvgPool(l, in, out);
      break;
    case LayerType::ReduceMean:
    case LayerType::ReduceMax:
    case LayerType::ReduceSum:
      reduce(l, in, out);
      break;
    case LayerType::Concat:
      concat(l, in, out);
      break;
    case LayerType::Resize:
      resize(l, in, out);
      break;
    case LayerType::Slice:
      slice(l, in, out);
      break;
    case LayerType::Reshape:
      out.data = in[0]->data;
      break;
    case LayerType::Transpose:
      out = transposeBuffer(*in[0], l.attrInts("perm"));
      break;
    case LayerType::Pad:
      pad(l, in, out);
      break;
    case LayerType::Softmax:
      softmax(l, in, out);
      break;
    case LayerType::LayerNormalization:
      layerNorm(l, in, out);
      break;
    case LayerType::Normalization:
      normalization(l, in, out);
      break;
    case LayerType::Activation:
      out.data = in[0]->data;
      break;
    case LayerType::DepthToSpace:
      depthToSpace(l, in, out);
      break;
    case LayerType::SpaceToDepth:
      spaceToDepth(l, in, out);
      break;
    case LayerType::FormatConversion:
      formatConversion(l, in, out);
      break;
    case LayerType::ColorConversion:
      colorConversion(l, in, out);
      break;
    default:
      break;  // binary element-wise layers are handled above
  }
  if (pre && l.activation.kind != ActKind::None) *pre = out;
  applyFusedActivation(l, out);
}

// keepAll: every layer's output is kept in *all (index = layer id). With keepAll, the buffers
// *all holds already (from an earlier run of the same graph) are written over, not reallocated.
std::vector<FloatBuffer> run(const Graph& g, const std::vector<FloatBuffer>& inputs, bool keepAll,
                             std::vector<FloatBuffer>* all,
                             const LayerObserver* observer = nullptr) {
  const auto inIds = g.inputLayers();
  if (inputs.size() != inIds.size())
    throw Error("the network has " + std::to_string(inIds.size()) + " inputs, " +
                std::to_string(inputs.size()) + " given");
  // Free each buffer after its last reader, so peak memory stays near the widest cut.
  std::vector<int> lastUse(g.layers.size(), -1);
  for (size_t i = 0; i < g.layers.size(); ++i)
    for (const ValueRef& v : g.layers[i].inputs) lastUse[v.layer] = int(i);
  std::vector<FloatBuffer> buf;
  if (keepAll && all && all->size() == g.layers.size()) buf = std::move(*all);
  buf.resize(g.layers.size());
  for (size_t k = 0; k < inIds.size(); ++k) {
    const Layer& l = g.at(inIds[k]);
    const Shape user = l.attrInts("user_shape");
    if (inputs[k].shape != user)
      throw Error("input '" + l.attrString("onnx_name") + "' expects shape " + shapeStr(user) +
                  ", got " + shapeStr(inputs[k].shape));
    buf[inIds[k]] = l.hasAttr("perm") ? transposeBuffer(inputs[k], l.attrInts("perm")) : inputs[k];
  }
  std::vector<FloatBuffer> outputs;
  BufferPool pool;
  FloatBuffer pre;  // the observer's pre-activation values, storage reused from layer to layer
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const Layer& l = g.layers[i];
    const bool passThrough = l.type == LayerType::Reshape || (l.type == LayerType::Activation &&
                                                              l.activation.kind != ActKind::PRelu);
    if (passThrough && !keepAll && !observer && l.inputs.size() == 1 &&
        lastUse[l.inputs[0].layer] == int(i)) {
      // Reshape / activation of a value nobody reads afterwards: take its storage, no copy.
      buf[i].data = std::move(buf[l.inputs[0].layer].data);
      buf[i].shape = l.outputShapes.at(0);
      float_kernels::applyFusedActivation(l, buf[i]);
    } else if (l.type != LayerType::InputLayer) {
      float_kernels::Inputs in;
      for (const ValueRef& v : l.inputs) in.push_back(&buf[v.layer]);
      if (isBinaryElementwise(l.type) && !keepAll && l.inputs.size() == 2 &&
          lastUse[l.inputs[0].layer] == int(i) && l.inputs[1].layer != l.inputs[0].layer &&
          int64_t(buf[l.inputs[0].layer].data.size()) == numel(l.outputShapes.at(0))) {
        // The first operand dies here and has the output's size: compute into its storage.
        buf[i].data = std::move(buf[l.inputs[0].layer].data);
        buf[i].shape = l.outputShapes.at(0);
        in[0] = &buf[i];
      }
      if (!keepAll && (in.empty() || in[0] != &buf[i]) && l.type != LayerType::OutputLayer)
        buf[i].data = pool.take(size_t(numel(l.outputShapes.at(0))), overwritesAll(l.type));
      else if (keepAll && !overwritesAll(l.type))
        buf[i].data.clear();  // a reused buffer: kernels that do not write every value start empty
      pre.shape.clear();
      runLayer(l, in, buf[i], observer ? &pre : nullptr);
      if (observer) (*observer)(int(i), pre.shape.empty() ? nullptr : &pre, buf[i]);
    } else if (observer) {
      (*observer)(int(i), nullptr, buf[i]);
    }
    if (l.type == LayerType::OutputLayer) outputs.push_back(keepAll ? buf[i] : std::move(buf[i]));
    if (!keepAll)
      for (const ValueRef& v : l.inputs)
        if (lastUse[v.layer] == int(i)) {
          pool.give(std::move(buf[v.layer].data));
          buf[v.layer] = FloatBuffer();
        }
  }
  if (all) *all = std::move(buf);
  return outputs;
}

}  // namespace

void runFloatLayer(const Layer& l, const std::vector<const FloatBuffer*>& inputs,
                   FloatBuffer& out) {
  runLayer(l, inputs, out, nullptr);
}

std::vector<FloatBuffer> runFloat(const Graph& g, const std::vector<FloatBuffer>& inputs) {
  return run(g, inputs, false, nullptr);
}

std::vector<FloatBuffer> runFloatObserved(const Graph& g, const std::vector<FloatBuffer>& inputs,
                                          const LayerObserver& observer) {
  return run(g, inputs, false, nullptr, &observer);
}

std::vector<FloatBuffer> runFloatAllLayers(const Graph& g, const std::vector<FloatBuffer>& inputs) {
  std::vector<FloatBuffer> all;
  run(g, inputs, true, &all);
  return all;
}

void runFloatAllLayers(const Graph& g, const std::vector<FloatBuffer>& inputs,
                       std::vector<FloatBuffer>& all) {
  run(g, inputs, true, &all);
}

}  // namespace kiln
