#include "compiler/eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "compiler/ir/types.h"

namespace kiln::eval {

namespace {

int64_t perSample(const Array& a) {
  int64_t n = 1;
  for (size_t i = 1; i < a.shape.size(); ++i) n *= a.shape[i];
  return n;
}

void checkSame(const Array& ref, const Array& test, const char* what) {
  if (ref.shape != test.shape)
    throw Error(std::string(what) + ": the test output's shape differs from the float reference's");
  if (ref.shape.empty() || int64_t(ref.data.size()) != ref.samples() * perSample(ref))
    throw Error(std::string(what) + ": an output array's data does not match its shape");
}

// One sample's dims split around `axis`: outer positions, the axis length, inner stride.
struct AxisSplit {
  int64_t outer = 1, len = 1, inner = 1;
};
AxisSplit splitAxis(const Array& a, int axis, const char* what) {
  const int dims = int(a.shape.size()) - 1;
  const int ax = axis < 0 ? dims + axis : axis;
  if (dims < 1 || ax < 0 || ax >= dims)
    throw Error(std::string(what) + ": axis " + std::to_string(axis) + " is outside a sample's " +
                std::to_string(dims) + " dimension(s)");
  AxisSplit s;
  for (int i = 0; i < dims; ++i) {
    const int64_t d = a.shape[size_t(i) + 1];
    if (i < ax) s.outer *= d;
    if (i == ax) s.len = d;
    if (i > ax) s.inner *= d;
  }
  s.outer *= a.samples();
  return s;
}

// argmax along the split axis for every (outer, inner) position; the first maximum wins.
std::vector<int64_t> argmaxAlong(const Array& a, const AxisSplit& s) {
  std::vector<int64_t> out;
  out.reserve(size_t(s.outer * s.inner));
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t i = 0; i < s.inner; ++i) {
      const float* p = a.data.data() + o * s.len * s.inner + i;
      int64_t best = 0;
      for (int64_t k = 1; k < s.len; ++k)
        if (p[k * s.inner] > p[best * s.inner]) best = k;
      out.push_back(best);
    }
  return out;
}

std::vector<double> activate(const Array& a, const ScoresSpec& spec) {
  std::vector<double> v(a.data.begin(), a.data.end());
  if (spec.activation == Activation::sigmoid) {
    for (double& x : v) x = 1.0 / (1.0 + std::exp(-x));
  } else if (spec.activation == Activation::softmax) {
    const AxisSplit s = splitAxis(a, spec.axis, "scores (softmax)");
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t i = 0; i < s.inner; ++i) {
        double* p = v.data() + o * s.len * s.inner + i;
        double m = -std::numeric_limits<double>::infinity();
        for (int64_t k = 0; k < s.len; ++k) m = std::max(m, p[k * s.inner]);
        double sum = 0;
        for (int64_t k = 0; k < s.len; ++k) sum += (p[k * s.inner] = std::exp(p[k * s.inner] - m));
        for (int64_t k = 0; k < s.len; ++k) p[k * s.inner] /= sum;
      }
  }
  return v;
}

double f1Of(int64_t both, int64_t ref, int64_t test) {
  return ref + test == 0 ? 1.0 : 2.0 * double(both) / double(ref + test);
}

