#include "compiler/optimize/noise_analysis.h"

#include <atomic>
#include <cmath>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "compiler/emulator/quant_executor.h"
#include "compiler/emulator/quant_layer.h"
#include "compiler/lower/lower_program.h"
#include "compiler/quant/prepare.h"
#include "runtime/kernels/thread_pool.h"

namespace kiln::optimize {

void SnrAccumulator::add(const std::vector<float>& ref, const std::vector<float>& got) {
  for (size_t i = 0; i < ref.size() && i < got.size(); ++i) {
    signal += double(ref[i]) * ref[i];
    const double d = double(got[i]) - ref[i];
    noise += d * d;
  }
}

double noiseEnergy(const std::vector<float>& ref, const std::vector<float>& got) {
  double noise = 0;
  for (size_t i = 0; i < ref.size() && i < got.size(); ++i) {
    const double d = double(got[i]) - ref[i];
    noise += d * d;
  }
  return noise;
}

double SnrAccumulator::db() const {
  if (noise == 0) return 200.0;
  if (signal == 0) return -200.0;
  return 10.0 * std::log10(signal / noise);
}

std::vector<int> noiseCandidates(const Graph& g) {
  std::vector<int> ids;
  for (size_t i = 0; i < g.layers.size(); ++i) {
    const Layer& l = g.layers[i];
    if (l.type == LayerType::InputLayer || l.type == LayerType::OutputLayer ||
        l.type == LayerType::ConstInput || l.outputQuant.empty() || l.outputQuant[0].bits == 0 ||
        l.outputQuant[0].bits > 8)  // already 16-bit: nothing to lift
      continue;
    // A layer that keeps its input's quantization has no tensor of its own to lift.
    if (!l.inputs.empty() && keepsInputQuantization(l.type) &&
        g.at(l.inputs[0].layer).outputQuant.at(l.inputs[0].port) == l.outputQuant[0])
      continue;
    ids.push_back(int(i));
  }
  return ids;
}

namespace {

// One sample's reference activations: float and integer, every layer (IR layout; output layers
// in the user layout), and per network output its float signal energy, the quantized network's
// output dequantized and its noise energy (what an unchanged output adds, computed once).
struct Activations {
  std::vector<FloatBuffer> fl;
  std::vector<IntBuffer> q;
  std::vector<double> signal, qNoise;
  std::vector<FloatBuffer> qOut;
};

// The values of one what-if run: only the layers that differ from the baseline are set.
class Deviation {
 public:
  enum class Kind { Same, Float, Int };
  explicit Deviation(size_t n) : kind_(n, Kind::Same), f_(n), q_(n) {}
  Kind kind(int id) const { return kind_[size_t(id)]; }
  FloatBuffer& setFloat(int id) {
    touch(id, Kind::Float);
    return f_[size_t(id)];
  }
  IntBuffer& setInt(int id) {
    touch(id, Kind::Int);
    return q_[size_t(id)];
  }
  void markSame(int id) { kind_[size_t(id)] = Kind::Same; }
  const FloatBuffer& floatOf(int id) const { return f_[size_t(id)]; }
  const IntBuffer& intOf(int id) const { return q_[size_t(id)]; }
  void reset() {
    for (int id : touched_) {
      kind_[size_t(id)] = Kind::Same;
      f_[size_t(id)] = FloatBuffer();
      q_[size_t(id)] = IntBuffer();
    }
    touched_.clear();
  }

 private:
  void touch(int id, Kind k) {
    if (kind_[size_t(id)] == Kind::Same) touched_.push_back(id);
    kind_[size_t(id)] = k;
  }
  std::vector<Kind> kind_;
  std::vector<FloatBuffer> f_;
  std::vector<IntBuffer> q_;
  std::vector<int> touched_;
};

bool readsChanged(const Layer& l, const Deviation& d) {
  for (const ValueRef& v : l.inputs)
    if (d.kind(v.layer) != Deviation::Kind::Same) return true;
  return false;
}

// One thread's share of the what-if runs: its own deviation and single-layer runners (an
// executor holds state), reading the sample's shared activations.
class Worker {
 public:
  Worker(const Graph& g, NoiseAnalysis& r, const std::vector<Layer>& dequantized,
         const NoiseAnalysisOptions& o)
      : g_(g), r_(r), deq_(dequantized), o_(o), dev_(g.layers.size()) {
    alone_.resize(g.layers.size());
  }

