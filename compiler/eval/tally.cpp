#include "compiler/eval/tally.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/npy.h"
#include "common/strings.h"

namespace kiln::eval {

namespace {

// One sample as an Array [1, ...] (the shape evaluate() stacks samples into).
Array one(const FloatBuffer& b) {
  Array a;
  a.shape = b.shape;
  if (a.shape.empty() || a.shape[0] != 1) a.shape.insert(a.shape.begin(), 1);
  a.data = b.data;
  return a;
}

double f1Of(int64_t both, int64_t ref, int64_t test) {
  return ref + test == 0 ? 1.0 : 2.0 * double(both) / double(ref + test);
}

// The top_k positions of one sample, as evalScores takes them (its figure on one sample).
void addTopK(const Array& r, const Array& t, const ScoresSpec& spec, int64_t& nr, int64_t& nt,
             int64_t& both) {
  const ScoresResult s = evalScores(r, t, spec);
  const int64_t k = std::min<int64_t>(spec.topK, int64_t(r.data.size()));
  nr += k;
  nt += k;
  both += int64_t(std::llround(*s.topKF1 * double(k)));  // f1 = both / k with k positives each
}

}  // namespace

Tally::Tally(const EvalSpec& spec, const std::vector<std::string>& names,
             const std::vector<std::string>& kilnNames)
    : names_(names), acc_(names.size()) {
  for (const OutputEval& e : spec.outputs) {
    bool found = false;
    for (size_t k = 0; k < names.size(); ++k)
      if (e.output == names[k] || (k < kilnNames.size() && e.output == kilnNames[k])) {
        acc_[k].e = &e;
        found = true;
      }
    if (!found)
      throw Error(e.place + ": eval output '" + e.output + "' is not an output of the network" +
                  " (outputs: " + join(names, ", ") + ")");
  }
  for (Acc& a : acc_) {
    if (!a.e || a.e->kind != Kind::regress || a.e->where.empty()) continue;
    a.where = names.size();
    for (size_t k = 0; k < names.size(); ++k)
      if (names[k] == a.e->where || (k < kilnNames.size() && kilnNames[k] == a.e->where))
        a.where = k;
    if (a.where == names.size())
      throw Error(a.e->place + ": eval output '" + a.e->output + "': where: '" + a.e->where +
                  "' is not an output of the network");
  }
  if (!spec.labels.empty()) {
    for (float v : npy::load(spec.labels).toFloat()) labels_.push_back(int64_t(v));
  }
}

void Tally::add(const std::vector<const FloatBuffer*>& ref,
                const std::vector<const FloatBuffer*>& test) {
  std::vector<Array> r, t;
  for (size_t k = 0; k < acc_.size(); ++k) {
    r.push_back(one(*ref.at(k)));
    t.push_back(one(*test.at(k)));
  }
  int64_t labelsUsed = 0;
  for (size_t k = 0; k < acc_.size(); ++k) {
    Acc& a = acc_[k];
    for (size_t i = 0; i < r[k].data.size(); ++i) {
      a.signal += double(r[k].data[i]) * r[k].data[i];
      const double d = double(r[k].data[i]) - t[k].data[i];
      a.noise += d * d;
    }
    if (!a.e) continue;
    try {
      switch (a.e->kind) {
        case Kind::classes: {
          // Labels: this sample's share, in order (as evaluate() pairs them with decisions).
          const ClassesResult plain = evalClasses(r[k], t[k], a.e->axis);
          std::vector<int64_t> mine;
          if (!labels_.empty()) {
            const size_t from = size_t(labelAt_), n = size_t(plain.decisions);
            if (from + n > labels_.size())
              throw Error(
                  "classes: fewer labels than decisions (one label per sample and position)");
            mine.assign(labels_.begin() + long(from), labels_.begin() + long(from + n));
            labelsUsed = std::max<int64_t>(labelsUsed, int64_t(n));
          }
          const ClassesResult c =
              evalClasses(r[k], t[k], a.e->axis, mine.empty() ? nullptr : &mine);
          a.decisions += c.decisions;
          a.agree += std::llround(c.agreement * double(c.decisions));
          if (c.accuracy) {
            a.okTest += std::llround(*c.accuracy * double(c.decisions));
            a.okRef += std::llround(*c.refAccuracy * double(c.decisions));
          }
          break;
        }
        case Kind::scores: {
          const ScoresResult s = evalScores(r[k], t[k], a.e->scores);
          a.refPos += s.refPositives;
          a.testPos += s.testPositives;
          a.both += s.both;
          if (a.e->scores.topK > 0)
            addTopK(r[k], t[k], a.e->scores, a.topRef, a.topTest, a.topBoth);
          break;
        }
        case Kind::map: {
          const MapResult m = evalMap(r[k], t[k], a.e->map);
          a.inter += m.intersection;
          a.uni += m.unionArea;
          a.refBoxes += m.refBoxes;
          a.testBoxes += m.testBoxes;
          a.matched += m.matched;
          break;
        }
        case Kind::regress: {
          std::vector<char> mask;
          if (!a.e->where.empty()) {
            const OutputEval* w = acc_[a.where].e;
            mask = positives(r[a.where], w ? w->scores : ScoresSpec{});
          }
          const size_t n = r[k].data.size();
          if (!mask.empty() && n % mask.size() != 0)
            (void)evalRegress(r[k], t[k], mask);  // throws the message evaluate() gives
          const size_t group = mask.empty() ? 1 : n / mask.size();
          for (size_t i = 0; i < n; ++i)
            if (mask.empty() || mask[i / group])
              a.err.push_back(std::fabs(double(r[k].data[i]) - t[k].data[i]));
          break;
        }
        case Kind::sequence: {
          const auto sr = ctcGreedy(r[k], a.e->blank), st = ctcGreedy(t[k], a.e->blank);
          for (size_t i = 0; i < sr.size(); ++i) {
            ++a.sequences;
            a.exact += sr[i] == st[i];
            a.edits += editDistance(sr[i], st[i]);
            a.length += int64_t(sr[i].size());
          }
          break;
        }
      }
    } catch (const Error& err) {
      throw Error(a.e->place + ": eval output '" + names_[k] + "': " + err.what());
    }
  }
  labelAt_ += labelsUsed;
  ++samples_;
}

TargetMetrics Tally::figures(const std::string& target) const {
  TargetMetrics tm{target, {}};
  for (size_t k = 0; k < acc_.size(); ++k) {
    const Acc& a = acc_[k];
    OutputMetrics m{names_[k], a.e ? kindName(a.e->kind) : "", {}};
    auto add = [&m](const char* name, double v) { m.figures.emplace_back(name, v); };
    auto ratio = [](int64_t n, int64_t d) { return d == 0 ? 1.0 : double(n) / double(d); };
    if (a.e) switch (a.e->kind) {
        case Kind::classes:
          add("agreement", ratio(a.agree, a.decisions));
          if (!labels_.empty()) {
            add("accuracy", ratio(a.okTest, a.decisions));
            add("float_accuracy", ratio(a.okRef, a.decisions));
            add("accuracy_drop", ratio(a.okRef, a.decisions) - ratio(a.okTest, a.decisions));
          } else {
            add("accuracy_drop", 1.0 - ratio(a.agree, a.decisions));
          }
          add("decisions", double(a.decisions));
          break;
        case Kind::scores:
          add("f1", f1Of(a.both, a.refPos, a.testPos));
          if (a.e->scores.topK > 0) add("top_k_f1", f1Of(a.topBoth, a.topRef, a.topTest));
          add("positives_float", double(a.refPos));
          add("positives", double(a.testPos));
          break;
        case Kind::map:
          add("iou", a.uni == 0 ? 1.0 : double(a.inter) / double(a.uni));
          add("f1", f1Of(a.matched, a.refBoxes, a.testBoxes));
          add("boxes_float", double(a.refBoxes));
          add("boxes", double(a.testBoxes));
          break;
        case Kind::regress: {
          std::vector<double> err = a.err;
          double maxAbs = 0, median = 0;
          if (!err.empty()) {
            maxAbs = *std::max_element(err.begin(), err.end());
            std::sort(err.begin(), err.end());
            const size_t h = err.size() / 2;
            median = err.size() % 2 ? err[h] : (err[h - 1] + err[h]) / 2;
          }
          add("max_abs", maxAbs);
          add("median_abs", median);
          add("compared", double(err.size()));
          break;
        }
        case Kind::sequence:
          add("exact_match", ratio(a.exact, a.sequences));
          add("cer", double(a.edits) / double(std::max<int64_t>(a.length, 1)));
          break;
      }
    double snr;
    if (a.noise == 0)
      snr = std::numeric_limits<double>::infinity();
    else if (a.signal == 0)
      snr = -std::numeric_limits<double>::infinity();
    else
      snr = 10.0 * std::log10(a.signal / a.noise);
    add("snr_db", snr);
    tm.outputs.push_back(m);
  }
  return tm;
}

}  // namespace kiln::eval