// Each sample's top-k flat positions (largest first, ties to the lower position).
std::vector<char> topKFlags(const std::vector<double>& v, int64_t samples, int64_t per, int64_t k) {
  std::vector<char> flags(v.size(), 0);
  std::vector<int64_t> idx(static_cast<size_t>(per));
  for (int64_t s = 0; s < samples; ++s) {
    std::iota(idx.begin(), idx.end(), 0);
    const double* p = v.data() + s * per;
    const int64_t kk = std::min(k, per);
    std::partial_sort(idx.begin(), idx.begin() + kk, idx.end(),
                      [&](int64_t a, int64_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
    for (int64_t i = 0; i < kk; ++i) flags[size_t(s * per + idx[size_t(i)])] = 1;
  }
  return flags;
}

struct Box {
  int64_t x0, y0, x1, y1;  // half-open
};

// 8-connected components of one H x W mask with at least minArea pixels, as boxes.
std::vector<Box> components(const std::vector<char>& mask, int64_t h, int64_t w, int64_t minArea) {
  std::vector<int> seen(mask.size(), 0);
  std::vector<Box> boxes;
  std::vector<int64_t> stack;
  for (int64_t start = 0; start < h * w; ++start) {
    if (!mask[size_t(start)] || seen[size_t(start)]) continue;
    Box b{w, h, 0, 0};
    int64_t area = 0;
    stack.assign(1, start);
    seen[size_t(start)] = 1;
    while (!stack.empty()) {
      const int64_t p = stack.back();
      stack.pop_back();
      const int64_t y = p / w, x = p % w;
      ++area;
      b = {std::min(b.x0, x), std::min(b.y0, y), std::max(b.x1, x + 1), std::max(b.y1, y + 1)};
      for (int64_t dy = -1; dy <= 1; ++dy)
        for (int64_t dx = -1; dx <= 1; ++dx) {
          const int64_t yy = y + dy, xx = x + dx;
          if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
          const int64_t q = yy * w + xx;
          if (mask[size_t(q)] && !seen[size_t(q)]) {
            seen[size_t(q)] = 1;
            stack.push_back(q);
          }
        }
    }
    if (area >= minArea) boxes.push_back(b);
  }
  return boxes;
}

double boxIou(const Box& a, const Box& b) {
  const int64_t iw = std::max<int64_t>(0, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
  const int64_t ih = std::max<int64_t>(0, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
  const double inter = double(iw * ih);
  const double uni = double((a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0)) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

// One-to-one matches of boxes with IoU >= 0.5, best pairs first (ties by index: deterministic).
int64_t matchBoxes(const std::vector<Box>& ref, const std::vector<Box>& test) {
  struct Pair {
    double iou;
    size_t r, t;
  };
  std::vector<Pair> pairs;
  for (size_t r = 0; r < ref.size(); ++r)
    for (size_t t = 0; t < test.size(); ++t) {
      const double iou = boxIou(ref[r], test[t]);
      if (iou >= 0.5) pairs.push_back({iou, r, t});
    }
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const Pair& a, const Pair& b) { return a.iou > b.iou; });
  std::vector<char> usedR(ref.size(), 0), usedT(test.size(), 0);
  int64_t n = 0;
  for (const Pair& p : pairs) {
    if (usedR[p.r] || usedT[p.t]) continue;
    usedR[p.r] = usedT[p.t] = 1;
    ++n;
  }
  return n;
}

}  // namespace

ClassesResult evalClasses(const Array& ref, const Array& test, int axis,
                          const std::vector<int64_t>* labels) {
  checkSame(ref, test, "classes");
  const AxisSplit s = splitAxis(ref, axis, "classes");
  const auto r = argmaxAlong(ref, s), t = argmaxAlong(test, s);
  ClassesResult res;
  res.decisions = int64_t(r.size());
  int64_t agree = 0;
  for (size_t i = 0; i < r.size(); ++i) agree += r[i] == t[i];
  res.agreement = r.empty() ? 1.0 : double(agree) / double(r.size());
  if (labels) {
    if (labels->size() != r.size())
      throw Error("classes: " + std::to_string(labels->size()) + " labels for " +
                  std::to_string(r.size()) + " decisions (one label per sample and position)");
    int64_t okT = 0, okR = 0;
    for (size_t i = 0; i < r.size(); ++i) {
      okT += t[i] == (*labels)[i];
      okR += r[i] == (*labels)[i];
    }
    res.accuracy = r.empty() ? 1.0 : double(okT) / double(r.size());
    res.refAccuracy = r.empty() ? 1.0 : double(okR) / double(r.size());
  }
  return res;
}

Activation activationFromName(const std::string& name) {
  if (name == "none" || name.empty()) return Activation::none;
  if (name == "sigmoid") return Activation::sigmoid;
  if (name == "softmax") return Activation::softmax;
  throw Error("activation '" + name + "': expected none, sigmoid or softmax");
}

std::vector<char> positives(const Array& ref, const ScoresSpec& spec) {
  const auto v = activate(ref, spec);
  std::vector<char> flags(v.size());
  for (size_t i = 0; i < v.size(); ++i) flags[i] = v[i] > spec.threshold;
  return flags;
}

ScoresResult evalScores(const Array& ref, const Array& test, const ScoresSpec& spec) {
  checkSame(ref, test, "scores");
  const auto pr = positives(ref, spec), pt = positives(test, spec);
  ScoresResult res;
  for (size_t i = 0; i < pr.size(); ++i) {
    res.refPositives += pr[i];
    res.testPositives += pt[i];
    res.both += pr[i] && pt[i];
  }
  res.f1 = f1Of(res.both, res.refPositives, res.testPositives);
  if (spec.topK > 0) {
    const int64_t per = perSample(ref);
    const auto kr = topKFlags(activate(ref, spec), ref.samples(), per, spec.topK);
    const auto kt = topKFlags(activate(test, spec), ref.samples(), per, spec.topK);
    int64_t both = 0, nr = 0, nt = 0;
    for (size_t i = 0; i < kr.size(); ++i) {
      nr += kr[i];
      nt += kt[i];
      both += kr[i] && kt[i];
    }
    res.topKF1 = f1Of(both, nr, nt);
  }
  return res;
}

MapResult evalMap(const Array& ref, const Array& test, const MapSpec& spec) {
  checkSame(ref, test, "map");
  // Trailing dims of 1 are channels of an NHWC map ([N, H, W, 1]): the map is H x W.
  std::vector<int64_t> dims = ref.shape;
  while (dims.size() > 3 && dims.back() == 1) dims.pop_back();
  if (dims.size() < 3) throw Error("map: an output needs [N, ..., H, W] or [N, H, W, 1]");
  const int64_t h = dims[dims.size() - 2], w = dims.back();
  const int64_t maps = int64_t(ref.data.size()) / (h * w);
  MapResult res;
  int64_t inter = 0, uni = 0;
  std::vector<char> mr(static_cast<size_t>(h * w)), mt(static_cast<size_t>(h * w));
  for (int64_t m = 0; m < maps; ++m) {
    for (int64_t i = 0; i < h * w; ++i) {
      mr[size_t(i)] = ref.data[size_t(m * h * w + i)] > spec.threshold;
      mt[size_t(i)] = test.data[size_t(m * h * w + i)] > spec.threshold;
      inter += mr[size_t(i)] && mt[size_t(i)];
      uni += mr[size_t(i)] || mt[size_t(i)];
    }
    const auto br = components(mr, h, w, spec.minArea), bt = components(mt, h, w, spec.minArea);
    res.refBoxes += int64_t(br.size());
    res.testBoxes += int64_t(bt.size());
    res.matched += matchBoxes(br, bt);
  }
  res.intersection = inter;
  res.unionArea = uni;
  res.iou = uni == 0 ? 1.0 : double(inter) / double(uni);
  res.boxF1 = f1Of(res.matched, res.refBoxes, res.testBoxes);
  return res;
}

RegressResult evalRegress(const Array& ref, const Array& test, const std::vector<char>& mask) {
  checkSame(ref, test, "regress");
  const size_t n = ref.data.size();
  if (!mask.empty() && (n % mask.size() != 0))
    throw Error("regress: " + std::to_string(n) + " values do not split into " +
                std::to_string(mask.size()) + " groups of the scores output it follows");
  const size_t group = mask.empty() ? 1 : n / mask.size();
  std::vector<double> err;
  for (size_t i = 0; i < n; ++i)
    if (mask.empty() || mask[i / group])
      err.push_back(std::fabs(double(ref.data[i]) - test.data[i]));
  RegressResult res;
  res.compared = int64_t(err.size());
  if (err.empty()) return res;
  res.maxAbs = *std::max_element(err.begin(), err.end());
  std::sort(err.begin(), err.end());
  const size_t m = err.size() / 2;
  res.medianAbs = err.size() % 2 ? err[m] : (err[m - 1] + err[m]) / 2;
  return res;
}

std::vector<std::vector<int64_t>> ctcGreedy(const Array& a, int64_t blank) {
  if (a.shape.size() != 3) throw Error("sequence: an output needs [N, T, C] (classes last)");
  const AxisSplit s = splitAxis(a, -1, "sequence");
  const auto best = argmaxAlong(a, s);
  const int64_t steps = a.shape[1];
  std::vector<std::vector<int64_t>> out(size_t(a.samples()));
  for (int64_t n = 0; n < a.samples(); ++n) {
    int64_t prev = -1;
    for (int64_t t = 0; t < steps; ++t) {
      const int64_t c = best[size_t(n * steps + t)];
      if (c != prev && c != blank) out[size_t(n)].push_back(c);
      prev = c;
    }
  }
  return out;
}

int64_t editDistance(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::vector<int64_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    int64_t diag = row[0];
    row[0] = int64_t(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int64_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

SequenceResult compareSequences(const std::vector<std::vector<int64_t>>& ref,
                                const std::vector<std::vector<int64_t>>& test) {
  if (ref.size() != test.size())
    throw Error("sequence: " + std::to_string(test.size()) + " sequences against " +
                std::to_string(ref.size()) + " reference ones");
  SequenceResult res;
  res.sequences = int64_t(ref.size());
  int64_t exact = 0, edits = 0, length = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    exact += ref[i] == test[i];
    edits += editDistance(ref[i], test[i]);
    length += int64_t(ref[i].size());
  }
  res.exactMatch = ref.empty() ? 1.0 : double(exact) / double(ref.size());
  // Edits per reference character; with empty references every inserted character counts as one.
  res.cer = double(edits) / double(std::max<int64_t>(length, 1));
  return res;
}

SequenceResult evalSequence(const Array& ref, const Array& test, int64_t blank) {
  checkSame(ref, test, "sequence");
  return compareSequences(ctcGreedy(ref, blank), ctcGreedy(test, blank));
}

double snrDb(const Array& ref, const Array& test) {
  checkSame(ref, test, "snr");
  double sig = 0, err = 0;
  for (size_t i = 0; i < ref.data.size(); ++i) {
    sig += double(ref.data[i]) * ref.data[i];
    const double d = double(ref.data[i]) - test.data[i];
    err += d * d;
  }
  if (err == 0) return std::numeric_limits<double>::infinity();
  if (sig == 0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(sig / err);
}

}  // namespace kiln::eval