  void candidate(const Activations& a, size_t c) {
    if (o_.quantizeOnly) quantizeOnly(a, r_.candidates[c], r_.quantizeOnly[c]);
    lift16(a, r_.candidates[c], r_.lifted16[c]);
    observe(a, int(c));
    dev_.reset();
  }

 private:
  // Float network, only tensor `id` rounded to its quantization.
  void quantizeOnly(const Activations& a, int id, std::vector<SnrAccumulator>& acc) {
    const QuantInfo& q = g_.at(id).outputQuant[0];
    FloatBuffer& v = dev_.setFloat(id);
    v = dequantize(quantizeInput(a.fl[size_t(id)], q), q);
    v.shape = a.fl[size_t(id)].shape;
    for (size_t j = size_t(id) + 1; j < g_.layers.size(); ++j) {
      const Layer& l = g_.layers[j];
      if (!readsChanged(l, dev_)) continue;
      std::vector<const FloatBuffer*> ins;
      for (const ValueRef& in : l.inputs)
        ins.push_back(dev_.kind(in.layer) == Deviation::Kind::Same ? &a.fl[size_t(in.layer)]
                                                                   : &dev_.floatOf(in.layer));
      runFloatLayer(l, ins, dev_.setFloat(int(j)));
    }
    collect(a, acc, true);
    dev_.reset();
  }

  // Quantized network, tensor `id` in 16 bits (modelled as float, see the header).
  void lift16(const Activations& a, int id, std::vector<SnrAccumulator>& acc) {
    runFloatOnQuantized(a, deq_[size_t(id)], dev_.setFloat(id));
    for (size_t j = size_t(id) + 1; j < g_.layers.size(); ++j) {
      const Layer& l = g_.layers[j];
      if (!readsChanged(l, dev_)) continue;
      bool readsFloat = false;
      for (const ValueRef& in : l.inputs)
        readsFloat |= dev_.kind(in.layer) == Deviation::Kind::Float;
      if (readsFloat) {
        FloatBuffer out;
        runFloatOnQuantized(a, deq_[j], out);
        // Output layers and layers that keep their first input's quantization carry the 16-bit
        // tensor on; the others round to their own (unchanged) quantization.
        const bool carries = l.type == LayerType::OutputLayer ||
                             (keepsInputQuantization(l.type) &&
                              dev_.kind(l.inputs[0].layer) == Deviation::Kind::Float);
        if (carries) {
          dev_.setFloat(int(j)) = std::move(out);
        } else {
          IntBuffer& q = dev_.setInt(int(j));
          q = quantizeInput(out, l.outputQuant[0]);
          if (q.data == a.q[j].data) dev_.markSame(int(j));
        }
        continue;
      }
      std::vector<const IntBuffer*> ins;
      for (const ValueRef& in : l.inputs)
        ins.push_back(dev_.kind(in.layer) == Deviation::Kind::Same ? &a.q[size_t(in.layer)]
                                                                   : &dev_.intOf(in.layer));
      // Inline, without the emulation pool: the workers already keep every core busy, and
      // callers of one pool take turns.
      if (!alone_[j]) alone_[j] = std::make_unique<QuantLayerRunner>(g_, l, nullptr);
      IntBuffer& q = dev_.setInt(int(j));
      alone_[j]->run(ins, q);
      // The change died out here (clamped, rounded away): nothing further down moves.
      if (q.data == a.q[j].data) dev_.markSame(int(j));
    }
    collect(a, acc, false);
  }

