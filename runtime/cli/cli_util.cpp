#include "runtime/cli/cli_util.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>

namespace kiln::rt::cli {

int64_t peakRssBytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      long long kb = -1;
      if (std::sscanf(line.c_str() + 6, "%lld", &kb) == 1 && kb >= 0) return kb * 1024;
    }
  }
  return -1;
}

int64_t constantBytes(const Program& p) {
  int64_t n = 0;
  for (const ConstView& c : p.consts) n += c.count * int64_t(constTypeSize(c.type));
  return n;
}

void warn(const std::string& msg) {
  std::fprintf(stderr, "kilnrt: warning: %s\n", msg.c_str());
}

LatencyStats latencyStats(std::vector<double> s) {
  LatencyStats r;
  r.frames = int64_t(s.size());
  if (s.empty()) return r;
  std::sort(s.begin(), s.end());
  auto rank = [&](double p) {
    const size_t i = size_t(std::ceil(p / 100.0 * double(s.size())));
    return s[std::min(s.size() - 1, i == 0 ? 0 : i - 1)] * 1e3;
  };
  r.minMs = s.front() * 1e3;
  r.maxMs = s.back() * 1e3;
  r.p50Ms = rank(50);
  r.p90Ms = rank(90);
  r.p99Ms = rank(99);
  r.meanMs = std::accumulate(s.begin(), s.end(), 0.0) / double(s.size()) * 1e3;
  return r;
}

// ---- buffers ----

std::vector<InputBuffer> FrameBuffers::inputs(int64_t s) const {
  std::vector<InputBuffer> v;
  const int64_t i = samples > 0 ? s % samples : 0;
  for (size_t k = 0; k < inData.size(); ++k)
    v.push_back({inData[k].data() + size_t(i) * inBytes[k], inBytes[k], inTypes[k]});
  return v;
}

std::vector<OutputBuffer> FrameBuffers::outputs() {
  std::vector<OutputBuffer> v;
  for (size_t k = 0; k < outData.size(); ++k)
    v.push_back({outData[k].data(), outData[k].size(), outTypes[k]});
  return v;
}

namespace {

npy::ElemType npyTypeOf(BufferType t, const StreamDesc& s) {
  switch (t) {
    case BufferType::Float32:
      return npy::ElemType::f32;
    case BufferType::UInt8:
      return npy::ElemType::u8;
    case BufferType::UInt16:
      return npy::ElemType::u16;
    case BufferType::Auto:
      break;
  }
  return s.bits == 16 ? npy::ElemType::u16 : npy::ElemType::u8;
}

std::string streamList(const std::vector<StreamDesc>& v) {
  std::string r;
  for (const StreamDesc& s : v) r += (r.empty() ? "" : ", ") + s.name + " " + shapeStr(s.shape);
  return r;
}

}  // namespace

FrameBuffers loadInputs(const Model& m, const std::vector<std::string>& files,
                        const std::string& inputFormat) {
  const auto& ins = m.inputs();
  if (files.size() != ins.size())
    throw Error("the network has " + std::to_string(ins.size()) + " input(s) (" + streamList(ins) +
                "); --input-files gave " + std::to_string(files.size()));
  FrameBuffers fb;
  int64_t batch = -1;
  for (size_t k = 0; k < ins.size(); ++k) {
    const StreamDesc& s = ins[k];
    const std::string& file = files[k];
    const std::string what = file + ": input '" + s.name + "'";
    const std::string device = s.bits == 16 ? "uint16" : "uint8";
    npy::Array arr = npy::load(file);
    BufferType t = BufferType::Float32;
    if (inputFormat.empty()) {
      if (arr.type == npy::ElemType::u8) {
        t = BufferType::UInt8;
      } else if (arr.type == npy::ElemType::u16) {
        t = BufferType::UInt16;
      } else if (arr.type != npy::ElemType::f32) {
        throw Error(what + " expects float32 " + shapeStr(s.shape) + " (or the device's " + device +
                    " integers), the file holds " + npy::typeName(arr.type) +
                    " (convert with x.astype(np.float32), after the model's own pre-processing)");
      }
    } else {
      t = parseBufferType(inputFormat);
      const npy::ElemType want = npyTypeOf(t, s);
      if (arr.type != want)
        throw Error(what + ": --input-format-type " + inputFormat + " expects " +
                    npy::typeName(want) + " data, the file holds " + npy::typeName(arr.type));
    }
    if (t == BufferType::UInt16 && s.bits == 8)
      throw Error(what +
                  " is uint8 on the device; uint16 data cannot be narrowed (give uint8, "
                  "or float32 to quantize on the host)");
    const std::vector<int64_t>& user = s.shape;
    int64_t n = 1;
    const bool sameRest = !user.empty() && user[0] == 1 && arr.shape.size() == user.size() &&
                          std::equal(user.begin() + 1, user.end(), arr.shape.begin() + 1);
    if (arr.shape == user) {
      n = 1;
    } else if (sameRest) {
      n = arr.shape[0];
    } else {
      throw Error(what + " expects shape " + shapeStr(user) +
                  " (or [N, ...] with the same trailing dimensions), the file holds " +
                  shapeStr(arr.shape));
    }
    if (n < 1) throw Error(what + ": the file holds no sample (shape " + shapeStr(arr.shape) + ")");
    if (batch >= 0 && n != batch)
      throw Error("inputs disagree on the batch size (" + std::to_string(batch) + " vs " +
                  std::to_string(n) + " in " + file + ")");
    batch = n;
    fb.inTypes.push_back(t);
    fb.inBytes.push_back(size_t(streamElements(s)) * elementBytes(t, s));
    fb.inData.push_back(std::move(arr.data));
  }
  fb.samples = batch;
  return fb;
}

