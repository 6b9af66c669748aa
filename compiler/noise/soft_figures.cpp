#include "compiler/noise/soft_figures.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kiln::noise {

namespace {

// The decision threshold in the domain the values are compared in (NaN: not smoothed). Sigmoid
// scores are compared as logits, where a quantized head's error is the same size at every score.
double rawThreshold(const eval::OutputEval* e) {
  if (!e) return std::numeric_limits<double>::quiet_NaN();
  if (e->kind == eval::Kind::map) return e->map.threshold;
  if (e->kind != eval::Kind::scores) return std::numeric_limits<double>::quiet_NaN();
  const double thr = e->scores.threshold;
  switch (e->scores.activation) {
    case eval::Activation::none:
      return thr;
    case eval::Activation::sigmoid: {
      const double p = std::clamp(thr, 1e-9, 1 - 1e-9);
      return std::log(p / (1 - p));
    }
    case eval::Activation::softmax:
      break;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

double softDecision(double z) {
  const double u = std::clamp(z / 4 + 0.5, 0.0, 1.0);
  return u * u * (3 - 2 * u);
}

std::vector<const eval::OutputEval*> evalEntries(const eval::EvalSpec& spec,
                                                 const std::vector<std::string>& names,
                                                 const std::vector<std::string>& kilnNames) {
  std::vector<const eval::OutputEval*> e(names.size(), nullptr);
  for (const eval::OutputEval& o : spec.outputs)
    for (size_t k = 0; k < names.size(); ++k)
      if (o.output == names[k] || (k < kilnNames.size() && o.output == kilnNames[k])) e[k] = &o;
  return e;
}

SoftScaleMeter::SoftScaleMeter(const eval::EvalSpec& spec, const std::vector<std::string>& names,
                               const std::vector<std::string>& kilnNames)
    : e_(evalEntries(spec, names, kilnNames)), err_(names.size()) {}

void SoftScaleMeter::add(const std::vector<const FloatBuffer*>& ref,
                         const std::vector<const FloatBuffer*>& test) {
  for (size_t k = 0; k < e_.size(); ++k) {
    const double thr = rawThreshold(e_[k]);
    if (std::isnan(thr)) continue;
    const auto& r = ref.at(k)->data;
    const auto& t = test.at(k)->data;
    for (size_t i = 0; i < r.size(); ++i) {
      if (r[i] <= thr && t[i] <= thr) continue;  // a decision neither side takes
      err_[k].push_back(std::fabs(double(t[i]) - r[i]));
    }
  }
}

SoftScales SoftScaleMeter::scales() const {
  SoftScales s;
  for (size_t k = 0; k < e_.size(); ++k) {
    const double thr = rawThreshold(e_[k]);
    if (std::isnan(thr)) {
      s.tau.push_back(0);
      continue;
    }
    // The median absolute error (x 1.4826: the standard deviation of normal errors), not the
    // RMS: where an output masks its values (peaks kept, the rest 0) a flipped decision's error
    // is the whole value and would swamp the value noise. A build without error at its decisions
    // still gets a scale (a tiny one: soft = counted).
    std::vector<double> e = err_[k];
    double med = 0;
    if (!e.empty()) {
      std::nth_element(e.begin(), e.begin() + long(e.size() / 2), e.end());
      med = e[e.size() / 2];
    }
    s.tau.push_back(std::max(1.4826 * med, 1e-6 * (1 + std::fabs(thr))));
  }
  return s;
}

SoftTally::SoftTally(const eval::EvalSpec& spec, const std::vector<std::string>& names,
                     const std::vector<std::string>& kilnNames, SoftScales s)
    : e_(evalEntries(spec, names, kilnNames)),
      s_(std::move(s)),
      yp_(names.size(), 0.0),
      y_(names.size(), 0.0),
      p_(names.size(), 0.0) {
  s_.tau.resize(names.size(), 0.0);
}

void SoftTally::add(const std::vector<const FloatBuffer*>& ref,
                    const std::vector<const FloatBuffer*>& test) {
  for (size_t k = 0; k < e_.size(); ++k) {
    const double thr = rawThreshold(e_[k]), tau = s_.tau[k];
    if (std::isnan(thr) || tau <= 0) continue;
    const auto& r = ref.at(k)->data;
    const auto& t = test.at(k)->data;
    for (size_t i = 0; i < r.size(); ++i) {
      const double p = softDecision((double(t[i]) - thr) / tau);
      const double y = r[i] > thr ? 1.0 : 0.0;
      if (p == 0 && y == 0) continue;
      yp_[k] += y * p;
      y_[k] += y;
      p_[k] += p;
    }
  }
}

double SoftTally::f1(size_t k) const {
  if (k >= e_.size() || std::isnan(rawThreshold(e_[k])) || s_.tau[k] <= 0)
    return std::numeric_limits<double>::quiet_NaN();
  return y_[k] + p_[k] > 0 ? 2 * yp_[k] / (y_[k] + p_[k]) : 1.0;
}

}  // namespace kiln::noise