  // Layer `l` in float on the current values: float ones as they are, integer ones dequantized.
  void runFloatOnQuantized(const Activations& a, const Layer& l, FloatBuffer& out) {
    std::vector<FloatBuffer> deq(l.inputs.size());
    std::vector<const FloatBuffer*> ins;
    for (size_t k = 0; k < l.inputs.size(); ++k) {
      const int p = l.inputs[k].layer;
      if (dev_.kind(p) == Deviation::Kind::Float) {
        ins.push_back(&dev_.floatOf(p));
        continue;
      }
      const IntBuffer& q = dev_.kind(p) == Deviation::Kind::Int ? dev_.intOf(p) : a.q[size_t(p)];
      deq[k] = dequantize(q, g_.at(p).outputQuant.at(l.inputs[k].port));
      deq[k].shape = a.fl[size_t(p)].shape;
      ins.push_back(&deq[k]);
    }
    runFloatLayer(l, ins, out);
  }

  // Adds every output of the what-if run to `acc`. `floatBaseline`: the run deviates from the
  // float network (else from the quantized one).
  void collect(const Activations& a, std::vector<SnrAccumulator>& acc, bool floatBaseline) {
    for (size_t k = 0; k < r_.outputs.size(); ++k) {
      const int o = r_.outputs[k];
      const auto& ref = a.fl[size_t(o)].data;
      acc[k].signal += a.signal[k];
      switch (dev_.kind(o)) {
        case Deviation::Kind::Same:
          // Unchanged: the float network's (no noise) or the quantized network's output.
          if (!floatBaseline) acc[k].noise += a.qNoise[k];
          break;
        case Deviation::Kind::Float:
          acc[k].noise += noiseEnergy(ref, dev_.floatOf(o).data);
          break;
        case Deviation::Kind::Int:
          acc[k].noise += noiseEnergy(ref, dequantize(dev_.intOf(o), g_.at(o).outputQuant[0]).data);
          break;
      }
    }
  }

  // The lift run's outputs to the caller's observer (NoiseAnalysisOptions::observeLift).
  void observe(const Activations& a, int c) {
    if (!o_.observeLift) return;
    std::vector<const FloatBuffer*> ref, got;
    std::vector<FloatBuffer> deq(r_.outputs.size());
    for (size_t k = 0; k < r_.outputs.size(); ++k) {
      const int o = r_.outputs[k];
      ref.push_back(&a.fl[size_t(o)]);
      switch (dev_.kind(o)) {
        case Deviation::Kind::Same:
          got.push_back(&a.qOut[k]);
          break;
        case Deviation::Kind::Float:
          got.push_back(&dev_.floatOf(o));
          break;
        case Deviation::Kind::Int:
          deq[k] = dequantize(dev_.intOf(o), g_.at(o).outputQuant[0]);
          got.push_back(&deq[k]);
          break;
      }
    }
    o_.observeLift(c, ref, got);
  }

  const Graph& g_;
  NoiseAnalysis& r_;
  const std::vector<Layer>& deq_;
  const NoiseAnalysisOptions& o_;
  Deviation dev_;
  std::vector<std::unique_ptr<QuantLayerRunner>> alone_;
};

// Per sample: the float and integer activations of the whole network (the baseline figures),
// then every candidate's what-if runs, spread over the workers (candidate c on worker c mod n; each
// candidate's figures are its own, so the result does not depend on the number of threads).
class Analyzer {
 public:
  Analyzer(const Graph& g, NoiseAnalysis& r, const NoiseAnalysisOptions& o, int threads)
      : g_(g), r_(r), o_(o) {
    LowerOptions keepAll;
    keepAll.keepAll = true;
    whole_ = std::make_unique<LoweredProgram>(lowerProgram(g, keepAll));
    // Layers computed in float in the lift runs use their integer weights and biases
    // (weight rounding, bias correction), dequantized.
    for (const Layer& l : g.layers)
      dequantized_.push_back(
          l.inputs.empty()
              ? l
              : quant::withDequantizedWeights(
                    l, g.at(l.inputs[0].layer).outputQuant.at(l.inputs[0].port).scale));
    for (int t = 0; t < std::max(1, threads); ++t)
      workers_.push_back(std::make_unique<Worker>(g, r, dequantized_, o));
  }

