#include "compiler/quant/calibration_stats.h"

#include "compiler/quant/min_max_scan.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace kiln::quant {

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Doubles a side's bin width `times` times: bins 2^times j .. 2^times (j + 1) − 1 merge into j.
void mergeSide(std::vector<uint64_t>& c, int sign, int times) {
  const int K = Histogram::kBins, f = 1 << std::min(times, 30);
  auto at = [&](int j) -> uint64_t& { return c[size_t(K + sign * (1 + j))]; };
  for (int j = 0; j < K; ++j) {
    uint64_t sum = 0;
    if (int64_t(j) * f < K)
      for (int t = 0; t < f && j * f + t < K; ++t) sum += at(j * f + t);
    at(j) = sum;  // j <= j * f: every source bin is read before it is overwritten
  }
}

// Makes the side of sign `sign` (+1, −1) span `extreme` (> 0).
void fitSide(Histogram& h, int sign, double extreme) {
  constexpr int K = Histogram::kBins;
  double& w = sign > 0 ? h.wPos : h.wNeg;
  if (w == 0) {
    w = extreme / (K - 0.5);  // the extreme lands in the middle of the last bin
    return;
  }
  int times = 0;
  while (extreme >= w * K) w *= 2, ++times;
  if (times) mergeSide(h.counts, sign, times);
}

// Adds a buffer to the per-channel histograms and ranges (channels: dimension 1). Non-finite
// values are left out, as in the per-tensor histogram.
void addChannels(ChannelStats& cs, const FloatBuffer& out) {
  const int64_t N = out.shape[0], C = out.shape[1];
  const int64_t inner = N * C != 0 ? int64_t(out.data.size()) / (N * C) : 0;
  cs.hist.resize(size_t(C));
  cs.range.resize(size_t(C));
  std::vector<float> kept;
  for (int64_t b = 0; b < N; ++b)
    for (int64_t c = 0; c < C; ++c) {
      const float* d = out.data.data() + (b * C + c) * inner;
      size_t n = size_t(inner);
      float lo = kInf, hi = -kInf;
      scanMinMax(d, n, lo, hi);
      if (!std::isfinite(lo) || !std::isfinite(hi)) {
        kept.clear();
        for (size_t i = 0; i < n; ++i)
          if (std::isfinite(d[i])) kept.push_back(d[i]);
        lo = kInf, hi = -kInf;
        scanMinMax(kept.data(), kept.size(), lo, hi);
        d = kept.data();
        n = kept.size();
      }
      if (n == 0 || !std::isfinite(lo) || !std::isfinite(hi)) continue;
      cs.hist[size_t(c)].addFinite(d, n, lo, hi);
      Range& r = cs.range[size_t(c)];
      r.min = std::min(r.min, double(lo));
      r.max = std::max(r.max, double(hi));
    }
}

}  // namespace

void Range::add(const float* v, size_t n) {
  float lo = kInf, hi = -kInf;
  scanMinMax(v, n, lo, hi);
  if (std::isfinite(lo) && std::isfinite(hi)) {
    min = std::min(min, double(lo));
    max = std::max(max, double(hi));
    return;
  }
  for (size_t i = 0; i < n; ++i) {  // infinities present (or nothing finite): skip them one by one
    if (!std::isfinite(v[i])) continue;
    min = std::min(min, double(v[i]));
    max = std::max(max, double(v[i]));
  }
}

void Histogram::addFinite(const float* v, size_t n, float lo, float hi) {
  constexpr int K = kBins;
  if (counts.empty()) counts.assign(size_t(2 * K + 1), 0);
  if (hi > 0) fitSide(*this, 1, hi);
  if (lo < 0) fitSide(*this, -1, -double(lo));
  const float sp = wPos > 0 ? float(1.0 / wPos) : 0.f, sn = wNeg > 0 ? float(1.0 / wNeg) : 0.f;
  countValues(v, n, sp, sn);  // histogram_fill.cpp
}

double percentile(std::vector<float> values, double p) {
  if (values.empty()) return 0;
  const size_t k =
      std::min(values.size() - 1, size_t(std::llround(p / 100.0 * double(values.size() - 1))));
  std::nth_element(values.begin(), values.begin() + long(k), values.end());
  return values[k];
}

