#include "quant/calibration_stats.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace kiln::quant {

void Range::add(const std::vector<float>& v) {
  for (float x : v) {
    if (!std::isfinite(x)) continue;
    min = std::min(min, double(x));
    max = std::max(max, double(x));
  }
}

double percentile(std::vector<float> values, double p) {
  if (values.empty()) return 0;
  const size_t k = std::min(values.size() - 1, size_t(std::llround(p / 100.0 * double(values.size() - 1))));
  std::nth_element(values.begin(), values.begin() + long(k), values.end());
  return values[k];
}

CalibStats collectStats(const Graph& g, const std::vector<std::vector<FloatBuffer>>& samples,
                        const std::function<void(int, int)>& progress, const std::set<int>& sampleLayers) {
  CalibStats s;
  constexpr size_t kReservoir = size_t(1) << 18;
  std::mt19937 rng(12345);  // raw engine output only: identical on every platform
  std::map<int, uint64_t> seen;
  s.out.resize(g.layers.size());
  s.pre.resize(g.layers.size());
  s.channelMean.resize(g.layers.size());
  s.channelAbsMax.resize(g.layers.size());
  for (size_t k = 0; k < samples.size(); ++k) {
    runFloatObserved(g, samples[k], [&](int id, const FloatBuffer* pre, const FloatBuffer& out) {
      s.out[id].add(out.data);
      if (sampleLayers.count(id)) {
        auto& res = s.values[id];
        uint64_t& n = seen[id];
        for (float v : out.data) {
          if (res.size() < kReservoir) {
            res.push_back(v);
          } else {
            const uint64_t j = ((uint64_t(rng()) << 32) | rng()) % (n + 1);
            if (j < kReservoir) res[j] = v;
          }
          ++n;
        }
      }
      if (pre) s.pre[id].add(pre->data);
      // Mean per index of dimension 1 (channels of NCHW, features of [N, K]), averaged over samples.
      if (out.shape.size() >= 2) {
        const int64_t C = out.shape[1], inner = numel(out.shape) / (out.shape[0] * C);
        auto& m = s.channelMean[id];
        auto& am = s.channelAbsMax[id];
        m.resize(size_t(C), 0.0);
        am.resize(size_t(C), 0.0);
        for (int64_t n = 0; n < out.shape[0]; ++n)
          for (int64_t c = 0; c < C; ++c) {
            double acc = 0, big = am[c];
            for (int64_t i = 0; i < inner; ++i) {
              const float v = out.data[(n * C + c) * inner + i];
              acc += v;
              if (std::isfinite(v)) big = std::max(big, double(std::fabs(v)));
            }
            m[c] += acc / double(inner * out.shape[0] * int64_t(samples.size()));
            am[c] = big;
          }
      }
    });
    ++s.samples;
    if (progress) progress(int(k + 1), int(samples.size()));
  }
  return s;
}

}  // namespace kiln::quant