FrameBuffers randomInputs(const Model& m, const std::string& inputFormat) {
  FrameBuffers fb;
  std::mt19937 rng(12345);
  for (const StreamDesc& s : m.inputs()) {
    const BufferType t = inputFormat.empty() ? BufferType::Float32 : parseBufferType(inputFormat);
    if (t == BufferType::UInt16 && s.bits == 8)
      throw Error("input '" + s.name +
                  "' is uint8 on the device; --input-format-type uint16 cannot be narrowed");
    const size_t n = size_t(streamElements(s)), es = elementBytes(t, s);
    std::vector<uint8_t> data(n * es);
    if (t == BufferType::Float32) {
      std::uniform_real_distribution<float> d(s.limMin, s.limMax);
      for (size_t i = 0; i < n; ++i) {
        const float v = d(rng);
        std::memcpy(data.data() + 4 * i, &v, 4);
      }
    } else {
      std::uniform_int_distribution<int> d(0, es == 1 ? 255 : int((1 << s.bits) - 1));
      for (size_t i = 0; i < n; ++i) {
        const uint16_t v = uint16_t(d(rng));
        std::memcpy(data.data() + es * i, &v, es);
      }
    }
    fb.inTypes.push_back(t);
    fb.inBytes.push_back(data.size());
    fb.inData.push_back(std::move(data));
  }
  fb.samples = 1;
  return fb;
}

void allocateOutputs(const Model& m, BufferType type, FrameBuffers& fb) {
  for (const StreamDesc& s : m.outputs()) {
    if (type == BufferType::UInt8 && s.bits == 16)
      throw Error("output stream '" + s.name +
                  "' is uint16 on the device; --user-format-type uint8 cannot hold it (use auto, "
                  "uint16 or float32)");
    fb.outTypes.push_back(type);
    fb.outData.emplace_back(size_t(streamElements(s)) * elementBytes(type, s));
  }
}

// ---- profile ----

void OpProfile::add(const std::vector<double>& opSeconds) {
  if (total.size() < opSeconds.size()) total.resize(opSeconds.size(), 0.0);
  for (size_t i = 0; i < opSeconds.size(); ++i) total[i] += opSeconds[i];
  ++frames;
}

namespace {
std::vector<size_t> slowestFirst(const std::vector<double>& total) {
  std::vector<size_t> order(total.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return total[a] > total[b]; });
  return order;
}
}  // namespace

Json OpProfile::toJson(const Program& p, size_t top) const {
  Json ops = Json::array();
  if (frames == 0) return ops;
  const std::vector<size_t> order = slowestFirst(total);
  const double sum = std::accumulate(total.begin(), total.end(), 0.0);
  for (size_t r = 0; r < order.size() && r < top; ++r) {
    const size_t i = order[r];
    ops.push(Json::object()
                 .set("index", i)
                 .set("layer", p.ops[i].name)
                 .set("opcode", opName(p.ops[i].code))
                 .set("ms_per_frame", total[i] / double(frames) * 1e3)
                 .set("share", sum > 0 ? total[i] / sum : 0.0));
  }
  return ops;
}

void OpProfile::print(const Program& p, size_t top) const {
  if (frames == 0 || total.empty()) return;
  const std::vector<size_t> order = slowestFirst(total);
  const double sum = std::accumulate(total.begin(), total.end(), 0.0);
  std::printf("\nProfile: the %zu slowest of %zu operations (mean over %lld frame(s))\n",
              std::min(top, order.size()), order.size(), static_cast<long long>(frames));
  std::printf("  %4s  %-28s %-16s %12s %7s\n", "op", "layer", "opcode", "ms/frame", "share");
  for (size_t r = 0; r < order.size() && r < top; ++r) {
    const size_t i = order[r];
    const OpDesc& op = p.ops[i];
    std::printf("  %4zu  %-28s %-16s %12.4f %6.1f%%\n", i, op.name.c_str(), opName(op.code).c_str(),
                total[i] / double(frames) * 1e3, sum > 0 ? 100.0 * total[i] / sum : 0.0);
  }
  std::printf("  all operations: %.4f ms/frame\n", sum / double(frames) * 1e3);
}

}  // namespace kiln::rt::cli
