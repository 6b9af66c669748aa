#include "compiler/optimize/noise_report.h"

#include "common/cpu_features.h"

#include <algorithm>
#include <cmath>
#include <memory>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <fmt/core.h>

#include "compiler/emulator/quant_executor.h"
#include "compiler/emulator/quant_layer.h"
#include "compiler/lower/lower_program.h"
#include "runtime/engine/executor.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::optimize {

namespace {

struct Acc {
  double signal = 0, noise = 0, bias = 0;
  int64_t n = 0;
  void add(const std::vector<float>& ref, const std::vector<float>& got) {
    for (size_t i = 0; i < ref.size() && i < got.size(); ++i) {
      signal += double(ref[i]) * ref[i];
      const double d = double(got[i]) - ref[i];
      noise += d * d;
      bias += d;
      ++n;
    }
  }
  // Mean error as a fraction of the noise's RMS: near 0 for unbiased noise, near ±1 when the
  // error is mostly a constant shift.
  double biasRatio() const {
    return noise > 0 && n ? (bias / double(n)) / std::sqrt(noise / double(n)) : 0.0;
  }
  double snr() const {
    if (noise == 0) return 200.0;  // identical: reported as 200 dB
    if (signal == 0) return -200.0;
    return 10.0 * std::log10(signal / noise);
  }
};

#if defined(__x86_64__)
// addLayerSample's loop with the seven sums in two vectors: lanes (signal, na, nb, nc) add
// (r², d1², d2², d3²) and lanes (-, ba, bb, bc) add (-, d1, d2, d3), element after element. Each
// lane is one sum, with the scalar loop's operations in its order (a multiply and an add, no
// FMA), so the same doubles; two dependency chains instead of seven.
__attribute__((target("avx2"))) void sumsAvx2(const float* r, const float* dn, const float* da,
                                              const float* df, size_t m, double& signal, double& na,
                                              double& ba, double& nb, double& bb, double& nc,
                                              double& bc) {
  __m256d S = _mm256_set_pd(nc, nb, na, signal), B = _mm256_set_pd(bc, bb, ba, 0.0);
  const __m256d zero = _mm256_setzero_pd();
  for (size_t e = 0; e < m; ++e) {
    // (r, dn, da, df) - (0, r, r, r) = (r, d1, d2, d3), all exact conversions to double.
    const __m256d x = _mm256_cvtps_pd(_mm_set_ps(df[e], da[e], dn[e], r[e]));
    const __m256d rr = _mm256_blend_pd(_mm256_set1_pd(double(r[e])), zero, 0x1);
    const __m256d d = _mm256_sub_pd(x, rr);
    S = _mm256_add_pd(S, _mm256_mul_pd(d, d));
    B = _mm256_add_pd(B, d);
  }
  alignas(32) double s[4], b[4];
  _mm256_store_pd(s, S);
  _mm256_store_pd(b, B);
  signal = s[0], na = s[1], nb = s[2], nc = s[3];
  ba = b[1], bb = b[2], bc = b[3];
}
#endif

// One layer's three measurements of one sample in one pass: the network's output `net`, the
// layer alone `alone` and the float output quantized `floor` (all in the layer's quantization)
// against the float reference. The same sums, in the same order, as three Acc::add calls: the
// three signal sums are the same, so one is computed and copied.
void addLayerSample(const std::vector<float>& ref, const IntBuffer& net, const IntBuffer& alone,
                    const IntBuffer& floor, const QuantInfo& q, Acc& a, Acc& b, Acc& c) {
  const size_t n = ref.size();
  if (net.data.size() != n || alone.data.size() != n || floor.data.size() != n ||
      a.signal != b.signal || a.signal != c.signal || a.n != b.n || a.n != c.n) {
    a.add(ref, dequantize(net, q).data);
    b.add(ref, dequantize(alone, q).data);
    c.add(ref, dequantize(floor, q).data);
    return;
  }
  constexpr size_t kChunk = 1024;
  float dn[kChunk], da[kChunk], df[kChunk];
  double signal = a.signal, na = a.noise, ba = a.bias, nb = b.noise, bb = b.bias, nc = c.noise,
         bc = c.bias;
  for (size_t e0 = 0; e0 < n; e0 += kChunk) {
    const size_t m = std::min(kChunk, n - e0);
    dequantize(net.data.data() + e0, m, q, dn);
    dequantize(alone.data.data() + e0, m, q, da);
    dequantize(floor.data.data() + e0, m, q, df);
    const float* r = ref.data() + e0;
#if defined(__x86_64__)
    if (hostHasAvx2()) {
      sumsAvx2(r, dn, da, df, m, signal, na, ba, nb, bb, nc, bc);
      continue;
    }
#endif
    for (size_t e = 0; e < m; ++e) {
      signal += double(r[e]) * r[e];
      const double d1 = double(dn[e]) - r[e], d2 = double(da[e]) - r[e], d3 = double(df[e]) - r[e];
      na += d1 * d1;
      ba += d1;
      nb += d2 * d2;
      bb += d2;
      nc += d3 * d3;
      bc += d3;
    }
  }
  a.noise = na, a.bias = ba, b.noise = nb, b.bias = bb, c.noise = nc, c.bias = bc;
  // The three signal sums run over the same values in the same order.
  a.signal = b.signal = c.signal = signal;
  a.n += int64_t(n), b.n += int64_t(n), c.n += int64_t(n);
}

}  // namespace