  void sample(const std::vector<FloatBuffer>& in, bool advanced,
              const std::function<void(int)>& step) {
    Activations a;
    a.fl = runFloatAllLayers(g_, in);
    runLowered(*whole_, g_, in, &a.q);
    for (size_t i = 0; i < g_.layers.size(); ++i) {
      const Layer& l = g_.layers[i];
      if (l.type == LayerType::InputLayer || l.type == LayerType::OutputLayer ||
          a.q[i].data.empty())
        continue;
      r_.layerSnr[i].add(a.fl[i].data, dequantize(a.q[i], l.outputQuant[0]).data);
    }
    // Per output: the sample's signal and noise energy, added to the totals as they are to every
    // lift run's (an unchanged output gives exactly the quantized network's figure).
    for (size_t k = 0; k < r_.outputs.size(); ++k) {
      const int o = r_.outputs[k];
      SnrAccumulator e;
      a.qOut.push_back(dequantize(a.q[size_t(o)], g_.at(o).outputQuant[0]));
      e.add(a.fl[size_t(o)].data, a.qOut.back().data);
      a.signal.push_back(e.signal);
      a.qNoise.push_back(e.noise);
      r_.outputSnr[k].signal += e.signal;
      r_.outputSnr[k].noise += e.noise;
    }
    step(1);
    if (!advanced) return;
    if (o_.observeLift) {
      std::vector<const FloatBuffer*> ref, got;
      for (size_t k = 0; k < r_.outputs.size(); ++k) {
        ref.push_back(&a.fl[size_t(r_.outputs[k])]);
        got.push_back(&a.qOut[k]);
      }
      o_.observeLift(-1, ref, got);
    }
    const size_t n = workers_.size(), count = r_.candidates.size();
    std::atomic<int> done{0};
    std::exception_ptr error;
    std::mutex m;
    auto work = [&](size_t t) {
      try {
        for (size_t c = t; c < count; c += n) {
          workers_[t]->candidate(a, c);
          ++done;
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(m);
        if (!error) error = std::current_exception();
      }
    };
    std::vector<std::thread> threads;
    for (size_t t = 1; t < n; ++t) threads.emplace_back(work, t);
    // The calling thread works too, and reports progress between its candidates.
    int reported = 0;
    for (size_t c = 0; c < count; c += n) {
      try {
        workers_[0]->candidate(a, c);
      } catch (...) {
        std::lock_guard<std::mutex> lock(m);
        if (!error) error = std::current_exception();
        break;
      }
      ++done;
      const int now = done.load();
      step(now - reported);
      reported = now;
    }
    for (auto& t : threads) t.join();
    if (error) std::rethrow_exception(error);
    step(int(count) - reported);
  }

 private:
  const Graph& g_;
  NoiseAnalysis& r_;
  const NoiseAnalysisOptions& o_;
  std::unique_ptr<LoweredProgram> whole_;
  std::vector<Layer> dequantized_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace

NoiseAnalysis analyzeNoise(const Graph& g, const std::vector<std::vector<FloatBuffer>>& samples,
                           const NoiseAnalysisOptions& o) {
  NoiseAnalysis r;
  r.samples = int(samples.size());
  r.outputs = g.outputLayers();
  r.outputSnr.resize(r.outputs.size());
  r.layerSnr.resize(g.layers.size());
  if (o.advanced) {
    r.candidates = noiseCandidates(g);
    if (o.quantizeOnly)
      r.quantizeOnly.assign(r.candidates.size(), std::vector<SnrAccumulator>(r.outputs.size()));
    r.lifted16.assign(r.candidates.size(), std::vector<SnrAccumulator>(r.outputs.size()));
  }
  Analyzer an(g, r, o, o.threads > 0 ? o.threads : emulationPool()->threads());
  const int total = int(samples.size() * (o.advanced ? 1 + r.candidates.size() : 1));
  int done = 0;
  if (o.progress) o.progress(0, total);
  for (const auto& s : samples)
    an.sample(s, o.advanced, [&](int steps) {
      if (steps <= 0) return;
      done += steps;
      if (o.progress) o.progress(done, total);
    });
  return r;
}

}  // namespace kiln::optimize
