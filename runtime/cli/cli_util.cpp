#include "runtime/cli/cli_util.h"

#include "runtime/api/user_arrays.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>

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

FrameBuffers loadInputs(const Model& m, const std::vector<std::string>& files,
                        const std::string& inputFormat) {
  // The count first: no file is read for a command line that cannot run.
  checkInputCount(m, files.size(), "--input-files");
  std::vector<npy::Array> arrays;
  std::vector<UserArray> described;
  for (const std::string& file : files) {
    arrays.push_back(npy::load(file));
    described.push_back({file, arrays.back().type, arrays.back().shape});
  }
  const ArrayFeeds feeds = checkInputArrays(m, described, inputFormat);
  FrameBuffers fb;
  for (size_t k = 0; k < arrays.size(); ++k) {
    fb.inTypes.push_back(feeds.inputs[k].type);
    fb.inBytes.push_back(feeds.inputs[k].frameBytes);
    fb.inData.push_back(std::move(arrays[k].data));
  }
  fb.samples = feeds.frames;
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
