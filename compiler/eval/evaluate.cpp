#include "compiler/eval/evaluate.h"

#include <cmath>
#include <limits>
#include <map>
#include <memory>

#include <fmt/core.h>

#include "calib/calib_set.h"
#include "common/npy.h"
#include "common/strings.h"
#include "compiler/emulator/float_executor.h"
#include "compiler/emulator/quant_executor.h"
#include "compiler/lower/lower_program.h"
#include "runtime/api/runtime.h"

namespace kiln::eval {

namespace {

using Json = nlohmann::ordered_json;
using Outputs = std::vector<Array>;  // one per network output, [N, ...]

// Runs every sample through `run` and stacks each output into [N, ...].
template <class Run>
Outputs runAll(const std::vector<std::vector<FloatBuffer>>& samples, Run run,
               const std::function<void(int, int)>& progress) {
  Outputs out;
  for (size_t s = 0; s < samples.size(); ++s) {
    const std::vector<FloatBuffer> o = run(samples[s]);
    if (out.empty()) out.resize(o.size());
    for (size_t k = 0; k < o.size(); ++k) {
      if (s == 0) {
        out[k].shape = o[k].shape;
        if (out[k].shape.empty() || out[k].shape[0] != 1)
          out[k].shape.insert(out[k].shape.begin(), 1);
      }
      out[k].data.insert(out[k].data.end(), o[k].data.begin(), o[k].data.end());
    }
    if (progress) progress(int(s + 1), int(samples.size()));
  }
  for (Array& a : out) a.shape[0] = int64_t(samples.size());
  return out;
}

std::vector<int64_t> loadLabels(const std::string& path) {
  const npy::Array a = npy::load(path);
  std::vector<int64_t> out;
  for (float v : a.toFloat()) {
    if (v != std::floor(v) || v < 0)
      throw Error(path + ": labels must be class indices (non-negative integers), found " +
                  shortNumber(v));
    out.push_back(int64_t(v));
  }
  return out;
}

void add(OutputMetrics& m, const std::string& name, double v) {
  m.figures.emplace_back(name, v);
}

// Every figure of output `k` of `test` against float (`ref`).
OutputMetrics measure(const std::string& name, const OutputEval* e, const Array& ref,
                      const Array& test, const Outputs& refAll,
                      const std::vector<std::string>& names, const std::vector<OutputEval>& evals,
                      const std::vector<int64_t>* labels) {
  OutputMetrics m;
  m.output = name;
  if (e) {
    m.kind = kindName(e->kind);
    try {
      switch (e->kind) {
        case Kind::classes: {
          const ClassesResult r = evalClasses(ref, test, e->axis, labels);
          add(m, "agreement", r.agreement);
          if (r.accuracy) {
            add(m, "accuracy", *r.accuracy);
            add(m, "float_accuracy", *r.refAccuracy);
            add(m, "accuracy_drop", *r.refAccuracy - *r.accuracy);
          } else {
            add(m, "accuracy_drop", 1.0 - r.agreement);
          }
          add(m, "decisions", double(r.decisions));
          break;
        }
        case Kind::scores: {
          const ScoresResult r = evalScores(ref, test, e->scores);
          add(m, "f1", r.f1);
          if (r.topKF1) add(m, "top_k_f1", *r.topKF1);
          add(m, "positives_float", double(r.refPositives));
          add(m, "positives", double(r.testPositives));
          break;
        }
        case Kind::map: {
          const MapResult r = evalMap(ref, test, e->map);
          add(m, "iou", r.iou);
          add(m, "f1", r.boxF1);
          add(m, "boxes_float", double(r.refBoxes));
          add(m, "boxes", double(r.testBoxes));
          break;
        }
        case Kind::regress: {
          std::vector<char> mask;
          if (!e->where.empty()) {
            const OutputEval* w = nullptr;
            size_t wk = names.size();
            for (size_t k = 0; k < names.size(); ++k)
              if (names[k] == e->where) wk = k;
            for (const OutputEval& o : evals)
              if (o.output == e->where) w = &o;
            ScoresSpec spec = w ? w->scores : ScoresSpec{};
            mask = positives(refAll[wk], spec);
          }
          const RegressResult r = evalRegress(ref, test, mask);
          add(m, "max_abs", r.maxAbs);
          add(m, "median_abs", r.medianAbs);
          add(m, "compared", double(r.compared));
          break;
        }
        case Kind::sequence: {
          const SequenceResult r = evalSequence(ref, test, e->blank);
          add(m, "exact_match", r.exactMatch);
          add(m, "cer", r.cer);
          break;
        }
      }
    } catch (const Error& err) {
      throw Error(e->place + ": eval output '" + name + "': " + err.what());
    }
  }
  add(m, "snr_db", snrDb(ref, test));
  return m;
}

std::string fmtFigure(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == std::floor(v) && std::fabs(v) < 1e9) return fmt::format("{}", int64_t(v));
  return fmt::format("{:.4g}", v);
}

}  // namespace

