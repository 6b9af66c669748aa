#include "compiler/quant/channel_range.h"

#include <cmath>

#include "compiler/quant/histogram_side.h"
#include "compiler/quant/quant_math.h"

namespace kiln::quant {

namespace {

// Counts the layers reading v, directly or through layers that keep its quantization (with its
// channels unchanged): depthwise convolutions in `dw`; false when one of them is not a
// convolution (conv or dw: readers that weigh each input channel on its own).
bool convolutionReaders(const Graph& g, ValueRef v, int64_t channels, int& dw) {
  for (int r : g.consumers(v)) {
    const Layer& l = g.at(r);
    if (l.dead) continue;
    if ((l.type == LayerType::Dw || l.type == LayerType::Conv) && l.inputs[0] == v) {
      dw += l.type == LayerType::Dw;
      continue;
    }
    if (l.type == LayerType::OutputLayer || !keepsInputQuantization(l.type) || l.inputs[0] != v)
      return false;
    const Shape& s = l.outputShapes.at(0);
    if (s.size() < 2 || s[1] != channels || !convolutionReaders(g, {r, 0}, channels, dw))
      return false;
  }
  return true;
}

}  // namespace

std::vector<bool> channelReadTensors(const Graph& g) {
  std::vector<bool> read(g.layers.size(), false);
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const Layer& l = g.layers[i];
    if (l.dead || keepsInputQuantization(l.type) || l.type == LayerType::InputLayer ||
        l.outputShapes.empty())
      continue;
    const Shape& s = l.outputShapes[0];
    int dw = 0;
    read[i] = s.size() >= 2 && convolutionReaders(g, {int(i), 0}, s[1], dw) && dw > 0;
  }
  return read;
}

namespace {

// The channels of a tensor, each as its two histogram sides, its value count and its power.
struct Channels {
  std::vector<HistogramSide> pos, neg;
  std::vector<double> count, power;
  double positives = 0, total = 0;

  Channels(const ChannelStats& cs, const Range& minmax) {
    for (size_t c = 0; c < cs.hist.size(); ++c) {
      const Histogram& h = cs.hist[c];
      if (h.empty() || !cs.range[c].valid()) continue;
      const Range& r = cs.range[c];
      pos.emplace_back(h, true, std::max(std::min(r.max, minmax.max), 0.0));
      neg.emplace_back(h, false, std::max(-std::max(r.min, minmax.min), 0.0));
      const double n = pos.back().s0[0] + neg.back().s0[0] + double(h.zeros());
      count.push_back(n);
      power.push_back(n > 0 ? (pos.back().s2[0] + neg.back().s2[0]) / n : 0.0);
      positives += pos.back().s0[0];
      total += n;
    }
  }
};

// The score of one grid. The search passes `withDb` false (the dB figures are for reports) and
// `stopAt`, the best sum so far: the terms are never negative, so once the partial sum reaches
// it the candidate cannot win and the loop stops (sumRelative is then that partial sum).
ChannelRangeScore score(const Channels& ch, int bits, double lo, double hi,
                        const ChannelRangeSearch& opts, double* clippedAll = nullptr,
                        bool withDb = true, double stopAt = INFINITY) {
  const QuantInfo q = quantFromRange(lo, hi, bits);
  const double step = q.scale;
  const double top = double(q.qmax() - q.zeroPoint) * step, bottom = double(q.zeroPoint) * step;
  ChannelRangeScore s;
  double posClipped = 0, allClipped = 0, snrSum = 0;
  int counted = 0;
  s.minSnrDb = INFINITY;
  for (size_t c = 0; c < ch.count.size(); ++c) {
    double ep, cp, en, cn;
    ch.pos[c].clip(top, ep, cp);
    ch.neg[c].clip(bottom, en, cn);
    posClipped += cp;
    allClipped += cp + cn;
    if (ch.power[c] <= 0 || ch.count[c] <= 0) continue;  // all zeros: quantized exactly
    // Rounding: a value below half a step rounds to 0 (error x², the whole value: a channel
    // smaller than the step loses its signal, however coarse the grid); the others s²/12.
    double zp, zpn, zn, znn;
    ch.pos[c].below(std::min(step / 2, top), zp, zpn);
    ch.neg[c].below(std::min(step / 2, bottom), zn, znn);
    const double inside = std::max(0.0, ch.pos[c].s0[0] + ch.neg[c].s0[0] - cp - cn - zpn - znn);
    const double err =
        (zp + zn + inside * step * step / 12 + opts.clipWeight * (ep + en)) / ch.count[c];
    const double rel = err / ch.power[c];
    s.sumRelative += rel;
    if (s.sumRelative >= stopAt) return s;
    if (!withDb) continue;
    const double db = rel > 0 ? -10 * std::log10(rel) : 200.0;
    snrSum += db;
    s.minSnrDb = std::min(s.minSnrDb, db);
    ++counted;
  }
  s.meanSnrDb = counted ? snrSum / counted : 0.0;
  if (!counted) s.minSnrDb = 0;
  s.positiveClipped = ch.positives > 0 ? posClipped / ch.positives : 0.0;
  if (clippedAll) *clippedAll = ch.total > 0 ? allClipped / ch.total : 0.0;
  return s;
}

}  // namespace

ChannelRangeScore scoreChannelRange(const ChannelStats& cs, const Range& minmax, int bits,
                                    double lo, double hi, const ChannelRangeSearch& opts) {
  return score(Channels(cs, minmax), bits, lo, hi, opts);
}

RangeChoice selectChannelRange(const ChannelStats& cs, const Range& minmax, int bits,
                               const ChannelRangeSearch& opts) {
  RangeChoice c;
  c.lo = minmax.min;
  c.hi = minmax.max;
  if (cs.hist.empty() || !minmax.valid() || !std::isfinite(minmax.min) ||
      !std::isfinite(minmax.max))
    return c;
  const Channels ch(cs, minmax);
  if (ch.total <= 0) return c;
  double clipped = 0;
  const ChannelRangeScore mm = score(ch, bits, minmax.min, minmax.max, opts, &clipped);
  c.mse = c.mseMinMax = mm.sumRelative;
  c.clipped = clipped;
  for (const auto& [lo, hi] : rangeCandidates(minmax, bits, false, true)) {
    const ChannelRangeScore e = score(ch, bits, lo, hi, opts, &clipped, false, c.mse);
    if (e.positiveClipped > opts.maxPositiveClipped || !(e.sumRelative < c.mse)) continue;
    c.mse = e.sumRelative;
    c.clipped = clipped;
    c.lo = lo;
    c.hi = hi;
  }
  c.changed = c.lo != minmax.min || c.hi != minmax.max;
  return c;
}

}  // namespace kiln::quant
