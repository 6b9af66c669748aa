// eval::Tally (one sample at a time, for the mixed-precision search's candidates) against the
// whole-set metrics of kiln eval on the same random outputs: every figure must agree.
#include "compiler/eval/tally.h"

#include <gtest/gtest.h>

#include <random>

#include "compiler/ir/types.h"

namespace kiln::eval {
namespace {

struct Out {
  std::vector<int64_t> shape;  // one sample's, batch 1
  Array ref, test;             // stacked [N, ...]
};

// N samples of one output: float values and a noisy copy (some decisions flip).
Out make(std::vector<int64_t> shape, int n, std::mt19937& rng, double noise, double scale = 2) {
  Out o;
  o.shape = shape;
  int64_t per = 1;
  for (size_t i = 1; i < shape.size(); ++i) per *= shape[i];
  o.ref.shape = shape;
  o.ref.shape[0] = n;
  o.test.shape = o.ref.shape;
  std::normal_distribution<double> d(0, 1);
  for (int64_t i = 0; i < n * per; ++i) {
    const float v = float(scale * d(rng));
    o.ref.data.push_back(v);
    o.test.data.push_back(float(v + noise * d(rng)));
  }
  return o;
}

FloatBuffer sample(const Out& o, int s) {
  FloatBuffer b;
  b.shape = o.shape;
  const size_t per = o.ref.data.size() / size_t(o.ref.shape[0]);
  b.data.assign(o.ref.data.begin() + long(s * per), o.ref.data.begin() + long((s + 1) * per));
  return b;
}
FloatBuffer testSample(const Out& o, int s) {
  FloatBuffer b;
  b.shape = o.shape;
  const size_t per = o.test.data.size() / size_t(o.test.shape[0]);
  b.data.assign(o.test.data.begin() + long(s * per), o.test.data.begin() + long((s + 1) * per));
  return b;
}

double fig(const TargetMetrics& t, size_t k, const std::string& name) {
  const double* v = t.outputs.at(k).get(name);
  EXPECT_NE(v, nullptr) << t.outputs.at(k).output << " " << name;
  return v ? *v : -1;
}

TEST(Tally, EveryFigureEqualsTheWholeSetMetrics) {
  std::mt19937 rng(7);
  const int n = 5;
  std::vector<Out> outs;
  outs.push_back(make({1, 40, 1}, n, rng, 0.8));      // scores, sigmoid, top_k 3
  outs.push_back(make({1, 40, 4}, n, rng, 0.3));      // regress where scores
  outs.push_back(make({1, 1, 24, 20}, n, rng, 0.5));  // map
  outs.push_back(make({1, 6, 10}, n, rng, 0.6));      // classes over the last axis
  outs.push_back(make({1, 12, 5}, n, rng, 0.9));      // sequence [N, T, C]
  EvalSpec spec;
  const std::vector<std::string> names = {"s", "r", "m", "c", "q"};
  OutputEval s;
  s.output = "s";
  s.kind = Kind::scores;
  s.scores.activation = Activation::sigmoid;
  s.scores.threshold = 0.6;
  s.scores.topK = 3;
  OutputEval r;
  r.output = "r";
  r.kind = Kind::regress;
  r.where = "s";
  OutputEval m;
  m.output = "m";
  m.kind = Kind::map;
  m.map.threshold = 0.8;
  m.map.minArea = 2;
  OutputEval c;
  c.output = "c";
  c.kind = Kind::classes;
  OutputEval q;
  q.output = "q";
  q.kind = Kind::sequence;
  spec.outputs = {s, r, m, c, q};

  Tally t(spec, names);
  for (int i = 0; i < n; ++i) {
    std::vector<FloatBuffer> rb, tb;
    for (const Out& o : outs) {
      rb.push_back(sample(o, i));
      tb.push_back(testSample(o, i));
    }
    std::vector<const FloatBuffer*> rp, tp;
    for (size_t k = 0; k < outs.size(); ++k) {
      rp.push_back(&rb[k]);
      tp.push_back(&tb[k]);
    }
    t.add(rp, tp);
  }
  const TargetMetrics f = t.figures("quantized");
  ASSERT_EQ(f.outputs.size(), 5u);
  EXPECT_EQ(t.samples(), n);

  const ScoresResult sr = evalScores(outs[0].ref, outs[0].test, spec.outputs[0].scores);
  ASSERT_GT(sr.refPositives, 0);
  ASSERT_LT(sr.f1, 1.0);  // the noise flips some decisions: the test is not trivial
  EXPECT_DOUBLE_EQ(fig(f, 0, "f1"), sr.f1);
  EXPECT_DOUBLE_EQ(fig(f, 0, "top_k_f1"), *sr.topKF1);
  EXPECT_EQ(fig(f, 0, "positives_float"), double(sr.refPositives));
  EXPECT_EQ(fig(f, 0, "positives"), double(sr.testPositives));
  EXPECT_DOUBLE_EQ(fig(f, 0, "snr_db"), snrDb(outs[0].ref, outs[0].test));

  const RegressResult rr =
      evalRegress(outs[1].ref, outs[1].test, positives(outs[0].ref, spec.outputs[0].scores));
  ASSERT_GT(rr.compared, 0);
  EXPECT_DOUBLE_EQ(fig(f, 1, "max_abs"), rr.maxAbs);
  EXPECT_DOUBLE_EQ(fig(f, 1, "median_abs"), rr.medianAbs);
  EXPECT_EQ(fig(f, 1, "compared"), double(rr.compared));

  const MapResult mr = evalMap(outs[2].ref, outs[2].test, spec.outputs[2].map);
  ASSERT_GT(mr.refBoxes, 0);
  EXPECT_DOUBLE_EQ(fig(f, 2, "iou"), mr.iou);
  EXPECT_DOUBLE_EQ(fig(f, 2, "f1"), mr.boxF1);
  EXPECT_EQ(fig(f, 2, "boxes"), double(mr.testBoxes));

  const ClassesResult cr = evalClasses(outs[3].ref, outs[3].test, -1);
  ASSERT_LT(cr.agreement, 1.0);
  EXPECT_DOUBLE_EQ(fig(f, 3, "agreement"), cr.agreement);
  EXPECT_DOUBLE_EQ(fig(f, 3, "accuracy_drop"), 1.0 - cr.agreement);
  EXPECT_EQ(fig(f, 3, "decisions"), double(cr.decisions));

  const SequenceResult qr = evalSequence(outs[4].ref, outs[4].test, 0);
  ASSERT_GT(qr.cer, 0.0);
  EXPECT_DOUBLE_EQ(fig(f, 4, "exact_match"), qr.exactMatch);
  EXPECT_DOUBLE_EQ(fig(f, 4, "cer"), qr.cer);
}

TEST(Tally, AnEntryThatNamesNoOutputIsAnErrorWithItsPlace) {
  EvalSpec spec;
  OutputEval e;
  e.output = "nope";
  e.kind = Kind::scores;
  e.place = "net.yaml:9:5";
  spec.outputs = {e};
  try {
    Tally t(spec, {"a", "b"});
    FAIL() << "no error";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("net.yaml:9:5: eval output 'nope'"), std::string::npos)
        << err.what();
  }
}

}  // namespace
}  // namespace kiln::eval