NoiseReport noiseReport(const Graph& g, const std::vector<std::vector<FloatBuffer>>& samples,
                        const std::function<void(int, int)>& progress) {
  int done = 0;
  NoiseReport r;
  const size_t L = g.layers.size();
  std::vector<Acc> layer(L), local(L), outFloor(L);
  const auto outIds = g.outputLayers();
  // Per output element, the range over the samples of the quantized and of the float output.
  std::vector<std::vector<float>> outMin(outIds.size()), outMax(outIds.size());
  std::vector<std::vector<float>> floatMin(outIds.size()), floatMax(outIds.size());
  // Lowered once: the whole network (keeping every layer's output) and each layer alone. The
  // layers alone run inline, several at a time on the emulation pool's threads (each layer's
  // figures are its own, summed in sample order: the report does not depend on the threads).
  LowerOptions keepAll;
  keepAll.keepAll = true;
  const LoweredProgram whole = lowerProgram(g, keepAll);
  const std::unique_ptr<rt::Executor> wholeEx = makeExecutor(whole);
  std::vector<std::unique_ptr<QuantLayerRunner>> alone(L);
  for (size_t i = 0; i < L; ++i)
    if (g.layers[i].type != LayerType::InputLayer)
      alone[i] = std::make_unique<QuantLayerRunner>(g, g.layers[i], nullptr);
  // Per sample, reused: every layer's float output, quantized output (the whole network) and
  // float output quantized (the inputs of the layers alone, and the floor).
  std::vector<FloatBuffer> fl;
  std::vector<IntBuffer> q, floatQuantized(L);
  rt::ThreadPool* pool = emulationPool();
  for (const auto& sample : samples) {
    if (progress) progress(done++, int(samples.size()));
    runFloatAllLayers(g, sample, fl);
    runLowered(whole, g, sample, &q, *wholeEx);
    pool->run(int64_t(L), [&](int64_t i) {
      const rt::ThreadPool::Scope inlineKernels(nullptr);
      const Layer& l = g.layers[size_t(i)];
      if (!l.outputQuant.empty())
        quantizeInput(fl[size_t(i)], l.outputQuant[0], floatQuantized[size_t(i)]);
    });
    // The layer alone: its inputs are the float reference, quantized; the noise is its own.
    pool->run(int64_t(L), [&](int64_t id) {
      const rt::ThreadPool::Scope inlineKernels(nullptr);
      const size_t i = size_t(id);
      const Layer& l = g.layers[i];
      if (l.type == LayerType::InputLayer || q[i].data.empty()) return;
      std::vector<IntBuffer> other;  // inputs read from a port other than 0 (none in Kiln today)
      other.reserve(l.inputs.size());
      std::vector<const IntBuffer*> ptrs;
      for (const ValueRef& v : l.inputs) {
        if (v.port == 0) {
          ptrs.push_back(&floatQuantized[size_t(v.layer)]);
        } else {
          other.push_back(quantizeInput(fl[v.layer], g.at(v.layer).outputQuant[v.port]));
          ptrs.push_back(&other.back());
        }
      }
      thread_local IntBuffer out;  // storage reused by the layers this thread runs
      alone[i]->run(ptrs, out);
      addLayerSample(fl[i].data, q[i], out, floatQuantized[i], l.outputQuant[0], layer[i], local[i],
                     outFloor[i]);
    });
    for (size_t k = 0; k < outIds.size(); ++k) {
      const auto deq = dequantize(q[outIds[k]], g.at(outIds[k]).outputQuant[0]).data;
      const auto& ref = fl[outIds[k]].data;
      if (outMin[k].empty()) {
        outMin[k] = outMax[k] = deq;
        floatMin[k] = floatMax[k] = ref;
      }
      for (size_t e = 0; e < deq.size(); ++e) {
        outMin[k][e] = std::min(outMin[k][e], deq[e]);
        outMax[k][e] = std::max(outMax[k][e], deq[e]);
      }
      for (size_t e = 0; e < ref.size() && e < floatMin[k].size(); ++e) {
        floatMin[k][e] = std::min(floatMin[k][e], ref[e]);
        floatMax[k][e] = std::max(floatMax[k][e], ref[e]);
      }
    }
  }
  if (progress) progress(done, int(samples.size()));
  nlohmann::json layers = nlohmann::json::array(), outputs = nlohmann::json::array();
  int flagged = 0;
  std::vector<std::string> flaggedNames;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const Layer& l = g.layers[i];
    if (l.type == LayerType::InputLayer || l.type == LayerType::OutputLayer) continue;
    const double snr = layer[i].snr();
    const bool low = snr < 10.0;
    flagged += low;
    if (low) flaggedNames.push_back(fmt::format("{} ({:.1f} dB)", l.name, snr));
    layers.push_back({{"layer", l.name},
                      {"type", typeWord(l.type)},
                      {"precision", l.precision},
                      {"snr_db", std::round(snr * 100) / 100},
                      {"local_snr_db", std::round(local[i].snr() * 100) / 100},
                      {"floor_snr_db", std::round(outFloor[i].snr() * 100) / 100},
                      {"range", {l.outputQuant[0].min, l.outputQuant[0].max}},
                      {"bits", l.outputQuant[0].bits},
                      {"mean_error_ratio", std::round(layer[i].biasRatio() * 1000) / 1000},
                      {"flag", low ? "below 10 dB" : ""}});
  }
  r.summary += fmt::format(
      "Noise report over {} calibration samples (SNR vs float, all layers quantized):\n",
      samples.size());
  for (size_t k = 0; k < outIds.size(); ++k) {
    const Layer& o = g.at(outIds[k]);
    const double snr = layer[outIds[k]].snr();
    // Degenerate: across the calibration set no element moves by more than one quantization step.
    double spread = 0, floatSpread = 0, floatMagnitude = 0;
    for (size_t e = 0; e < outMin[k].size(); ++e)
      spread = std::max(spread, double(outMax[k][e] - outMin[k][e]));
    for (size_t e = 0; e < floatMin[k].size(); ++e) {
      floatSpread = std::max(floatSpread, double(floatMax[k][e] - floatMin[k][e]));
      floatMagnitude = std::max(
          {floatMagnitude, std::fabs(double(floatMin[k][e])), std::fabs(double(floatMax[k][e]))});
    }
    const double step = o.outputQuant[0].scale * 1.0001;
    const bool degenerate = samples.size() > 1 && spread <= step;
    // When the float network's output does not move either (by less than 0.1 % of its size), the
    // samples are what is degenerate (copies of one image, blank images), not the quantized
    // network.
    const bool samplesDegenerate = degenerate && floatSpread <= 1e-3 * floatMagnitude;
    outputs.push_back({{"output", o.attrString("onnx_name")},
                       {"snr_db", std::round(snr * 100) / 100},
                       {"bits", o.outputQuant[0].bits},
                       {"degenerate", degenerate}});
    r.summary += fmt::format("  output {:<24} {:7.2f} dB ({}-bit)\n", o.attrString("onnx_name"),
                             snr, o.outputQuant[0].bits);
    if (samplesDegenerate)
      r.warnings.push_back(fmt::format(
          "output '{}' does not change over the {} samples the report ran, in float as in the "
          "quantized network: the calibration samples look alike (copies of one image? blank "
          "images?), so the ranges, the bias correction and this report describe only them. Use "
          "a representative calibration set",
          o.attrString("onnx_name"), samples.size()));
    else if (degenerate)
      r.warnings.push_back(
          "OUTPUT '" + o.attrString("onnx_name") +
          "' IS NEAR-CONSTANT over the calibration set (it never moves by more than one "
          "quantization step): the quantized network has collapsed. Check the "
          "precision_mode choices and the calibration data");
  }
  if (flagged) {
    std::string names;
    for (size_t i = 0; i < flaggedNames.size() && i < 6; ++i)
      names += (i ? ", " : "") + flaggedNames[i];
    if (flaggedNames.size() > 6) names += ", ...";
    r.summary += fmt::format(
        "  {} layer(s) below 10 dB: {}\n  (every layer's SNR is in the report JSON, field "
        "\"layers\"; docs/user-guide.md says how to read it)\n",
        flagged, names);
  }
  // These samples are calibration samples: the ranges were chosen on them, so the figures are
  // optimistic. Held-out data is kiln analyze-noise's job.
  r.summary +=
      "  (on calibration samples, which chose the ranges: measure on held-out data with\n"
      "   kiln analyze-noise OPTIMIZED.kar --data-path HELD_OUT [--mode advanced])\n";
  r.json = {{"measured_on", "calibration samples"},
            {"held_out_analysis", "kiln analyze-noise OPTIMIZED.kar --data-path HELD_OUT"},
            {"samples", samples.size()},
            {"outputs", outputs},
            {"layers", layers},
            {"flagged_layers", flagged}};
  return r;
}

}  // namespace kiln::optimize