CalibStats collectStats(const Graph& g, const std::vector<std::vector<FloatBuffer>>& samples,
                        const StatsOptions& opts, const std::function<void(int, int)>& progress) {
  CalibStats s;
  constexpr size_t kReservoir = size_t(1) << 18;
  std::mt19937 rng(12345);  // raw engine output only: identical on every platform
  std::map<int, uint64_t> seen;
  const size_t L = g.layers.size();
  s.out.resize(L);
  s.pre.resize(L);
  s.channelAbsMax.resize(L);
  s.sampleAbsMax.assign(L, std::vector<double>(samples.size(), 0.0));
  if (opts.histograms) s.hist.resize(L);
  std::vector<float> chLo, chHi;  // per-channel extremes of the current buffer
  for (size_t k = 0; k < samples.size(); ++k) {
    runFloatObserved(g, samples[k], [&](int id, const FloatBuffer* pre, const FloatBuffer& out) {
      const float* d = out.data.data();
      const size_t n = out.data.size();
      if (opts.sampleLayers.count(id)) {
        auto& res = s.values[id];
        uint64_t& seenN = seen[id];
        for (float v : out.data) {
          if (res.size() < kReservoir) {
            res.push_back(v);
          } else {
            const uint64_t j = ((uint64_t(rng()) << 32) | rng()) % (seenN + 1);
            if (j < kReservoir) res[j] = v;
          }
          ++seenN;
        }
      }
      if (pre) s.pre[id].add(pre->data);

      // One scan of the buffer, channel by channel (index of dimension 1: channels of NCHW,
      // features of [N, K]): per-channel extremes, from which the range and the abs-max follow.
      const bool perChannel = out.shape.size() >= 2 && opts.channelAbsMax;
      float lo = kInf, hi = -kInf;
      int64_t N = 1, C = 1, inner = int64_t(n);
      if (perChannel) {
        N = out.shape[0];
        C = out.shape[1];
        inner = N * C != 0 ? int64_t(n) / (N * C) : 0;
        chLo.assign(size_t(C), kInf);
        chHi.assign(size_t(C), -kInf);
        for (int64_t b = 0; b < N; ++b)
          for (int64_t c = 0; c < C; ++c)
            scanMinMax(d + (b * C + c) * inner, size_t(inner), chLo[c], chHi[c]);
        for (int64_t c = 0; c < C; ++c) lo = std::min(lo, chLo[c]), hi = std::max(hi, chHi[c]);
      } else {
        scanMinMax(d, n, lo, hi);
      }
      const bool finite =
          std::isfinite(lo) && std::isfinite(hi);  // no ±inf (NaN may remain: ignored)
      if (finite) {
        s.out[id].min = std::min(s.out[id].min, double(lo));
        s.out[id].max = std::max(s.out[id].max, double(hi));
        s.sampleAbsMax[id][k] = std::max(-double(lo), double(hi));
      } else {
        s.out[id].add(out.data);
        Range r;
        r.add(out.data);
        if (r.valid()) s.sampleAbsMax[id][k] = std::max(-r.min, r.max);
      }
      if (perChannel && opts.channelAbsMax) {
        auto& am = s.channelAbsMax[id];
        am.resize(size_t(C), 0.0);
        for (int64_t c = 0; c < C; ++c) {
          if (finite) {
            // max |v| of the finite values = max(−lo_c, hi_c) (−inf when the channel is all NaN)
            am[c] = std::max(am[c], double(std::max(-chLo[c], chHi[c])));
          } else {
            double big = am[c];
            for (int64_t b = 0; b < N; ++b)
              for (int64_t i = 0; i < inner; ++i) {
                const float v = d[(b * C + c) * inner + i];
                if (std::isfinite(v)) big = std::max(big, double(std::fabs(v)));
              }
            am[c] = big;
          }
        }
      }
      if (opts.channelLayers.count(id) && out.shape.size() >= 2) addChannels(s.channels[id], out);
      if (opts.histograms && g.layers[size_t(id)].type != LayerType::InputLayer) {
        if (finite) {
          s.hist[id].addFinite(d, n, lo, hi);
        } else {
          std::vector<float> kept;
          for (size_t i = 0; i < n; ++i)
            if (std::isfinite(d[i])) kept.push_back(d[i]);
          float klo = kInf, khi = -kInf;
          scanMinMax(kept.data(), kept.size(), klo, khi);
          if (!kept.empty()) s.hist[id].addFinite(kept.data(), kept.size(), klo, khi);
        }
      }
    });
    ++s.samples;
    if (progress) progress(int(k + 1), int(samples.size()));
  }
  return s;
}

CalibStats collectStats(const Graph& g, const std::vector<std::vector<FloatBuffer>>& samples,
                        const std::function<void(int, int)>& progress,
                        const std::set<int>& sampleLayers) {
  StatsOptions o;
  o.sampleLayers = sampleLayers;
  return collectStats(g, samples, o, progress);
}

}  // namespace kiln::quant