const std::vector<std::string>& targetNames() {
  static const std::vector<std::string> names = {"native", "quantized", "kef"};
  return names;
}

const double* OutputMetrics::get(const std::string& name) const {
  for (const auto& f : figures)
    if (f.first == name) return &f.second;
  return nullptr;
}

bool EvalResult::passed() const {
  for (const GateResult& g : gates)
    if (!g.passed) return false;
  return true;
}

std::vector<GateResult> checkGates(const std::vector<Gate>& gates,
                                   const std::vector<TargetMetrics>& targets) {
  std::vector<GateResult> out;
  for (const Gate& g : gates) {
    bool any = false;
    for (const TargetMetrics& t : targets) {
      if (t.target == "native") continue;  // float against itself
      for (const OutputMetrics& o : t.outputs) {
        if (!g.output.empty() && g.output != o.output) continue;
        const double* v = o.get(g.metric);
        if (!v) continue;
        any = true;
        GateResult r{g, t.target, o.output, *v, false, ""};
        r.passed = g.bound == Bound::min ? *v >= g.value : *v <= g.value;
        r.message = fmt::format("{} {}: output '{}' on {} has {} {}{}", g.key, shortNumber(g.value),
                                o.output, t.target, g.metric, fmtFigure(*v),
                                g.place.empty() ? "" : " (" + g.place + ")");
        out.push_back(r);
      }
    }
    if (!any) {
      GateResult r{g, "", g.output, 0, false, ""};
      r.message = fmt::format(
          "{} {}: no {} output measures {}{}", g.key, shortNumber(g.value),
          g.output.empty() ? "evaluated" : "'" + g.output + "'", g.metric,
          g.place.empty() ? ""
                          : " (" + g.place + "); declare the output's kind under eval.outputs");
      out.push_back(r);
    }
  }
  return out;
}

EvalResult evaluate(const Graph& g, const EvalSpec& spec, const EvalOptions& o) {
  EvalResult res;
  res.network = g.name;
  res.data = spec.data;
  const auto inIds = g.inputLayers();
  const auto outIds = g.outputLayers();
  std::vector<calib::InputSpec> specs;
  for (int id : inIds)
    specs.push_back({g.at(id).attrString("onnx_name"), g.at(id).attrInts("user_shape")});
  calib::CalibSet set;
  try {
    set = calib::loadCalibSet(spec.data, specs, size_t(std::max<int64_t>(spec.size, 0)));
  } catch (const calib::CalibError& e) {
    throw Error(std::string("eval data: ") + e.what());
  }
  std::vector<std::vector<FloatBuffer>> samples;
  for (const auto& s : set.samples) {
    std::vector<FloatBuffer> bufs;
    for (size_t k = 0; k < specs.size(); ++k) bufs.push_back({specs[k].shape, s[k]});
    samples.push_back(std::move(bufs));
  }
  res.samples = int64_t(samples.size());
  if (samples.empty()) throw Error(spec.data + ": the evaluation set has no samples");

  // Output names: the ONNX name, or the Kiln layer name, matches a config entry.
  std::vector<std::string> names;
  for (int id : outIds) names.push_back(g.at(id).attrString("onnx_name"));
  std::vector<const OutputEval*> evalOf(outIds.size(), nullptr);
  for (const OutputEval& e : spec.outputs) {
    bool found = false;
    for (size_t k = 0; k < outIds.size(); ++k)
      if (e.output == names[k] || e.output == g.at(outIds[k]).name) {
        evalOf[k] = &e;
        found = true;
      }
    if (!found)
      throw Error(e.place + ": eval output '" + e.output + "' is not an output of " + g.name +
                  " (outputs: " + join(names, ", ") + ")");
  }
  std::vector<int64_t> labels;
  if (!spec.labels.empty()) labels = loadLabels(spec.labels);

  const Outputs ref = runAll(
      samples, [&](const std::vector<FloatBuffer>& in) { return runFloat(g, in); }, o.progress);
  // Float against labels (when there are labels): the accuracy every build is compared with.
  std::map<std::string, Outputs> tests;
  for (const std::string& t : o.targets) {
    if (t == "native") continue;
    if (t == "quantized") {
      const LoweredProgram lp = lowerProgram(g);
      tests[t] = runAll(
          samples,
          [&](const std::vector<FloatBuffer>& in) {
            const auto q = runLowered(lp, g, in);
            std::vector<FloatBuffer> out;
            for (size_t k = 0; k < q.size(); ++k)
              out.push_back(dequantize(q[k], g.at(outIds[k]).outputQuant[0]));
            return out;
          },
          o.progress);
    } else if (t == "kef") {
      if (o.kefPath.empty()) throw Error("--targets kef: no executable (.kef) to run");
      auto model = rt::Model::open(o.kefPath);
      rt::Session session(model);
      tests[t] = runAll(
          samples,
          [&](const std::vector<FloatBuffer>& in) {
            std::vector<rt::InputBuffer> rin;
            for (const FloatBuffer& b : in)
              rin.push_back(
                  {b.data.data(), b.data.size() * sizeof(float), rt::BufferType::Float32});
            std::vector<FloatBuffer> out(model->outputs().size());
            std::vector<rt::OutputBuffer> rout;
            for (size_t k = 0; k < out.size(); ++k) {
              out[k].shape = model->outputs()[k].shape;
              out[k].data.resize(size_t(rt::streamElements(model->outputs()[k])));
              rout.push_back({out[k].data.data(), out[k].data.size() * sizeof(float),
                              rt::BufferType::Float32});
            }
            session.run(rin, rout);
            return out;
          },
          o.progress);
    } else {
      throw Error("unknown evaluation target '" + t + "' (expected " + join(targetNames(), ", ") +
                  ")");
    }
  }
  // --size N evaluates the first N samples: their labels are the first ones of the file.
  if (spec.size > 0 && !labels.empty())
    for (size_t k = 0; k < outIds.size(); ++k)
      if (evalOf[k] && evalOf[k]->kind == Kind::classes) {
        const int64_t decisions = evalClasses(ref[k], ref[k], evalOf[k]->axis).decisions;
        if (int64_t(labels.size()) > decisions) labels.resize(size_t(decisions));
        break;
      }
  const std::vector<int64_t>* lab = labels.empty() ? nullptr : &labels;
  if (lab) {  // float's own accuracy against the labels: what every build is compared with
    TargetMetrics tm{"native", {}};
    for (size_t k = 0; k < outIds.size(); ++k)
      if (evalOf[k] && evalOf[k]->kind == Kind::classes) {
        ClassesResult r;
        try {
          r = evalClasses(ref[k], ref[k], evalOf[k]->axis, lab);
        } catch (const Error& e) {
          throw Error(evalOf[k]->place + ": eval output '" + names[k] + "': " + e.what());
        }
        OutputMetrics m{names[k], "classes", {}};
        add(m, "accuracy", *r.refAccuracy);
        add(m, "decisions", double(r.decisions));
        tm.outputs.push_back(m);
      }
    res.targets.push_back(tm);
  }
  for (const std::string& t : o.targets) {
    if (t == "native") continue;
    TargetMetrics tm{t, {}};
    for (size_t k = 0; k < outIds.size(); ++k)
      tm.outputs.push_back(
          measure(names[k], evalOf[k], ref[k], tests[t][k], ref, names, spec.outputs, lab));
    res.targets.push_back(tm);
  }
  res.gates = checkGates(spec.gates, res.targets);
  return res;
}

Json EvalResult::toJson() const {
  Json j;
  j["network"] = network;
  j["data"] = data;
  j["samples"] = samples;
  j["reference"] = "native (the optimized archive's float network)";
  j["targets"] = Json::array();
  for (const TargetMetrics& t : targets) {
    Json jt;
    jt["target"] = t.target;
    jt["outputs"] = Json::array();
    for (const OutputMetrics& o : t.outputs) {
      Json jo;
      jo["output"] = o.output;
      if (!o.kind.empty()) jo["kind"] = o.kind;
      for (const auto& f : o.figures)
        jo[f.first] = std::isfinite(f.second) ? Json(f.second) : Json(fmtFigure(f.second));
      jt["outputs"].push_back(jo);
    }
    j["targets"].push_back(jt);
  }
  j["gates"] = Json::array();
  for (const GateResult& gr : gates)
    j["gates"].push_back(
        {{"key", gr.gate.key},
         {"value", gr.gate.value},
         {"target", gr.target},
         {"output", gr.output},
         {"figure", std::isfinite(gr.figure) ? Json(gr.figure) : Json(fmtFigure(gr.figure))},
         {"passed", gr.passed},
         {"message", gr.message}});
  j["passed"] = passed();
  return j;
}

std::string EvalResult::table() const {
  std::string s = fmt::format("{}: {} evaluation samples from {}, float as the reference\n",
                              network, samples, data);
  s += fmt::format("  {:<10} {:<28} {:<9} {}\n", "target", "output", "kind", "figures");
  for (const TargetMetrics& t : targets)
    for (const OutputMetrics& o : t.outputs) {
      std::string figs;
      for (const auto& f : o.figures)
        figs += fmt::format("{}{} {}", figs.empty() ? "" : ", ", f.first, fmtFigure(f.second));
      s += fmt::format("  {:<10} {:<28} {:<9} {}\n", t.target, o.output,
                       o.kind.empty() ? "-" : o.kind, figs);
    }
  for (const GateResult& gr : gates)
    s += fmt::format("  {} {}\n", gr.passed ? "pass" : "FAIL", gr.message);
  return s;
}

}  // namespace kiln::eval
